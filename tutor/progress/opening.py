"""Opening the progress file, and what to do when it cannot be opened the normal way.

Opening an existing database only reads it (``user_version`` and the tables are checked, then
``PRAGMA quick_check``); it needs the write lock only when the schema must be created or migrated,
and if that lock is not to be had at once the writer thread creates the schema before the first
write. A file is moved aside (``progress.sqlite3.corrupt-<UTC time>``) and a fresh one started
only when it is proven corrupt: SQLite says SQLITE_NOTADB or SQLITE_CORRUPT, or ``quick_check``
fails; the store's ``notice`` says so. Every other error (disk full, I/O, busy or locked,
read-only) leaves the file where it is, and so does a file written by a newer tutor (its schema
version is higher than this one knows: progress is kept in memory and ``notice`` says to upgrade): when the file cannot be read normally (a full disk leaves
no room for the ``-shm`` index), it is read as a snapshot while the writer keeps trying. Only when
no database file can be created or opened at all (a read-only or missing directory) is progress
kept in memory for the session, and ``notice`` says that instead.

Permissions: the data directory is created 0700 (an existing one that is ours and open to group
or others is tightened to 0700; its parents are left alone), the database file is created 0600
before SQLite opens it (so its ``-wal`` and ``-shm`` files get 0600 too) and an existing looser
file of ours is tightened to 0600.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tutor.progress.schema import DB_NAME, READ_BUSY_TIMEOUT_MS, Corrupt, NewerSchema, connect, validate

__all__ = ["Opened", "describe", "open_database", "prepare_file"]

_SQLITE_CORRUPT = 11
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26


# ---------------------------------------------------------------------- errors


def _code(err: BaseException) -> int:
    code = getattr(err, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else -1


def _is_corrupt(err: BaseException) -> bool:
    """Proven corrupt: only what SQLite itself calls a corrupt file or not a database."""
    return isinstance(err, Corrupt) or _code(err) in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def _disk_full(directory: Path | None) -> bool:
    if directory is None:
        return False
    try:
        st = os.statvfs(directory)
    except (OSError, AttributeError):
        return False
    return st.f_bavail * st.f_frsize < 64 * 1024


def describe(err: BaseException, directory: Path | None = None) -> str:
    """The real error in a few words (SQLite's message; an I/O error on a full disk says so)."""
    text = (err.strerror or str(err)) if isinstance(err, OSError) else (str(err) or type(err).__name__)
    name = getattr(err, "sqlite_errorname", "") or ""
    if (name.startswith("SQLITE_IOERR") or isinstance(err, OSError)) and _disk_full(directory):
        text += ": the disk is full"
    return text


# ---------------------------------------------------------------------- permissions


def _ours(st: os.stat_result) -> bool:
    """Is the file ours (so ours to tighten)? Never on a system without user ids."""
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and st.st_uid == geteuid()


def _prepare_dir(data_dir: Path) -> None:
    """Create the data directory 0700; tighten it (not its parents) if it is ours and open."""
    try:
        data_dir.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        pass
    st = os.stat(data_dir)
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(20, "Not a directory", str(data_dir))
    if _ours(st) and st.st_mode & 0o077:
        try:
            os.chmod(data_dir, 0o700)
        except OSError:
            pass  # not fatal: the file itself is still 0600


def prepare_file(path: Path) -> None:
    """Create the database file 0600 before SQLite does (its -wal and -shm take its mode);
    tighten an existing file of ours (and its -wal, -shm) that others can read."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    for suffix in ("", "-wal", "-shm"):
        target = path.with_name(DB_NAME + suffix)
        try:
            st = os.stat(target)
        except FileNotFoundError:
            continue
        if stat.S_ISREG(st.st_mode) and _ours(st) and st.st_mode & 0o077:
            try:
                os.chmod(target, stat.S_IMODE(st.st_mode) & 0o700)
            except OSError:
                pass


# ---------------------------------------------------------------------- opening


@dataclass
class Opened:
    """What opening the progress file came to.

    ``path`` is the file to write to, None when progress is kept in memory (``notice`` says why).
    ``reader`` reads it: the normal connection, or with ``snapshot`` a read-only look at the file
    as it is on disk while the normal way fails (``error`` says why). ``needs_schema``: the tables
    are still to be created, so the writer should try at once. ``notice`` is what the learner is
    told about opening (a corrupt file moved aside, progress kept in memory); ``read_problem``
    why their progress cannot be read just now."""

    path: Path | None
    reader: sqlite3.Connection | None = None
    snapshot: bool = False
    needs_schema: bool = False
    notice: str | None = None
    read_problem: str | None = None
    error: str | None = None


def _in_memory(reason: str) -> Opened:
    return Opened(None, notice=f"Progress will not be saved this session: {reason}.")


def _open_reader(path: Path) -> tuple[sqlite3.Connection, bool]:
    """The reading connection, once the file is proven a sound database (without writing), and
    whether the schema still has to be created (or migrated)."""
    conn = connect(str(path), READ_BUSY_TIMEOUT_MS)
    try:
        needs_schema = validate(conn)
    except BaseException:
        conn.close()
        raise
    return conn, needs_schema


def open_database(data_dir: Path) -> Opened:
    """Open (creating it if need be) the progress file in ``data_dir``: see the module docstring."""
    path = data_dir / DB_NAME
    try:
        _prepare_dir(data_dir)
    except OSError as err:
        return _in_memory(f"cannot create the progress directory {data_dir}: {describe(err)}")
    try:
        prepare_file(path)
    except OSError as err:
        return _in_memory(f"cannot create the progress file {path}: {describe(err)}")
    try:
        reader, needs_schema = _open_reader(path)
    except NewerSchema as err:  # a newer tutor's file: never touched, never moved aside
        return _in_memory(str(err))
    except sqlite3.Error as err:
        if _is_corrupt(err):
            return _move_aside(path, err)
        if _code(err) == _SQLITE_CANTOPEN:
            return _in_memory(f"cannot open the progress file {path}: {err}")
        # disk full, I/O, busy: the file stays; read a snapshot of it, the writer keeps trying
        return _open_snapshot(path, describe(err, data_dir))
    return Opened(path, reader, needs_schema=needs_schema)


def _open_snapshot(path: Path, error: str) -> Opened:
    """The file cannot be read the normal way (SQLite needs room for its -shm index, say):
    read it as it is on disk until it can, if that is safe: a WAL database whose -wal holds
    nothing (so no commit is missing from the file and no checkpoint is writing to it).
    Nothing read this way ever moves a file aside."""
    wal = path.with_name(DB_NAME + "-wal")
    try:
        wal_size = wal.stat().st_size
    except OSError:
        wal_size = 0
    try:
        with open(path, "rb") as f:
            header = f.read(100)
    except OSError:
        header = b""
    if wal_size == 0 and (header[18:20] == b"\x02\x02" or len(header) == 0):
        conn = None
        try:
            conn = connect(path.resolve().as_uri() + "?mode=ro&immutable=1", READ_BUSY_TIMEOUT_MS, uri=True)
            validate(conn)
        except (sqlite3.Error, NewerSchema):
            if conn is not None:
                conn.close()
        else:
            return Opened(path, conn, snapshot=True, error=error)
    return Opened(
        path,
        error=error,
        read_problem=(
            f"Your progress could not be read just now ({error}); the file "
            f"{path} is left as it is and what you do is saved to it when it can be."
        ),
    )


def _move_aside(path: Path, err: Exception) -> Opened:
    """The file is proven corrupt: keep it (and its journal) under another name, start afresh."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{DB_NAME}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{DB_NAME}.corrupt-{stamp}-{n}")
    try:
        os.replace(path, aside)
        for suffix in ("-wal", "-shm"):  # the journal belongs to the damaged file
            extra = path.with_name(DB_NAME + suffix)
            if extra.exists():
                os.replace(extra, aside.with_name(aside.name + suffix))
        prepare_file(path)
        reader, _ = _open_reader(path)
    except (OSError, sqlite3.Error) as err2:
        return _in_memory(
            f"the progress file {path} could not be read ({err}) nor replaced ({describe(err2)})"
        )
    return Opened(
        path,
        reader,
        needs_schema=True,
        notice=(
            f"Your progress file could not be read ({err}). It was moved to {aside} "
            "and a fresh one was started."
        ),
    )
