"""``tutor serve`` and ``tutor class ...``: hosting a class over SSH and the teacher's commands.

    tutor serve --class-dir DIR [--host 127.0.0.1] [--port 2222] [--open] [limits]
    tutor class add NAME --class-dir DIR [--key FILE.pub]   a learner, by key or by a one-time code
    tutor class import FILE --class-dir DIR                 keys of an authorized_keys file, named by comment
    tutor class list|remove NAME --class-dir DIR
    tutor class teacher add|list|remove ... --class-dir DIR  the keys that get the teacher's view
    tutor class report --class-dir DIR [--json | --csv]
    tutor class watch --class-dir DIR                       the live view of the class

Every one of them takes ``--db postgresql://...`` (or ``TUTOR_DB``): the class's roster, its
teachers' keys and who is connected then live in that database, shared by every host serving
the class (docs/hosting.md, "Several hosts").

:mod:`tutor.cli` hands these words here before its own parser runs. Only ``serve`` imports
asyncssh, and only ``watch`` imports Textual.
"""

from __future__ import annotations

import argparse
import os
import sys

from tutor.serve.limits import Limits
from tutor.serve.roster import (
    ClassDir,
    RosterError,
    db_url,
    parse_authorized_keys,
    parse_public_key,
    read_key_file,
    valid_name,
)

__all__ = ["main"]


def _err(message: str) -> None:
    print(f"tutor: {message}", file=sys.stderr)


def _class_dir_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--class-dir", metavar="DIR", required=True, help="the class directory")
    p.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="the class's PostgreSQL database (postgresql://...; default $TUTOR_DB, else the "
        "class directory's files)",
    )


def _class(args, environ, *, create: bool) -> ClassDir:
    return ClassDir(args.class_dir, create=create, db=db_url(args.db, environ))


# the flags of `tutor serve` that set a field of `Limits` (the flag is the field's name, dashed)
LIMIT_FLAGS = {
    "max_sessions": "sessions at once",
    "max_per_learner": "sessions at once per learner",
    "idle_timeout": "seconds without a key before a session ends",
    "idle_warning": "seconds of warning before that",
    "session_cap": "longest session, seconds",
    "login_timeout": "seconds to authenticate",
    "rate": "new connections per address per window",
    "rate_window": "the window, seconds",
}


def build_parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="tutor", description="Host a class over SSH.")
    subs = top.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = subs.add_parser(
        "serve",
        help="run the class's SSH server",
        description="Run the class's SSH server: each learner, known by their key, gets their own "
        "tutor on a real terminal with their own progress, and nothing else. "
        "Learners are added with `tutor class add`; see docs/hosting.md.",
    )
    _class_dir_arg(p)
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)"
    )
    p.add_argument("--port", type=int, default=2222, help="port to listen on (default 2222)")
    p.add_argument("--allow-root", action="store_true", help="run even as root (not advised)")
    p.add_argument("--open", action="store_true", help="enrol anyone who connects, asking for a name")
    p.add_argument(
        "--lessons", metavar="DIR", action="append", default=[], help="also load the lessons in DIR"
    )
    p.add_argument("--quiet", action="store_true", help="log nothing on stderr")
    d = Limits()
    for field, flag_help in LIMIT_FLAGS.items():
        default = getattr(d, field)
        p.add_argument(
            "--" + field.replace("_", "-"),
            metavar="N" if isinstance(default, int) else "SECONDS",
            type=type(default),
            default=default,
            help=f"{flag_help} (default {default:g})",
        )

    cls = subs.add_parser("class", help="the class's roster and the teacher's view")
    csubs = cls.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = csubs.add_parser("add", help="add a learner, with a key or a one-time enrolment code")
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--key", metavar="FILE", help="their public key (.pub), or an authorized_keys file: every key in it"
    )
    _class_dir_arg(p)
    p = csubs.add_parser("import", help="add the keys of an authorized_keys file, each named by its comment")
    p.add_argument("file", metavar="FILE")
    _class_dir_arg(p)
    p = csubs.add_parser("list", help="the learners and their keys")
    _class_dir_arg(p)
    p = csubs.add_parser("remove", help="forget a learner's keys (their progress stays)")
    p.add_argument("name", metavar="NAME")
    _class_dir_arg(p)
    p = csubs.add_parser("teacher", help="the keys that get the teacher's live view over SSH")
    tsubs = p.add_subparsers(dest="teacher_action", metavar="add|list|remove", required=True)
    t = tsubs.add_parser("add", help="give the keys of a .pub or authorized_keys file the teacher's view")
    t.add_argument("--key", metavar="FILE", required=True)
    _class_dir_arg(t)
    t = tsubs.add_parser("list", help="the teachers' keys")
    _class_dir_arg(t)
    t = tsubs.add_parser("remove", help="take the teacher's view from a key, by fingerprint")
    t.add_argument("fingerprint", metavar="SHA256:...")
    _class_dir_arg(t)
    p = csubs.add_parser("report", help="what each learner did, and the misconceptions")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON for scripts")
    fmt.add_argument("--csv", action="store_true", help="CSV for a spreadsheet (one row per learner and tag)")
    p.add_argument(
        "--lessons", metavar="DIR", action="append", default=[], help="also load the lessons in DIR"
    )
    _class_dir_arg(p)
    p = csubs.add_parser("watch", help="a live screen of the class")
    p.add_argument(
        "--lessons", metavar="DIR", action="append", default=[], help="also load the lessons in DIR"
    )
    _class_dir_arg(p)
    return top


