"""The progress database: its tables, proving a file holds them intact, creating them, and the
connections the store opens to it.

What is stored, keyed by lesson id (never by position in the list, so adding a lesson never
shifts anyone's progress):

* ``lesson``: the block the learner was last at, when the lesson was started and when finished;
* ``block``: which interactive blocks were completed;
* ``attempt``: every answer, whether it was right, and the misconception tags it hit.

A block is named by its id (``Block.id``: the ``id`` its TOML gives, else one derived from its
kind and text), never by its position, so a block inserted above another leaves the other's
progress where it was.

``PRAGMA user_version`` is the schema's version; ``MIGRATIONS`` holds, for each version after the
first, the statements that upgrade a file from the version before. Opening an older file runs the
missing ones in order, in one transaction with the version bump; a newer file (written by a newer
tutor) is refused with :class:`NewerSchema` and left untouched.

* version 1: blocks named by their index in the lesson (``block_index``, ``position`` integers);
* version 2: blocks named by id (``block_id``, ``position`` text). The indexes of a version 1
  file become ``"#<index>"`` (a ``#`` is never in an id): the database does not know the lessons,
  so the store turns each into the id of the block at that index the first time it is told a
  lesson's ids (:meth:`tutor.progress.Progress.adopt_block_ids`, called when a lesson opens).
"""

from __future__ import annotations

import sqlite3

__all__ = [
    "DB_NAME",
    "READ_BUSY_TIMEOUT_MS",
    "SCHEMA_VERSION",
    "TABLES",
    "WRITE_BUSY_TIMEOUT_MS",
    "LEGACY_PREFIX",
    "MIGRATIONS",
    "Corrupt",
    "NewerSchema",
    "connect",
    "has_tables",
    "prepare_writer",
    "rollback",
    "validate",
]

DB_NAME = "progress.sqlite3"
SCHEMA_VERSION = 2
LEGACY_PREFIX = "#"  # "#3": the block at index 3, as a version 1 file named it
WRITE_BUSY_TIMEOUT_MS = 200  # how long one try of a write waits for another process's lock
READ_BUSY_TIMEOUT_MS = 1000  # a read in WAL mode waits only in rare cases (a recovery)

TABLES = ("lesson", "block", "attempt")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS lesson (
    id          TEXT PRIMARY KEY,
    position    TEXT NOT NULL DEFAULT '',
    started_at  TEXT NOT NULL,
    done_at     TEXT
);
CREATE TABLE IF NOT EXISTS block (
    lesson_id    TEXT NOT NULL,
    block_id     TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    PRIMARY KEY (lesson_id, block_id)
);
CREATE TABLE IF NOT EXISTS attempt (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    lesson_id   TEXT NOT NULL,
    block_id    TEXT NOT NULL,
    answer      TEXT NOT NULL,
    correct     INTEGER NOT NULL,
    tags        TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attempt_lesson ON attempt (lesson_id, block_id);
"""

# version -> the statements that bring a file of the version before up to it
MIGRATIONS: dict[int, str] = {
    2: """
CREATE TABLE lesson_v2 (
    id          TEXT PRIMARY KEY,
    position    TEXT NOT NULL DEFAULT '',
    started_at  TEXT NOT NULL,
    done_at     TEXT
);
INSERT INTO lesson_v2 (id, position, started_at, done_at)
    SELECT id, '#' || position, started_at, done_at FROM lesson;
DROP TABLE lesson;
ALTER TABLE lesson_v2 RENAME TO lesson;
CREATE TABLE block_v2 (
    lesson_id    TEXT NOT NULL,
    block_id     TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    PRIMARY KEY (lesson_id, block_id)
);
INSERT INTO block_v2 (lesson_id, block_id, completed_at)
    SELECT lesson_id, '#' || block_index, completed_at FROM block;
DROP TABLE block;
ALTER TABLE block_v2 RENAME TO block;
CREATE TABLE attempt_v2 (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    lesson_id   TEXT NOT NULL,
    block_id    TEXT NOT NULL,
    answer      TEXT NOT NULL,
    correct     INTEGER NOT NULL,
    tags        TEXT NOT NULL,
    at          TEXT NOT NULL
);
INSERT INTO attempt_v2 (id, lesson_id, block_id, answer, correct, tags, at)
    SELECT id, lesson_id, '#' || block_index, answer, correct, tags, at FROM attempt;
DROP INDEX IF EXISTS attempt_lesson;
DROP TABLE attempt;
ALTER TABLE attempt_v2 RENAME TO attempt;
CREATE INDEX attempt_lesson ON attempt (lesson_id, block_id);
""",
}


class NewerSchema(Exception):
    """The file was written by a newer tutor, whose schema this one does not know: it is left
    as it is (never migrated down, never moved aside)."""

    def __init__(self, path: str, version: int) -> None:
        super().__init__(
            f"the progress file {path} was written by a newer version of tutor (its schema is "
            f"version {version}; this tutor reads up to version {SCHEMA_VERSION}), so it is left "
            "untouched: upgrade tutor (pip install -U tutor), or give another --data-dir"
        )
        self.version = version


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
    if version > SCHEMA_VERSION:
        raise NewerSchema(_file_of(conn), version)
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
        if version > SCHEMA_VERSION:
            raise NewerSchema(_file_of(conn), version)
        if version < SCHEMA_VERSION or not has_tables(conn):
            conn.execute("BEGIN IMMEDIATE")
            try:
                # read again under the lock: another process may have upgraded it meanwhile
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise NewerSchema(_file_of(conn), version)
                if version < SCHEMA_VERSION and has_tables(conn):
                    # tables from before: version 1 (or 0, a file from before versions were kept)
                    for step in range(max(version, 1) + 1, SCHEMA_VERSION + 1):
                        _run(conn, MIGRATIONS[step])
                _run(conn, _SCHEMA)  # a new file; or a table missing from an old one
                if version < SCHEMA_VERSION:
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                rollback(conn)
                raise
    except BaseException:
        rollback(conn)
        raise


def _run(conn: sqlite3.Connection, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _file_of(conn: sqlite3.Connection) -> str:
    row = conn.execute("PRAGMA database_list").fetchone()
    return (row[2] if row and row[2] else "") or "in memory"


def rollback(conn: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open; a failure here never hides the real error."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
