"""tutor.files: only regular files are read; a FIFO, a directory or a device is refused at once."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from tutor import files
from tutor.files import NotARegularFile, read_regular


def promptly(call, *, fifo=None, seconds=10.0):
    """Run ``call()`` on a thread and fail (instead of hanging the suite) if it blocks."""
    result = {}

    def target():
        try:
            result["value"] = call()
        except BaseException as err:  # handed back to the test below
            result["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        if fifo is not None:  # let the blocked open() go, so the thread does not outlive the test
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            thread.join(seconds)
        pytest.fail(f"still blocked after {seconds} s")
    if "error" in result:
        raise result["error"]
    return result["value"]


def test_a_regular_file_is_read_up_to_one_byte_past_the_limit(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"abcdef")
    assert read_regular(path, 10) == b"abcdef"
    assert read_regular(path, 3) == b"abcd"  # limit + 1: the caller can tell it is too large


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotARegularFile) as err:
        promptly(lambda: read_regular(fifo, 100), fifo=fifo)
    assert err.value.kind == "a FIFO" and str(fifo) in str(err.value)


def test_a_symlink_to_a_fifo_is_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "lesson.md"
    link.symlink_to(fifo)
    with pytest.raises(NotARegularFile, match="a FIFO"):
        promptly(lambda: read_regular(link, 100), fifo=fifo)


def test_directories_and_devices_are_refused(tmp_path):
    with pytest.raises(NotARegularFile, match="a directory"):
        read_regular(tmp_path, 100)
    with pytest.raises(NotARegularFile, match="a character device"):
        promptly(lambda: read_regular("/dev/zero", 100))


def test_a_fifo_swapped_in_after_the_first_look_is_still_refused(tmp_path, monkeypatch):
    # the race: the path was a regular file when stat looked, a FIFO when it is opened
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    real_stat = os.stat

    class Regular:
        st_mode = stat.S_IFREG | 0o644

    monkeypatch.setattr(
        files.os, "stat", lambda p, *a, **k: Regular() if str(p) == str(fifo) else real_stat(p)
    )
    with pytest.raises(NotARegularFile, match="a FIFO"):
        promptly(lambda: read_regular(fifo, 100), fifo=fifo)


def test_a_missing_file_is_the_usual_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "missing.txt", 100)
