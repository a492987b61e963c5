"""Fixtures every test folder may use.

``pg_server`` (session scope) is the URL of a running PostgreSQL server: the one ``.ci/run``
started (``TUTOR_TEST_PG``), else a throw-away cluster this run starts and stops itself
(``tests/pgcluster.py``). Where no server can be had, the tests that need one are skipped with
the reason, except when ``TUTOR_REQUIRE_PG=1`` (CI), where they fail: in CI none is skipped.

``pg_url`` is a fresh, empty database on that server for one test, dropped after it.

``own_cluster`` is ``(directory, url)`` of a cluster of the test's own, for a test that stops
it (``pgcluster.stop(directory)``) and starts it again (``pgcluster.start_again(directory)``).

``backend`` (parametrised: ``"sqlite"``, ``"postgres"``) runs a store test once on each backend:
``backend.open(data_dir)`` opens the store as the app would (``open_store``: SQLite in
``data_dir``, or the test's own PostgreSQL database for learner ``ada``), ``backend.db`` is what
``--db`` would be (None for SQLite) and ``backend.name`` the backend's name.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest

from tests import pgcluster


@contextlib.contextmanager
def _cluster(prefix: str):
    """(folder, URL) of a cluster started for the caller and stopped and removed after it; where
    none can be had, a skip that says why (a failure when TUTOR_REQUIRE_PG=1, as in CI). Not under
    tmp_path: pytest's folders are 0700, and as root the server runs as postgres."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        url = pgcluster.start(directory)
    except (pgcluster.ClusterError, OSError) as err:
        shutil.rmtree(directory, ignore_errors=True)
        if os.environ.get("TUTOR_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL is required here (TUTOR_REQUIRE_PG=1): {err}")
        pytest.skip(f"no PostgreSQL server: {err}")
    try:
        yield directory, url
    finally:
        pgcluster.stop(directory)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server():
    url = os.environ.get("TUTOR_TEST_PG")
    if url:
        yield url
        return
    with _cluster("tutor-pg-") as (_directory, url):
        yield url


def _with_database(server_url: str, name: str) -> str:
    base, _, _ = server_url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture
def pg_url(pg_server):
    import psycopg

    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(pg_server, name)
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Backend:
    """One backend for a store test: ``open(data_dir, learner)`` and ``db`` (see the docstring)."""

    def __init__(self, name: str, db: str | None) -> None:
        self.name, self.db = name, db

    def open(self, data_dir, learner: str = "ada"):
        from tutor.progress import open_store

        return open_store(self.db, data_dir, learner)

    def __repr__(self) -> str:
        return self.name


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request):
    if request.param == "sqlite":
        return Backend("sqlite", None)
    return Backend("postgres", request.getfixturevalue("pg_url"))


@pytest.fixture
def own_cluster(pg_server):  # pg_server: skipped (or failed, in CI) as the others are
    with _cluster("tutor-pg-own-") as found:
        yield found
