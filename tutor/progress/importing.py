"""A learner's SQLite progress into PostgreSQL (``tutor db import``): the migration from
today's store to the shared database.

The file is opened read-only and left as it is; any schema version this tutor knows is read (a
version 1 file's blocks, named by index, go in as ``"#<index>"``, which the store turns into the
blocks' ids when the lesson is next opened, as it does for a version 1 file: see
:mod:`tutor.progress.schema`); a newer file is refused. Everything goes in in one transaction per
learner through the same per-learner views the store writes through, and importing twice changes
nothing: a lesson or block already there is kept (a finished lesson stays finished), and an answer
already there (same lesson, block, text and time) is not added again.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from tutor.progress.pg_schema import pg_sql
from tutor.progress.schema import DB_NAME, LEGACY_PREFIX, SCHEMA_VERSION

__all__ = ["Imported", "ImportRefused", "import_dir"]


class ImportRefused(Exception):
    """The directory holds no progress this tutor can read; the message names the file."""


@dataclass(frozen=True)
class Imported:
    learner: str
    lessons: int  # rows new in PostgreSQL
    blocks: int
    answers: int
    skipped: int  # rows already there


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def read_sqlite(path: Path) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """(lessons, blocks, answers) of a progress file of any known version, read-only; blocks
    named by index (version 1) come back as ``"#<index>"``."""
    if not path.is_file():
        raise ImportRefused(
            f"{path}: no progress file here (tutor keeps it as {DB_NAME} in the data directory)"
        )
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as err:
        raise ImportRefused(f"{path}: cannot be opened ({err})") from err
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ImportRefused(
                f"{path}: schema version {version} is newer than this tutor knows (up to "
                f"{SCHEMA_VERSION}); upgrade tutor to import it"
            )
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"lesson", "block", "attempt"} <= tables:
            raise ImportRefused(f"{path}: not a tutor progress file (its tables are missing)")
        by_index = "block_index" in _columns(conn, "block")
        ref = f"'{LEGACY_PREFIX}' || " if by_index else ""
        col = "block_index" if by_index else "block_id"
        lessons = conn.execute(
            f"SELECT id, {ref}position, started_at, done_at FROM lesson ORDER BY started_at"
        ).fetchall()
        blocks = conn.execute(f"SELECT lesson_id, {ref}{col}, completed_at FROM block").fetchall()
        answers = conn.execute(
            f"SELECT lesson_id, {ref}{col}, answer, correct, tags, at FROM attempt ORDER BY id"
        ).fetchall()
    except sqlite3.Error as err:
        raise ImportRefused(f"{path}: cannot be read ({err})") from err
    finally:
        conn.close()
    return lessons, blocks, answers


def import_dir(url: str, data_dir: Path, learner: str) -> Imported:
    """Import the progress file in ``data_dir`` for ``learner`` (the tables must exist:
    :func:`tutor.progress.pg_schema.migrate` first)."""
    from tutor.progress.pg_schema import connect

    lessons, blocks, answers = read_sqlite(Path(data_dir) / DB_NAME)
    conn = connect(url, learner)
    new = [0, 0, 0]
    total = len(lessons) + len(blocks) + len(answers)
    try:
        for lesson_id, position, started_at, done_at in lessons:
            cur = conn.execute(
                pg_sql(
                    "INSERT INTO lesson (id, position, started_at, done_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
                ),
                (lesson_id, str(position), started_at, done_at),
            )
            new[0] += cur.rowcount
            if done_at:
                conn.execute(
                    pg_sql("UPDATE lesson SET done_at = coalesce(done_at, ?) WHERE id = ?"),
                    (done_at, lesson_id),
                )
        for lesson_id, block_id, completed_at in blocks:
            cur = conn.execute(
                pg_sql(
                    "INSERT INTO block (lesson_id, block_id, completed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
                ),
                (lesson_id, str(block_id), completed_at),
            )
            new[1] += cur.rowcount
        for lesson_id, block_id, answer, correct, tags, at in answers:
            cur = conn.execute(
                pg_sql(
                    "INSERT INTO attempt (lesson_id, block_id, answer, correct, tags, at) "
                    "SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM attempt WHERE lesson_id = ? "
                    "AND block_id = ? AND at = ? AND answer = ?)"
                ),
                (
                    lesson_id,
                    str(block_id),
                    answer,
                    int(bool(correct)),
                    tags,
                    at,
                    lesson_id,
                    str(block_id),
                    at,
                    answer,
                ),
            )
            new[2] += cur.rowcount
        conn.commit()
    except BaseException:
        try:
            conn.rollback()
        except Exception:
            pass
        raise
    finally:
        conn.close()
    return Imported(learner, new[0], new[1], new[2], total - sum(new))
