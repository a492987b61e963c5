"""The learner's progress, kept in SQLite (from the standard library).

What is stored, keyed by lesson id (never by position in the list, so adding a lesson never
shifts anyone's progress):

* ``lesson``: the block the learner was last at, and when the lesson was finished;
* ``block``: which interactive blocks were completed;
* ``attempt``: every quiz answer, whether it was right, and the misconception tags it hit.

Writing
-------
The write methods (``set_position``, ``complete_block``, ``complete_lesson``, ``record_attempt``,
``reset``) never touch the disk on the caller's thread: each puts one write on a queue and returns
at once. One writer thread per store applies the queue in order, each write as one transaction
(WAL journal, synchronous FULL), and takes it off the queue only once it is committed. A write
that fails (another process holds the write lock, the disk is full, an I/O error, a read-only
file) stays at the head of the queue and is tried again, after a short busy timeout and a backoff
that grows to ``BACKOFF_MAX_S``, until it succeeds: writes land in the order they were made and
each lands once (an answer is stored with a timestamp unique to this process, and storing it again
is a no-op). What that guarantees:

* a write call never waits for the disk, for another process's lock or for a failing write: it
  takes only the queue's lock, which is never held across I/O;
* nothing is reported saved that is not: ``pending`` counts the writes not committed yet, and
  ``status``/``notice`` say why they wait;
* ``close(timeout)`` (default ``CLOSE_TIMEOUT_S``) waits for the queue, then gives up on what is
  left and returns a sentence saying what was not written; a store the program never closed (the
  app's exit does not) is flushed the same way when the interpreter exits, and what could not be
  written is said on stderr;
* a process that is killed (``kill -9``, or a dropped SSH connection whose SIGHUP ends it) loses
  exactly the writes still in its queue: none that were committed, which normally is every write
  but the last few milliseconds' (a commit takes milliseconds), and, while the disk is full or
  another process holds the lock, every write made since the trouble began.

Reading
-------
The read methods (``state``, ``position``, ``completed_blocks``, ``lesson_ids``, ``attempts``)
read the database (in WAL mode a read is not blocked by another process's write lock) and then
apply, in order, the writes still waiting in the queue, so the learner always sees what they did
in this session, saved or not. Another process sees only what is committed.

What the app shows (the writer thread keeps these up to date)
--------------------------------------------------------------
* ``pending``: how many writes are waiting (0 when everything is saved);
* ``error``: while something waits, the real error of the last failed try to write it (e.g.
  "database or disk is full", "database is locked"); None when nothing waits or the last try
  went through;
* ``status``: None while writes go through; while anything waits because writing failed, one
  short line saying how much waits and why, e.g. "2 answers waiting to be saved: database or
  disk is full";
* ``notice``: ``status`` when there is one, else why the file could not be read just now, else
  what happened at start-up or at close (a corrupt file moved aside, progress kept in memory,
  writes given up on), else None;
* ``on_status_change(callback)``: ``callback(progress)`` is called from the writer thread each
  time ``status`` changes (including back to None when everything is saved); it returns a
  function that unregisters the callback;
* ``flush(timeout) -> bool``: wait until the queue is empty (True) or the timeout passes
  (False); ``close(timeout)``: flush, stop the writer, and return None when everything was
  saved, else a sentence saying what was not (e.g. "2 answers could not be saved and are lost:
  database is locked.").

A writer thread with nothing to do ends after a moment and the next write starts another, so a
store that is dropped without ``close()`` does not keep a thread alive.

Opening
-------
Opening an existing database only reads it (``user_version`` and the tables are checked, then
``PRAGMA quick_check``); it needs the write lock only when the schema must be created or migrated,
and if that lock is not to be had at once the writer thread creates the schema before the first
write. A file is moved aside (``progress.sqlite3.corrupt-<UTC time>``) and a fresh one started
only when it is proven corrupt: SQLite says SQLITE_NOTADB or SQLITE_CORRUPT, or ``quick_check``
fails; ``notice`` says so. Every other error (disk full, I/O, busy or locked, read-only) leaves
the file where it is: when the file cannot be read normally (a full disk leaves no room for the
``-shm`` index), it is read as a snapshot while the writer keeps trying. Only when no database
file can be created or opened at all (a read-only or missing directory) is progress kept in
memory for the session, and ``notice`` says that instead.

Permissions: the data directory is created 0700 (an existing one that is ours and open to group
or others is tightened to 0700; its parents are left alone), the database file is created 0600
before SQLite opens it (so its ``-wal`` and ``-shm`` files get 0600 too) and an existing looser
file of ours is tightened to 0600.

No Textual here: the command line and the tests use it directly.
"""

