"""Who is connected now: written by each `tutor serve`, read by `tutor class watch` and `report`.

Two backends, as for the roster:

* the class directory's ``sessions.json`` (one host: the server rewrites it when a session opens
  or closes and every 10 s; a reader trusts it only while that server's pid is alive);
* with a database, the tables ``serve_hosts`` (one row per running server: its host name and a
  heartbeat, set from the database's own clock every :data:`HEARTBEAT_S`) and ``serve_sessions``
  (one row per session, with its server). A session counts as connected only while its server's
  heartbeat is younger than :data:`STALE_S`, so a host that died (power cut, SIGKILL) stops being
  shown within that time; the next server to heartbeat deletes it.

:class:`SharedSessions` is :class:`~tutor.serve.limits.Sessions` across hosts: the server-wide
and per-learner limits count every live session in the database. The count and the new row are
one transaction under an advisory lock, so two hosts admitting a session at the same instant
cannot both take the last place.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import time
from typing import TYPE_CHECKING

from tutor.serve.limits import Limits, Sessions, refusal
from tutor.serve.roster import RosterError

if TYPE_CHECKING:
    from tutor.serve.roster import ClassDir

__all__ = ["HEARTBEAT_S", "STALE_S", "LiveFiles", "LivePg", "SharedSessions", "connected", "live_for"]

HEARTBEAT_S = 10.0
STALE_S = 30.0  # three heartbeats missed: that host is gone
ORPHAN_S = 60.0  # a row of this host's not open any more is deleted once it is this old
SESSIONS_LOCK = "SELECT pg_advisory_xact_lock(hashtext('tutor serve_sessions'))"
DB_DOWN = "The class database cannot be reached just now; try again in a minute."


def _merge(rows) -> dict[str, dict]:
    """Rows of (learner, since, last_key, host) as ``{learner: {"sessions", "since", "last_key",
    "hosts"}}``."""
    out: dict[str, dict] = {}
    for learner, since, last_key, host in rows:
        entry = out.setdefault(learner, {"sessions": 0, "since": since, "last_key": 0, "hosts": []})
        entry["sessions"] += 1
        entry["since"] = min(entry["since"], since)
        entry["last_key"] = max(entry["last_key"], last_key)
        if host not in entry["hosts"]:
            entry["hosts"].append(host)
    return out


class LiveFiles:
    """``DIR/sessions.json``: one server's sessions."""

    def __init__(self, cls: ClassDir) -> None:
        self.path = cls.sessions_file

    def write(self, rows: list[dict], keep: list[str] = ()) -> None:
        data = {"server_pid": os.getpid(), "written": time.time(), "sessions": rows}
        tmp = self.path.with_suffix(".tmp")
        with contextlib.suppress(OSError):
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh)
            os.replace(tmp, self.path)

    def read(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            pid = int(data["server_pid"])
            os.kill(pid, 0)
        except (OSError, ValueError, KeyError, TypeError):
            return {}
        host = socket.gethostname()
        return _merge(
            (str(r.get("learner", "")), r.get("since", 0), r.get("last_key", 0), host)
            for r in data.get("sessions", [])
            if isinstance(r, dict)
        )

    def clear(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()


class LivePg:
    """The live sessions of every host in the class's database (the roster's connection)."""

    def __init__(self, cls: ClassDir, host: str = "") -> None:
        self.roster = cls.roster()  # a PgRoster: its connection, made again if it drops
        self.host = host or socket.gethostname()
        self.server_id = secrets.token_hex(8)

    def _do(self, work):
        return self.roster._do(work)

    def register(self) -> None:
        self._do(
            lambda c: c.execute(
                "INSERT INTO serve_hosts (server_id, host) VALUES (%s, %s)", (self.server_id, self.host)
            )
        )

    def claim(self, session_id: str, learner: str, limits: Limits, now_wall: float) -> str | None:
        """Count every live session of every host and, if one more is allowed, add this one."""

        def work(conn):
            with conn.transaction():
                conn.execute(SESSIONS_LOCK)
                conn.execute(
                    "INSERT INTO serve_hosts (server_id, host) VALUES (%s, %s) "
                    "ON CONFLICT (server_id) DO UPDATE SET heartbeat = now()",
                    (self.server_id, self.host),
                )
                total, mine = conn.execute(
                    "SELECT count(*), count(*) FILTER (WHERE s.learner = %s) FROM serve_sessions s "
                    "JOIN serve_hosts h USING (server_id) "
                    "WHERE h.heartbeat > now() - make_interval(secs => %s)",
                    (learner, STALE_S),
                ).fetchone()
                why = refusal(limits, total, mine)
                if why is None:
                    conn.execute(
                        "INSERT INTO serve_sessions (session_id, server_id, learner, since, last_key) "
                        "VALUES (%s, %s, %s, %s, %s)",
                        (session_id, self.server_id, learner, now_wall, now_wall),
                    )
                return why

        return self._do(work)

    def release(self, session_id: str) -> None:
        self._do(lambda c: c.execute("DELETE FROM serve_sessions WHERE session_id = %s", (session_id,)))

    def write(self, rows: list[dict], keep: list[str] = ()) -> None:
        """The heartbeat: this host is alive, its sessions' last keys; a row of this host's
        that is no longer open (its release was missed while the database was away) and hosts
        long dead go. ``keep``: the ids of this host's sessions open now."""

        def work(conn):
            with conn.transaction():
                conn.execute(
                    "INSERT INTO serve_hosts (server_id, host) VALUES (%s, %s) "
                    "ON CONFLICT (server_id) DO UPDATE SET heartbeat = now()",
                    (self.server_id, self.host),
                )
                for row in rows:
                    if row.get("id"):
                        conn.execute(
                            "UPDATE serve_sessions SET last_key = %s WHERE session_id = %s",
                            (row["last_key"], row["id"]),
                        )
                conn.execute(  # older than a minute: never a session being admitted right now
                    "DELETE FROM serve_sessions WHERE server_id = %s AND NOT (session_id = ANY(%s)) "
                    "AND since < %s",
                    (self.server_id, list(keep), time.time() - ORPHAN_S),
                )
                conn.execute(
                    "DELETE FROM serve_hosts WHERE heartbeat < now() - make_interval(secs => %s)",
                    (STALE_S * 10,),
                )

        self._do(work)

    def read(self) -> dict[str, dict]:
        rows = self._do(
            lambda c: c.execute(
                "SELECT s.learner, s.since, s.last_key, h.host FROM serve_sessions s "
                "JOIN serve_hosts h USING (server_id) "
                "WHERE h.heartbeat > now() - make_interval(secs => %s) ORDER BY s.since",
                (STALE_S,),
            ).fetchall()
        )
        return _merge(rows)

    def clear(self) -> None:
        self._do(lambda c: c.execute("DELETE FROM serve_hosts WHERE server_id = %s", (self.server_id,)))


def live_for(cls: ClassDir, host: str = "") -> LiveFiles | LivePg:
    return LivePg(cls, host) if cls.db else LiveFiles(cls)


def connected(cls: ClassDir) -> dict[str, dict]:
    """Who is connected now, by learner, on every host: ``{"sessions": n, "since": epoch,
    "last_key": epoch, "hosts": [...]}``. Empty when no server runs (or the database cannot be
    reached: the view then shows nobody connected rather than failing)."""
    if cls.db is None:
        return LiveFiles(cls).read()
    try:
        return LivePg(cls).read()
    except RosterError:
        return {}


class SharedSessions(Sessions):
    """The limits counted over every host of the class (see the module docstring)."""

    def __init__(self, limits: Limits, live: LivePg) -> None:
        super().__init__(limits)
        self.live = live
        self.ids: dict[object, str] = {}

    def start(self, token: object, learner: str) -> str | None:
        session_id = f"{self.live.server_id}-{secrets.token_hex(6)}"
        try:
            why = self.live.claim(session_id, learner, self.limits, time.time())
        except RosterError:
            return DB_DOWN
        if why is None:
            self._open[token] = learner
            self.ids[token] = session_id
        return why

    def end(self, token: object) -> None:
        super().end(token)
        session_id = self.ids.pop(token, None)
        if session_id is not None:
            with contextlib.suppress(RosterError):
                self.live.release(session_id)
