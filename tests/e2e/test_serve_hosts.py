"""Several `tutor serve` hosts on one PostgreSQL database (docs/hosting.md, "Several hosts"):
the same host key on each, or a host that refuses to start until it has it; one roster, so a
learner's key added once logs in on every host."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess

import asyncssh
import pytest

from tests.e2e.conftest import _keygen, free_port
from tests.e2e.test_serve import Served, start_serve, tutor_command
from tutor.serve.roster import parse_public_key


def serve_argv(dir, db: str) -> list[str]:
    argv = [tutor_command(), "serve", "--class-dir", str(dir / "class"), "--port", str(free_port())]
    argv += ["--db", db, "--quiet"]
    return argv + (["--allow-root"] if os.geteuid() == 0 else [])


async def login(port: int, key, host_key: str) -> bool:
    """Whether the server accepts ``key``; the connection is refused unless the server presents
    ``host_key`` (a known_hosts holding only it, as a learner's would)."""
    known = asyncssh.import_known_hosts(f"[127.0.0.1]:{port} {host_key}\n")
    try:
        async with asyncssh.connect(
            "127.0.0.1",
            port,
            username="learner",
            client_keys=[str(key)],
            known_hosts=known,
            agent_path=None,
            preferred_auth="publickey",
        ):
            return True
    except asyncssh.PermissionDenied:
        return False


def add_key(served: Served, name: str, db: str):
    """A key made for ``name`` and added with `tutor class add --db` on ``served``'s machine."""
    key = served.new_key(name)
    done = served.tutor("class", "add", name, "--key", f"{key}.pub", "--db", db)
    assert done.returncode == 0, done.stderr
    return key


@pytest.fixture
def hosts(tmp_path):
    running: list[Served] = []
    yield running
    for served in running:
        served.stop()


def test_two_hosts_on_one_database_present_one_host_key_and_know_the_same_learner(tmp_path, pg_url, hosts):
    first = start_serve(tmp_path / "m1", "--db", pg_url)
    hosts.append(first)
    public = " ".join((first.class_dir / "host_key.pub").read_text().split()[:2])

    # a second machine without the class's host key refuses to start, and says what to do
    (tmp_path / "m2" / "class").mkdir(parents=True)
    done = subprocess.run(serve_argv(tmp_path / "m2", pg_url), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "this class already has a host key" in done.stderr and "copy host_key" in done.stderr
    # nor with a host key of its own (a machine set up before it joined the class)
    _keygen(tmp_path / "m2" / "class" / "host_key")
    done = subprocess.run(serve_argv(tmp_path / "m2", pg_url), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "is not this class's host key" in done.stderr

    shutil.copyfile(first.class_dir / "host_key", tmp_path / "m2" / "class" / "host_key")
    os.chmod(tmp_path / "m2" / "class" / "host_key", 0o600)
    second = start_serve(tmp_path / "m2", "--db", pg_url)
    hosts.append(second)

    alice = add_key(first, "alice", pg_url)  # `tutor class add` on the first machine only
    stranger = first.new_key("stranger")
    for served in (first, second):
        assert asyncio.run(login(served.port, alice, public)), served.log_text()
        assert not asyncio.run(login(served.port, stranger, public))
    # and a known_hosts with any other key would have refused the host: the check is real
    other = parse_public_key((tmp_path / "m1" / "key-stranger.pub").read_text()).line
    with pytest.raises(asyncssh.HostKeyNotVerifiable):
        asyncio.run(login(second.port, alice, other))
