"""The PostgreSQL store's local journal: the writes not yet in the database, in a file, so that
a process killed while the database was away (``kill -9``, a dropped SSH session whose SIGHUP
ended it before it could flush) does not lose them.

Each store process keeps its own file, ``DATA_DIR/journal/<pid>-<random>.jsonl``, created 0600
and held with an exclusive ``flock`` while the process lives: a line per write as it is queued
(the write itself, as JSON), and a line ``{"landed": STAMP}`` once it is committed. The file is
emptied each time everything is committed. When a store opens it takes every journal whose lock
it can get (its process is gone), and queues again, in their order and before anything new, the
writes never marked landed; then removes the file. Replaying is safe: a write's stamp makes an
answer stored twice a no-op, and a write already committed was marked landed.

Appends are not fsync'ed (a line costs microseconds on the UI thread): the journal survives the
process being killed, not the machine losing power before the kernel wrote it out.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path

from tutor.progress.writes import Write

__all__ = ["Journal"]

MAX_JOURNAL_LINE = 1024 * 1024  # a line longer than this is not a write of ours: skipped


def _to_json(write: Write) -> str:
    return json.dumps(
        {
            "kind": write.kind,
            "lesson_id": write.lesson_id,
            "block_id": write.block_id,
            "answer": write.answer,
            "correct": write.correct,
            "tags": list(write.tags),
            "at": write.at,
            "ids": list(write.ids),
        },
        ensure_ascii=False,
    )


def _from_json(data: dict) -> Write:
    return Write(
        str(data["kind"]),
        None if data.get("lesson_id") is None else str(data["lesson_id"]),
        str(data.get("block_id", "")),
        str(data.get("answer", "")),
        bool(data.get("correct", False)),
        tuple(str(t) for t in data.get("tags", ())),
        at=str(data["at"]),
        ids=tuple(str(i) for i in data.get("ids", ())),
    )


def _unlanded(path: Path) -> list[Write]:
    writes: dict[str, Write] = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if len(line) > MAX_JOURNAL_LINE:
                continue
            try:
                data = json.loads(line)
                if "landed" in data:
                    writes.pop(str(data["landed"]), None)
                else:
                    write = _from_json(data)
                    writes[write.at] = write
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # a line cut short when the process was killed
    return list(writes.values())  # dicts keep the order the writes were made in


class Journal:
    """This process's journal in ``directory`` (see the module docstring). ``OSError`` from the
    constructor means no journal can be kept (the store then keeps the queue in memory only)."""

    def __init__(self, directory: Path) -> None:
        import fcntl

        self._fcntl = fcntl
        self.directory = Path(directory)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = self.directory / f"{os.getpid()}-{secrets.token_hex(4)}.jsonl"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._fd = fd
        self._lock = threading.Lock()
        self._outstanding = 0

    def take_over(self) -> list[Write]:
        """The writes never landed of every journal whose process is gone (those files removed)."""
        out: list[Write] = []
        for other in sorted(self.directory.glob("*.jsonl"), key=lambda p: (p.stat().st_mtime, p.name)):
            if other == self.path:
                continue
            try:
                fd = os.open(other, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                try:
                    self._fcntl.flock(fd, self._fcntl.LOCK_EX | self._fcntl.LOCK_NB)
                except OSError:
                    continue  # its process still lives
                out += _unlanded(other)
                other.unlink()
            except OSError:
                continue
            finally:
                os.close(fd)
        return out

    def _append(self, line: str) -> None:
        data = (line + "\n").encode("utf-8")
        with self._lock:
            if self._fd is not None:
                os.write(self._fd, data)

    def wrote(self, write: Write) -> None:
        """``write`` was queued."""
        with self._lock:
            self._outstanding += 1
        try:
            self._append(_to_json(write))
        except OSError:
            pass  # a full disk: the queue still holds it

    def landed(self, write: Write) -> None:
        """``write`` is committed; the file is emptied when nothing is outstanding."""
        with self._lock:
            self._outstanding = max(0, self._outstanding - 1)
            empty = self._outstanding == 0
            try:
                if self._fd is not None:
                    if empty:
                        os.ftruncate(self._fd, 0)
                    else:
                        os.write(self._fd, (json.dumps({"landed": write.at}) + "\n").encode())
            except OSError:
                pass

    def close(self, *, keep: bool) -> None:
        """Close the file: removed when everything was written (``keep`` False), else left for
        the next store to take over."""
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is None:
            return
        if not keep:
            try:
                self.path.unlink()
            except OSError:
                pass
        os.close(fd)
