"""The progress store: one learner's progress in one data directory.

Writing: the write methods (``set_position``, ``complete_block``, ``complete_lesson``,
``record_attempt``, ``adopt_block_ids``, ``reset``) queue the write and return at once; the writer thread commits the
queue in order, trying a failing write again until it lands (:mod:`tutor.progress.writer`).
``close(timeout)`` (default ``CLOSE_TIMEOUT_S``) waits for the queue, then gives up on what is
left and returns a sentence saying what was not written; a store the program never closed (the
app's exit does not) is flushed the same way when the interpreter exits, and what could not be
written is said on stderr. A process that is killed (``kill -9``, or a dropped SSH connection
whose SIGHUP ends it) loses exactly the writes still in its queue: none that were committed,
which normally is every write but the last few milliseconds' (a commit takes milliseconds), and,
while the disk is full or another process holds the lock, every write made since the trouble
began.

Reading: the read methods (``state``, ``position``, ``completed_blocks``, ``lesson_ids``,
``attempts``) read the database (in WAL mode a read is not blocked by another process's write
lock) and then apply, in order, the writes still waiting in the queue, so the learner always sees
what they did in this session, saved or not. Another process sees only what is committed.

What the app shows (the writer thread keeps these up to date), all safe from any thread:

* ``pending``: how many writes are waiting (0 when everything is saved);
* ``error``: while something waits, the real error of the last failed try to write it (e.g.
  "database or disk is full", "database is locked"); None when nothing waits or the last try
  went through;
* ``status``: None while writes go through; while anything waits because writing failed, one
  short line saying how much waits and why, e.g. "2 answers waiting to be saved: database or
  disk is full";
* ``warning``: why the file could not be read just now, else what happened at start-up or at
  close (a corrupt file moved aside, progress kept in memory, writes given up on), else None;
* ``notice``: ``status`` when there is one, else ``warning``;
* ``on_status_change(callback)``: ``callback(progress)`` is called from the writer thread each
  time ``status`` changes (including back to None when everything is saved); it returns a
  function that unregisters the callback;
* ``flush(timeout) -> bool``: wait until the queue is empty (True) or the timeout passes
  (False); ``close(timeout)``: flush, stop the writer, and return None when everything was
  saved, else a sentence saying what was not (e.g. "2 answers could not be saved and are lost:
  database is locked.").

How the file is opened, moved aside when corrupt, or replaced by memory: :mod:`tutor.progress.opening`.
"""

from __future__ import annotations

import atexit
import json
import os
import sqlite3
import sys
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path

from tutor.progress.opening import describe, open_database
from tutor.progress.records import Attempt, LessonState
from tutor.progress.schema import (
    LEGACY_PREFIX,
    READ_BUSY_TIMEOUT_MS,
    WRITE_BUSY_TIMEOUT_MS,
    connect,
    has_tables,
    prepare_writer,
    rollback,
)
from tutor.progress.writer import WriteQueue
from tutor.progress.writes import Write, adopt, describe_writes, now

__all__ = ["CLOSE_TIMEOUT_S", "Progress", "default_data_dir"]

CLOSE_TIMEOUT_S = 10.0  # how long close() (and the interpreter's exit) waits for the queue


def default_data_dir(cli_value: str | None = None, environ=os.environ) -> Path:
    """Where progress lives: ``--data-dir`` if given, else ``TUTOR_HOME``, else the platform's
    user data directory (``~/.local/share/tutor`` on Linux)."""
    if cli_value:
        return Path(cli_value).expanduser()
    home = environ.get("TUTOR_HOME", "")
    if home.strip():
        return Path(home).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("tutor", appauthor=False))


_open_stores: weakref.WeakSet[Progress] = weakref.WeakSet()


