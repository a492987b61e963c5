"""A real OpenSSH server on 127.0.0.1 and tmux panes of 80×24 to drive the tutor through it.

``ssh_server`` (session scope) starts ``/usr/sbin/sshd -D`` on a free port with a throw-away host
key and a client key made for the run; every login runs the installed ``tutor``. When sshd or
tmux are missing it installs Debian's ``openssh-server`` and ``tmux`` (as root, which is how CI
runs); a user who is not root gets a skip that says what to install. The finalizer stops sshd and
everything it started, whether the tests passed or failed.

``terminal`` gives a function that opens ``ssh -tt ... tutor ...`` in a new tmux pane of 80×24 and
returns a :class:`Pane` to drive it with send-keys and read it with capture-pane. Every pane, and
the tmux server itself, is gone after the test.

The helpers here are shared with ``benchmarks/bench_ssh.py``, which imports this module.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

APT_PACKAGES = ("openssh-server", "tmux")
INSTALL_HINT = "apt-get install openssh-server tmux"
WIDTH, HEIGHT = 80, 24


# ------------------------------------------------------------------------------ finding things


def sshd_path() -> str | None:
    """sshd must be started by its absolute path (it re-executes itself)."""
    found = shutil.which("sshd")
    if found:
        return found
    for candidate in ("/usr/sbin/sshd", "/usr/local/sbin/sshd"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def missing_tools() -> list[str]:
    missing = [] if sshd_path() else ["sshd"]
    missing += [tool for tool in ("ssh", "ssh-keygen", "tmux") if shutil.which(tool) is None]
    return missing


def ensure_tools() -> None:
    """Install openssh-server and tmux when they are missing; skip only when that is impossible."""
    missing = missing_tools()
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip(f"needs openssh-server and tmux ({INSTALL_HINT}); missing: {', '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", *APT_PACKAGES],
    ):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.fail(
                f"`{' '.join(argv)}` failed with status {done.returncode}:\n"
                f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
    still = missing_tools()
    if still:
        pytest.fail(f"installed {' '.join(APT_PACKAGES)} but still missing: {', '.join(still)}")


def tutor_command() -> str:
    """The installed ``tutor``: beside the Python running the tests first, else on PATH."""
    beside = Path(sys.executable).parent / "tutor"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("tutor")
    if found:
        return found
    pytest.fail(
        f"the `tutor` command is not installed (looked beside {sys.executable} and on PATH); "
        "run `pip install '.[test]'` from the repository root"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------ processes


def _ppid_map() -> dict[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode("utf-8", "replace")
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: split after the last ')'
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry)] = int(fields[1])
    return parents


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children, ...)."""
    parents = _ppid_map()
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        for child, parent in parents.items():
            if parent == current:
                found.append(child)
                frontier.append(child)
    return found


def tutor_pids(home: Path) -> list[int]:
    """Running ``tutor`` processes whose environment has ``TUTOR_HOME=<home>``.

    The remote command sets TUTOR_HOME in the environment, not on the command line, so ``pgrep -f``
    cannot see it; /proc/PID/environ can (this runs as the same user as sshd's sessions)."""
    wanted = f"TUTOR_HOME={home}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                environ = fh.read().split(b"\0")
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read()
        except OSError:
            continue
        if wanted in environ and b"tutor" in cmdline:
            pids.append(int(entry))
    return pids


def rss_kib(pid: int) -> int:
    """Resident set size of one process, as ps reports it (KiB)."""
    out = subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True)
    return int(out.stdout.strip() or 0)


def _kill_all(pids: list[int]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = []
        for pid in pids:
            try:
                os.kill(pid, sig)
                alive.append(pid)
            except ProcessLookupError:
                pass
        if not alive:
            return
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in alive):
            time.sleep(0.05)
        pids = [p for p in alive if Path(f"/proc/{p}").exists()]


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next((line.split(":", 1)[1].strip() for line in fh if line.startswith("State:")), "?")
    except OSError:
        return "gone"


