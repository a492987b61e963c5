"""``tutor db`` (migrate, check, import) and ``--db`` / ``TUTOR_DB`` on ``tutor``: what an
operator and a learner read, on a real PostgreSQL database."""

from __future__ import annotations

import sqlite3

from tests.logic.test_progress_migration import _old_file
from tutor.cli import main
from tutor.progress import DB_NAME, Progress, open_store
from tutor.progress.pg_schema import connect
from tutor.progress.schema import SCHEMA_VERSION


def run(capsys, *argv, env=None):
    code = main(list(argv), environ=env or {})
    out, err = capsys.readouterr()
    return code, out, err


def test_migrate_creates_then_has_nothing_to_do_and_check_says_so(capsys, pg_url):
    code, out, err = run(capsys, "db", "check", "--db", pg_url)
    assert code == 1 and "there are no progress tables yet" in out and "run `tutor db migrate`" in out
    code, out, err = run(capsys, "db", "migrate", env={"TUTOR_DB": pg_url})
    assert (code, err) == (
        0,
        "",
    ) and out == f"{pg_url}: created the progress tables (version {SCHEMA_VERSION})\n"
    code, out, _ = run(capsys, "db", "migrate", "--db", pg_url)
    assert code == 0 and "nothing to do" in out
    code, out, _ = run(capsys, "db", "check", "--db", pg_url)
    said = f"{pg_url}: the progress tables are at version {SCHEMA_VERSION}, the one this tutor uses: up to date\n"
    assert code == 0 and out == said


def test_a_newer_database_is_refused_by_check_migrate_and_tutor(capsys, pg_url, tmp_path):
    run(capsys, "db", "migrate", "--db", pg_url)
    conn = connect(pg_url)
    conn.execute("UPDATE schema_version SET version = 7 WHERE component = 'progress'")
    conn.commit()
    conn.close()
    for argv in (("db", "check"), ("db", "migrate"), ("progress",)):
        code, out, err = (
            run(capsys, *argv, "--db", pg_url, "--data-dir", str(tmp_path))
            if argv[0] == "progress"
            else run(capsys, *argv, "--db", pg_url)
        )
        assert code == 2, argv
        assert f"in {pg_url} are schema version 7" in err and f"up to version {SCHEMA_VERSION}" in err, err
    conn = connect(pg_url)
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(7,)]  # untouched
    conn.close()


def test_db_needs_a_postgresql_url(capsys):
    code, _, err = run(capsys, "db", "check")
    assert code == 2 and "--db postgresql://" in err and "TUTOR_DB" in err
    code, _, err = run(capsys, "db", "check", "--db", "sqlite:///x")
    assert code == 2 and "--db takes a PostgreSQL URL" in err
    code, _, err = run(capsys, "progress", env={"TUTOR_DB": "/tmp/progress.sqlite3"})
    assert code == 2 and "TUTOR_DB takes a PostgreSQL URL" in err


def _new_file(data) -> None:
    with Progress(data) as progress:
        progress.set_position("derivative", "quiz-a")
        progress.complete_block("derivative", "quiz-a")
        progress.record_attempt("derivative", "quiz-a", "2", False, ["wrong-sign"])
        progress.record_attempt("derivative", "quiz-a", "-2", True, [])
        progress.complete_lesson("derivative")


def test_import_brings_each_learners_sqlite_progress_of_any_version_once(capsys, pg_url, tmp_path):
    learners = tmp_path / "class" / "learners"
    learners.mkdir(parents=True)
    _old_file(learners / "ada")  # version 1: blocks by index
    _new_file(learners / "bob")  # version 2
    before = (learners / "ada" / DB_NAME).read_bytes()
    code, out, err = run(capsys, "db", "import", str(learners / "ada"), str(learners / "bob"), "--db", pg_url)
    assert (code, err) == (0, "")
    assert f"{learners / 'ada'} -> learner ada: 1 lessons, 1 blocks, 1 answers added; 0 already there" in out
    assert f"{learners / 'bob'} -> learner bob: 1 lessons, 1 blocks, 2 answers added; 0 already there" in out
    assert (learners / "ada" / DB_NAME).read_bytes() == before  # only read
    code, out, _ = run(capsys, "db", "import", str(learners / "ada"), str(learners / "bob"), "--db", pg_url)
    assert (
        code == 0 and "0 answers added; 3 already there" in out and "0 answers added; 4 already there" in out
    )

    with open_store(pg_url, None, "bob") as bob:
        assert bob.state("derivative") == "done" and bob.completed_blocks("derivative") == {"quiz-a"}
        assert [(a.answer, a.correct, a.tags) for a in bob.attempts()] == [
            ("2", False, ["wrong-sign"]),
            ("-2", True, []),
        ]
    with open_store(pg_url, None, "ada") as ada:  # the version 1 indexes become ids as the lesson opens
        ada.adopt_block_ids("chain", ["markdown-aaaa", "quiz-first", "train-second"])
        assert ada.completed_blocks("chain") == {"quiz-first"} and ada.position("chain") == "train-second"
        assert ada.flush(10)
    with open_store(pg_url, None, "ada") as ada:
        assert [(a.block_id, a.answer) for a in ada.attempts()] == [("quiz-first", "-4")]


def test_import_refuses_a_newer_file_and_a_directory_without_one(capsys, pg_url, tmp_path):
    newer = tmp_path / "newer"
    newer.mkdir()
    conn = sqlite3.connect(newer / DB_NAME)
    conn.execute("PRAGMA user_version = 9")
    conn.commit()
    conn.close()
    code, out, err = run(capsys, "db", "import", str(newer), str(tmp_path / "empty"), "--db", pg_url)
    assert code == 1 and out == ""
    assert f"{newer / DB_NAME}: schema version 9 is newer than this tutor knows" in err
    assert f"{tmp_path / 'empty' / DB_NAME}: no progress file here" in err


def test_tutor_progress_reads_the_database_for_tutor_learner(capsys, pg_url, tmp_path):
    with open_store(pg_url, None, "ada") as ada:
        ada.complete_lesson("derivative")
    env = {"TUTOR_DB": pg_url, "TUTOR_LEARNER": "ada", "TUTOR_HOME": str(tmp_path / "home")}
    code, out, err = run(capsys, "progress", env=env)
    assert code == 0, err
    assert f"Progress in {pg_url} (learner ada): 1 of" in out
    code, out, err = run(
        capsys, "--db", pg_url, "progress", env={"TUTOR_LEARNER": "ada", **env}
    )  # a global option
    assert code == 0 and f"Progress in {pg_url} (learner ada): 1 of" in out, err
    assert not (tmp_path / "home" / DB_NAME).exists()
