"""The roster in PostgreSQL: the backend of a class served by several hosts (``--db`` or
``TUTOR_DB``). The same interface as the class directory's files (:class:`Roster`), and beside it
the tables the hosts share: who is connected (:mod:`tutor.serve.live`) and the host key's public
half (:mod:`tutor.serve.server`).

psycopg 3 is imported here only, and only when a database URL is given. Plain SQL behind the
small interface: the roster is six short tables, and a layer above the driver would be one more
thing to import in the SSH server. One database holds one class.

Versions live in ``schema_version(component, version)``, shared with the progress store (whose
component is ``'progress'``); this one is ``'roster'``. Opening a database upgrades an older
schema in one transaction, under an advisory lock so two hosts starting at once do it once; a
newer schema is refused with a message. Every statement has a time limit, and connecting too.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from tutor.progress.pg_schema import (
    VERSION_LOCK,
    VERSION_TABLE,
    component_version,
    record_version,
    redact,  # the URL with its password hidden, for messages
)
from tutor.serve.roster import (
    MAX_KEYS_PER_LEARNER,
    PublicKey,
    Roster,
    RosterError,
    check_name,
    hash_code,
    new_code_text,
    now_iso,
    valid_name,
)

if TYPE_CHECKING:
    from tutor.serve.roster import ClassDir

__all__ = ["COMPONENT", "MIGRATIONS", "PgRoster", "connect", "migrate", "schema_version"]

COMPONENT = "roster"
CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT_MS = 10_000

# MIGRATIONS[n] takes the schema from version n to n + 1; never edit one that has shipped
MIGRATIONS: list[tuple[str, ...]] = [
    (
        "CREATE TABLE roster_learners (name TEXT PRIMARY KEY, added TEXT NOT NULL)",
        "CREATE TABLE roster_keys (key_line TEXT PRIMARY KEY, "
        "learner TEXT NOT NULL REFERENCES roster_learners(name) ON DELETE CASCADE, "
        "comment TEXT NOT NULL DEFAULT '', added TEXT NOT NULL)",
        "CREATE INDEX roster_keys_learner ON roster_keys (learner)",
        "CREATE TABLE roster_codes (code_hash TEXT PRIMARY KEY, "
        "learner TEXT NOT NULL UNIQUE REFERENCES roster_learners(name) ON DELETE CASCADE, "
        "made TEXT NOT NULL)",
        "CREATE TABLE roster_teachers (key_line TEXT PRIMARY KEY, comment TEXT NOT NULL DEFAULT '', "
        "added TEXT NOT NULL)",
        # the hosts serving the class, each with a heartbeat, and the sessions open on each
        "CREATE TABLE serve_hosts (server_id TEXT PRIMARY KEY, host TEXT NOT NULL, "
        "started TIMESTAMPTZ NOT NULL DEFAULT now(), heartbeat TIMESTAMPTZ NOT NULL DEFAULT now())",
        "CREATE TABLE serve_sessions (session_id TEXT PRIMARY KEY, "
        "server_id TEXT NOT NULL REFERENCES serve_hosts(server_id) ON DELETE CASCADE, "
        "learner TEXT NOT NULL, since DOUBLE PRECISION NOT NULL, last_key DOUBLE PRECISION NOT NULL)",
        # the public half of the class's host key: every host must present the same one
        "CREATE TABLE serve_host_key (one INTEGER PRIMARY KEY CHECK (one = 1), "
        "public_key TEXT NOT NULL, fingerprint TEXT NOT NULL, added TEXT NOT NULL)",
    ),
]


def connect(url: str):
    """A connection in autocommit mode (transactions are explicit), with time limits."""
    try:
        import psycopg
    except ImportError:
        raise RosterError(
            "a database URL was given but psycopg is not installed: pip install 'tutor[postgres]'"
        ) from None
    try:
        return psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        )
    except psycopg.Error as err:
        raise RosterError(
            f"cannot reach the class database {redact(url)}: {str(err).strip()}; "
            "check --db / TUTOR_DB and that the server is running"
        ) from None


def schema_version(conn, component: str = COMPONENT) -> int:
    """The component's version in this database (0: none of its tables yet)."""
    return component_version(conn, component)


