"""The progress store under attack: a full disk, another process's write lock, other learners on
the same machine, damaged files. What is answered is kept (in the queue while it cannot be
written), the real error is said, and an intact file is never moved aside."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from tutor.progress import DB_NAME, Progress

REPO = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def stored_answers(data: Path, *, as_on_disk: bool = False) -> list[str]:
    """What is committed in the file, read with plain sqlite3 (not through a store). On a full
    disk SQLite cannot make its -shm index: ``as_on_disk`` reads the file as it lies (its -wal
    must be empty)."""
    if as_on_disk:
        assert not (data / (DB_NAME + "-wal")).exists() or (data / (DB_NAME + "-wal")).stat().st_size == 0
        conn = sqlite3.connect((data / DB_NAME).as_uri() + "?mode=ro&immutable=1", uri=True)
    else:
        conn = sqlite3.connect(data / DB_NAME)
    try:
        return [r[0] for r in conn.execute("SELECT answer FROM attempt ORDER BY id")]
    finally:
        conn.close()


def aside_files(data: Path) -> list[str]:
    return sorted(p.name for p in data.iterdir() if ".corrupt-" in p.name)


# ---------------------------------------------------------------------- a small disk that fills


@pytest.fixture
def small_disk(tmp_path, request):
    """A 2 MiB tmpfs; ``fill()`` fills it to the last byte with a file, ``free()`` deletes it."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (not root here)")
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {(result.stderr or result.stdout).strip()}")

    def unmount():
        if subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True)

    request.addfinalizer(unmount)

    class Disk:
        path = mount
        filler = mount / "filler"

        def fill(self):
            fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                for chunk in (1 << 16, 4096, 512, 1):
                    try:
                        while True:
                            os.write(fd, b"x" * chunk)
                    except OSError:
                        pass
            finally:
                os.close(fd)
            assert os.statvfs(mount).f_bavail == 0

        def free(self):
            self.filler.unlink()

    return Disk()


def test_a_full_disk_at_start_up_never_moves_the_file_aside(small_disk):
    data = small_disk.path / "data"
    with Progress(data) as progress:
        progress.set_position("derivative", "b2")
        progress.record_attempt("derivative", "b1", "before", True, [])
        progress.complete_lesson("derivative")
    db = data / DB_NAME
    inode, content = db.stat().st_ino, db.read_bytes()
    small_disk.fill()
    for _ in range(3):  # every start on the full disk
        with Progress(data) as progress:
            assert progress.path == db  # not the in-memory fallback
            assert not (progress.notice or "").startswith("Your progress file could not be read")
            # what was saved before is still shown
            assert progress.state("derivative") == "done" and progress.position("derivative") == "b2"
        assert aside_files(data) == []
        assert db.stat().st_ino == inode and db.read_bytes() == content

    progress = Progress(data)
    try:
        for i in range(3):
            progress.record_attempt(
                "derivative", "b4", f"while-full-{i}", i == 2, ["wrong-sign"] if i < 2 else []
            )
        progress.complete_block("derivative", "b4")
        assert progress.completed_blocks("derivative") == {"b4"}  # shown although not saved
        assert [a.answer for a in progress.attempts()] == [
            "before",
            "while-full-0",
            "while-full-1",
            "while-full-2",
        ]
        assert wait_for(lambda: progress.status is not None)
        assert progress.pending == 4
        assert (
            "disk is full" in progress.notice
            and "3 answers and 1 other change waiting to be saved" in progress.notice
        )
        assert stored_answers(data, as_on_disk=True) == ["before"]
        small_disk.free()
        assert progress.flush(timeout=30)
        assert progress.pending == 0 and progress.status is None
        assert stored_answers(data) == ["before", "while-full-0", "while-full-1", "while-full-2"]
    finally:
        progress.close()
    assert aside_files(data) == []
    with Progress(data) as again:
        assert again.notice is None
        assert [a.answer for a in again.attempts()] == [
            "before",
            "while-full-0",
            "while-full-1",
            "while-full-2",
        ]
        assert again.completed_blocks("derivative") == {"b4"}