def _zombie_status(pid: int) -> str | None:
    """How a process that has exited but not been reaped ended, from /proc/PID/stat's last field."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    if not fields or fields[0] != "Z":
        return None
    code = os.waitstatus_to_exitcode(int(fields[-1]))
    return f"status {code}" if code >= 0 else f"signal {-code}"


def poll(predicate, timeout: float, interval: float = 0.05):
    """Call ``predicate`` until it returns something truthy or ``timeout`` seconds pass; returns
    the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(interval)


# ------------------------------------------------------------------------------ the server


SSHD_CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {dir}/ssh_host_ed25519_key
PidFile {dir}/sshd.pid
AuthorizedKeysFile {dir}/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AcceptEnv LANG LC_* NO_COLOR
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
LogLevel VERBOSE
"""


@dataclass
class SSHServer:
    dir: Path
    port: int
    key: Path
    user: str
    tutor: str
    process: subprocess.Popen | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.dir / "sshd.log"

    def ssh_argv(self, remote: str, *, send_env: tuple[str, ...] = (), key: Path | None = None) -> list[str]:
        """The client command line: one login that runs ``remote`` on the server."""
        argv = [
            "ssh",
            "-tt",
            "-F",
            "/dev/null",
            "-p",
            str(self.port),
            "-i",
            str(key or self.key),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
        ]
        for name in send_env:
            argv += ["-o", f"SendEnv={name}"]
        return argv + [f"{self.user}@127.0.0.1", remote]

    def tutor_remote(self, home: Path, *args: str) -> str:
        """The remote command: the installed tutor with its progress in ``home``."""
        words = [shlex.quote(self.tutor), *(shlex.quote(a) for a in args)]
        return f"TUTOR_HOME={shlex.quote(str(home))} exec {' '.join(words)}"

    def add_key(self, path: Path, options: str) -> Path:
        """Make a client key at ``path`` and authorise it with ``options`` (an authorized_keys
        options field, like ``restrict,pty,command="..."``); returns the private key's path."""
        _keygen(path)
        with open(self.dir / "authorized_keys", "a", encoding="utf-8") as fh:
            fh.write(f"{options} {Path(f'{path}.pub').read_text().strip()}\n")
        return path

    def run(self, remote: str, timeout: float = 30, key: Path | None = None) -> subprocess.CompletedProcess:
        """Run a command over ssh without a terminal (for `tutor progress --json`)."""
        argv = self.ssh_argv(remote, key=key)
        argv.remove("-tt")
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return "(no sshd log)"

    def stop(self) -> None:
        if self.process is None:
            return
        below = descendants(self.process.pid)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        # per-connection sshd processes call setsid(), so they are not in sshd's process group:
        # stop each one (and the tutor below it) by pid
        _kill_all(below)
        self.process = None


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tutor-e2e", "-f", str(path)],
        check=True,
        capture_output=True,
    )


# What a stock Debian sshd allows and SSHD_CONFIG turns off: a server set up as the hosting guide
# says has these on, so a test of what the guide's key options refuse must run with them on.
FORWARDING_OFF = ("X11Forwarding no\n", "AllowTcpForwarding no\n", "AllowAgentForwarding no\n")