from __future__ import annotations

import atexit
import json
import os
import sqlite3
import stat
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

__all__ = ["Attempt", "DB_NAME", "Progress", "default_data_dir", "tag_summary"]

DB_NAME = "progress.sqlite3"
SCHEMA_VERSION = 1
WRITE_BUSY_TIMEOUT_MS = 200  # how long one try of a write waits for another process's lock
READ_BUSY_TIMEOUT_MS = 1000  # a read in WAL mode waits only in rare cases (a recovery)
BACKOFF_START_S = 0.05
BACKOFF_MAX_S = 2.0
CLOSE_TIMEOUT_S = 10.0  # how long close() (and the interpreter's exit) waits for the queue
COMMAND_WAIT_S = 10.0  # how long a command (`tutor reset`) waits for its write before it says it failed
_WRITER_IDLE_S = 2.0  # a writer thread with nothing to do ends after this long

_TABLES = ("lesson", "block", "attempt")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS lesson (
    id          TEXT PRIMARY KEY,
    position    INTEGER NOT NULL DEFAULT 0,
    started_at  TEXT NOT NULL,
    done_at     TEXT
);
CREATE TABLE IF NOT EXISTS block (
    lesson_id    TEXT NOT NULL,
    block_index  INTEGER NOT NULL,
    completed_at TEXT NOT NULL,
    PRIMARY KEY (lesson_id, block_index)
);
CREATE TABLE IF NOT EXISTS attempt (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    lesson_id   TEXT NOT NULL,
    block_index INTEGER NOT NULL,
    answer      TEXT NOT NULL,
    correct     INTEGER NOT NULL,
    tags        TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attempt_lesson ON attempt (lesson_id, block_index);
"""

_SQLITE_CORRUPT = 11
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26


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


_clock_lock = threading.Lock()
_last_stamp: datetime | None = None


def _now() -> str:
    """The time, UTC, to the microsecond, and never the same twice in this process (an answer's
    stamp is what makes storing it twice a no-op)."""
    global _last_stamp
    with _clock_lock:
        now = datetime.now(UTC)
        if _last_stamp is not None and now <= _last_stamp:
            now = _last_stamp + timedelta(microseconds=1)
        _last_stamp = now
    return now.isoformat(timespec="microseconds")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@dataclass(frozen=True)
class Attempt:
    """One answer to an interactive block."""

    lesson_id: str
    block_index: int
    answer: str
    correct: bool
    tags: list[str] = field(default_factory=list)
    timestamp: str = ""  # ISO 8601, UTC


def tag_summary(attempts: Iterable[Attempt]) -> list[dict]:
    """Each misconception tag met in ``attempts`` (oldest first), most often met first:
    ``{"tag", "hits", "lessons", "resolved"}``. ``hits`` counts the attempts that showed it,
    ``lessons`` lists the lessons where it showed (in the order first met), and ``resolved`` is
    True when every block where it showed was answered right in a later attempt (after the last
    time it showed there). One pass to find each block's last right answer, one over the tags."""
    attempts = list(attempts)
    last_right: dict[tuple[str, int], int] = {}
    for i, attempt in enumerate(attempts):
        if attempt.correct:
            last_right[(attempt.lesson_id, attempt.block_index)] = i
    summary: dict[str, dict] = {}
    open_blocks: dict[str, set] = {}  # per tag: the blocks where it showed with no right answer after
    lessons_seen: dict[str, set] = {}
    for i, attempt in enumerate(attempts):
        key = (attempt.lesson_id, attempt.block_index)
        later_right = last_right.get(key, -1) > i
        for tag in attempt.tags:
            entry = summary.get(tag)
            if entry is None:
                entry = summary[tag] = {"tag": tag, "hits": 0, "lessons": [], "resolved": False}
                open_blocks[tag], lessons_seen[tag] = set(), set()
            entry["hits"] += 1
            if attempt.lesson_id not in lessons_seen[tag]:
                lessons_seen[tag].add(attempt.lesson_id)
                entry["lessons"].append(attempt.lesson_id)
            if later_right:
                open_blocks[tag].discard(key)
            else:
                open_blocks[tag].add(key)
    for tag, entry in summary.items():
        entry["resolved"] = not open_blocks[tag]
    return sorted(summary.values(), key=lambda e: (-e["hits"], e["tag"]))


# ---------------------------------------------------------------------- errors


class _Corrupt(sqlite3.DatabaseError):
    """The file opened but failed ``PRAGMA quick_check``."""


def _code(err: BaseException) -> int:
    code = getattr(err, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else -1


def _is_corrupt(err: BaseException) -> bool:
    """Proven corrupt: only what SQLite itself calls a corrupt file or not a database."""
    return isinstance(err, _Corrupt) or _code(err) in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def _disk_full(directory: Path | None) -> bool:
    if directory is None:
        return False
    try:
        st = os.statvfs(directory)
    except (OSError, AttributeError):
        return False
    return st.f_bavail * st.f_frsize < 64 * 1024


def _describe(err: BaseException, directory: Path | None = None) -> str:
    """The real error in a few words (SQLite's message; an I/O error on a full disk says so)."""
    text = (err.strerror or str(err)) if isinstance(err, OSError) else (str(err) or type(err).__name__)
    name = getattr(err, "sqlite_errorname", "") or ""
    if (name.startswith("SQLITE_IOERR") or isinstance(err, OSError)) and _disk_full(directory):
        text += ": the disk is full"
    return text


# ---------------------------------------------------------------------- the writes


@dataclass(frozen=True)
class _Write:
    """One queued write; ``at`` is when it was made (the stamp it is stored with)."""

    kind: str  # "position", "block", "done", "attempt" or "reset"
    lesson_id: str | None
    block_index: int = 0
    answer: str = ""
    correct: bool = False
    tags: tuple[str, ...] = ()
    at: str = ""

    def statements(self) -> list[tuple[str, tuple]]:
        if self.kind == "reset":
            if self.lesson_id is None:
                return [("DELETE FROM attempt", ()), ("DELETE FROM block", ()), ("DELETE FROM lesson", ())]
            return [
                ("DELETE FROM attempt WHERE lesson_id = ?", (self.lesson_id,)),
                ("DELETE FROM block WHERE lesson_id = ?", (self.lesson_id,)),
                ("DELETE FROM lesson WHERE id = ?", (self.lesson_id,)),
            ]
        out = [
            (
                "INSERT INTO lesson (id, position, started_at) VALUES (?, 0, ?) ON CONFLICT (id) DO NOTHING",
                (self.lesson_id, self.at),
            )
        ]
        if self.kind == "position":
            out.append(("UPDATE lesson SET position = ? WHERE id = ?", (self.block_index, self.lesson_id)))
        elif self.kind == "block":
            out.append(
                (
                    "INSERT INTO block (lesson_id, block_index, completed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (self.lesson_id, self.block_index, self.at),
                )
            )
        elif self.kind == "done":
            out.append(
                ("UPDATE lesson SET done_at = coalesce(done_at, ?) WHERE id = ?", (self.at, self.lesson_id))
            )
        elif self.kind == "attempt":
            # the same answer (same lesson, block, text and stamp) is never stored twice
            out.append(
                (
                    (
                        "INSERT INTO attempt (lesson_id, block_index, answer, correct, tags, at) "
                        "SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM attempt WHERE lesson_id = ? "
                        "AND block_index = ? AND at = ? AND answer = ?)"
                    ),
                    (
                        self.lesson_id,
                        self.block_index,
                        self.answer,
                        int(self.correct),
                        json.dumps(list(self.tags)),
                        self.at,
                        self.lesson_id,
                        self.block_index,
                        self.at,
                        self.answer,
                    ),
                )
            )
        return out

    def touches(self, lesson_id: str) -> bool:
        return self.kind != "reset" and self.lesson_id == lesson_id

    def resets(self, lesson_id: str | None) -> bool:
        """Does this write forget ``lesson_id`` (None: any lesson)?"""
        return self.kind == "reset" and (self.lesson_id is None or self.lesson_id == lesson_id)


def _describe_writes(writes: list[_Write]) -> str:
    answers = sum(1 for w in writes if w.kind == "attempt")
    others = len(writes) - answers
    parts = []
    if answers:
        parts.append(_plural(answers, "answer"))
    if others:
        parts.append(_plural(others, "other change" if answers else "change"))
    return " and ".join(parts)


# ---------------------------------------------------------------------- the store

_open_stores: weakref.WeakSet[Progress] = weakref.WeakSet()


class Progress:
    """One learner's progress in ``data_dir``; see the module docstring for the guarantees.

    App-facing API, all safe to call from any thread: ``pending``, ``error``, ``status``,
    ``notice``, ``on_status_change(callback)``, ``flush(timeout)``, ``close(timeout)``.
    """

    def __init__(self, data_dir):
        self.data_dir = Path(data_dir)
        self.path: Path | None = self.data_dir / DB_NAME
        self._notice: str | None = None  # what happened at start-up (or at close)
        self._read_problem: str | None = None  # the database could not be read just now
        self._memory = False
        self._reader: sqlite3.Connection | None = None
        self._reader_is_snapshot = False
        self._next_reader_try = 0.0
        self._writer_conn: sqlite3.Connection | None = None
        self._writer_ready = False  # the writer's connection is open and the schema exists
        # _snapshot: held while a read looks at the database and the queue, and while a commit
        # and the removal of its write from the queue happen (so a read sees a write once).
        # _cond: guards the queue and the status; a write call only ever waits for this one.
        # Order: _snapshot before _cond, never the other way.
        self._snapshot = threading.RLock()
        self._cond = threading.Condition(threading.Lock())
        self._queue: deque[_Write] = deque()
        self._error: str | None = None
        self._reported: str | None = None
        self._listeners: list[Callable] = []
        self._thread: threading.Thread | None = None
        self._closed = False
        self._open()
        _open_stores.add(self)

    # ------------------------------------------------------------------ opening

    def _open(self) -> None:
        try:
            self._prepare_dir()
        except OSError as err:
            return self._in_memory(f"cannot create the progress directory {self.data_dir}: {_describe(err)}")
        try:
            self._prepare_file()
        except OSError as err:
            return self._in_memory(f"cannot create the progress file {self.path}: {_describe(err)}")
        try:
            needs_schema = self._open_reader()
        except sqlite3.Error as err:
            if _is_corrupt(err):
                return self._move_aside(err)
            if _code(err) == _SQLITE_CANTOPEN:
                return self._in_memory(f"cannot open the progress file {self.path}: {err}")
            # disk full, I/O, busy: the file stays; read a snapshot of it, the writer keeps trying
            self._open_snapshot(err)
            return
        if needs_schema:
            self._try_writer()

    def _prepare_dir(self) -> None:
        """Create the data directory 0700; tighten it (not its parents) if it is ours and open."""
        try:
            self.data_dir.mkdir(mode=0o700, parents=True)
        except FileExistsError:
            pass
        st = os.stat(self.data_dir)
        if not stat.S_ISDIR(st.st_mode):
            raise NotADirectoryError(20, "Not a directory", str(self.data_dir))
        if _ours(st) and st.st_mode & 0o077:
            try:
                os.chmod(self.data_dir, 0o700)
            except OSError:
                pass  # not fatal: the file itself is still 0600

    def _prepare_file(self) -> None:
        """Create the database file 0600 before SQLite does (its -wal and -shm take its mode);
        tighten an existing file of ours (and its -wal, -shm) that others can read."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        except FileExistsError:
            pass
        else:
            os.close(fd)
        for suffix in ("", "-wal", "-shm"):
            target = self.path.with_name(DB_NAME + suffix)
            try:
                st = os.stat(target)
            except FileNotFoundError:
                continue
            if stat.S_ISREG(st.st_mode) and _ours(st) and st.st_mode & 0o077:
                try:
                    os.chmod(target, stat.S_IMODE(st.st_mode) & 0o700)
                except OSError:
                    pass

    def _connect(self, target: str, busy_ms: int, *, uri: bool = False) -> sqlite3.Connection:
        conn = sqlite3.connect(
            target, timeout=busy_ms / 1000, isolation_level=None, check_same_thread=False, uri=uri
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _open_reader(self) -> bool:
        """Open the reading connection and prove the file is a sound database, without writing.
        True when the schema still has to be created (or migrated)."""
        conn = self._connect(str(self.path), READ_BUSY_TIMEOUT_MS)
        try:
            needs_schema = _validate(conn)
        except BaseException:
            conn.close()
            raise
        self._reader = conn
        self._reader_is_snapshot = False
        return needs_schema

    def _open_snapshot(self, err: BaseException) -> None:
        """The file cannot be read the normal way (SQLite needs room for its -shm index, say):
        read it as it is on disk until it can, if that is safe: a WAL database whose -wal holds
        nothing (so no commit is missing from the file and no checkpoint is writing to it).
        Nothing read this way ever moves a file aside."""
        self._error = _describe(err, self.data_dir)
        wal = self.path.with_name(DB_NAME + "-wal")
        try:
            wal_size = wal.stat().st_size
        except OSError:
            wal_size = 0
        try:
            with open(self.path, "rb") as f:
                header = f.read(100)
        except OSError:
            header = b""
        if wal_size == 0 and (header[18:20] == b"\x02\x02" or len(header) == 0):
            conn = None
            try:
                conn = self._connect(
                    self.path.resolve().as_uri() + "?mode=ro&immutable=1", READ_BUSY_TIMEOUT_MS, uri=True
                )
                _validate(conn)
            except sqlite3.Error:
                if conn is not None:
                    conn.close()
            else:
                self._reader = conn
                self._reader_is_snapshot = True
                self._next_reader_try = time.monotonic() + 1.0
                return
        self._read_problem = (
            f"Your progress could not be read just now ({self._error}); the file "
            f"{self.path} is left as it is and what you do is saved to it when it can be."
        )

    def _try_writer(self) -> None:
        """Open the writing connection now (a new file: create the schema at once, as long as the
        write lock is free). If that fails the writer thread does it before the first write."""
        try:
            self._open_writer()
        except sqlite3.Error:
            pass

    def _open_writer(self) -> sqlite3.Connection:
        """The writer's connection, with the schema in place. Raises on failure."""
        if self._writer_ready and self._writer_conn is not None:
            return self._writer_conn
        conn = self._writer_conn
        if conn is None:
            if self._memory:
                conn = self._connect(":memory:", WRITE_BUSY_TIMEOUT_MS)
            else:
                conn = self._connect(str(self.path), WRITE_BUSY_TIMEOUT_MS)
            self._writer_conn = conn
        try:
            if not self._memory:
                conn.execute("PRAGMA journal_mode = WAL").fetchone()
            conn.execute("PRAGMA synchronous = FULL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if version < SCHEMA_VERSION or not set(_TABLES) <= tables:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    if version < SCHEMA_VERSION:
                        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    conn.execute("COMMIT")
                except BaseException:
                    _rollback(conn)
                    raise
        except BaseException:
            if conn.in_transaction:
                _rollback(conn)
            raise
        self._writer_ready = True
        return conn

    def _move_aside(self, err: Exception) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{DB_NAME}.corrupt-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = self.path.with_name(f"{DB_NAME}.corrupt-{stamp}-{n}")
        try:
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):  # the journal belongs to the damaged file
                extra = self.path.with_name(DB_NAME + suffix)
                if extra.exists():
                    os.replace(extra, aside.with_name(aside.name + suffix))
            self._prepare_file()
            self._open_reader()
        except (OSError, sqlite3.Error) as err2:
            return self._in_memory(
                f"the progress file {self.path} could not be read ({err}) nor replaced ({_describe(err2)})"
            )
        self._try_writer()
        self._notice = (
            f"Your progress file could not be read ({err}). It was moved to {aside} "
            "and a fresh one was started."
        )

    def _in_memory(self, reason: str) -> None:
        self._notice = f"Progress will not be saved this session: {reason}."
        self.path = None
        self._memory = True
        self._read_problem = None
        if self._reader is not None:
            self._reader.close()
        self._writer_conn = None
        self._writer_ready = False
        self._reader = self._open_writer()  # one connection for both: nothing to wait for in memory
        self._reader_is_snapshot = False

    # ------------------------------------------------------------------ what the app shows

    @property
    def pending(self) -> int:
        """How many writes wait in the queue (the one being written included)."""
        with self._cond:
            return len(self._queue)

    @property
    def error(self) -> str | None:
        """The real error of the last failed try to write, while it has not been followed by a
        write that went through; None otherwise."""
        with self._cond:
            return self._error if self._queue or self._closed else None

    @property
    def status(self) -> str | None:
        """None while writes go through; while something waits because writing failed:
        "<what> waiting to be saved: <real error>"."""
        with self._cond:
            return self._status_locked()

    def _status_locked(self) -> str | None:
        if not self._queue or self._error is None:
            return None
        return f"{_describe_writes(list(self._queue))} waiting to be saved: {self._error}"

    @property
    def notice(self) -> str | None:
        """What the learner should be told: ``status`` while something waits because writing
        failed, else why the progress could not be read just now, else what happened at start-up
        or at close (a corrupt file moved aside, progress kept in memory, writes lost), else None."""
        return self.status or self._read_problem or self._notice

    @notice.setter
    def notice(self, value: str | None) -> None:
        self._notice = value

    def on_status_change(self, callback: Callable[[Progress], object]) -> Callable[[], None]:
        """Call ``callback(self)`` each time ``status`` changes (from the writer thread, never
        with a lock held: read ``status``, ``pending``, ``error`` in it). Keep it short and
        non-blocking: post a message (Textual's ``post_message`` is thread-safe) rather than
        ``call_from_thread``, which waits for the UI thread, which may itself be in ``flush``.
        Returns a function that unregisters the callback."""
        with self._cond:
            self._listeners.append(callback)

        def unregister() -> None:
            with self._cond:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unregister

    def _report(self) -> None:
        """Tell the listeners if ``status`` changed since they were last told."""
        with self._cond:
            status = self._status_locked()
            if status == self._reported:
                return
            self._reported = status
            listeners = list(self._listeners)
        for callback in listeners:
            try:
                callback(self)
            except Exception:  # a listener's bug must not stop the writes
                pass

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued write is committed (or ``timeout`` seconds pass). True when the
        queue is empty."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            if threading.current_thread() is self._thread:
                return not self._queue  # from a listener: waiting here would wait for ourselves
            while self._queue and self._thread is not None:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                self._cond.wait(remaining)
            return not self._queue

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> str | None:
        """Wait up to ``timeout`` seconds for the queue, then stop writing. None when everything
        was saved; otherwise a sentence saying what was not (also kept in ``notice``)."""
        if self._closed:
            return None
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(WRITE_BUSY_TIMEOUT_MS / 1000 + 2.0)  # a try in flight ends (and may land)
        with self._cond:
            lost = list(self._queue)
            self._queue.clear()
            error = self._error
            alive = thread is not None and thread.is_alive()
        message = None
        if lost:
            message = (
                f"{_describe_writes(lost)} could not be saved and {'are' if len(lost) > 1 else 'is'} "
                f"lost: {error or 'the progress store was closed first'}."
            )
            self._notice = f"Progress could not be saved: {message}"
        with self._snapshot:
            for conn in {
                id(c): c for c in (self._reader, None if alive else self._writer_conn) if c
            }.values():
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
        _open_stores.discard(self)
        return message

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ writing

    def _enqueue(self, write: _Write) -> None:
        with self._cond:
            if self._closed:
                self._notice = (
                    f"Progress could not be saved: {_describe_writes([write])} came after the "
                    "progress store was closed."
                )
                return
            self._queue.append(write)
            self._cond.notify_all()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="tutor-progress-writer", daemon=True)
                self._thread.start()

    def set_position(self, lesson_id: str, block_index: int) -> None:
        """Remember the block the learner is at (opening a lesson makes it "in progress")."""
        self._enqueue(_Write("position", lesson_id, int(block_index), at=_now()))

    def complete_block(self, lesson_id: str, block_index: int) -> None:
        self._enqueue(_Write("block", lesson_id, int(block_index), at=_now()))

    def complete_lesson(self, lesson_id: str) -> None:
        self._enqueue(_Write("done", lesson_id, at=_now()))

    def record_attempt(
        self, lesson_id: str, block_index: int, answer: str, correct: bool, tags: list[str]
    ) -> None:
        self._enqueue(
            _Write(
                "attempt",
                lesson_id,
                int(block_index),
                str(answer),
                bool(correct),
                tuple(str(t) for t in tags),
                at=_now(),
            )
        )

    def reset(self, lesson_id: str | None = None) -> None:
        """Forget everything about one lesson, or about every lesson when ``lesson_id`` is None."""
        self._enqueue(_Write("reset", lesson_id, at=_now()))

    def _run(self) -> None:
        """The writer thread: apply the head of the queue until it lands, then the next."""
        backoff = BACKOFF_START_S
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    if not self._cond.wait(_WRITER_IDLE_S) and not self._queue:
                        self._thread = None
                        return
                if self._closed:
                    return  # close() reports what is left
                write = self._queue[0]
            try:
                self._apply(write)
            except Exception as err:  # sqlite3.Error, OSError, or a bug: never lose the write
                with self._cond:
                    self._error = _describe(err, self.data_dir if not self._memory else None)
                self._report()
                deadline = time.monotonic() + backoff
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                while True:
                    with self._cond:
                        remaining = deadline - time.monotonic()
                        if self._closed or remaining <= 0:
                            break
                        self._cond.wait(remaining)  # woken by a new write: the count changed
                    self._report()
                continue
            backoff = BACKOFF_START_S
            self._report()

    def _apply(self, write: _Write) -> None:
        """Write one queued write as one transaction; remove it from the queue as it commits."""
        if self._memory:
            with self._snapshot:
                self._transaction(self._open_writer(), write)
            return
        self._transaction(self._open_writer(), write)

    def _transaction(self, conn: sqlite3.Connection, write: _Write) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for sql, params in write.statements():
                conn.execute(sql, params)
            with self._snapshot:
                conn.execute("COMMIT")
                with self._cond:
                    self._queue.popleft()
                    self._error = None
                    self._cond.notify_all()
        except BaseException:
            _rollback(conn)  # keeps the real error: SQLite may have rolled back already
            raise

    # ------------------------------------------------------------------ reading

    def _read(self, sql: str, params: tuple = ()) -> tuple[list[tuple], list[_Write]]:
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
                    if not ("no such table" in str(err) and not self._writer_ready):  # a schema to come
                        self._read_problem = f"Progress could not be read: {_describe(err, self.data_dir)}."
            with self._cond:
                queued = list(self._queue)
        return rows, queued

    def _reading_connection(self) -> sqlite3.Connection | None:
        if self._closed and not self._memory:
            return None
        if not self._memory and (self._reader is None or self._reader_is_snapshot):  # noqa: SIM102
            # a snapshot (or nothing) stands in while the file cannot be opened: try again, at once
            # when the writer has got in (its commits are not in the snapshot), else each second
            if self._writer_ready or time.monotonic() >= self._next_reader_try:
                try:
                    conn = self._connect(str(self.path), READ_BUSY_TIMEOUT_MS)
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

    def _lesson_row(self, lesson_id: str) -> tuple[bool, bool, int]:
        """(recorded at all, done, position), queued writes applied."""
        rows, queued = self._read("SELECT done_at, position FROM lesson WHERE id = ?", (lesson_id,))
        exists, done, position = bool(rows), bool(rows and rows[0][0]), int(rows[0][1]) if rows else 0
        for write in queued:
            if write.resets(lesson_id):
                exists, done, position = False, False, 0
            elif write.touches(lesson_id):
                if not exists:
                    exists, position = True, 0
                if write.kind == "position":
                    position = write.block_index
                elif write.kind == "done":
                    done = True
        return exists, done, position

    def state(self, lesson_id: str) -> str:
        """ "not started", "in progress" or "done"."""
        exists, done, _ = self._lesson_row(lesson_id)
        if not exists:
            return "not started"
        return "done" if done else "in progress"

    def position(self, lesson_id: str) -> int:
        """The block the learner was last at (0 for a lesson never opened)."""
        return self._lesson_row(lesson_id)[2]

    def completed_blocks(self, lesson_id: str) -> set[int]:
        rows, queued = self._read("SELECT block_index FROM block WHERE lesson_id = ?", (lesson_id,))
        blocks = {int(r[0]) for r in rows}
        for write in queued:
            if write.resets(lesson_id):
                blocks.clear()
            elif write.kind == "block" and write.lesson_id == lesson_id:
                blocks.add(write.block_index)
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
            else:
                started.setdefault(write.lesson_id, write.at)
        return sorted(started, key=lambda i: (started[i], i))

    def attempts(self, lesson_id: str | None = None) -> list[Attempt]:
        """Every recorded attempt (of one lesson, or of all), oldest first."""
        sql = "SELECT lesson_id, block_index, answer, correct, tags, at FROM attempt"
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
            out.append(Attempt(lid, int(index), answer, bool(correct), tag_list, at))
        for write in queued:
            if write.kind == "reset":
                if write.lesson_id is None:
                    out.clear()
                else:
                    out = [a for a in out if a.lesson_id != write.lesson_id]
            elif write.kind == "attempt" and (lesson_id is None or write.lesson_id == lesson_id):
                out.append(
                    Attempt(
                        write.lesson_id,
                        write.block_index,
                        write.answer,
                        write.correct,
                        list(write.tags),
                        write.at,
                    )
                )
        return out


def _validate(conn: sqlite3.Connection) -> bool:
    """Prove, by reading only, that the connection's file is a sound database (raise otherwise);
    True when the schema still has to be created or migrated."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    # prove every table can be read: a damaged file often opens fine and fails here
    for table in _TABLES:
        if table in tables:
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    check = conn.execute("PRAGMA quick_check").fetchone()[0]
    if check != "ok":
        raise _Corrupt(f"the database failed its integrity check ({check})")
    return version < SCHEMA_VERSION or not set(_TABLES) <= tables


def _ours(st: os.stat_result) -> bool:
    """Is the file ours (so ours to tighten)? Never on a system without user ids."""
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and st.st_uid == geteuid()


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open; a failure here never hides the real error."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass


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
