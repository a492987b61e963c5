"""The progress tables on PostgreSQL: where the two dialects differ, in one place.

One database holds every learner: each table is keyed by a ``learner`` column, and the store's
SQL (the same statements as on SQLite, :mod:`tutor.progress.writes` and the reads of
:mod:`tutor.progress.store`) runs against three *temporary views* of the connection, ``lesson``,
``block`` and ``attempt``, that show one learner's rows of ``progress_lesson``,
``progress_block`` and ``progress_attempt``. The learner is the connection's setting
``tutor.learner`` (set once, as a parameter, when it connects); the views filter on it and an
insert through them takes it as the ``learner`` column's default. So the differences are only:

* placeholders (``?`` on SQLite, ``%s`` for psycopg): :func:`pg_sql`;
* the tables (``MIGRATIONS`` here against :data:`tutor.progress.schema.MIGRATIONS`): the same
  version numbers; PostgreSQL starts at version 2 (version 1 predates it), so its steps are
  ``{2: create the tables}`` and a later version adds a step to both dicts;
* the version is not ``PRAGMA user_version`` but a row of ``schema_version(component,
  version)``, shared with the roster's tables (component ``'roster'``); this one is
  ``'progress'``. Migrating runs in one transaction with the version bump, under
  ``pg_advisory_xact_lock`` (several serve processes may open at once). A newer version than
  this tutor knows is refused with :class:`NewerDatabase`, naming the database and both versions.

psycopg is imported here, and this module only when a ``postgresql://`` URL is given: the app's
start never imports it.

Timeouts (nothing a learner does may wait on a dead server): connecting gives up after
``CONNECT_TIMEOUT_S``; a statement after ``STATEMENT_TIMEOUT_MS`` on the server, a lock wait after
``LOCK_TIMEOUT_MS``; a server that stops answering (a pulled cable) is noticed by TCP within
``TCP_USER_TIMEOUT_MS`` and the keepalives.
"""

from __future__ import annotations

from tutor.progress.schema import SCHEMA_VERSION

__all__ = [
    "COMPONENT",
    "CONNECT_TIMEOUT_S",
    "MIGRATIONS",
    "NewerDatabase",
    "connect",
    "database_version",
    "migrate",
    "pg_sql",
    "redact",
]

COMPONENT = "progress"
CONNECT_TIMEOUT_S = 3
STATEMENT_TIMEOUT_MS = 5000
LOCK_TIMEOUT_MS = 5000
TCP_USER_TIMEOUT_MS = 5000
# Every component's migrations (the progress tables here, the roster's in tutor/serve/roster_pg.py)
# take this one lock; hashtext is stable across servers and versions.
VERSION_LOCK = "SELECT pg_advisory_xact_lock(hashtext('tutor schema_version'))"

VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    component TEXT PRIMARY KEY,
    version   INTEGER NOT NULL
)"""

_LEARNER = "learner TEXT NOT NULL DEFAULT current_setting('tutor.learner')"

# version -> the statements that bring a database of the version before up to it
MIGRATIONS: dict[int, list[str]] = {
    2: [
        f"""CREATE TABLE progress_lesson (
    {_LEARNER},
    id          TEXT NOT NULL,
    position    TEXT NOT NULL DEFAULT '',
    started_at  TEXT NOT NULL,
    done_at     TEXT,
    PRIMARY KEY (learner, id)
)""",
        f"""CREATE TABLE progress_block (
    {_LEARNER},
    lesson_id    TEXT NOT NULL,
    block_id     TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    PRIMARY KEY (learner, lesson_id, block_id)
)""",
        f"""CREATE TABLE progress_attempt (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    {_LEARNER},
    lesson_id   TEXT NOT NULL,
    block_id    TEXT NOT NULL,
    answer      TEXT NOT NULL,
    correct     INTEGER NOT NULL,
    tags        TEXT NOT NULL,
    at          TEXT NOT NULL
)""",
        "CREATE INDEX progress_attempt_learner ON progress_attempt (learner, lesson_id, block_id, at)",
    ],
}

# one learner's rows, under the names the store's SQL uses (per connection: temporary)
_VIEWS = (
    "CREATE TEMP VIEW lesson AS SELECT id, position, started_at, done_at FROM progress_lesson "
    "WHERE learner = current_setting('tutor.learner')",
    "CREATE TEMP VIEW block AS SELECT lesson_id, block_id, completed_at FROM progress_block "
    "WHERE learner = current_setting('tutor.learner')",
    "CREATE TEMP VIEW attempt AS SELECT id, lesson_id, block_id, answer, correct, tags, at "
    "FROM progress_attempt WHERE learner = current_setting('tutor.learner')",
)


class NewerDatabase(Exception):
    """The database's progress tables were made by a newer tutor: never touched."""

    def __init__(self, where: str, version: int) -> None:
        super().__init__(
            f"the progress tables in {where} are schema version {version}, newer than this tutor "
            f"knows (up to version {SCHEMA_VERSION}), so they are left untouched: upgrade tutor "
            "(pip install -U tutor) on every machine that uses this database"
        )
        self.version = version