def start_sshd(
    dir: Path, extra: str = "", check_login: bool = True, *, forwarding: bool = False
) -> SSHServer:
    """Start sshd on 127.0.0.1 with keys made in ``dir``; returns once it listens and (unless
    ``check_login`` is false, for a config that forces a command) once ``ssh ... true`` works.
    ``extra`` is appended to sshd_config (``Match`` blocks, ``ClientAliveInterval``...).
    ``forwarding`` leaves TCP, agent and X11 forwarding on, as a stock Debian sshd has them."""
    if os.geteuid() == 0:
        # sshd refuses to start as root without its privilege separation directory
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    _keygen(dir / "ssh_host_ed25519_key")
    _keygen(dir / "client_key")
    (dir / "authorized_keys").write_text((dir / "client_key.pub").read_text())
    user = pwd.getpwuid(os.geteuid()).pw_name
    tutor = tutor_command()
    last_error = ""
    for _attempt in range(3):  # the free port can be taken between finding and binding it
        port = free_port()
        server = SSHServer(dir=dir, port=port, key=dir / "client_key", user=user, tutor=tutor)
        config = dir / "sshd_config"
        text = SSHD_CONFIG.format(port=port, dir=dir)
        if forwarding:
            for line in FORWARDING_OFF:
                text = text.replace(line, "")
        config.write_text(text + extra)
        server.log.write_text("")
        server.process = subprocess.Popen(
            [sshd_path(), "-D", "-f", str(config), "-E", str(server.log)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

        def listening() -> bool:
            if server.process.poll() is not None:
                return True  # exited: stop waiting
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return True
            except OSError:
                return False

        poll(listening, timeout=10)
        if server.process.poll() is not None:
            last_error = server.log_text()
            server.process = None
            if "Address already in use" in last_error:
                continue
            pytest.fail(f"sshd exited at start-up. Its log:\n{last_error}")
        if not check_login:
            return server
        try:
            check = server.run("true", timeout=20)
        except BaseException:
            server.stop()  # never leave sshd (or what it started) behind
            raise
        if check.returncode != 0:
            log = server.log_text()
            server.stop()
            pytest.fail(
                f"cannot log in to the test sshd (status {check.returncode}): "
                f"{check.stderr.strip()}\nsshd log:\n{log}"
            )
        return server
    pytest.fail(f"sshd could not bind a free port three times. Its log:\n{last_error}")


@pytest.fixture(scope="session")
def ssh_server(tmp_path_factory):
    ensure_tools()
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    try:
        yield server
    finally:
        server.stop()


# ------------------------------------------------------------------------------ tmux panes


TMUX_CONF = """\
set -g status off
set -g remain-on-exit on
set -g history-limit 100
set -sg escape-time 0
"""

_SGR = re.compile(r"\x1b\[([0-9;:]*)m")


class Pane:
    """One tmux pane of 80×24 running a command (an ssh client)."""

    def __init__(self, tmux: list[str], name: str) -> None:
        self.tmux = tmux
        self.name = name
        self.last = ""

    def _tmux(self, *args: str, check: bool = True) -> str:
        done = subprocess.run([*self.tmux, *args], capture_output=True, text=True, timeout=10)
        if check and done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def screen(self, *, escapes: bool = False) -> str:
        """The 24 lines of the pane now; with ``escapes`` the SGR attribute codes too."""
        args = ["capture-pane", "-p", "-t", self.name] + (["-e"] if escapes else [])
        text = self._tmux(*args)
        if not escapes:
            self.last = text
        return text

    def flat(self) -> str:
        """The screen as one line of words: borders, bars and runs of spaces made one space, so a
        sentence that wraps in a box is still found."""
        text = "".join(" " if 0x2500 <= ord(ch) <= 0x259F else ch for ch in self.screen())
        return " ".join(text.split())

    def wait_for(self, *needles: str, timeout: float = 15.0, gone: bool = False) -> str:
        """Poll the screen until every needle is on it (or, with ``gone``, none is)."""

        def ready():
            flat = self.flat()
            present = [n in flat for n in needles]
            return (not any(present)) if gone else all(present)

        if not poll(ready, timeout, interval=0.05):
            what = "leave" if gone else "appear"
            raise AssertionError(
                f"waited {timeout:.0f}s for {needles!r} to {what} on the screen; it shows:\n{self.last}"
            )
        return self.last

    def wait_until(self, predicate, what: str, timeout: float = 15.0) -> str:
        """Poll the screen until ``predicate(screen_text)`` holds."""
        if not poll(lambda: predicate(self.screen()), timeout, interval=0.05):
            raise AssertionError(f"waited {timeout:.0f}s for {what}; the screen shows:\n{self.last}")
        return self.last

    def keys(self, *keys: str) -> None:
        """Send keys by tmux name: ``"Enter"``, ``"Escape"``, ``"C-q"``, ``"n"``..."""
        self._tmux("send-keys", "-t", self.name, *keys)

    def type(self, text: str) -> None:
        """Send text literally, as if typed."""
        self._tmux("send-keys", "-t", self.name, "-l", "--", text)

    def info(self, fmt: str) -> str:
        return self._tmux("display-message", "-p", "-t", self.name, fmt).strip()

    @property
    def pid(self) -> int:
        """The pid of the pane's command: the ssh client."""
        return int(self.info("#{pane_pid}"))

    @property
    def dead(self) -> bool:
        return self.info("#{pane_dead}") == "1"

    def exit_status(self) -> int | None:
        status = self.info("#{pane_dead_status}")
        return int(status) if status.strip().lstrip("-").isdigit() else None

    def ended(self, timeout: float = 20.0) -> str:
        """Wait for the ssh client to have ended and say how: ``"status 0"``, ``"signal 9"``, or
        what was seen. tmux marks a pane dead when its terminal closes and fills in the status
        once it reaps the client, which here can lag by many seconds (the client sits a zombie);
        a zombie's status is read from /proc meanwhile (``exit_code``, as waitpid would give it)."""

        def how() -> str | None:
            status = self.exit_status()
            if status is not None:
                return f"status {status}"
            signal_number = self.info("#{pane_dead_signal}")
            if signal_number.strip().isdigit():
                return f"signal {signal_number}"
            return _zombie_status(self.pid)

        result = poll(how, timeout)
        return result or f"not ended after {timeout:.0f} s (dead={self.dead}, ssh: {_state(self.pid)})"

    def size(self) -> tuple[int, int]:
        return int(self.info("#{pane_width}")), int(self.info("#{pane_height}"))

    def close(self) -> None:
        self._tmux("kill-session", "-t", self.name, check=False)


def sgr_colours(screen_with_escapes: str) -> set[str]:
    """Every colour the pane holds, as tmux writes it in SGR codes: "31", "38;5;208", "48;2;1;2;3"."""
    found = set()
    for match in _SGR.finditer(screen_with_escapes):
        params = match.group(1).replace(":", ";").split(";") if match.group(1) else ["0"]
        i = 0
        while i < len(params):
            p = params[i]
            if p in ("38", "48", "58") and i + 1 < len(params):
                if params[i + 1] == "5":
                    found.add(";".join(params[i : i + 3]))
                    i += 3
                    continue
                if params[i + 1] == "2":
                    found.add(";".join(params[i : i + 5]))
                    i += 5
                    continue
            if p.isdigit() and (
                30 <= int(p) <= 37 or 40 <= int(p) <= 47 or 90 <= int(p) <= 97 or 100 <= int(p) <= 107
            ):
                found.add(p)
            i += 1
    return found


class Terminals:
    """A private tmux server (its own socket) holding the panes of one test."""

    def __init__(self, dir: Path, server: SSHServer) -> None:
        self.server = server
        conf = dir / "tmux.conf"
        conf.write_text(TMUX_CONF)
        self.tmux = ["tmux", "-u", "-S", str(dir / "tmux.sock"), "-f", str(conf)]
        self.panes: list[Pane] = []

    def open(
        self, remote: str, *, term: str = "xterm-256color", no_color: bool = False, key: Path | None = None
    ) -> Pane:
        """A new 80×24 pane running ``ssh -tt`` with ``remote`` as the login's command."""
        name = f"tutor{len(self.panes)}"
        env = [f"TERM={term}"]
        send_env: tuple[str, ...] = ()
        if no_color:
            env.append("NO_COLOR=1")
            send_env = ("NO_COLOR",)  # sshd_config has AcceptEnv NO_COLOR
        argv = [
            "env",
            "-u",
            "NO_COLOR",
            "-u",
            "COLORTERM",
            *env,
            *self.server.ssh_argv(remote, send_env=send_env, key=key),
        ]
        done = subprocess.run(
            [*self.tmux, "new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT), "--", *argv],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if done.returncode != 0:
            raise AssertionError(f"tmux new-session failed: {done.stderr.strip()}")
        pane = Pane(self.tmux, name)
        self.panes.append(pane)
        return pane

    def close(self) -> None:
        for pane in self.panes:
            pane.close()
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, timeout=10)


@pytest.fixture
def terminals(ssh_server, tmp_path):
    """Opens panes with ``terminals.open(remote)``; closes them and the tmux server afterwards."""
    # tmux socket paths must be short (sun_path is 108 bytes): keep the socket in a short dir
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tmx") as short:
        terms = Terminals(Path(short), ssh_server)
        try:
            yield terms
        finally:
            terms.close()
