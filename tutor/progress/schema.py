"""The progress database: its tables, proving a file holds them intact, creating them, and the
connections the store opens to it.

What is stored, keyed by lesson id (never by position in the list, so adding a lesson never
shifts anyone's progress):

* ``lesson``: the block the learner was last at, when the lesson was started and when finished;
* ``block``: which interactive blocks were completed;
* ``attempt``: every answer, whether it was right, and the misconception tags it hit.

``PRAGMA user_version`` is ``SCHEMA_VERSION`` once the tables exist.
"""

from __future__ import annotations

import sqlite3

__all__ = [
    "DB_NAME",
    "READ_BUSY_TIMEOUT_MS",
    "SCHEMA_VERSION",
    "TABLES",
    "WRITE_BUSY_TIMEOUT_MS",
    "Corrupt",
    "connect",
    "has_tables",
    "prepare_writer",
    "rollback",
    "validate",
]

DB_NAME = "progress.sqlite3"
SCHEMA_VERSION = 1
WRITE_BUSY_TIMEOUT_MS = 200  # how long one try of a write waits for another process's lock
READ_BUSY_TIMEOUT_MS = 1000  # a read in WAL mode waits only in rare cases (a recovery)

TABLES = ("lesson", "block", "attempt")
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


class Corrupt(sqlite3.DatabaseError):
    """The file opened but failed ``PRAGMA quick_check``."""


def connect(target: str, busy_ms: int, *, uri: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (the store opens its own transactions), usable from any
    thread, that waits ``busy_ms`` for another process's lock."""
    conn = sqlite3.connect(
        target, timeout=busy_ms / 1000, isolation_level=None, check_same_thread=False, uri=uri
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
    except BaseException:
        conn.close()
        raise
    return conn


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def has_tables(conn: sqlite3.Connection) -> bool:
    """Whether every table of the schema exists in the connection's file."""
    return set(TABLES) <= _tables(conn)


def validate(conn: sqlite3.Connection) -> bool:
    """Prove, by reading only, that the connection's file is a sound database (raise otherwise);
    True when the schema still has to be created or migrated."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = _tables(conn)
    # prove every table can be read: a damaged file often opens fine and fails here
    for table in TABLES:
        if table in tables:
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    check = conn.execute("PRAGMA quick_check").fetchone()[0]
    if check != "ok":
        raise Corrupt(f"the database failed its integrity check ({check})")
    return version < SCHEMA_VERSION or not set(TABLES) <= tables


def prepare_writer(conn: sqlite3.Connection, *, wal: bool) -> None:
    """Make ``conn`` the writing connection: WAL journal (``wal``, for a file), synchronous FULL,
    and the schema created or migrated in one transaction if it is not there yet. Raises on
    failure (another process's lock, a full disk), leaving no transaction open."""
    try:
        if wal:
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute("PRAGMA synchronous = FULL")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version < SCHEMA_VERSION or not has_tables(conn):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                if version < SCHEMA_VERSION:
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                rollback(conn)
                raise
    except BaseException:
        rollback(conn)
        raise


def rollback(conn: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open; a failure here never hides the real error."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