def pg_sql(sql: str) -> str:
    """The store's SQLite statement for psycopg (``?`` placeholders become ``%s``)."""
    return sql.replace("%", "%%").replace("?", "%s")


def redact(url: str) -> str:
    """The URL without its password, for messages: ``postgresql://user@host:port/db``."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(url)
    except Exception:
        return "the PostgreSQL database given"
    user = f"{parts['user']}@" if parts.get("user") else ""
    host = str(parts.get("host") or "localhost")
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{host}{port}/{parts.get('dbname') or ''}"


def connect(url: str, learner: str | None = None, *, connect_timeout: float = CONNECT_TIMEOUT_S):
    """A connection with every timeout set; with ``learner``, its temporary views of that
    learner's rows (the tables must exist: :func:`migrate` first). Not in autocommit: the
    caller commits."""
    import psycopg

    conn = psycopg.connect(
        url,
        connect_timeout=max(1, int(connect_timeout)),
        application_name="tutor",
        options=(
            f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS} "
            "-c idle_in_transaction_session_timeout=60000"
        ),
        keepalives=1,
        keepalives_idle=5,
        keepalives_interval=2,
        keepalives_count=2,
        tcp_user_timeout=TCP_USER_TIMEOUT_MS,
    )
    try:
        if learner is not None:
            conn.execute("SELECT set_config('tutor.learner', %s, false)", (learner,))
            for view in _VIEWS:
                conn.execute(view)
            conn.commit()
    except BaseException:
        conn.close()
        raise
    return conn


def component_version(conn, component: str) -> int:
    """A component's version in this database (``schema_version``'s row): 0 when it has none."""
    row = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not row[0]:
        return 0
    row = conn.execute("SELECT version FROM schema_version WHERE component = %s", (component,)).fetchone()
    return int(row[0]) if row else 0


def record_version(conn, component: str, version: int) -> None:
    """Set a component's version, in the transaction of its migration."""
    conn.execute(
        "INSERT INTO schema_version (component, version) VALUES (%s, %s) "
        "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
        (component, version),
    )


def database_version(conn) -> int:
    """The progress tables' version in this database: 0 when there are none."""
    return component_version(conn, COMPONENT)


def migrate(conn, where: str) -> tuple[int, int]:
    """Bring the progress tables up to :data:`SCHEMA_VERSION` in one transaction with the
    version bump, under the advisory lock; (version before, version after). Raises
    :class:`NewerDatabase` for a newer one (touching nothing) and psycopg's errors."""
    try:
        before = database_version(conn)
        conn.rollback()
        if before > SCHEMA_VERSION:
            raise NewerDatabase(where, before)
        if before == SCHEMA_VERSION:
            return before, before
        conn.execute(VERSION_LOCK)
        conn.execute(VERSION_TABLE)
        # read again under the lock: another process may have migrated it meanwhile
        before = database_version(conn)
        if before > SCHEMA_VERSION:
            raise NewerDatabase(where, before)
        for step in range(max(before, 1) + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS.get(step, []):
                conn.execute(statement)
        record_version(conn, COMPONENT, SCHEMA_VERSION)
        conn.commit()
    except BaseException:
        try:
            conn.rollback()
        except Exception:
            pass
        raise
    return before, SCHEMA_VERSION
