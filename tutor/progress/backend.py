"""Choosing the store: SQLite in the data directory (the default, no set-up), or PostgreSQL for
a class larger than one machine (``--db postgresql://…`` or ``TUTOR_DB``).

    store = open_store(db_from(args.db, os.environ), data_dir, learner="ada")

Plain SQL behind the store's small interface, not SQLAlchemy Core: the store runs about fifteen
statements, the same text on both backends (PostgreSQL's temporary views give them one learner's
rows: :mod:`tutor.progress.pg_schema`); a layer above the drivers would add a dependency and an
import on every start for no statement the store needs, and the two drivers' errors are handled
where they differ anyway (retried by the writer). psycopg is imported only when a URL is given.
"""

from __future__ import annotations

import os
from pathlib import Path

from tutor.progress.store import Progress

__all__ = [
    "DB_ENV",
    "LEARNER_ENV",
    "BadDatabase",
    "check_learner",
    "db_from",
    "default_learner",
    "open_store",
]

DB_ENV = "TUTOR_DB"
LEARNER_ENV = "TUTOR_LEARNER"
_SCHEMES = ("postgresql://", "postgres://")
MAX_LEARNER = 200


class BadDatabase(ValueError):
    """``--db`` / ``TUTOR_DB`` (or the learner's name) cannot be used; the message says why."""


def db_from(cli_value: str | None, environ=os.environ) -> str | None:
    """The database to keep progress in: ``--db`` if given, else ``TUTOR_DB``; None (SQLite in
    the data directory) when neither is set. Anything but a ``postgresql://`` URL is refused."""
    value = cli_value if cli_value is not None else environ.get(DB_ENV, "")
    value = (value or "").strip()
    if not value:
        return None
    if not value.startswith(_SCHEMES):
        where = "--db" if cli_value is not None else DB_ENV
        raise BadDatabase(
            f"{where} takes a PostgreSQL URL (postgresql://user@host:port/dbname), not {value[:40]!r}; "
            f"leave it unset to keep progress in the data directory"
        )
    return value


def default_learner(environ=os.environ) -> str:
    """Whose progress a plain ``tutor --db URL`` keeps: ``TUTOR_LEARNER``, else the user's name."""
    name = environ.get(LEARNER_ENV, "").strip()
    if name:
        return name
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def check_learner(learner: str) -> None:
    """Refuse a learner name the database should not key progress by."""
    if not learner or len(learner) > MAX_LEARNER or not learner.isprintable():
        raise BadDatabase(
            f"progress in PostgreSQL is kept per learner: give a learner name of 1 to {MAX_LEARNER} "
            f"printable characters ({LEARNER_ENV}=NAME), not {learner[:40]!r}"
        )


def open_store(db: str | None, data_dir, learner: str = "") -> Progress:
    """``db`` None: today's SQLite store in ``data_dir``. A ``postgresql://`` URL: the same
    :class:`Progress` API on PostgreSQL, for ``learner`` (one database holds every learner)."""
    if db is None:
        return Progress(data_dir)
    check_learner(learner)
    from tutor.progress.pg_store import PgProgress

    return PgProgress(db, learner, Path(data_dir) if data_dir is not None else None)
