"""A throw-away PostgreSQL cluster for the tests: Debian's server, on 127.0.0.1, in a folder.

    python tests/pgcluster.py start DIR   # prints the server's URL (postgresql://tutor@127.0.0.1:PORT/tutor)
    python tests/pgcluster.py stop DIR

``.ci/run`` starts one before the suite (exporting its URL as ``TUTOR_TEST_PG``) and stops it
after; the ``pg_url`` fixture in ``tests/conftest.py`` starts one itself when that variable is
not set, so a developer's plain ``pytest`` runs the PostgreSQL tests too. When the server is
missing it installs Debian's ``postgresql`` (as root, which is how CI runs). initdb and pg_ctl
refuse to run as root, so as root they run as the ``postgres`` user the package makes
(``runuser -u postgres``). The cluster trusts local connections: it listens on loopback only,
its socket lives in DIR, and it exists for one test run.

Standard library only (it runs before anything is installed).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

APT_PACKAGE = "postgresql"
INSTALL_HINT = "apt-get install postgresql"
USER = "tutor"  # the cluster's superuser and the database the URL names
START_TIMEOUT_S = 60


class ClusterError(Exception):
    """The cluster could not be made or started; the message says why and what to do."""


def bin_dir() -> Path | None:
    """The server's programs: Debian keeps them in /usr/lib/postgresql/VERSION/bin (newest first)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version, reverse=True)
    return Path(versions[0]).parent if versions else None


def _version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


def ensure_server() -> Path:
    """The bin directory, installing Debian's package when the server is missing (root only)."""
    found = bin_dir()
    if found is not None:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ClusterError(f"PostgreSQL's server is not installed: {INSTALL_HINT}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", APT_PACKAGE]):
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise ClusterError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    found = bin_dir()
    if found is None:
        raise ClusterError(f"{APT_PACKAGE} installed but no pg_ctl found under /usr/lib/postgresql")
    return found


def _as_owner(command: list[str]) -> list[str]:
    """Run as the unprivileged ``postgres`` user when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _owner() -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError as err:
        raise ClusterError("running as root needs the 'postgres' user Debian's package makes") from err
    return entry.pw_uid, entry.pw_gid


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(_as_owner(command), capture_output=True, text=True, timeout=START_TIMEOUT_S)
    if done.returncode != 0:
        raise ClusterError(f"{what} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-2000:]}")


def url_of(directory: Path) -> str:
    return (directory / "url").read_text().strip()


def start(directory: Path) -> str:
    """Make and start a cluster in ``directory`` (created if needed); return its URL."""
    bindir = ensure_server()
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)  # the postgres user must reach its data and socket folders
    data, sock = directory / "data", directory / "run"  # run: the socket and the log
    owner = _owner()
    for folder in (data, sock):
        folder.mkdir(exist_ok=True)
        if owner is not None:
            os.chown(folder, *owner)
    if not (data / "PG_VERSION").exists():
        _run(
            [str(bindir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync"],
            "initdb",
        )
    port = _free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off -c max_connections=200"
    (directory / "options").write_text(options)
    _pg_ctl_start(bindir, directory)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        ready = subprocess.run(
            [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True
        )
        if ready.returncode == 0:
            break
        if time.monotonic() > deadline:
            raise ClusterError(
                f"the server did not answer within {START_TIMEOUT_S} s; see {directory / 'run' / 'log'}"
            )
        time.sleep(0.2)
    _run(
        [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, USER],
        "createdb",
    )
    url = f"postgresql://{USER}@127.0.0.1:{port}/{USER}"
    (directory / "url").write_text(url + "\n")
    return url


def _pg_ctl_start(bindir: Path, directory: Path) -> None:
    options = (directory / "options").read_text()
    data, log = directory / "data", directory / "run" / "log"
    _run(
        [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"],
        "pg_ctl start",
    )


def start_again(directory: Path) -> None:
    """Start a stopped cluster on the port it had (a database that went away and came back)."""
    _pg_ctl_start(ensure_server(), directory.resolve())


def stop(directory: Path) -> None:
    """Stop the cluster (fast shutdown); the folder is left for the caller to remove."""
    bindir = bin_dir()
    data = directory.resolve() / "data"
    if bindir is None or not (data / "postmaster.pid").exists():
        return
    _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], "pg_ctl stop")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python tests/pgcluster.py start|stop DIR", file=sys.stderr)
        return 2
    try:
        if argv[0] == "start":
            print(start(Path(argv[1])))
        else:
            stop(Path(argv[1]))
    except (ClusterError, subprocess.TimeoutExpired) as err:
        print(f"pgcluster: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
