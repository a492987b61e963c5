"""What `tutor serve` refuses, each tried with the real OpenSSH client: an unknown key, a
password, a command, a subsystem, port and agent forwarding, a session without a PTY, reading
another learner's progress, too many new connections, too many sessions."""

from __future__ import annotations

import socket
import subprocess
import threading
from pathlib import Path

from tests.e2e.conftest import poll, tutor_pids
from tests.e2e.test_serve import panes_fixture, served_fixture, start_serve  # noqa: F401  (fixtures)


def test_unknown_keys_passwords_commands_subsystems_and_no_pty_are_refused(served, tmp_path):
    alice = served.add_key("alice")
    stranger = served.new_key("stranger")
    home = served.home("alice")

    done = served.run(key=stranger, tty="-tt")
    assert done.returncode == 255 and "Permission denied (publickey)." in done.stderr, done.stderr
    # a password is never asked for: the server offers public keys only, even to a client that asks
    done = served.run(
        "-o",
        "PubkeyAuthentication=no",
        "-o",
        "PreferredAuthentications=password,keyboard-interactive",
        key=alice,
    )
    assert done.returncode == 255 and "Permission denied (publickey)." in done.stderr, done.stderr

    for remote in ("bash", "cat /etc/passwd", f"tutor --data-dir {served.home('bob')}"):
        for tty in ("-tt", "-T"):
            done = served.run(key=alice, remote=remote, tty=tty)
            assert done.returncode == 1, (remote, tty, done)
            assert "runs only the tutor" in done.stdout + done.stderr
            assert "root:" not in done.stdout
    done = served.run("-s", key=alice, remote="sftp")
    assert done.returncode != 0 and "subsystem request failed" in done.stderr, done.stderr
    done = subprocess.run(
        ["sftp", "-b", "-", "-P", str(served.port), "-i", str(alice), "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "x@127.0.0.1"],
        input="ls\n", capture_output=True, text=True, timeout=20,
    )  # fmt: skip
    assert done.returncode != 0

    done = served.run(key=alice, tty="-T")
    assert done.returncode == 1 and "use ssh -t" in done.stderr, done
    assert poll(lambda: not tutor_pids(home), 3), "a tutor was started for a session without a PTY"
    assert not (served.home("bob")).exists()


def test_forwarding_of_ports_and_the_agent_is_refused(served, panes, tmp_path):
    alice = served.add_key("alice")
    # something listening on the server's side that a -L forward would reach
    target = socket.create_server(("127.0.0.1", 0))
    target.settimeout(0.5)
    reached = []

    def accept():
        try:
            reached.append(target.accept())
        except OSError:
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    lport = socket.create_server(("127.0.0.1", 0))
    local_port = lport.getsockname()[1]
    lport.close()
    pane = panes.open("", key=alice)  # for the -A check below
    client = subprocess.Popen(
        served.ssh_argv(key=alice, tty="-tt")[:1]
        + ["-N", "-L", f"{local_port}:127.0.0.1:{target.getsockname()[1]}"]
        + served.ssh_argv(key=alice, tty="")[1:],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:

        def listening():
            try:
                socket.create_connection(("127.0.0.1", local_port), timeout=1).close()
                return True
            except OSError:
                return False

        assert poll(listening, 10), "the client never listened on its -L port"
        with socket.create_connection(("127.0.0.1", local_port), timeout=2) as conn:
            conn.settimeout(3)
            assert conn.recv(100) == b""  # closed at once: the server refused the channel
        thread.join(2)
        assert not reached, "a -L forward reached a port on the server"
    finally:
        client.terminate()
        _, err = client.communicate(timeout=10)
        target.close()
    assert "refused port forwarding" in served.log_text()

    done = served.run("-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:22", "-N", key=alice)
    assert done.returncode == 255 and "remote port forwarding failed" in done.stderr, done.stderr

    # -A: the tutor gets no agent socket
    pane.wait_for("tutor — Lessons")
    agent = subprocess.run(["ssh-agent", "-s"], capture_output=True, text=True, timeout=10)
    sock = agent.stdout.split("SSH_AUTH_SOCK=")[1].split(";")[0]
    agent_pid = int(agent.stdout.split("SSH_AGENT_PID=")[1].split(";")[0])
    try:
        env = {"SSH_AUTH_SOCK": sock, "PATH": "/usr/bin:/bin", "TERM": "xterm"}
        done = served.run("-A", key=alice, tty="-T", env=env)
        assert done.returncode == 1  # no PTY: refused as ever, with the agent asked for
        pids = tutor_pids(served.home("alice"))
        assert pids
        for pid in pids:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            assert not any(v.startswith(b"SSH_AUTH_SOCK=") for v in environ)
    finally:
        subprocess.run(["kill", str(agent_pid)], capture_output=True)


class _SendingEnv:
    """The client of ``served`` with ``SetEnv`` options: variables the client asks to set."""

    def __init__(self, served, **env: str) -> None:
        self.served, self.env = served, env

    def ssh_argv(self, remote, *, send_env=(), key=None):
        argv = self.served.ssh_argv(remote, send_env=send_env, key=key)
        for name, value in self.env.items():
            argv[1:1] = ["-o", f"SetEnv={name}={value}"]
        return argv


def test_a_learner_cannot_reach_another_learners_progress(served, panes):
    alice = served.add_key("alice")
    served.add_key("bob")
    bob_home = served.home("bob")
    # the client asks for bob's directory and a Textual setting (neither is passed on) and no colour
    panes.server = _SendingEnv(served, TUTOR_HOME=str(bob_home), TEXTUAL_DRIVER="x", NO_COLOR="1")
    pane = panes.open("", key=alice)
    pane.wait_for("tutor — Lessons")
    pids = tutor_pids(served.home("alice"))
    assert pids, "alice's tutor does not run with her own directory"
    for pid in pids:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert f"TUTOR_HOME={served.home('alice')}".encode() in environ
        assert not any(v.startswith(b"TEXTUAL_") for v in environ)
        assert b"NO_COLOR=1" in environ  # what a learner may choose is passed on
    assert not tutor_pids(bob_home)
    pane.keys("C-q")
    assert poll(lambda: pane.dead, 10)
    assert (served.home("alice") / "progress.sqlite3").exists()
    assert not (bob_home / "progress.sqlite3").exists(), "alice's session wrote into bob's directory"
    # and the command line is not hers to choose (tested above): `tutor --data-dir` is refused
    done = served.run(key=alice, remote=f"tutor --data-dir {bob_home}", tty="-tt")
    assert done.returncode == 1 and not (bob_home / "progress.sqlite3").exists()


def test_too_many_connections_and_too_many_sessions_get_a_clear_message(tmp_path):
    strict = start_serve(tmp_path / "strict", "--rate", "3", "--rate-window", "60", "--max-sessions", "1")
    try:
        alice = strict.add_key("alice")
        bob = strict.add_key("bob")
        first = subprocess.Popen(
            strict.ssh_argv(key=alice, tty="-tt"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            assert poll(lambda: tutor_pids(strict.home("alice")), 15), strict.log_text()
            done = strict.run(key=bob, tty="-tt", timeout=20)
            assert done.returncode == 1 and "The class is full" in done.stderr, done
            done = strict.run(key=bob, tty="-tt", timeout=20)  # the third connection in a minute
            assert done.returncode == 1 and "The class is full" in done.stderr, done
            done = strict.run(key=bob, tty="-tt", timeout=20)  # the fourth: over the rate
            assert done.returncode == 255 and "Too many new connections" in done.stderr, done
        finally:
            first.kill()
            first.wait(10)
    finally:
        strict.stop()
