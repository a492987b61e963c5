"""The progress file's schema migrations: a version 1 file (blocks named by index) opens, is
upgraded in place to block ids, and keeps what the learner did; a newer file is refused, untouched."""

from __future__ import annotations

import sqlite3

from tutor.progress import DB_NAME, Progress
from tutor.progress.schema import SCHEMA_VERSION

# the schema as version 1 of tutor wrote it (blocks by their index in the lesson)
_V1 = """
CREATE TABLE lesson (id TEXT PRIMARY KEY, position INTEGER NOT NULL DEFAULT 0,
                     started_at TEXT NOT NULL, done_at TEXT);
CREATE TABLE block (lesson_id TEXT NOT NULL, block_index INTEGER NOT NULL, completed_at TEXT NOT NULL,
                    PRIMARY KEY (lesson_id, block_index));
CREATE TABLE attempt (id INTEGER PRIMARY KEY AUTOINCREMENT, lesson_id TEXT NOT NULL,
                      block_index INTEGER NOT NULL, answer TEXT NOT NULL, correct INTEGER NOT NULL,
                      tags TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX attempt_lesson ON attempt (lesson_id, block_index);
"""


def _old_file(data_dir) -> None:
    data_dir.mkdir()
    conn = sqlite3.connect(data_dir / DB_NAME)
    conn.executescript(_V1)
    conn.execute("INSERT INTO lesson VALUES ('chain', 2, '2026-01-01T00:00:00+00:00', NULL)")
    conn.execute("INSERT INTO block VALUES ('chain', 1, '2026-01-01T00:01:00+00:00')")
    conn.execute(
        "INSERT INTO attempt (lesson_id, block_index, answer, correct, tags, at) "
        "VALUES ('chain', 1, '-4', 0, '[\"forgot-upstream\"]', '2026-01-01T00:00:30+00:00')"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


def test_a_version_1_file_is_upgraded_and_its_indexes_become_the_lessons_block_ids(tmp_path):
    data = tmp_path / "data"
    _old_file(data)
    ids = ["markdown-aaaa", "quiz-first", "train-second"]
    with Progress(data) as progress:
        assert progress.notice is None
        assert progress.state("chain") == "in progress"
        progress.adopt_block_ids("chain", ids)  # what the lesson screen does as the lesson opens
        # read at once, before the rename is committed, and after
        assert progress.completed_blocks("chain") == {"quiz-first"}
        assert progress.position("chain") == "train-second"
        assert [(a.block_id, a.answer, a.tags) for a in progress.attempts()] == [
            ("quiz-first", "-4", ["forgot-upstream"])
        ]
        assert progress.flush(5)
    conn = sqlite3.connect(data / DB_NAME)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    assert conn.execute("SELECT block_id FROM block").fetchall() == [("quiz-first",)]
    assert conn.execute("SELECT position FROM lesson").fetchall() == [("train-second",)]
    assert conn.execute("SELECT block_id FROM attempt").fetchall() == [("quiz-first",)]
    conn.close()
    with Progress(data) as again:  # nothing left to rename: telling it again writes nothing
        again.adopt_block_ids("chain", ids)
        assert again.pending == 0 and again.completed_blocks("chain") == {"quiz-first"}


def test_a_file_from_a_newer_tutor_is_refused_with_a_message_and_left_untouched(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    conn = sqlite3.connect(data / DB_NAME)
    conn.execute("CREATE TABLE lesson (id TEXT PRIMARY KEY, future TEXT)")
    conn.execute("PRAGMA user_version = 9")
    conn.commit()
    conn.close()
    before = (data / DB_NAME).read_bytes()
    with Progress(data) as progress:
        assert progress.path is None  # kept in memory this session
        assert "newer version of tutor" in progress.notice and "version 9" in progress.notice
        assert "upgrade tutor" in progress.notice
        progress.set_position("chain", "quiz-first")
        assert progress.position("chain") == "quiz-first"
    assert (data / DB_NAME).read_bytes() == before
    assert list(data.iterdir()) == [data / DB_NAME]  # not moved aside as corrupt
