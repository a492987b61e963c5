"""The progress store on PostgreSQL: the database going away and coming back, the schema's
versions (a newer one refused, several processes migrating at once), learners kept apart.

These tests start a PostgreSQL cluster of their own (``tests/pgcluster.py`` in a temporary
folder) when they stop it; the others use the shared server's fresh database (``pg_url``)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests import pgcluster
from tutor.progress import open_store
from tutor.progress.pg_schema import NewerDatabase, connect, migrate
from tutor.progress.schema import SCHEMA_VERSION

REPO = Path(__file__).resolve().parents[2]


def answers_in(url: str, learner: str = "ada") -> list[str]:
    with open_store(url, None, learner) as other:
        return [a.answer for a in other.attempts()]


def wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_the_database_stopping_mid_lesson_keeps_every_answer_and_writes_each_once(own_cluster, tmp_path):
    directory, url = own_cluster
    with open_store(url, tmp_path / "data", "ada") as store:
        store.set_position("chain", "b1")
        store.record_attempt("chain", "b1", "1", False, [])
        store.record_attempt("chain", "b1", "2", True, [])
        assert store.flush(30) and store.attempts("chain")  # read once, while the server is up
        pgcluster.stop(directory)

        for answer in ("3", "4", "5"):
            store.record_attempt("chain", "b2", answer, answer == "5", ["t"])
        store.complete_block("chain", "b2")
        assert wait_for(lambda: store.status is not None)
        assert store.status.startswith("3 answers and 1 other change waiting to be saved: ")
        assert store.notice == store.status
        # the learner keeps working: what they did shows, saved before or waiting now
        assert [a.answer for a in store.attempts("chain")] == ["1", "2", "3", "4", "5"]
        assert store.completed_blocks("chain") == {"b2"} and store.position("chain") == "b1"
        assert not store.flush(1)

        pgcluster.start_again(directory)
        assert store.flush(60), f"never written: {store.status}"
        assert store.status is None and store.pending == 0
    assert answers_in(url) == ["1", "2", "3", "4", "5"]  # all present, in order, none twice
    with open_store(url, None, "ada") as again:
        assert again.completed_blocks("chain") == {"b2"} and again.notice is None


def test_a_database_unreachable_at_start_keeps_the_learner_working(own_cluster, tmp_path):
    directory, url = own_cluster
    pgcluster.stop(directory)
    started = time.monotonic()
    store = open_store(url, tmp_path / "data", "ada")
    try:
        assert time.monotonic() - started < 10  # a refused connection: at once
        assert store.warning.startswith(f"Progress could not be read from {url} just now (")
        assert "saved when the database is back" in store.warning
        store.record_attempt("chain", "b1", "6", True, [])
        store.complete_lesson("chain")
        assert store.state("chain") == "done" and [a.answer for a in store.attempts()] == ["6"]
        assert wait_for(lambda: store.status is not None)
        assert store.status.startswith("1 answer and 1 other change waiting to be saved: ")

        pgcluster.start_again(directory)
        assert store.flush(60), f"never written: {store.status}"
        assert wait_for(lambda: store.attempts() and store.warning is None)
    finally:
        store.close()
    assert answers_in(url) == ["6"]


def test_learners_share_one_database_and_see_only_their_own(pg_url, tmp_path):
    with open_store(pg_url, None, "ada") as ada, open_store(pg_url, None, "bob") as bob:
        ada.record_attempt("chain", "b1", "ada's", True, [])
        ada.complete_lesson("chain")
        bob.set_position("chain", "b3")
        assert ada.flush(30) and bob.flush(30)
        bob.reset()  # forgets bob's progress only
        assert bob.flush(30)
    assert answers_in(pg_url, "ada") == ["ada's"] and answers_in(pg_url, "bob") == []
    with open_store(pg_url, None, "ada") as ada:
        assert ada.state("chain") == "done"


def test_a_newer_schema_is_refused_naming_the_database_and_both_versions(pg_url):
    open_store(pg_url, None, "ada").close()
    conn = connect(pg_url)
    conn.execute("UPDATE schema_version SET version = %s WHERE component = 'progress'", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(NewerDatabase) as refused:
        open_store(pg_url, None, "ada")
    message = str(refused.value)
    assert pg_url in message and f"version {SCHEMA_VERSION + 1}" in message
    assert f"up to version {SCHEMA_VERSION}" in message and "left untouched" in message


def test_several_processes_opening_a_new_database_at_once_migrate_it_once(pg_url):
    results, errors = [], []

    def open_one():
        try:
            conn = connect(pg_url)
            try:
                results.append(migrate(conn, pg_url))
            finally:
                conn.close()
        except Exception as err:  # noqa: BLE001 - the test reports it
            errors.append(err)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(results) == [(0, SCHEMA_VERSION)] + [(SCHEMA_VERSION, SCHEMA_VERSION)] * 5
    conn = connect(pg_url)
    rows = conn.execute("SELECT component, version FROM schema_version").fetchall()
    conn.close()
    assert rows == [("progress", SCHEMA_VERSION)]


KILLED = """
import sys, time
from tutor.progress import open_store
store = open_store(sys.argv[1], sys.argv[2], "ada")
assert store.flush(30)
print("open", flush=True)
sys.stdin.readline()  # the test stops the server meanwhile
for answer in ("3", "4", "5"):
    store.record_attempt("chain", "b2", answer, True, [])
store.complete_lesson("chain")
while store.status is None:
    time.sleep(0.05)
print("waiting", flush=True)
time.sleep(60)
"""


def test_a_process_killed_while_the_database_was_away_loses_nothing(own_cluster, tmp_path):
    directory, url = own_cluster
    data = tmp_path / "data"
    with open_store(url, data, "ada") as store:
        store.record_attempt("chain", "b1", "1", True, [])
        store.record_attempt("chain", "b1", "2", True, [])
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, url, str(data)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "open"
        pgcluster.stop(directory)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "waiting"
        proc.kill()  # kill -9: no flush, no atexit
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert len(list((data / "journal").glob("*.jsonl"))) == 1  # what it had not written
    pgcluster.start_again(directory)
    with open_store(url, data, "ada") as again:  # the next session on this data directory
        assert again.flush(60), again.status
    assert answers_in(url) == ["1", "2", "3", "4", "5"]  # in order, none twice
    with open_store(url, data, "ada") as third:
        assert third.state("chain") == "done" and third.pending == 0
    assert list((data / "journal").glob("*.jsonl")) == []