class Progress:
    """One learner's progress in ``data_dir``; see the module docstring for the guarantees."""

    def __init__(self, data_dir) -> None:
        self.data_dir = Path(data_dir)
        opened = open_database(self.data_dir)
        self.path: Path | None = opened.path  # None: kept in memory for this session
        self._memory = opened.path is None
        self._notice = opened.notice  # what happened at start-up (or at close)
        self._read_problem = opened.read_problem  # the database could not be read just now
        self._reader = opened.reader
        self._reader_is_snapshot = opened.snapshot
        self._next_reader_try = time.monotonic() + 1.0 if opened.snapshot else 0.0
        self._writer_conn: sqlite3.Connection | None = None
        self._writer_ready = False  # the writer's connection is open and the schema exists
        # _snapshot: held while a read looks at the database and the queue, and while a commit
        # and the removal of its write from the queue happen (so a read sees a write once). It
        # is always taken before the queue's own lock, never the other way round.
        self._snapshot = threading.RLock()
        self._writes = WriteQueue(self._commit, self._describe, error=opened.error)
        if self._memory:
            self._reader = self._open_writer()  # one connection for both: nothing to wait for in memory
        elif opened.needs_schema:
            # a new file: create the schema at once, as long as the write lock is free; if it is
            # not, the writer thread does it before the first write
            try:
                self._open_writer()
            except sqlite3.Error:
                pass
        _open_stores.add(self)

    def _describe(self, err: BaseException) -> str:
        return describe(err, None if self._memory else self.data_dir)

    # ------------------------------------------------------------------ what the app shows

    @property
    def pending(self) -> int:
        """How many writes wait in the queue (the one being written included)."""
        return self._writes.pending

    @property
    def error(self) -> str | None:
        """The real error of the last failed try to write, while it has not been followed by a
        write that went through; None otherwise."""
        return self._writes.error

    @property
    def status(self) -> str | None:
        """None while writes go through; while something waits because writing failed:
        "<what> waiting to be saved: <real error>"."""
        return self._writes.status

    @property
    def warning(self) -> str | None:
        """Why the progress could not be read just now, else what happened at start-up or at
        close (a corrupt file moved aside, progress kept in memory, writes lost), else None.
        Never the saving ``status``."""
        return self._read_problem or self._notice

    @property
    def notice(self) -> str | None:
        """What the learner should be told: ``status`` while something waits because writing
        failed, else ``warning``."""
        return self.status or self.warning

    def on_status_change(self, callback: Callable[[Progress], object]) -> Callable[[], None]:
        """Call ``callback(self)`` each time ``status`` changes (from the writer thread, never
        with a lock held: read ``status``, ``pending``, ``error`` in it). Keep it short and
        non-blocking: post a message (Textual's ``post_message`` is thread-safe) rather than
        ``call_from_thread``, which waits for the UI thread, which may itself be in ``flush``.
        Returns a function that unregisters the callback."""
        return self._writes.on_status_change(lambda: callback(self))

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued write is committed (or ``timeout`` seconds pass). True when the
        queue is empty."""
        return self._writes.flush(timeout)

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> str | None:
        """Wait up to ``timeout`` seconds for the queue, then stop writing. None when everything
        was saved; otherwise a sentence saying what was not (also kept in ``notice``)."""
        if self._writes.closed:
            return None
        left = self._writes.close(timeout)
        message = None
        if left.writes:
            message = (
                f"{describe_writes(left.writes)} could not be saved and "
                f"{'are' if len(left.writes) > 1 else 'is'} "
                f"{self._fate_of_unsaved()}: {left.error or 'the progress store was closed first'}."
            )
            self._notice = f"Progress could not be saved: {message}"
        with self._snapshot:
            writer = None if left.still_writing else self._writer_conn
            for conn in {id(c): c for c in (self._reader, writer) if c}.values():
                try:
                    conn.close()
                except Exception:  # closing never hides what close() says
                    pass
        _open_stores.discard(self)
        return message

    def _fate_of_unsaved(self) -> str:
        """What becomes of the writes close() gave up on, in words."""
        return "lost"

    @property
    def where(self) -> str:
        """Where this progress is kept, in words for the command line."""
        return str(self.data_dir)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ writing

    def _enqueue(self, write: Write) -> None:
        if not self._writes.put(write):
            self._notice = (
                f"Progress could not be saved: {describe_writes([write])} came after the "
                "progress store was closed."
            )

    def set_position(self, lesson_id: str, block_id: str) -> None:
        """Remember the block the learner is at, by its id (opening a lesson makes it "in
        progress")."""
        self._enqueue(Write("position", lesson_id, str(block_id), at=now()))

    def complete_block(self, lesson_id: str, block_id: str) -> None:
        """Record the block (by its id) as done."""
        self._enqueue(Write("block", lesson_id, str(block_id), at=now()))

    def adopt_block_ids(self, lesson_id: str, block_ids) -> None:
        """Tell the store the lesson's block ids, in order: what a version 1 file recorded by
        index ("#3") becomes the id of the block at that index, in the file and in what the
        reads return. Queues a write only when there is something of the kind to rename, so
        calling it each time a lesson opens costs one read."""
        ids = tuple(str(i) for i in block_ids)
        legacy = LEGACY_PREFIX + "%"
        rows, queued = self._read(
            "SELECT 1 FROM block WHERE lesson_id = ? AND block_id LIKE ? UNION ALL "
            "SELECT 1 FROM attempt WHERE lesson_id = ? AND block_id LIKE ? UNION ALL "
            "SELECT 1 FROM lesson WHERE id = ? AND position LIKE ? LIMIT 1",
            (lesson_id, legacy, lesson_id, legacy, lesson_id, legacy),
        )
        if rows and not any(w.kind == "adopt" and w.lesson_id == lesson_id and w.ids == ids for w in queued):
            self._enqueue(Write("adopt", lesson_id, at=now(), ids=ids))

    def complete_lesson(self, lesson_id: str) -> None:
        self._enqueue(Write("done", lesson_id, at=now()))

    def record_attempt(
        self, lesson_id: str, block_id: str, answer: str, correct: bool, tags: list[str]
    ) -> None:
        self._enqueue(
            Write(
                "attempt",
                lesson_id,
                str(block_id),
                str(answer),
                bool(correct),
                tuple(str(t) for t in tags),
                at=now(),
            )
        )

    def reset(self, lesson_id: str | None = None) -> None:
        """Forget everything about one lesson, or about every lesson when ``lesson_id`` is None."""
        self._enqueue(Write("reset", lesson_id, at=now()))

    # ------------------------------------------------------------------ the writer's side

    def _open_writer(self) -> sqlite3.Connection:
        """The writer's connection, with the schema in place. Raises on failure."""
        if self._writer_ready and self._writer_conn is not None:
            return self._writer_conn
        conn = self._writer_conn
        if conn is None:
            conn = connect(":memory:" if self._memory else str(self.path), WRITE_BUSY_TIMEOUT_MS)
            self._writer_conn = conn
        prepare_writer(conn, wal=not self._memory)
        self._writer_ready = True
        return conn

    def _commit(self, write: Write) -> None:
        """Write one queued write as one transaction (on the writer thread); it leaves the queue
        as it commits."""
        if self._memory:
            with self._snapshot:
                self._transaction(self._open_writer(), write)
            return
        self._transaction(self._open_writer(), write)

    def _transaction(self, conn: sqlite3.Connection, write: Write) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for sql, params in write.statements():
                conn.execute(sql, params)
            with self._snapshot:
                conn.execute("COMMIT")
                self._writes.landed()
        except BaseException:
            rollback(conn)  # keeps the real error: SQLite may have rolled back already
            raise

    # ------------------------------------------------------------------ reading

    def _read(self, sql: str, params: tuple = ()) -> tuple[list[tuple], list[Write]]:
        """The rows of one query and the writes still queued, seen at one moment."""
        with self._snapshot:
            rows: list[tuple] = []
            conn = self._reading_connection()
            if conn is not None:
                try:
                    rows = conn.execute(sql, params).fetchall()
                    if not self._reader_is_snapshot:
                        self._read_problem = None
                except sqlite3.Error as err:
                    if not self._schema_to_come(conn):
                        self._read_problem = f"Progress could not be read: {describe(err, self.data_dir)}."
            queued = self._writes.queued()
        return rows, queued

    def _schema_to_come(self, conn: sqlite3.Connection) -> bool:
        """A read failed: only because the tables are not there yet, which the writer creates
        before its first write?"""
        if self._writer_ready:
            return False
        try:
            return not has_tables(conn)
        except sqlite3.Error:
            return False

    def _reading_connection(self) -> sqlite3.Connection | None:
        if self._writes.closed and not self._memory:
            return None
        if not self._memory and (self._reader is None or self._reader_is_snapshot):  # noqa: SIM102
            # a snapshot (or nothing) stands in while the file cannot be opened: try again, at once
            # when the writer has got in (its commits are not in the snapshot), else each second
            if self._writer_ready or time.monotonic() >= self._next_reader_try:
                try:
                    conn = connect(str(self.path), READ_BUSY_TIMEOUT_MS)
                    try:
                        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                    except BaseException:
                        conn.close()
                        raise
                except sqlite3.Error:
                    self._next_reader_try = time.monotonic() + 1.0
                else:
                    if self._reader is not None:
                        self._reader.close()
                    self._reader, self._reader_is_snapshot = conn, False
                    self._read_problem = None
        return self._reader

    def _lesson_row(self, lesson_id: str) -> tuple[bool, bool, str]:
        """(recorded at all, done, position), queued writes applied."""
        rows, queued = self._read("SELECT done_at, position FROM lesson WHERE id = ?", (lesson_id,))
        exists, done, position = bool(rows), bool(rows and rows[0][0]), str(rows[0][1]) if rows else ""
        for write in queued:
            if write.resets(lesson_id):
                exists, done, position = False, False, ""
            elif write.kind == "adopt" and write.lesson_id == lesson_id:
                position = write.adopted(position)
            elif write.touches(lesson_id):
                if not exists:
                    exists, position = True, ""
                if write.kind == "position":
                    position = write.block_id
                elif write.kind == "done":
                    done = True
        return exists, done, position

    def state(self, lesson_id: str) -> LessonState:
        """``NOT_STARTED``, ``IN_PROGRESS`` or ``DONE``."""
        exists, done, _ = self._lesson_row(lesson_id)
        if not exists:
            return LessonState.NOT_STARTED
        return LessonState.DONE if done else LessonState.IN_PROGRESS

    def position(self, lesson_id: str) -> str:
        """The id of the block the learner was last at ("" for a lesson never opened)."""
        return self._lesson_row(lesson_id)[2]

    def completed_blocks(self, lesson_id: str) -> set[str]:
        """The ids of the lesson's blocks recorded as done."""
        rows, queued = self._read("SELECT block_id FROM block WHERE lesson_id = ?", (lesson_id,))
        blocks = {str(r[0]) for r in rows}
        for write in queued:
            if write.resets(lesson_id):
                blocks.clear()
            elif write.kind == "adopt" and write.lesson_id == lesson_id:
                blocks = {write.adopted(b) for b in blocks}
            elif write.kind == "block" and write.lesson_id == lesson_id:
                blocks.add(write.block_id)
        return blocks

    def lesson_ids(self) -> list[str]:
        """Every lesson id with anything recorded, in the order they were started."""
        rows, queued = self._read("SELECT id, started_at FROM lesson")
        started = {r[0]: r[1] for r in rows}
        for write in queued:
            if write.kind == "reset":
                if write.lesson_id is None:
                    started.clear()
                else:
                    started.pop(write.lesson_id, None)
            elif write.kind != "adopt":
                started.setdefault(write.lesson_id, write.at)
        return sorted(started, key=lambda i: (started[i], i))

    def attempts(self, lesson_id: str | None = None) -> list[Attempt]:
        """Every recorded attempt (of one lesson, or of all), oldest first."""
        sql = "SELECT lesson_id, block_id, answer, correct, tags, at FROM attempt"
        params: tuple = ()
        if lesson_id is not None:
            sql += " WHERE lesson_id = ?"
            params = (lesson_id,)
        rows, queued = self._read(sql + " ORDER BY id", params)
        out = []
        for lid, index, answer, correct, tags, at in rows:
            try:
                tag_list = [str(t) for t in json.loads(tags)]
            except (ValueError, TypeError):
                tag_list = []
            out.append(Attempt(lid, str(index), answer, bool(correct), tag_list, at))
        for write in queued:
            if write.kind == "reset":
                if write.lesson_id is None:
                    out.clear()
                else:
                    out = [a for a in out if a.lesson_id != write.lesson_id]
            elif write.kind == "adopt" and (lesson_id is None or write.lesson_id == lesson_id):
                out = [
                    Attempt(
                        a.lesson_id, adopt(a.block_id, write.ids), a.answer, a.correct, a.tags, a.timestamp
                    )
                    if a.lesson_id == write.lesson_id
                    else a
                    for a in out
                ]
            elif write.kind == "attempt" and (lesson_id is None or write.lesson_id == lesson_id):
                out.append(
                    Attempt(
                        write.lesson_id,
                        write.block_id,
                        write.answer,
                        write.correct,
                        list(write.tags),
                        write.at,
                    )
                )
        return out


@atexit.register
def _save_at_exit() -> None:
    """At interpreter exit, wait (up to ``CLOSE_TIMEOUT_S``) for what is queued, and say what
    could not be written: the app's own exit does not close the store."""
    for store in list(_open_stores):
        if store.pending:
            message = store.close()
            if message:
                try:
                    print(f"tutor: {message}", file=sys.stderr, flush=True)
                except (OSError, ValueError):
                    pass