def main(argv: list[str], environ=os.environ) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 0
    try:
        if args.command == "serve":
            return _serve(args, environ)
        return ACTIONS[args.action](args, environ)
    except RosterError as err:
        _err(str(err))
        return 1
    except KeyboardInterrupt:
        return 130


def _serve(args, environ) -> int:
    if os.geteuid() == 0 and not args.allow_root:
        _err(
            "refusing to run as root: a learner's tutor would run as root too. Run it as an "
            "ordinary user (see docs/hosting.md), or give --allow-root"
        )
        return 1
    limits = Limits(**{field: getattr(args, field) for field in LIMIT_FLAGS})
    problems = limits.problems()
    if not 0 < args.port < 65536:
        problems.append("--port must be 1 to 65535")
    for problem in problems:
        _err(problem)
    if problems:
        return 2
    import asyncio

    from tutor.serve.server import serve

    cls = _class(args, environ, create=True)
    try:
        return asyncio.run(
            serve(
                cls,
                args.host,
                args.port,
                limits,
                open_class=args.open,
                lessons=args.lessons,
                quiet=args.quiet,
            )
        )
    except OSError as err:
        _err(f"cannot listen on {args.host}:{args.port}: {err.strerror or err}")
        return 1
    finally:
        cls.close()


def _add(args, environ) -> int:
    cls = _class(args, environ, create=True)
    roster = cls.roster()
    if args.key:
        keys, problems = parse_authorized_keys(read_key_file(args.key), args.key)
        for problem in problems:
            _err(problem)
        if not keys:
            if not problems:
                _err(f"{args.key}: no public key in it; give their .pub file")
            return 1
        roster.add(args.name, keys)
        for key in keys:
            print(f"added {args.name}: {key.kind} {key.fingerprint}")
        return 1 if problems else 0
    code = roster.new_code(args.name)
    print(f"Enrolment code for {args.name}: {code}")
    print("They connect with any SSH key and type the code once; that key is theirs from then on.")
    print("The code works once; `tutor class add` again makes a new one (the old one stops working).")
    return 0


def _import(args, environ) -> int:
    cls = _class(args, environ, create=True)
    roster = cls.roster()
    keys, problems = parse_authorized_keys(read_key_file(args.file), args.file)
    added = 0
    for key in keys:
        name = key.comment.split("@")[0].strip().lower().replace(" ", "-")
        if not valid_name(name):
            problems.append(
                f"{args.file}: the key {key.fingerprint} has no usable name in its comment ({key.comment!r})"
            )
            continue
        try:
            roster.add(name, [key])
        except RosterError as err:
            problems.append(str(err))
            continue
        added += 1
        print(f"added {name}: {key.kind} {key.fingerprint}")
    for problem in problems:
        _err(problem)
    print(f"{added} key(s) added, {len(problems)} problem(s)")
    return 1 if problems else 0


def _list(args, environ) -> int:
    cls = _class(args, environ, create=False)
    learners = cls.roster().learners()
    if not learners:
        print(
            f"No learners in {cls.path} yet (add one with `tutor class add NAME --class-dir {args.class_dir}`)."
        )
        return 0
    for name, entry in learners.items():
        prints = [parse_public_key(line).fingerprint for line in entry["keys"]]
        waiting = " (enrolment code waiting)" if entry["pending_code"] else ""
        print(f"{name}{waiting}: {len(prints)} key(s)")
        for fp in prints:
            print(f"    {fp}")
    return 0


def _remove(args, environ) -> int:
    cls = _class(args, environ, create=False)
    if not cls.roster().remove(args.name):
        _err(f"no learner named {args.name} (see `tutor class list`)")
        return 1
    where = "the class database" if cls.db else cls.learner_dir(args.name)
    print(f"removed {args.name}: their keys no longer log in (their progress stays in {where})")
    return 0


def _teacher(args, environ) -> int:
    cls = _class(args, environ, create=args.teacher_action == "add")
    roster = cls.roster()
    if args.teacher_action == "add":
        keys, problems = parse_authorized_keys(read_key_file(args.key), args.key)
        for problem in problems:
            _err(problem)
        if not keys:
            if not problems:
                _err(f"{args.key}: no public key in it; give the teacher's .pub file")
            return 1
        new = {k.line for k in roster.add_teachers(keys)}
        for key in keys:
            print(f"teacher key {key.kind} {key.fingerprint}{'' if key.line in new else ' (already one)'}")
        return 1 if problems else 0
    if args.teacher_action == "list":
        teachers = roster.teachers()
        if not teachers:
            print("No teacher keys yet (add one with `tutor class teacher add --key FILE.pub`).")
        for key in teachers:
            print(f"{key.kind} {key.fingerprint} {key.comment}".rstrip())
        return 0
    if not roster.remove_teacher(args.fingerprint):
        _err(f"no teacher key with fingerprint {args.fingerprint} (see `tutor class teacher list`)")
        return 1
    print(f"removed teacher key {args.fingerprint}")
    return 0


def _report(args, environ) -> int:
    from tutor.serve.report import run_report

    return run_report(args, environ)


def _watch(args, environ) -> int:
    from tutor.serve.watch import run_watch

    return run_watch(args, environ)


ACTIONS = {
    "add": _add,
    "import": _import,
    "list": _list,
    "remove": _remove,
    "teacher": _teacher,
    "report": _report,
    "watch": _watch,
}
