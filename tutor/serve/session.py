"""One SSH session: a real PTY and its own ``tutor`` process, bridged to the SSH channel.

Nothing else is offered: a command on the ssh line and a session without a PTY get one line
saying how to connect and end; a subsystem (sftp) is refused. The tutor runs in a new session
with the PTY as its controlling terminal, so a resize reaches it as SIGWINCH and a dropped
connection as SIGHUP (on which it writes what it has queued, then ends: tutor/cli.py). A learner
enrolling with a code, or choosing a name on an ``--open`` server, types it at a small prompt
drawn here, before any tutor runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import signal
import struct
import termios
import time
from typing import TYPE_CHECKING

import asyncssh

if TYPE_CHECKING:
    from tutor.serve.server import Connection, ServerState

__all__ = ["Session", "NO_PTY", "NO_COMMAND"]

NO_PTY = "The tutor needs a terminal: use ssh -t (plain `ssh HOST` gives one).\r\n"
NO_COMMAND = "This server runs only the tutor: connect with plain `ssh -t HOST`, without a command.\r\n"
STOP_WAIT_S = 5.0  # after SIGTERM, how long a tutor has to write what it has before SIGKILL
MAX_INPUT_BUFFER = 64 * 1024  # keys waiting for the tutor to read them; more is dropped
READ_CHUNK = 64 * 1024
PROMPT_TRIES = 3
REPAINT_S = 0.15  # how long the tutor is told its terminal is a row short, to repaint over a warning
PROMPT_MAX = 40
# what a tutor ended by a signal leaves set on the learner's terminal
TERMINAL_RESET = (
    b"\x1b[?1049l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?2004l\x1b[?25h\x1b[0m"
)


def _controlling_tty() -> None:  # runs in the child, after setsid
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def set_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", max(rows, 1), max(cols, 1), 0, 0))


class Session(asyncssh.SSHServerSession):
    """One channel of one connection; see the module docstring."""

    def __init__(self, state: ServerState, conn: Connection) -> None:
        self.state, self.conn = state, conn
        self.chan: asyncssh.SSHServerChannel | None = None
        self.term: str | None = None
        self.size = (80, 24)
        self.command: str | None = None
        self.proc: asyncio.subprocess.Process | None = None
        self.master = -1
        self.learner = ""
        self.started = self.last_key = time.monotonic()
        self.warned = False
        self.ending: str | None = None  # the message shown once the tutor has gone
        self._pending_input = bytearray()
        self._reading = False
        self._prompt: _Prompt | None = None
        self._done = asyncio.Event()
        self._lost = False  # the client has gone

    # ---------------------------------------------------------------- what the client asks for

    def connection_made(self, chan) -> None:
        self.chan = chan

    def pty_requested(self, term_type, term_size, term_modes) -> bool:
        self.term = term_type or "xterm"
        self.size = (term_size[0] or 80, term_size[1] or 24)
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self.command = command  # accepted, so that the refusal can say why (session_started)
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        self.state.log(f"refused subsystem {subsystem!r} from {self.conn.describe()}")
        return False

    def break_received(self, msec: int) -> bool:
        return False

    def signal_received(self, signal: str) -> None:
        pass  # a client may not signal the tutor

    def eof_received(self) -> bool:
        return True  # keep the channel: the tutor's output still goes out until it ends

    def terminal_size_changed(self, width, height, pixwidth, pixheight) -> None:
        self.size = (width or self.size[0], height or self.size[1])
        if self.master >= 0:
            set_size(self.master, *self.size)  # the kernel sends the tutor SIGWINCH

    def session_started(self) -> None:
        if self.command is not None:
            self.state.log(f"refused command {self.command[:80]!r} from {self.conn.describe()}")
            return self._refuse(NO_COMMAND)
        if self.term is None:
            return self._refuse(NO_PTY)
        who = self.conn.who
        if who.kind == "newcomer":
            self._prompt = _Prompt(self, open_class=who.open_class)
            self._prompt.start()
            return
        self._begin(who.name, teacher=who.kind == "teacher")

    # ---------------------------------------------------------------- starting the tutor

    def _refuse(self, message: str, status: int = 1) -> None:
        self.chan.write_stderr(message.encode())
        self.chan.exit(status)
        self._done.set()

    def _begin(self, name: str, *, teacher: bool = False) -> None:
        self.learner = name
        why = self.state.sessions.start(self, ("teacher:" if teacher else "") + name)
        if why:
            self.state.log(f"refused {name}: {why}")
            return self._refuse(why + "\r\n")
        task = asyncio.get_running_loop().create_task(self._run(name, teacher))
        self.state.tasks.add(task)
        task.add_done_callback(self.state.tasks.discard)

    async def _run(self, name: str, teacher: bool) -> None:
        status = 1
        try:
            master, slave = pty.openpty()
            self.master = master
            set_size(slave, *self.size)
            argv, env = self.state.tutor_command(name, teacher, self.term, self.chan.get_environment())
            try:
                self.proc = await asyncio.create_subprocess_exec(
                    *argv,
                    stdin=slave,
                    stdout=slave,
                    stderr=slave,
                    env=env,
                    cwd=env.get("TUTOR_HOME", "/"),
                    start_new_session=True,
                    preexec_fn=_controlling_tty,
                )
            finally:
                os.close(slave)
            os.set_blocking(master, False)
            if self._lost:  # the client went while the tutor was starting: hang it up at once
                self._close_master()
            self._start_reading()
            self.state.session_opened(self)
            status = await self.proc.wait()
            await self._drain()
        except OSError as err:
            self.state.log(f"could not start a tutor for {name}: {err}")
            with contextlib.suppress(Exception):
                self.chan.write_stderr(b"The server could not start the tutor; tell your teacher.\r\n")
        finally:
            self._close_master()
            self.state.sessions.end(self)
            self.state.session_closed(self)
            if self.ending:
                with contextlib.suppress(Exception):
                    self.chan.write(TERMINAL_RESET + b"\r\n" + self.ending.encode() + b"\r\n")
                status = 0
            with contextlib.suppress(Exception):
                self.chan.exit(status if status >= 0 else 1)
            self._done.set()

    async def _drain(self) -> None:
        """After the tutor exits: what it wrote last, up to the PTY's end."""
        for _ in range(100):
            if self.master < 0 or not self._read_once():
                return
            await asyncio.sleep(0)

    # ---------------------------------------------------------------- the PTY and the channel

    def _start_reading(self) -> None:
        if self.master >= 0 and not self._reading:
            asyncio.get_running_loop().add_reader(self.master, self._read_once)
            self._reading = True

    def _stop_reading(self) -> None:
        if self._reading:
            asyncio.get_running_loop().remove_reader(self.master)
            self._reading = False

    def _read_once(self) -> bool:
        try:
            data = os.read(self.master, READ_CHUNK)
        except BlockingIOError:
            return False
        except OSError:  # EIO: every process holding the PTY's other side has gone
            self._stop_reading()
            return False
        if not data:
            self._stop_reading()
            return False
        try:
            self.chan.write(data)
        except (OSError, asyncssh.Error):  # the channel is gone: hang the tutor up
            self._close_master()
            return False
        return True

    def pause_writing(self) -> None:  # the client reads slower than the tutor draws
        self._stop_reading()

    def resume_writing(self) -> None:
        self._start_reading()

    def data_received(self, data: bytes, datatype) -> None:
        if self._prompt is not None:
            self._prompt.feed(data)
            return
        if self.master < 0:
            return
        self.last_key = time.monotonic()
        if self.warned:
            self.warned = False
            self._repaint()
        if len(self._pending_input) + len(data) > MAX_INPUT_BUFFER:
            return
        self._pending_input += data
        self._write_input()

    def _write_input(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending_input:
                n = os.write(self.master, self._pending_input)
                del self._pending_input[:n]
        except BlockingIOError:
            loop.add_writer(self.master, self._write_input)
            return
        except OSError:
            self._pending_input.clear()
        with contextlib.suppress(ValueError, OSError):
            loop.remove_writer(self.master)

    def _close_master(self) -> None:
        if self.master >= 0:
            self._stop_reading()
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_writer(self.master)
            os.close(self.master)  # the tutor, if still there, is hung up
            self.master = -1

    def connection_lost(self, exc) -> None:
        self._lost = True
        if self._prompt is not None:
            self._prompt._finish()
        if self.proc is not None and self.proc.returncode is None:
            self._close_master()  # SIGHUP: the tutor writes what it has and ends
            task = asyncio.get_running_loop().create_task(self._reap())
            self.state.tasks.add(task)
            task.add_done_callback(self.state.tasks.discard)
        elif self.proc is None:
            self.state.sessions.end(self)

    async def _reap(self) -> None:
        try:
            await asyncio.wait_for(self.proc.wait(), STOP_WAIT_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    # ---------------------------------------------------------------- messages and endings

    def overlay(self, message: str) -> None:
        """A line of reverse text at the bottom of the learner's screen, over the tutor's; the
        tutor draws over it at its next repaint (forced when the learner presses a key)."""
        if self.chan is None or self.master < 0:
            return
        cols, rows = self.size
        text = f" {message} "[:cols].ljust(cols)
        self.chan.write(f"\x1b7\x1b[{rows};1H\x1b[0;7m{text}\x1b[0m\x1b8".encode())

    def _repaint(self) -> None:
        """Have the tutor draw its bottom rows again, over a warning: a resize one row short
        and back (Textual repaints what moved; the same size would repaint nothing)."""
        if self.master < 0:
            return
        cols, rows = self.size
        set_size(self.master, cols, rows - 1)
        asyncio.get_running_loop().call_later(REPAINT_S, self._restore_size)

    def _restore_size(self) -> None:
        if self.master >= 0:
            set_size(self.master, *self.size)

    def warn(self, message: str) -> None:
        self.warned = True
        self.overlay(message)

    async def closed(self) -> None:
        """Until the channel is closed on both sides (the client has read what was sent)."""
        if self.chan is not None:
            await self.chan.wait_closed()

    async def end(self, message: str) -> None:
        """End the tutor (SIGTERM: it writes what it has queued, within 3 s), then tell the
        learner ``message`` and close."""
        self.ending = message
        if self._prompt is not None or self.proc is None:
            with contextlib.suppress(Exception):
                self.chan.write(b"\r\n" + message.encode() + b"\r\n")
                self.chan.exit(0)
            self._done.set()
            return
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), STOP_WAIT_S)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
        await self._done.wait()


