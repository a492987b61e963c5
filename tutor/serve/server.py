"""``tutor serve``: the SSH server of a class, on asyncssh.

Who may log in is decided before anything runs: a key in the roster (a learner), a key in
``DIR/teachers`` (the teacher's live view), or, only while an enrolment code is waiting or the
server is ``--open``, a new key that must then answer a prompt (:mod:`tutor.serve.session`).
Passwords, keyboard-interactive, host-based login, port/agent/X11 forwarding, subsystems and
commands are never accepted. The limits are in :mod:`tutor.serve.limits`.

SIGTERM (and ctrl+c) close the class: each learner is told, each tutor is sent SIGTERM (it
writes what it has queued, within 3 s) and the server exits once every tutor has.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import asyncssh

from tutor.serve.limits import Limits, RateLimit, Sessions, deadline
from tutor.serve.live import HEARTBEAT_S, SharedSessions, live_for
from tutor.serve.roster import ClassDir, PublicKey, RosterError
from tutor.serve.session import Session

__all__ = ["ServerState", "Connection", "serve", "host_key"]

CLOSING = "The class is closing: your progress is saved. Connect again later."
TICK_S = 1.0
FAREWELL_WAIT_S = 5.0  # at close, how long the clients get to read the last message
PASSED_ENV = ("NO_COLOR", "COLORTERM")


def host_key(cls: ClassDir) -> asyncssh.SSHKey:
    """The server's host key, made on first start (ed25519, mode 600) and kept, so a learner's
    known_hosts stays valid across restarts.

    With a database, every host of the class must present the same key: the first host to start
    records its public half there, and a host whose ``DIR/host_key`` is missing or differs
    refuses to start, saying to copy the file from a host that has it (docs/hosting.md,
    "Several hosts"). The private key itself never goes into the database."""
    path = cls.host_key
    registered = cls.roster().host_key() if cls.db else None
    if not path.exists():
        if registered is not None:
            raise RosterError(
                f"this class already has a host key ({_fingerprint(registered)}), on its other hosts, "
                f"and {path} is missing: copy host_key from one of them to {path} (mode 600), so that "
                "every host presents the same key to learners"
            )
        key = asyncssh.generate_private_key("ssh-ed25519", comment="tutor serve")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key.export_private_key())
        path.with_name("host_key.pub").write_bytes(key.export_public_key())
    try:
        key = asyncssh.read_private_key(str(path))
    except (OSError, ValueError, asyncssh.KeyImportError) as err:
        raise RosterError(f"cannot read the host key {path}: {err}") from None
    if cls.db:
        mine = PublicKey(*key.export_public_key().decode().split()[:2])
        theirs = registered or cls.roster().claim_host_key(mine)
        if theirs != mine.line:
            raise RosterError(
                f"{path} ({mine.fingerprint}) is not this class's host key ({_fingerprint(theirs)}): "
                f"copy host_key from another host of the class over {path}; two keys behind one name "
                "would make learners' ssh warn of an impostor"
            )
    return key


def _fingerprint(line: str) -> str:
    return PublicKey(*line.split()[:2]).fingerprint


@dataclass
class Who:
    kind: str  # "learner", "teacher", "newcomer"
    name: str = ""
    open_class: bool = False


class ServerState:
    """What every connection shares: the class, the limits and the sessions open now."""

    def __init__(self, cls: ClassDir, limits: Limits, *, open_class: bool, lessons: list[str], quiet: bool):
        self.cls, self.limits, self.open_class, self.lessons, self.quiet = (
            cls,
            limits,
            open_class,
            lessons,
            quiet,
        )
        self.board = live_for(cls)  # who is connected: sessions.json, or the database's tables
        self.sessions = SharedSessions(limits, self.board) if cls.db else Sessions(limits)
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="live") if cls.db else None
        self.rate = RateLimit(limits.rate, limits.rate_window)
        self.live: set[Session] = set()
        self.tasks: set[asyncio.Task] = set()
        self.closing = False

    def log(self, message: str) -> None:
        if not self.quiet:
            print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)

    def tutor_command(self, name: str, teacher: bool, term: str, client_env) -> tuple[list[str], dict]:
        env = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8", "TERM": term or "xterm"}
        for var in PASSED_ENV:
            value = client_env.get(var)
            if isinstance(value, str) and len(value) < 64:
                env[var] = value
        if self.cls.db:  # the class's database: the learner's progress there, on every host
            env["TUTOR_DB"] = self.cls.db
            env["TUTOR_LEARNER"] = name
        if teacher:
            argv = [sys.executable, "-m", "tutor", "class", "watch", "--class-dir", str(self.cls.path)]
            for d in self.lessons:
                argv += ["--lessons", d]
            env["HOME"] = str(self.cls.path)
            return argv, env
        home = self.cls.learner_dir(name)
        home.mkdir(mode=0o700, exist_ok=True)
        env["TUTOR_HOME"] = env["HOME"] = str(home)
        argv = [sys.executable, "-m", "tutor", "--data-dir", str(home)]
        for d in self.lessons:
            argv += ["--lessons", d]
        return argv, env

    def session_opened(self, session: Session) -> None:
        self.live.add(session)
        self.log(f"{session.learner} connected ({session.conn.describe()}), {len(self.live)} open")
        self.write_sessions()

    def session_closed(self, session: Session) -> None:
        if session in self.live:
            self.live.discard(session)
            self.log(f"{session.learner} left, {len(self.live)} open")
            self.write_sessions()

    def write_sessions(self) -> None:
        """Who is connected, for `tutor class watch` (:mod:`tutor.serve.live`); with a database
        this is also the host's heartbeat."""
        now_wall, now = time.time(), time.monotonic()
        ids = getattr(self.sessions, "ids", {})
        rows = [
            {
                "learner": s.learner,
                "since": now_wall - (now - s.started),
                "last_key": now_wall - (now - s.last_key),
                "pid": s.proc.pid if s.proc else None,
                "id": ids.get(s),
            }
            for s in self.live
        ]
        if self.writer is None:
            self._write_board(rows, list(ids.values()))
        else:  # the database: in order, on one thread, never stalling the sessions open
            self.writer.submit(self._write_board, rows, list(ids.values()))

    def _write_board(self, rows: list[dict], keep: list[str]) -> None:
        try:
            self.board.write(rows, keep)
        except RosterError as err:
            self.log(f"could not write who is connected: {err}")

    async def tick(self) -> None:
        """Once a second: warnings and endings that are due; sessions.json every 10 s."""
        n = 0
        while not self.closing:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            for session in list(self.live):
                if session.ending:
                    continue
                due = deadline(self.limits, session.started, session.last_key, now)
                if due is None:
                    continue
                kind, left = due
                if kind == "end-idle":
                    minutes = round(self.limits.idle_timeout / 60)
                    self._spawn(
                        session.end(
                            f"Session ended: no key was pressed for {minutes} min. Your progress is saved."
                        )
                    )
                elif kind == "end-cap":
                    self._spawn(
                        session.end(
                            "Session ended: it reached the longest a session may last. Your progress is saved."
                        )
                    )
                elif not session.warned:
                    if kind == "warn-idle":
                        session.warn(f"Idle: this session ends in {left:.0f} s unless you press a key.")
                    else:
                        session.warn(
                            f"This session reaches its time limit in {left:.0f} s; your progress is saved."
                        )
            n += 1
            if n % round(HEARTBEAT_S / TICK_S) == 0 and (self.live or self.cls.db):
                self.write_sessions()

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close_class(self) -> None:
        self.closing = True
        sessions = list(self.live)
        for session in sessions:
            session.overlay(CLOSING)
        await asyncio.gather(*(s.end(CLOSING) for s in sessions), return_exceptions=True)
        # Each channel closes once its client has read everything before the close, the farewell
        # included; the process must not exit before that, or data still in a socket's buffer (a
        # slow client, a loaded machine) dies with it. Bounded: a client that went away says nothing.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(s.closed() for s in sessions), return_exceptions=True), FAREWELL_WAIT_S
            )