def test_a_disk_that_fills_while_answering_keeps_the_answers_and_says_why(small_disk):
    data = small_disk.path / "data"
    progress = Progress(data)
    try:
        progress.record_attempt("chain", "b0", "first", True, [])
        assert progress.flush(timeout=10)
        changes = []
        progress.on_status_change(lambda p: changes.append((p.status, threading.current_thread().name)))
        small_disk.fill()
        answers = [f"full-{i}" for i in range(5)]
        for answer in answers:
            started = time.monotonic()
            progress.record_attempt("chain", "b1", answer, False, ["forgot-upstream"])
            assert time.monotonic() - started < 0.5
        assert wait_for(lambda: progress.status is not None and "5 answers" in progress.status)
        notice = progress.notice
        assert "database or disk is full" in notice and "cannot rollback" not in notice
        assert notice.startswith("5 answers waiting to be saved")
        assert progress.pending == 5
        assert [a.answer for a in progress.attempts("chain")] == ["first"] + answers
        assert stored_answers(data) == ["first"]  # nothing reported saved that is not
        small_disk.free()
        assert progress.flush(timeout=30)
        assert progress.status is None and progress.notice is None
        assert stored_answers(data) == ["first"] + answers  # in order, once each
        assert wait_for(lambda: changes and changes[-1][0] is None)
        assert any(s and "database or disk is full" in s for s, _ in changes)
        assert {name for _, name in changes} == {"tutor-progress-writer"}
    finally:
        progress.close()
    assert aside_files(data) == []


# ---------------------------------------------------------------------- another process's lock

LOCKER = textwrap.dedent(
    """
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO lesson (id, position, started_at) VALUES ('locker', 0, '0')")
    print("locked", flush=True)
    deadline = time.monotonic() + float(sys.argv[2])
    if sys.argv[3] == "stdin":
        sys.stdin.readline()  # the test lets go early
    else:
        time.sleep(max(0.0, deadline - time.monotonic()))
    conn.execute("COMMIT")
    conn.close()
    """
)


def hold_lock(data: Path, seconds: float, until: str = "time") -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(data / DB_NAME), str(seconds), until],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "locked"
    return proc