class _Prompt:
    """The enrolment prompt: a code (or, on an ``--open`` server, a name), typed once."""

    def __init__(self, session: Session, *, open_class: bool) -> None:
        self.session = session
        self.open_class = open_class
        self.buffer = ""
        self.tries = 0

    @property
    def question(self) -> str:
        return "Choose a name (a-z, 0-9, - and _): " if self.open_class else "Enrolment code: "

    def start(self) -> None:
        intro = (
            "Welcome. This key is new here: pick the name you will be known by in this class.\r\n"
            if self.open_class
            else "Welcome. This key is new here: type the enrolment code your teacher gave you.\r\n"
        )
        self.session.chan.write((intro + self.question).encode())
        # the prompt counts as logging in: it has the login timeout too
        self._timer = asyncio.get_running_loop().call_later(
            self.session.state.limits.login_timeout, self._expire
        )

    def _expire(self) -> None:
        if self.session._prompt is self:
            self.session._prompt = None
            self.session._refuse("\r\nToo slow: connect again when you have it to hand.\r\n")

    def _finish(self) -> None:
        self._timer.cancel()
        self.session._prompt = None

    def feed(self, data: bytes) -> None:
        chan = self.session.chan
        for byte in data:
            ch = chr(byte)
            if ch in "\r\n":
                self._submit()
                if self.session._prompt is not self:
                    return
            elif ch in "\x03\x04":
                chan.write(b"\r\n")
                self._finish()
                self.session._refuse("")
                return
            elif ch in "\x7f\x08":
                if self.buffer:
                    self.buffer = self.buffer[:-1]
                    chan.write(b"\b \b")
            elif ch.isprintable() and byte < 128 and len(self.buffer) < PROMPT_MAX:
                self.buffer += ch
                chan.write(ch.encode())

    def _submit(self) -> None:
        session, chan = self.session, self.session.chan
        text, self.buffer = self.buffer.strip(), ""
        chan.write(b"\r\n")
        key = session.conn.key
        roster = session.state.cls.roster()
        if self.open_class:
            name = roster.enrol_open(text.lower(), key)
            what = "That name is taken or not allowed; choose another."
        else:
            name = roster.redeem(text, key)
            what = "That code is not right (or was used already)."
        if name is not None:
            session.state.log(f"enrolled {name} with key {key.fingerprint} from {session.conn.describe()}")
            self._finish()
            chan.write(f"You are {name}. From now on this key logs you in.\r\n".encode())
            session._begin(name)
            return
        self.tries += 1
        session.state.log(f"wrong enrolment answer from {session.conn.describe()} (try {self.tries})")
        if self.tries >= PROMPT_TRIES:
            self._finish()
            session._refuse(what + " Ask your teacher.\r\n")
            return
        chan.write((what + "\r\n" + self.question).encode())
