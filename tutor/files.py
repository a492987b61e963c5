"""Reading a file a learner or a lesson names, without ever waiting on something that is not a file.

``open()`` on a FIFO blocks until another process opens it for writing, which may be never; a
character device such as ``/dev/zero`` never ends. `read_regular` refuses anything that is not a
regular file before reading a byte: it looks at the path first (``os.stat`` follows symlinks),
then opens it with ``O_NONBLOCK`` (so even a FIFO swapped in after that look does not block the
open) and looks again at what it actually opened (``fstat``), which closes that race.

Used by ``tutor step``, ``tutor train`` (`tutor.cli`) and every lesson file read (`tutor.lessons`).
No Textual here.
"""

from __future__ import annotations

import os
import stat

__all__ = ["NotARegularFile", "file_kind", "read_regular"]

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words: "a FIFO", "a directory", ..."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


class NotARegularFile(OSError):
    """The path names something other than a regular file; ``kind`` says what ("a FIFO")."""

    def __init__(self, path, kind: str):
        self.path = str(path)
        self.kind = kind
        super().__init__(f"{self.path} is not a regular file ({kind})")


def read_regular(path, limit: int) -> bytes:
    """Up to ``limit + 1`` bytes of the regular file at ``path`` (one more than ``limit``, so the
    caller can tell a file that is too large).

    Raises `NotARegularFile` for a FIFO, a directory, a device or a socket, without blocking, and
    ``OSError`` as ``open`` does (a missing file, no permission).
    """
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise NotARegularFile(path, file_kind(mode))
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # replaced between the two looks
            raise NotARegularFile(path, file_kind(mode))
        os.set_blocking(fd, True)  # a regular file: reads never wait anyway
        with os.fdopen(fd, "rb", closefd=True) as fh:
            fd = -1  # the file object owns it now
            return fh.read(limit + 1)
    finally:
        if fd >= 0:
            os.close(fd)