def finish(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass
    try:
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()
        proc.stdout.close()


def test_another_process_holding_the_write_lock_freezes_nothing_and_loses_nothing(tmp_path):
    data = tmp_path / "data"
    with Progress(data) as progress:
        progress.record_attempt("chain", "b0", "earlier", True, [])
    locker = hold_lock(data, 15)  # BEGIN IMMEDIATE, then ~15 s asleep
    try:
        progress = Progress(data)  # started while the lock is held
        try:
            assert progress.notice is None and progress.path == data / DB_NAME  # saved, not in memory
            answers = [f"answer-{i}" for i in range(6)]
            for i, answer in enumerate(answers):
                started = time.monotonic()
                progress.record_attempt("chain", "b1", answer, i == 5, [] if i == 5 else ["forgot-upstream"])
                progress.complete_block("chain", f"b{i}")
                assert time.monotonic() - started < 0.5  # the key's verdict is not held up
                assert progress.attempts("chain")[-1].answer == answer  # and reads show it at once
            started = time.monotonic()
            progress.set_position("chain", "b3")
            progress.complete_lesson("chain")
            assert time.monotonic() - started < 0.5
            assert progress.state("chain") == "done" and progress.position("chain") == "b3"
            assert progress.completed_blocks("chain") == {f"b{i}" for i in range(6)}
            assert wait_for(lambda: progress.status is not None)
            assert "database is locked" in progress.status and progress.pending == 14
            assert progress.notice == progress.status and progress.warning is None  # not said twice
            assert locker.poll() is None  # the lock was held all along
            assert stored_answers(data) == ["earlier"]
            assert progress.flush(timeout=40)  # the locker lets go after ~15 s
            assert progress.status is None
        finally:
            progress.close()
    finally:
        finish(locker)
    assert stored_answers(data) == ["earlier"] + answers  # every answer once, in order
    with Progress(data) as again:
        assert again.state("chain") == "done" and again.position("chain") == "b3"
        assert again.completed_blocks("chain") == {f"b{i}" for i in range(6)}
        assert again.state("locker") == "in progress"  # the other process's write landed too


def test_a_schema_to_create_while_the_lock_is_held_waits_for_the_writer(tmp_path):
    """An old file without the tables: creating them needs the lock; the session is still saved."""
    data = tmp_path / "data"
    data.mkdir()
    conn = sqlite3.connect(data / DB_NAME, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        "CREATE TABLE lesson (id TEXT PRIMARY KEY, position INTEGER NOT NULL DEFAULT 0, "
        "started_at TEXT NOT NULL, done_at TEXT)"
    )
    conn.close()
    locker = hold_lock(data, 15, "stdin")
    try:
        progress = Progress(data)
        try:
            assert progress.notice is None
            progress.record_attempt("chain", "b1", "6", True, [])
            assert [a.answer for a in progress.attempts()] == ["6"]
            assert not progress.flush(timeout=0.5)
            finish(locker)
            assert progress.flush(timeout=30)
        finally:
            progress.close()
    finally:
        finish(locker)
    assert stored_answers(data) == ["6"]


def test_close_says_plainly_what_could_not_be_written(tmp_path):
    data = tmp_path / "data"
    Progress(data).close()
    locker = hold_lock(data, 15, "stdin")
    try:
        progress = Progress(data)
        progress.record_attempt("chain", "b1", "a", False, [])
        progress.record_attempt("chain", "b1", "b", True, [])
        progress.complete_block("chain", "b1")
        message = progress.close(timeout=0.5)
        assert message == "2 answers and 1 other change could not be saved and are lost: database is locked."
        assert progress.notice == f"Progress could not be saved: {message}"
        progress.record_attempt("chain", "b2", "late", True, [])  # after close: said, not queued
        assert "after the progress store was closed" in progress.notice and progress.pending == 0
    finally:
        finish(locker)
    assert stored_answers(data) == []


def committed_answers(backend, data: Path) -> list[str]:
    """What is committed, read by a store opened afresh (another process's view)."""
    with backend.open(data) as other:
        return [a.answer for a in other.attempts()]


def test_a_write_tried_again_after_it_landed_is_stored_once(tmp_path, backend):
    """Retrying is safe even if a commit that reported an error did land: each answer carries a
    stamp unique to the process, and the same answer is never inserted twice."""
    from tutor.progress.writes import Write, now

    write = Write("attempt", "chain", "b1", "6", True, ("t",), at=now())
    with backend.open(tmp_path / "data") as progress:
        progress._enqueue(write)
        progress._enqueue(write)
        assert progress.flush(timeout=10)
        progress.record_attempt("chain", "b1", "6", True, ["t"])  # the same answer again, later: kept
    assert committed_answers(backend, tmp_path / "data") == ["6", "6"]
    stamps = [now() for _ in range(1000)]
    assert len(set(stamps)) == 1000 and stamps == sorted(stamps)


# ---------------------------------------------------------------------- other learners


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def usual_umask():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_progress_is_private_to_its_learner(tmp_path, usual_umask):
    data = tmp_path / "parent" / "data"
    progress = Progress(data)
    try:
        assert mode(data) == 0o700 and mode(data / DB_NAME) == 0o600
        progress.record_attempt("chain", "b1", "6", True, [])
        assert progress.flush(timeout=10)
        for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm"):
            assert (data / name).exists() and mode(data / name) == 0o600, name
        assert mode(tmp_path / "parent") == 0o755  # only the data directory itself
    finally:
        progress.close()


def test_an_existing_open_store_is_tightened(tmp_path, usual_umask):
    parent = tmp_path / "shared"
    data = parent / "data"
    with Progress(data) as progress:
        progress.complete_lesson("chain")
    parent.chmod(0o755)
    data.chmod(0o755)
    (data / DB_NAME).chmod(0o644)
    with Progress(data) as progress:
        assert mode(data) == 0o700 and mode(data / DB_NAME) == 0o600
        assert progress.state("chain") == "done"
        progress.record_attempt("chain", "b1", "6", True, [])
        assert progress.flush(timeout=10)
        assert mode(data / (DB_NAME + "-wal")) == 0o600 and mode(data / (DB_NAME + "-shm")) == 0o600
    assert mode(parent) == 0o755  # never the parents


def test_a_loose_wal_left_behind_is_tightened(tmp_path, usual_umask):
    data = tmp_path / "data"
    with Progress(data) as progress:
        progress.complete_lesson("chain")
    for suffix in ("-wal", "-shm"):
        (data / (DB_NAME + suffix)).write_bytes(b"")
        (data / (DB_NAME + suffix)).chmod(0o644)
    with Progress(data) as progress:
        assert mode(data / (DB_NAME + "-wal")) == 0o600 and mode(data / (DB_NAME + "-shm")) == 0o600
        assert progress.state("chain") == "done"


# ---------------------------------------------------------------------- damaged or unusable files


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_proven_corrupt_file_is_still_moved_aside(tmp_path, damage):
    data = tmp_path / "data"
    with Progress(data) as progress:
        for i in range(200):
            progress.record_attempt("lesson", f"b{i}", "x" * 200, True, [])
    db = data / DB_NAME
    content = db.read_bytes()
    if damage == "garbage":
        db.write_bytes(os.urandom(len(content)))
    else:
        db.write_bytes(content[: len(content) // 3])
    with Progress(data) as progress:
        assert progress.notice and "moved to" in progress.notice and "fresh one" in progress.notice
        (aside,) = aside_files(data)
        assert aside in progress.notice
        progress.record_attempt("lesson", "b1", "after", True, [])
    with Progress(data) as again:
        assert again.notice is None and [a.answer for a in again.attempts()] == ["after"]


def test_a_file_sqlite_cannot_open_is_left_where_it_is(tmp_path):
    """A directory where the database should be: cannot open, which is not corruption."""
    data = tmp_path / "data"
    (data / DB_NAME).mkdir(parents=True)
    (data / DB_NAME / "keep").write_text("mine")
    with Progress(data) as progress:
        assert progress.notice and "will not be saved" in progress.notice
        progress.complete_lesson("x")
        assert progress.state("x") == "done"
    assert aside_files(data) == [] and (data / DB_NAME / "keep").read_text() == "mine"


# ---------------------------------------------------------------------- reads while writes land


def test_a_read_sees_each_write_once_while_the_writer_commits(tmp_path, backend):
    """Reads overlay the queue on the database: a write that commits meanwhile must show once,
    never twice (in the file and still queued) nor not at all (gone from the queue, not yet seen)."""
    with backend.open(tmp_path / "data") as progress:
        seen, problems = [], []

        def reader():
            last = 0
            while len(seen) < 1 or last < 300:
                answers = [a.answer for a in progress.attempts()]
                if answers != [str(i) for i in range(len(answers))] or len(answers) < last:
                    problems.append(answers)
                    return
                last = len(answers)
                seen.append(last)

        thread = threading.Thread(target=reader)
        thread.start()
        for i in range(300):
            progress.record_attempt("chain", f"b{i % 3}", str(i), True, [])
            if i % 50 == 0:
                time.sleep(0.01)
        thread.join(timeout=60)
        assert not thread.is_alive() and problems == []
        assert progress.flush(timeout=30)
    assert committed_answers(backend, tmp_path / "data") == [str(i) for i in range(300)]
