"""What the hosting guide's key line refuses a learner, tried with the real OpenSSH client.

The server here is set up like a stock Debian sshd: TCP and agent forwarding are ON server-wide
(the other e2e tests' sshd turns them off). So whatever is refused below is refused by the guide's
own ``restrict,pty,command="..."`` options, and each refusal is paired with the same request made
with an unrestricted key, which must succeed: a test that cannot fail would prove nothing.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading

import pytest

from tests.e2e.conftest import ensure_tools, free_port, poll, start_sshd, tutor_pids
from tests.e2e.test_ssh import hosting_guide

SFTP_SERVER = "/usr/lib/openssh/sftp-server"  # Debian's openssh-sftp-server, which openssh-server pulls in


@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    ensure_tools()
    server = start_sshd(
        tmp_path_factory.mktemp("sshd-open"), f"Subsystem sftp {SFTP_SERVER}\n", forwarding=True
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def learner_key(open_server, tmp_path_factory):
    """A key authorised with the guide's second line (tutor-login, its own TUTOR_HOME)."""
    dir = tmp_path_factory.mktemp("learner")
    script_text, lines = hosting_guide()
    login = dir / "tutor-login"
    login.write_text(script_text.replace("/opt/tutor/bin/tutor", open_server.tutor), encoding="utf-8")
    login.chmod(0o755)
    home = dir / "home"
    options = lines[1].split(" ssh-ed25519 ")[0]
    options = re.sub(r"TUTOR_HOME=\S+", f"TUTOR_HOME={home}", options)
    options = options.replace("/usr/local/bin/tutor-login", str(login))
    return open_server.add_key(dir / "key", options), home


class Listener:
    """A TCP server on 127.0.0.1 that counts the connections reaching it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.sendall(b"hello\n")
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def _ssh(server, key, *args: str) -> list[str]:
    argv = server.ssh_argv("", key=key)[:-2]  # the options, without user@host and the command
    argv.remove("-tt")
    return [*argv, *args, f"{server.user}@127.0.0.1"]


def _through_local_forward(server, key, target: int) -> bytes:
    """Open ``ssh -N -L`` to ``target`` and read what a connection through it gets."""
    local = free_port()
    client = subprocess.Popen(
        _ssh(server, key, "-N", "-L", f"{local}:127.0.0.1:{target}"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        def connect():
            try:
                return socket.create_connection(("127.0.0.1", local), timeout=1)
            except OSError:
                return None

        sock = poll(connect, 10)
        assert sock is not None, "ssh -L never listened"
        with sock:
            sock.settimeout(5)
            try:
                return sock.recv(100)
            except (ConnectionResetError, TimeoutError):
                return b""
    finally:
        client.kill()
        client.wait(timeout=5)


def test_local_port_forwarding_is_refused(open_server, learner_key, listener):
    key, _home = learner_key
    assert _through_local_forward(open_server, key, listener.port) == b""
    assert listener.accepted == 0
    # the same request without the guide's options reaches the port: the server allows it
    assert _through_local_forward(open_server, open_server.key, listener.port) == b"hello\n"
    assert listener.accepted == 1


def _remote_forward(server, key, target: int) -> subprocess.CompletedProcess | None:
    """``ssh -N -R`` with ExitOnForwardFailure: the finished client, or None if it stayed up."""
    argv = _ssh(server, key, "-N", "-o", "ExitOnForwardFailure=yes", "-R", f"0:127.0.0.1:{target}")
    client = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        out, err = client.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        client.kill()
        client.communicate(timeout=5)
        return None
    return subprocess.CompletedProcess(argv, client.returncode, out, err)


def test_remote_port_forwarding_is_refused(open_server, learner_key, listener):
    key, _home = learner_key
    refused = _remote_forward(open_server, key, listener.port)
    assert refused is not None and refused.returncode != 0
    assert "forwarding failed" in refused.stderr
    assert _remote_forward(open_server, open_server.key, listener.port) is None  # stays up: allowed


def _sftp_ls(server, key) -> subprocess.CompletedProcess:
    argv = ["sftp", "-b", "-"] + ["-P" if a == "-p" else a for a in _ssh(server, key)[1:]]
    return subprocess.run(argv, input="ls /\n", capture_output=True, text=True, timeout=20)


def test_a_subsystem_or_a_command_gets_the_tutor_login_not_sftp_or_a_shell(open_server, learner_key):
    key, home = learner_key
    assert _sftp_ls(open_server, open_server.key).returncode == 0  # the server serves sftp
    refused = _sftp_ls(open_server, key)
    assert refused.returncode != 0 and "etc" not in refused.stdout
    for request in (["-s", "sftp"], ["cat /etc/passwd"]):
        argv = _ssh(open_server, key, *request[:-1]) + [request[-1]]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
        assert done.returncode == 1, (request, done.stdout, done.stderr)  # tutor-login's refusal
        assert "root:" not in done.stdout
        if request[0] != "-s":  # (a subsystem's stderr does not reach the client)
            assert "needs a terminal" in done.stderr
    assert poll(lambda: not tutor_pids(home), 5)


def test_agent_forwarding_is_refused(open_server, learner_key, tmp_path):
    key, home = learner_key
    sock = tmp_path / "agent.sock"
    agent = subprocess.run(["ssh-agent", "-s", "-a", str(sock)], capture_output=True, text=True, check=True)
    agent_pid = int(re.search(r"SSH_AGENT_PID=(\d+)", agent.stdout).group(1))
    env = dict(os.environ, SSH_AUTH_SOCK=str(sock))
    try:
        # an unrestricted key gets a forwarded agent socket
        plain = subprocess.run(
            _ssh(open_server, open_server.key, "-A") + ["echo AGENT=$SSH_AUTH_SOCK"],
            capture_output=True,
            text=True,
            timeout=20,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        assert re.search(r"AGENT=/\S+", plain.stdout), plain.stdout + plain.stderr

        # the learner's key, with a terminal (-tt) so the tutor starts: no agent reaches it
        client = subprocess.Popen(
            _ssh(open_server, key, "-tt", "-A"),
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            pids = poll(lambda: tutor_pids(home), 15)
            assert pids, "the tutor did not start for the learner's key"
            for tutor in pids:
                with open(f"/proc/{tutor}/environ", "rb") as fh:
                    environ = fh.read().split(b"\0")
                assert not any(v.startswith(b"SSH_AUTH_SOCK=") for v in environ)
        finally:
            client.kill()
            client.wait(timeout=5)
        assert poll(lambda: not tutor_pids(home), 10), "the tutor outlived its connection"
    finally:
        os.kill(agent_pid, 15)