def migrate(conn, url: str = "") -> int:
    """Bring the roster's tables up to this version (one transaction); the version now."""
    with conn.transaction():
        conn.execute(VERSION_LOCK)
        conn.execute(VERSION_TABLE)
        have = schema_version(conn)
        if have > len(MIGRATIONS):
            raise RosterError(
                f"the class database {redact(url)} has roster schema version {have}, newer than this "
                f"tutor knows ({len(MIGRATIONS)}): upgrade tutor on this machine"
            )
        for steps in MIGRATIONS[have:]:
            for statement in steps:
                conn.execute(statement)
        if have < len(MIGRATIONS):
            record_version(conn, COMPONENT, len(MIGRATIONS))
    return len(MIGRATIONS)


class PgRoster(Roster):
    """The roster in the class's PostgreSQL database; one connection, made again if it drops,
    shared by threads one statement or transaction at a time (the server reads it off its event
    loop)."""

    def __init__(self, url: str, cls: ClassDir | None = None) -> None:
        self.url, self.cls = url, cls
        self._lock = threading.RLock()  # one connection, one statement (or transaction) at a time
        self._conn = connect(url)
        migrate(self._conn, url)

    # -------------------------------------------------------------- the connection

    @property
    def conn(self):
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = connect(self.url)
        return self._conn

    def _do(self, work):
        """``work(conn)``; a connection that dropped is made again once (the server restarted)."""
        with self._lock:
            return self._do_locked(work)

    def _do_locked(self, work):
        import psycopg

        for attempt in (1, 2):
            try:
                return work(self.conn)
            except psycopg.OperationalError as err:
                if attempt == 2 or not (self._conn is None or self._conn.broken or self._conn.closed):
                    raise RosterError(
                        f"the class database {redact(self.url)} did not answer: {str(err).strip()}"
                    ) from None
            except (psycopg.IntegrityError, RosterError, _KeepCode):
                raise
            except psycopg.Error as err:
                raise RosterError(f"the class database {redact(self.url)}: {str(err).strip()}") from None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -------------------------------------------------------------- queries

    def learners(self) -> dict[str, dict]:
        def work(conn):
            rows = conn.execute(
                "SELECT l.name, l.added, k.key_line, EXISTS "
                "(SELECT 1 FROM roster_codes c WHERE c.learner = l.name) "
                "FROM roster_learners l LEFT JOIN roster_keys k ON k.learner = l.name "
                "ORDER BY l.name, k.added, k.key_line"
            ).fetchall()
            out: dict[str, dict] = {}
            for name, added, key_line, pending in rows:
                entry = out.setdefault(name, {"keys": [], "added": added, "pending_code": pending})
                if key_line is not None:
                    entry["keys"].append(key_line)
            return out

        return self._do(work)

    def who(self, key_line: str) -> str | None:
        row = self._do(
            lambda c: c.execute("SELECT learner FROM roster_keys WHERE key_line = %s", (key_line,)).fetchone()
        )
        return row[0] if row else None

    def codes_pending(self) -> bool:
        return self._do(lambda c: c.execute("SELECT EXISTS (SELECT 1 FROM roster_codes)").fetchone()[0])

    def teachers(self) -> list[PublicKey]:
        rows = self._do(
            lambda c: c.execute("SELECT key_line, comment FROM roster_teachers ORDER BY added").fetchall()
        )
        return [PublicKey(*line.split(" ", 1), comment) for line, comment in rows]

    # -------------------------------------------------------------- changes

    def _learner_row(self, conn, name: str) -> None:
        """The learner exists, and their row is locked until the transaction ends."""
        conn.execute(
            "INSERT INTO roster_learners (name, added) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (name, now_iso()),
        )
        conn.execute("SELECT 1 FROM roster_learners WHERE name = %s FOR UPDATE", (name,))

    def add(self, name: str, keys: list[PublicKey] = ()) -> None:
        check_name(name)

        def work(conn):
            with conn.transaction():
                self._learner_row(conn, name)
                for key in keys:
                    row = conn.execute(
                        "SELECT learner FROM roster_keys WHERE key_line = %s", (key.line,)
                    ).fetchone()
                    if row and row[0] != name:
                        raise RosterError(f"that key ({key.fingerprint}) is already {row[0]}'s")
                    conn.execute(
                        "INSERT INTO roster_keys (key_line, learner, comment, added) VALUES (%s, %s, %s, %s) "
                        "ON CONFLICT DO NOTHING",
                        (key.line, name, key.comment, now_iso()),
                    )
                (n,) = conn.execute("SELECT count(*) FROM roster_keys WHERE learner = %s", (name,)).fetchone()
                if n > MAX_KEYS_PER_LEARNER:
                    raise RosterError(f"{name} would have more than {MAX_KEYS_PER_LEARNER} keys")

        self._unique(work, "that key was just given to another learner; run the command again")

    def _unique(self, work, message: str):
        """``work`` with a unique-key clash (another host won a race) said as ``message``."""
        import psycopg

        try:
            return self._do(work)
        except psycopg.errors.UniqueViolation:
            raise RosterError(message) from None

    def new_code(self, name: str) -> str:
        check_name(name)
        code, digest = new_code_text()

        def work(conn):
            with conn.transaction():
                self._learner_row(conn, name)
                conn.execute("DELETE FROM roster_codes WHERE learner = %s", (name,))
                conn.execute(
                    "INSERT INTO roster_codes (code_hash, learner, made) VALUES (%s, %s, %s)",
                    (digest, name, now_iso()),
                )

        self._do(work)
        return code

    def redeem(self, code: str, key: PublicKey) -> str | None:
        import psycopg

        digest = hash_code(code)

        def work(conn):
            with conn.transaction():
                # the DELETE takes the row: a second host redeeming the same code waits, then
                # finds it gone and gets no row back. The code is used exactly once.
                row = conn.execute(
                    "DELETE FROM roster_codes WHERE code_hash = %s RETURNING learner", (digest,)
                ).fetchone()
                if row is None:
                    return None
                name = row[0]
                owner = conn.execute(
                    "SELECT learner FROM roster_keys WHERE key_line = %s", (key.line,)
                ).fetchone()
                if owner and owner[0] != name:
                    raise _KeepCode  # rolls the DELETE back: this key is someone else's
                conn.execute(
                    "INSERT INTO roster_keys (key_line, learner, comment, added) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT DO NOTHING",
                    (key.line, name, key.comment, now_iso()),
                )
                return name

        try:
            return self._do(work)
        except (_KeepCode, psycopg.errors.UniqueViolation):
            return None

    def enrol_open(self, name: str, key: PublicKey) -> str | None:
        import psycopg

        if not valid_name(name):
            return None

        def work(conn):
            with conn.transaction():
                row = conn.execute(
                    "INSERT INTO roster_learners (name, added) VALUES (%s, %s) "
                    "ON CONFLICT DO NOTHING RETURNING name",
                    (name, now_iso()),
                ).fetchone()
                if row is None:
                    return None
                conn.execute(
                    "INSERT INTO roster_keys (key_line, learner, comment, added) VALUES (%s, %s, %s, %s)",
                    (key.line, name, key.comment, now_iso()),
                )
                return name

        try:
            return self._do(work)
        except psycopg.errors.UniqueViolation:  # the key is someone else's: nothing was added
            return None

    def remove(self, name: str) -> bool:
        def work(conn):
            return conn.execute("DELETE FROM roster_learners WHERE name = %s", (name,)).rowcount > 0

        return self._do(work)

    def add_teachers(self, keys: list[PublicKey]) -> list[PublicKey]:
        def work(conn):
            new = []
            with conn.transaction():
                for key in keys:
                    cur = conn.execute(
                        "INSERT INTO roster_teachers (key_line, comment, added) VALUES (%s, %s, %s) "
                        "ON CONFLICT DO NOTHING",
                        (key.line, key.comment, now_iso()),
                    )
                    if cur.rowcount:
                        new.append(key)
            return new

        return self._do(work)

    def remove_teacher(self, fingerprint: str) -> bool:
        gone = [k.line for k in self.teachers() if k.fingerprint == fingerprint]
        if not gone:
            return False
        return self._do(
            lambda c: c.execute("DELETE FROM roster_teachers WHERE key_line = ANY(%s)", (gone,)).rowcount > 0
        )

    # -------------------------------------------------------------- the class's host key (public half)

    def host_key(self) -> str | None:
        """The public host key (``kind blob``) every host of the class presents, or None."""
        row = self._do(lambda c: c.execute("SELECT public_key FROM serve_host_key").fetchone())
        return row[0] if row else None

    def claim_host_key(self, public: PublicKey) -> str:
        """Make ``public`` the class's host key unless it has one; the one it has now."""
        self._do(
            lambda c: c.execute(
                "INSERT INTO serve_host_key (one, public_key, fingerprint, added) VALUES (1, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (public.line, public.fingerprint, now_iso()),
            )
        )
        return self.host_key()


class _KeepCode(Exception):
    """Inside :meth:`PgRoster.redeem`: undo the transaction, the code is not used up."""
