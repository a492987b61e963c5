"""The progress store: what a learner does is kept, across restarts, crashes and two sessions.

The tests about the store's behaviour run on both backends (the ``backend`` fixture of
``tests/conftest.py``: SQLite in the data directory, and PostgreSQL); the ones about SQLite's
files (corrupt, unwritable, permissions) on SQLite only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tutor.progress import DB_NAME, Attempt, LessonState, Progress, default_data_dir

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path, backend):
    with backend.open(tmp_path / "data") as progress:
        yield progress


def test_a_new_sqlite_store_is_a_file_in_the_data_dir(tmp_path):
    with Progress(tmp_path / "data") as progress:
        assert progress.notice is None
    assert (tmp_path / "data" / DB_NAME).is_file()


def test_a_new_store_knows_nothing(store):
    assert store.notice is None
    assert store.state("derivative") is LessonState.NOT_STARTED
    assert store.position("derivative") == ""
    assert store.completed_blocks("derivative") == set()
    assert store.attempts() == [] and store.lesson_ids() == []


def test_states_follow_what_the_learner_did(store):
    store.set_position("derivative", "b3")
    assert store.state("derivative") == "in progress"
    store.complete_block("derivative", "b2")
    store.complete_block("derivative", "b2")
    store.complete_block("derivative", "b4")
    assert store.completed_blocks("derivative") == {"b2", "b4"}
    store.complete_lesson("derivative")
    assert store.state("derivative") == "done"
    assert store.state("backprop-by-hand") == "not started"
    store.set_position("derivative", "b1")  # revisiting a finished lesson keeps it done
    assert store.state("derivative") == "done" and store.position("derivative") == "b1"


def test_everything_survives_a_restart(tmp_path, backend):
    data = tmp_path / "data"
    with backend.open(data) as first:
        first.set_position("backprop-by-hand", "b5")
        first.complete_block("backprop-by-hand", "b3")
        first.record_attempt("backprop-by-hand", "b3", "-4", False, ["used-own-input"])
        first.complete_lesson("derivative")
    with backend.open(data) as second:
        assert second.position("backprop-by-hand") == "b5"
        assert second.state("backprop-by-hand") == "in progress"
        assert second.completed_blocks("backprop-by-hand") == {"b3"}
        assert second.state("derivative") == "done"
        (attempt,) = second.attempts()
        assert (attempt.lesson_id, attempt.block_id, attempt.answer, attempt.correct, attempt.tags) == (
            "backprop-by-hand",
            "b3",
            "-4",
            False,
            ["used-own-input"],
        )
        assert attempt.timestamp.endswith("+00:00")


def test_progress_is_keyed_by_lesson_id_not_position(store):
    store.set_position("b-lesson", "b2")
    store.complete_lesson("a-lesson")
    assert store.state("a-lesson") == "done" and store.state("b-lesson") == "in progress"
    assert set(store.lesson_ids()) == {"a-lesson", "b-lesson"}


def test_attempts_in_order_and_per_lesson(store):
    store.record_attempt("one", "b1", "6", True, [])
    store.record_attempt("two", "b0", "x", False, ["forgot-zero-grad", "wrong-sign"])
    store.record_attempt("one", "b1", "-'; DROP TABLE attempt; --", False, [])
    assert [a.answer for a in store.attempts()] == ["6", "x", "-'; DROP TABLE attempt; --"]
    assert [a.answer for a in store.attempts("one")] == ["6", "-'; DROP TABLE attempt; --"]
    assert store.attempts("two")[0].tags == ["forgot-zero-grad", "wrong-sign"]
    assert isinstance(store.attempts()[0], Attempt)


def test_reset_one_lesson_or_everything(store):
    for lesson in ("one", "two"):
        store.set_position(lesson, "b2")
        store.complete_block(lesson, "b1")
        store.record_attempt(lesson, "b1", "1", True, [])
    store.reset("one")
    assert store.state("one") == "not started" and store.completed_blocks("one") == set()
    assert store.attempts("one") == [] and store.state("two") == "in progress"
    store.reset()
    assert store.lesson_ids() == [] and store.attempts() == []


def test_corrupt_database_is_moved_aside_with_a_notice(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    garbage = b"this is not a database, it is a text file that got in the way\n" * 100
    (data / DB_NAME).write_bytes(garbage)
    with Progress(data) as progress:
        assert progress.notice and "could not be read" in progress.notice and "fresh one" in progress.notice
        aside = [p for p in data.iterdir() if p.name.startswith(f"{DB_NAME}.corrupt-")]
        assert len(aside) == 1 and str(aside[0]) in progress.notice
        assert aside[0].read_bytes() == garbage  # kept, not destroyed
        progress.complete_lesson("derivative")
    with Progress(data) as again:
        assert again.notice is None and again.state("derivative") == "done"


def test_truncated_database_is_moved_aside(tmp_path):
    data = tmp_path / "data"
    with Progress(data) as progress:
        for i in range(200):
            progress.record_attempt("lesson", f"b{i}", "x" * 200, True, [])
    db = data / DB_NAME
    for extra in (DB_NAME + "-wal", DB_NAME + "-shm"):
        (data / extra).unlink(missing_ok=True)
    content = db.read_bytes()
    db.write_bytes(content[:100] + b"\xff" * 4000 + content[4100:8000])
    with Progress(data) as progress:
        assert progress.notice and "moved to" in progress.notice
        progress.set_position("lesson", "b1")
        assert progress.position("lesson") == "b1"


def test_a_data_dir_that_cannot_be_made_keeps_progress_in_memory_with_a_notice(tmp_path):
    """Also as root (unlike the read-only directory below): a file stands where the directory goes."""
    (tmp_path / "file").write_text("not a directory")
    with Progress(tmp_path / "file" / "data") as progress:
        assert progress.path is None
        assert progress.notice.startswith("Progress will not be saved this session: cannot create")
        assert progress.warning == progress.notice and progress.status is None
        progress.set_position("lesson", "b2")
        progress.record_attempt("lesson", "b2", "6", True, ["t"])
        assert progress.flush(10) and progress.pending == 0
        assert progress.state("lesson") is LessonState.IN_PROGRESS and progress.position("lesson") == "b2"
        assert [(a.answer, a.tags) for a in progress.attempts("lesson")] == [("6", ["t"])]


def test_unwritable_directory_keeps_progress_in_memory_with_a_notice(tmp_path):
    """A directory the tutor may not write: mode 0500, or for root (who may write anywhere) a
    read-only filesystem mounted there."""
    import subprocess

    locked = tmp_path / "locked"
    locked.mkdir()
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if as_root:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(locked)], capture_output=True, text=True
        )
        if mounted.returncode != 0:
            pytest.skip(
                f"as root only a read-only mount is unwritable, and mount failed: {mounted.stderr.strip()}"
            )
    else:
        locked.chmod(0o500)
    try:
        with Progress(locked / "data") as progress:
            assert progress.notice and "will not be saved" in progress.notice
            progress.set_position("x", "b2")
            assert progress.position("x") == "b2"
    finally:
        if as_root:
            subprocess.run(["umount", str(locked)], check=False)
        else:
            locked.chmod(0o700)


def test_data_dir_that_cannot_be_created_keeps_progress_in_memory(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    with Progress(blocker / "data") as progress:
        assert (
            progress.notice
            and "will not be saved" in progress.notice
            and str(blocker / "data") in progress.notice
        )
        progress.complete_lesson("x")
        assert progress.state("x") == "done"
    assert blocker.read_text() == "in the way"


def test_two_sessions_at_once_lose_nothing(tmp_path, backend):
    data = tmp_path / "data"
    with backend.open(data) as one, backend.open(data) as two:
        for i in range(20):
            one.record_attempt("lesson", f"b{i}", f"one-{i}", True, [])
            two.record_attempt("lesson", f"b{i}", f"two-{i}", False, [])
            (one if i % 2 else two).complete_block("lesson", f"b{i}")
        # writes are queued: each session sees the other's once they are committed
        assert one.flush(30) and two.flush(30)
        assert len(one.attempts()) == 40 and len(two.attempts()) == 40
        assert one.completed_blocks("lesson") == {f"b{i}" for i in range(20)}


WRITER = textwrap.dedent(
    """
    import sys
    from tutor.progress import open_store
    data, name, count, db = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] or None
    progress = open_store(db, data, "ada")
    for i in range(count):
        progress.record_attempt("lesson", f"b{i}", f"{name}-{i}", True, [name])
        progress.complete_block(name, f"b{i}")
    progress.close()
    """
)


def test_concurrent_processes_lose_nothing(tmp_path, backend):
    data = tmp_path / "data"
    backend.open(data).close()
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(data), f"w{n}", "40", backend.db or ""], cwd=REPO)
        for n in range(4)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0, 0]
    with backend.open(data) as progress:
        answers = [a.answer for a in progress.attempts()]
        assert sorted(answers) == sorted(f"w{n}-{i}" for n in range(4) for i in range(40))
        for n in range(4):
            assert progress.completed_blocks(f"w{n}") == {f"b{i}" for i in range(40)}
            assert [a.answer for a in progress.attempts() if a.tags == [f"w{n}"]] == [
                f"w{n}-{i}" for i in range(40)
            ]


HANGUP = textwrap.dedent(
    """
    import sys, time
    from tutor.progress import open_store
    progress = open_store(sys.argv[2] or None, sys.argv[1], "ada")
    progress.record_attempt("lesson", "b2", "6", True, [])
    progress.complete_block("lesson", "b2")
    assert progress.flush(30)  # writes are queued: "written" once they are committed
    print("written", flush=True)
    time.sleep(60)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGKILL])
def test_a_dropped_session_keeps_what_was_answered(tmp_path, sig, backend):
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-c", HANGUP, str(data), backend.db or ""],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "written"
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    with backend.open(data) as progress:
        assert progress.completed_blocks("lesson") == {"b2"}
        assert [a.answer for a in progress.attempts()] == ["6"]


def test_default_data_dir_precedence(tmp_path):
    env = {"TUTOR_HOME": str(tmp_path / "home")}
    assert default_data_dir(str(tmp_path / "flag"), env) == tmp_path / "flag"
    assert default_data_dir(None, env) == tmp_path / "home"
    fallback = default_data_dir(None, {})
    assert fallback.name == "tutor" and fallback != tmp_path / "home"
