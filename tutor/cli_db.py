"""``tutor db``: the progress tables on PostgreSQL, for an operator.

    tutor db migrate [--db URL]                   create or upgrade the progress tables
    tutor db check [--db URL]                     say their version; exit 1 if a migrate is due
    tutor db import DIR... [--learner NAME] [--db URL]
                                                  a learner's SQLite progress (its data directory,
                                                  any schema version) into the database

The database is ``--db`` or ``TUTOR_DB`` (a ``postgresql://`` URL). ``import`` names each learner
after their directory (``CLASS/learners/NAME`` as ``tutor serve`` keeps them), or ``--learner``
for a single directory; importing again adds nothing twice. Exit status: 0 done, 1 a migrate is
due (``check``) or a directory could not be imported, 2 the database cannot be used (unreachable,
newer than this tutor, a bad URL). Nothing here opens the app; the SQLite store needs none of this
(it creates and upgrades its file on open).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tutor db",
        description="The progress tables on PostgreSQL (--db or TUTOR_DB): migrate, check, import.",
    )
    subs = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (
        ("migrate", "create or upgrade the progress tables to this tutor's schema"),
        ("check", "say the tables' schema version; exit 1 when a migrate is due, 2 when newer"),
    ):
        p = subs.add_parser(name, help=text, description=text)
        p.add_argument("--db", metavar="URL", help="the database (default: TUTOR_DB)")
    p = subs.add_parser(
        "import",
        help="a learner's SQLite progress into the database",
        description="Import each DIR's progress file (a learner's data directory, any schema version) "
        "into the database, under the learner named after DIR (or --learner). Importing twice adds "
        "nothing twice; the files are only read.",
    )
    p.add_argument("dirs", metavar="DIR", nargs="+", help="a learner's data directory")
    p.add_argument("--learner", metavar="NAME", help="the learner's name (one DIR only; default: DIR's name)")
    p.add_argument("--db", metavar="URL", help="the database (default: TUTOR_DB)")
    return parser


def _err(message: str) -> None:
    print(f"tutor db: {message}", file=sys.stderr)


def main(argv: list[str], environ=os.environ) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 0
    from tutor.progress import BadDatabase, db_from

    try:
        url = db_from(args.db, environ)
    except BadDatabase as err:
        _err(str(err))
        return 2
    if url is None:
        _err("give the database: --db postgresql://user@host:port/dbname, or set TUTOR_DB")
        return 2
    try:
        import psycopg  # noqa: F401 - the postgres extra
    except ImportError:
        _err("PostgreSQL needs psycopg: pip install 'tutor[postgres]'")
        return 2
    return {"migrate": _migrate, "check": _check, "import": _import}[args.action](args, url)


def _connect(url: str):
    """(connection, where) or None after saying why it cannot be had."""
    import psycopg

    from tutor.progress.pg_schema import connect, redact

    where = redact(url)
    try:
        return connect(url), where
    except psycopg.Error as err:
        _err(f"cannot connect to {where}: {str(err).strip().splitlines()[0] if str(err).strip() else err}")
        return None


def _migrate(args, url: str) -> int:
    import psycopg

    from tutor.progress.pg_schema import NewerDatabase, migrate

    opened = _connect(url)
    if opened is None:
        return 2
    conn, where = opened
    try:
        before, after = migrate(conn, where)
    except NewerDatabase as err:
        _err(str(err))
        return 2
    except psycopg.Error as err:
        _err(f"{where}: the migration failed and nothing was changed: {err}")
        return 2
    finally:
        conn.close()
    if before == after:
        print(f"{where}: the progress tables are at version {after}, the one this tutor uses: nothing to do")
    elif before == 0:
        print(f"{where}: created the progress tables (version {after})")
    else:
        print(f"{where}: upgraded the progress tables from version {before} to {after}")
    return 0


def _check(args, url: str) -> int:
    import psycopg

    from tutor.progress.pg_schema import NewerDatabase, database_version
    from tutor.progress.schema import SCHEMA_VERSION

    opened = _connect(url)
    if opened is None:
        return 2
    conn, where = opened
    try:
        version = database_version(conn)
    except psycopg.Error as err:
        _err(f"{where}: cannot read the schema version: {err}")
        return 2
    finally:
        conn.close()
    if version > SCHEMA_VERSION:
        _err(str(NewerDatabase(where, version)))
        return 2
    if version == SCHEMA_VERSION:
        print(f"{where}: the progress tables are at version {version}, the one this tutor uses: up to date")
        return 0
    what = (
        "there are no progress tables yet"
        if version == 0
        else f"the progress tables are at version {version}"
    )
    print(
        f"{where}: {what}; this tutor's is {SCHEMA_VERSION}: run `tutor db migrate` (tutor also does on open)"
    )
    return 1


def _import(args, url: str) -> int:
    import psycopg

    from tutor.progress.backend import BadDatabase, check_learner
    from tutor.progress.importing import ImportRefused, import_dir
    from tutor.progress.pg_schema import NewerDatabase, migrate

    if args.learner is not None and len(args.dirs) != 1:
        _err("--learner names one learner: give one DIR with it (or none, to name each after its DIR)")
        return 2
    opened = _connect(url)
    if opened is None:
        return 2
    conn, where = opened
    try:
        migrate(conn, where)
    except (NewerDatabase, psycopg.Error) as err:
        _err(str(err))
        return 2
    finally:
        conn.close()
    status = 0
    for d in args.dirs:
        directory = Path(d).expanduser()
        learner = args.learner if args.learner is not None else directory.resolve().name
        try:
            check_learner(learner)
            done = import_dir(url, directory, learner)
        except (BadDatabase, ImportRefused) as err:
            _err(str(err))
            status = 1
            continue
        except psycopg.Error as err:
            _err(f"{directory}: not imported, nothing of it was written: {err}")
            status = 1
            continue
        print(
            f"{directory} -> learner {learner}: {done.lessons} lessons, {done.blocks} blocks, "
            f"{done.answers} answers added; {done.skipped} already there"
        )
    return status
