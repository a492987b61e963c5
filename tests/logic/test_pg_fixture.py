"""The PostgreSQL fixture gives each test its own empty database on a real server."""

from __future__ import annotations


def test_each_test_gets_an_empty_database_of_its_own(pg_url, pg_server):
    import psycopg

    assert pg_url != pg_server
    with psycopg.connect(pg_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()[0]
        conn.execute("CREATE TABLE mine (x int)")
        conn.commit()
        version = conn.execute("SHOW server_version").fetchone()[0]
    assert tables == 0
    assert version.split(".")[0].isdigit()
