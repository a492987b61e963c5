"""The learner's progress, kept in SQLite (from the standard library).

What is stored, keyed by lesson id (never by position in the list, so adding a lesson never
shifts anyone's progress):

* ``lesson``: the block the learner was last at, and when the lesson was finished;
* ``block``: which interactive blocks were completed;
* ``attempt``: every quiz answer, whether it was right, and the misconception tags it hit.

Every write is one transaction, committed before the method returns (WAL journal, synchronous
FULL), so quitting, ctrl+c or a dropped SSH connection loses nothing already answered. Two tutor
processes of the same learner can write at once: SQLite serialises them and each waits up to
``BUSY_TIMEOUT_MS`` for the other.

A file that is not a readable database is moved aside (``progress.sqlite3.corrupt-<UTC time>``)
and a fresh one started; ``Progress.notice`` says so. If even that is impossible (a read-only
directory), progress is kept in memory for this session and ``notice`` says that instead. A write
that fails later (disk full, file deleted) does not raise either: it sets ``notice``.

No Textual here: the command line and the tests use it directly.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["Attempt", "DB_NAME", "Progress", "default_data_dir"]

DB_NAME = "progress.sqlite3"
BUSY_TIMEOUT_MS = 10_000
SCHEMA_VERSION = 1

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


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Attempt:
    """One answer to an interactive block."""

    lesson_id: str
    block_index: int
    answer: str
    correct: bool
    tags: list[str] = field(default_factory=list)
    timestamp: str = ""  # ISO 8601, UTC


class Progress:
    """One learner's progress in ``data_dir``; see the module docstring for the guarantees."""

    def __init__(self, data_dir):
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / DB_NAME
        self.notice: str | None = None
        self._lock = threading.Lock()  # the app may call from a worker thread
        self._conn = self._open()

    # ------------------------------------------------------------------ opening

    def _connect(self, target) -> sqlite3.Connection:
        conn = sqlite3.connect(target, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if target != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                if version == 0:
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            # prove every table can be read: a damaged file often opens fine and fails here
            for table in ("lesson", "block", "attempt"):
                conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("the database failed its integrity check")
        except BaseException:
            conn.close()
            raise
        return conn

    def _open(self) -> sqlite3.Connection:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            return self._in_memory(f"cannot create the progress directory {self.data_dir}: {err.strerror or err}")
        try:
            return self._connect(str(self.path))
        except sqlite3.OperationalError as err:
            if "locked" in str(err) or "busy" in str(err):
                return self._in_memory(f"the progress file {self.path} is busy ({err})")
            if not self.path.exists() or os.access(self.path, os.R_OK | os.W_OK):
                # the file exists and is accessible, so SQLite cannot make sense of it: treat as corrupt
                return self._move_aside(err)
            return self._in_memory(f"cannot open the progress file {self.path}: {err}")
        except sqlite3.DatabaseError as err:
            return self._move_aside(err)

    def _move_aside(self, err: Exception) -> sqlite3.Connection:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
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
            conn = self._connect(str(self.path))
        except (OSError, sqlite3.Error) as err2:
            return self._in_memory(f"the progress file {self.path} could not be read ({err}) nor replaced "
                                   f"({err2})")
        self.notice = (f"Your progress file could not be read ({err}). It was moved to {aside} "
                       "and a fresh one was started.")
        return conn

    def _in_memory(self, reason: str) -> sqlite3.Connection:
        self.notice = f"Progress will not be saved this session: {reason}."
        self.path = None
        return self._connect(":memory:")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ writing

    def _write(self, *statements: tuple[str, tuple]) -> bool:
        """Run the statements as one committed transaction. False (and ``notice``) if it failed."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    for sql, params in statements:
                        self._conn.execute(sql, params)
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as err:
                self.notice = f"Progress could not be saved: {err}."
                return False
        return True

    def _touch(self, lesson_id: str) -> tuple[str, tuple]:
        return ("INSERT INTO lesson (id, position, started_at) VALUES (?, 0, ?) ON CONFLICT (id) DO NOTHING",
                (lesson_id, _now()))

    def set_position(self, lesson_id: str, block_index: int) -> None:
        """Remember the block the learner is at (opening a lesson makes it "in progress")."""
        self._write(self._touch(lesson_id),
                    ("UPDATE lesson SET position = ? WHERE id = ?", (int(block_index), lesson_id)))

    def complete_block(self, lesson_id: str, block_index: int) -> None:
        self._write(self._touch(lesson_id),
                    ("INSERT INTO block (lesson_id, block_index, completed_at) VALUES (?, ?, ?) "
                     "ON CONFLICT DO NOTHING", (lesson_id, int(block_index), _now())))

    def complete_lesson(self, lesson_id: str) -> None:
        self._write(self._touch(lesson_id),
                    ("UPDATE lesson SET done_at = coalesce(done_at, ?) WHERE id = ?", (_now(), lesson_id)))

    def record_attempt(self, lesson_id: str, block_index: int, answer: str, correct: bool,
                       tags: list[str]) -> None:
        self._write(self._touch(lesson_id),
                    ("INSERT INTO attempt (lesson_id, block_index, answer, correct, tags, at) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     (lesson_id, int(block_index), str(answer), int(bool(correct)), json.dumps(list(tags)), _now())))

    def reset(self, lesson_id: str | None = None) -> None:
        """Forget everything about one lesson, or about every lesson when ``lesson_id`` is None."""
        if lesson_id is None:
            self._write(("DELETE FROM attempt", ()), ("DELETE FROM block", ()), ("DELETE FROM lesson", ()))
        else:
            self._write(("DELETE FROM attempt WHERE lesson_id = ?", (lesson_id,)),
                        ("DELETE FROM block WHERE lesson_id = ?", (lesson_id,)),
                        ("DELETE FROM lesson WHERE id = ?", (lesson_id,)))

    # ------------------------------------------------------------------ reading

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as err:
                self.notice = f"Progress could not be read: {err}."
                return []

    def state(self, lesson_id: str) -> str:
        """ "not started", "in progress" or "done"."""
        rows = self._query("SELECT done_at FROM lesson WHERE id = ?", (lesson_id,))
        if not rows:
            return "not started"
        return "done" if rows[0][0] else "in progress"

    def position(self, lesson_id: str) -> int:
        """The block the learner was last at (0 for a lesson never opened)."""
        rows = self._query("SELECT position FROM lesson WHERE id = ?", (lesson_id,))
        return int(rows[0][0]) if rows else 0

    def completed_blocks(self, lesson_id: str) -> set[int]:
        return {int(r[0]) for r in self._query("SELECT block_index FROM block WHERE lesson_id = ?", (lesson_id,))}

    def lesson_ids(self) -> list[str]:
        """Every lesson id with anything recorded, in the order they were started."""
        return [r[0] for r in self._query("SELECT id FROM lesson ORDER BY started_at, id")]

    def attempts(self, lesson_id: str | None = None) -> list[Attempt]:
        """Every recorded attempt (of one lesson, or of all), oldest first."""
        sql = "SELECT lesson_id, block_index, answer, correct, tags, at FROM attempt"
        params: tuple = ()
        if lesson_id is not None:
            sql += " WHERE lesson_id = ?"
            params = (lesson_id,)
        out = []
        for lid, index, answer, correct, tags, at in self._query(sql + " ORDER BY id", params):
            try:
                tag_list = [str(t) for t in json.loads(tags)]
            except (ValueError, TypeError):
                tag_list = []
            out.append(Attempt(lid, int(index), answer, bool(correct), tag_list, at))
        return out
