"""Way 1 of the hosting guide, with a real Unix account: its Match block, and what a locked
account needs.

``useradd`` makes an account without a password, which OpenSSH counts as *locked*: with
``UsePAM no`` it refuses even a key login to it, before any command runs. The guide tells the
operator to keep ``UsePAM yes`` (Debian's default) or to give such accounts the password field
``*`` (no password can match it, and it is not "locked"). This test makes a throw-away account
and group, runs sshd with the guide's own ``Match Group`` block (its ForceCommand pointed at a
stand-in that reports who it runs as; the account cannot run the test's Python, which lives under
root's home), and checks both halves: locked → refused, ``*`` → the forced command and nothing
else, whatever the client asks for.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.e2e.conftest import _keygen, ensure_tools, start_sshd

HOSTING = Path(__file__).resolve().parents[2] / "docs" / "hosting.md"
USER, GROUP = "tutor-e2e-alice", "tutor-e2e-learners"


def guide_match_block() -> str:
    text = HOSTING.read_text(encoding="utf-8")
    found = re.search(r"```\n(Match Group learners\n.*?)```", text, re.S)
    assert found, "docs/hosting.md lost its Match Group block"
    return found.group(1)


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=30)


def _remove_account() -> None:
    subprocess.run(["userdel", "-r", USER], capture_output=True, timeout=30)
    subprocess.run(["groupdel", GROUP], capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def account():
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("needs root and useradd to make a throw-away account (CI runs as root)")
    ensure_tools()
    base = Path(tempfile.mkdtemp(prefix="tutor-e2e-"))
    base.chmod(0o755)  # the account must reach its home and the forced command
    _remove_account()
    try:
        _run("groupadd", GROUP)
        _run("useradd", "--create-home", "--base-dir", str(base), "--gid", GROUP, "--shell", "/bin/sh", USER)
        home = base / USER
        ssh_dir = home / ".ssh"
        ssh_dir.mkdir(mode=0o700)
        key = base / "key"
        _keygen(key)
        (ssh_dir / "authorized_keys").write_text(Path(f"{key}.pub").read_text())
        (ssh_dir / "authorized_keys").chmod(0o600)
        shutil.chown(ssh_dir, USER, GROUP)
        shutil.chown(ssh_dir / "authorized_keys", USER, GROUP)
        login = base / "tutor-login"
        login.write_text('#!/bin/sh\necho "FORCED as $(id -un) original=${SSH_ORIGINAL_COMMAND:-none}"\n')
        login.chmod(0o755)
        yield key, login, base
    finally:
        _remove_account()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def way1_server(account, tmp_path_factory):
    _key, login, _base = account
    block = guide_match_block().replace("Group learners", f"Group {GROUP}")
    block = block.replace("/usr/local/bin/tutor-login", str(login))
    # the test sshd reads keys from one file of its own; a real one reads the account's
    block += "    AuthorizedKeysFile .ssh/authorized_keys\n"
    server = start_sshd(tmp_path_factory.mktemp("sshd-way1"), block, check_login=False)
    server.user = USER
    try:
        yield server
    finally:
        server.stop()


def _login(server, key, command: str = "") -> subprocess.CompletedProcess:
    argv = server.ssh_argv(command, key=key)
    argv.remove("-tt")
    if not command:
        argv = argv[:-1]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)


def test_a_locked_account_is_refused_with_usepam_off_and_star_lets_it_in(account, way1_server):
    key, _login_script, _base = account
    status = subprocess.run(["passwd", "-S", USER], capture_output=True, text=True).stdout.split()
    assert status[1] == "L", f"useradd did not make a locked account: {status}"  # as the guide says
    refused = _login(way1_server, key, "true")
    assert refused.returncode == 255
    assert "locked" in way1_server.log_text()

    _run("usermod", "-p", "*", USER)  # what the guide says to do when UsePAM is off
    for asked in ("bash -i", "cat /etc/shadow", ""):
        done = _login(way1_server, key, asked)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"FORCED as {USER}"), done.stdout
        assert "root:" not in done.stdout
        if asked:
            assert f"original={asked}" in done.stdout  # kept in SSH_ORIGINAL_COMMAND, never run