class Connection(asyncssh.SSHServer):
    """One client connection: the rate limit at connection time, then who the key is."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.conn: asyncssh.SSHServerConnection | None = None
        self.address = "?"
        self.refusal: str | None = None
        self.who = Who("nobody")
        self.key: PublicKey | None = None

    def describe(self) -> str:
        return self.address

    def connection_made(self, conn) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.address = str(peer[0])
        if self.state.closing:
            self.refusal = "The class is closing; connect again later."
        elif not self.state.rate.allow(self.address, time.monotonic()):
            self.refusal = "Too many new connections from your address; wait a minute and try again."
            self.state.log(f"rate limit: refused a connection from {self.address}")

    def begin_auth(self, username: str) -> bool:
        if self.refusal:
            self.conn.disconnect(asyncssh.DISC_TOO_MANY_CONNECTIONS, self.refusal)
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    async def validate_public_key(self, username: str, key) -> bool:
        if self.refusal:
            return False
        blob = base64.b64encode(key.public_data).decode()
        public = PublicKey(key.algorithm.decode(), blob)
        try:  # off the event loop: a slow roster (a database) never stalls the sessions open
            who = await asyncio.to_thread(self._who, public)
        except RosterError as err:  # the class database is away: nobody new can be told apart
            self.state.log(f"refused {public.fingerprint} from {self.address}: {err}")
            return False
        if who is None:
            self.state.log(f"refused unknown key {public.fingerprint} from {self.address}")
            return False
        self.key, self.who = public, who  # the signed request comes last: this is the key used
        return True

    def _who(self, public: PublicKey) -> Who | None:
        cls = self.state.cls
        if public.line in cls.teacher_keys():
            return Who("teacher", "teacher")
        name = cls.roster().who(public.line)
        if name is not None:
            return Who("learner", name)
        if self.state.open_class or cls.roster().codes_pending():
            return Who("newcomer", open_class=self.state.open_class)
        return None

    def session_requested(self):
        if self.state.closing:
            return False
        return Session(self.state, self)

    # forwarding of every kind is refused: these are asyncssh's defaults, said here on purpose
    def connection_requested(self, dest_host, dest_port, orig_host, orig_port):
        self.state.log(f"refused port forwarding to {dest_host}:{dest_port} from {self.address}")
        return False

    def server_requested(self, listen_host, listen_port):
        self.state.log(f"refused remote forwarding of port {listen_port} from {self.address}")
        return False

    def unix_connection_requested(self, dest_path):
        return False

    def unix_server_requested(self, listen_path):
        return False


async def serve(
    cls: ClassDir,
    host: str,
    port: int,
    limits: Limits,
    *,
    open_class: bool = False,
    lessons: list[str] = (),
    quiet: bool = False,
    ready=None,
) -> int:
    """Run the server until SIGTERM or SIGINT; ``ready(port)`` is called once it listens."""
    state = ServerState(cls, limits, open_class=open_class, lessons=list(lessons), quiet=quiet)
    key = host_key(cls)
    server = await asyncssh.create_server(
        lambda: Connection(state),
        host,
        port,
        server_host_keys=[key],
        login_timeout=limits.login_timeout,
        keepalive_interval=30,
        keepalive_count_max=4,
        agent_forwarding=False,
        x11_forwarding=False,
        allow_scp=False,
        line_editor=False,
        encoding=None,
        password_auth=False,
        kbdint_auth=False,
        host_based_auth=False,
        gss_host=None,
    )
    bound = server.sockets[0].getsockname()[1] if server.sockets else port
    if cls.db:
        state.board.host = f"{socket.gethostname()}:{bound}"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    state.write_sessions()
    fingerprint = key.export_public_key().decode().split()[:2]
    state.log(f"serving {cls.path} on {host}:{bound} (host key {PublicKey(*fingerprint).fingerprint})")
    if ready:
        ready(bound)
    ticker = loop.create_task(state.tick())
    try:
        await stop.wait()
    finally:
        state.log(f"closing the class: {len(state.live)} sessions open")
        await state.close_class()  # sets closing first: no new session starts meanwhile
        server.close()
        ticker.cancel()
        await asyncio.sleep(0.2)  # the last messages reach the clients
        await server.wait_closed()
        if state.writer is not None:
            state.writer.shutdown(wait=True)  # the last heartbeat first, then the rows go
        try:
            state.board.clear()
        except RosterError as err:
            state.log(f"could not clear who is connected: {err}")
        state.log("closed")
    return 0
