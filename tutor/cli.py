"""The ``tutor`` command.

    tutor                         open the app at the lesson list
    tutor LESSON                  open a lesson, by id or by the path of its file
    tutor step PROGRAM_FILE       open the debugger on an expression program
    tutor step -e 'a = 2; b = -3; L = a * b'
    tutor rule OP                 write one op's backward rule, check it and run it (tanh, mul, ...)
    tutor check [PATH ...]        check lesson files (default: every lesson the app would load);
                                  --strict, --watch (see tutor.cli_check)
    tutor train TASK [--print]    the training screen on a task file; --print runs it headless
    tutor lessons                 list every lesson's id, section, title and file
    tutor progress [--json]       each lesson's state, and the misconceptions met in quizzes
    tutor reset [LESSON] [--yes]  forget progress (asks first)
    tutor serve --class-dir DIR   host a class over SSH (tutor.cli_class)
    tutor class ACTION ...        the class's roster, report and live view (tutor.cli_class)
    tutor db ACTION ...           the progress tables on PostgreSQL: migrate, check, import (tutor.cli_db)

Global options (before or after the command): ``--lessons DIR`` (repeatable) adds a lesson
directory, ``--data-dir DIR`` moves the progress store (also ``TUTOR_LESSONS``, ``TUTOR_HOME``),
``--no-builtin`` hides the built-in lessons (see :mod:`tutor.lessons.course`), ``--db URL`` (also
``TUTOR_DB``) keeps progress in PostgreSQL instead, for the learner ``TUTOR_LEARNER`` (default: the
user's name).

Only opening the app imports Textual; every other command runs without it. Here: the parser,
the dispatch, ``check``, and opening the app (``open``, ``step``, ``train``); ``progress`` and
``reset`` are in :mod:`tutor.cli_progress`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from pathlib import Path

import tutor
from tutor.lessons import Catalog, Problem, load_catalog, with_siblings
from tutor.progress import BadDatabase, Progress, db_from, default_data_dir, default_learner, open_store

__all__ = ["main", "build_parser"]

COMMANDS = ("open", "step", "rule", "train", "check", "lessons", "progress", "reset")
CLASS_COMMANDS = ("serve", "class")  # hosting a class: their own parser, in tutor.cli_class
DB_COMMAND = "db"  # the progress tables on PostgreSQL: its own parser, in tutor.cli_db
MAX_PROGRAM_BYTES = 1024 * 1024


class _VersionAction(argparse.Action):
    """--version, looking the version up only when asked (it costs an importlib.metadata import)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="show the version and exit"
        )

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"tutor {tutor.__version__}")
        parser.exit()


def _add_globals(parser: argparse.ArgumentParser, *, sub: bool) -> None:
    default = argparse.SUPPRESS if sub else None
    parser.add_argument(
        "--lessons",
        metavar="DIR",
        action="append",
        dest="sub_lessons" if sub else "lessons",
        default=default if sub else [],
        help="also load the lessons in DIR (repeatable; TUTOR_LESSONS adds more)",
    )
    parser.add_argument(
        "--no-builtin",
        action="store_true",
        dest="sub_no_builtin" if sub else "no_builtin",
        default=default if sub else False,
        help="hide tutor's built-in lessons (a course's course.toml can say so too: builtin = false)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        dest="sub_data_dir" if sub else "data_dir",
        default=default,
        help="keep progress in DIR (default: TUTOR_HOME, else your user data directory)",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        dest="sub_db" if sub else "db",
        default=default,
        help="keep progress in PostgreSQL at URL (postgresql://...; default: TUTOR_DB, else --data-dir)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tutor",
        description="Learn backpropagation by watching it happen, in the terminal.",
        epilog="Run `tutor` alone to open the lesson list, or `tutor LESSON` to open one lesson "
        "(its id, like derivative, or the path of its .md file). To host a class over SSH: "
        "`tutor serve --help` and `tutor class --help`.",
    )
    parser.add_argument("--version", action=_VersionAction)
    _add_globals(parser, sub=False)
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = subs.add_parser(
        "open",
        help="open a lesson by id or path (the same as `tutor LESSON`)",
        description="Open the app at one lesson.",
    )
    p.add_argument("lesson", metavar="LESSON", help="a lesson id, or the path of a lesson file")
    _add_globals(p, sub=True)

    p = subs.add_parser(
        "rule",
        help="write one op's backward rule (the exercise), check it and run it in the debugger",
        description="Open the exercise for one op of the engine: the course's, or one on a small program.",
    )
    p.add_argument(
        "op", metavar="OP", help="an op of the engine: + * - / ** (or add mul sub div pow), tanh, exp, ..."
    )
    _add_globals(p, sub=True)

    p = subs.add_parser(
        "step",
        help="open the backprop debugger on an expression program",
        description="Open the debugger on a program of lines `name = expression`; "
        "the last name assigned is the output.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("program_file", metavar="PROGRAM_FILE", nargs="?", help="a file holding the program")
    src.add_argument(
        "-e",
        dest="program_text",
        metavar="PROGRAM",
        help="the program itself, e.g. 'a = 2; b = -3; L = a * b'",
    )
    _add_globals(p, sub=True)

    p = subs.add_parser(
        "check",
        help="check lesson files and report every problem",
        description="Check lesson files: front matter, every block, that programs run, "
        "that ids are unique and prerequisites exist. Prints each problem as "
        "path:line:col: message; exit status 1 if there is any.",
    )
    p.add_argument(
        "paths",
        metavar="PATH",
        nargs="*",
        help="lesson files or directories (default: every lesson the app would load)",
    )
    p.add_argument("--strict", action="store_true", help="also fail a quiz that lists no example answers")
    p.add_argument(
        "--watch", action="store_true", help="check again each time a lesson is saved (Ctrl-C ends)"
    )
    _add_globals(p, sub=True)

    p = subs.add_parser(
        "lessons",
        help="list every lesson: its id, section and title, and where its file is",
        description="List the lessons tutor loads (built-in, --lessons, TUTOR_LESSONS), in order.",
    )
    _add_globals(p, sub=True)

    p = subs.add_parser(
        "progress",
        help="show each lesson's state",
        description="Show each lesson's state and the misconceptions your quiz answers showed.",
    )
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    _add_globals(p, sub=True)

    p = subs.add_parser(
        "reset",
        help="forget progress of one lesson or of all",
        description="Forget the progress of one lesson, or of every lesson. Asks first.",
    )
    p.add_argument("lesson", metavar="LESSON", nargs="?", help="a lesson id (default: every lesson)")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask (for scripts)")
    _add_globals(p, sub=True)

    p = subs.add_parser(
        "train",
        help="open the training screen on a task file",
        description="Open the training screen on a TOML task file: the keys of a "
        "lesson's train block (see docs/lesson-format.md).",
    )
    p.add_argument("task_file", metavar="TASK_FILE", help="a .toml file holding the task")
    p.add_argument("--print", action="store_true", help="run it here, without the app, printing the loss")
    p.add_argument(
        "--every", metavar="N", type=int, help="with --print: a line every N steps (default: steps/10)"
    )
    _add_globals(p, sub=True)
    return parser


def _insert_open(argv: list[str]) -> list[str]:
    """`tutor LESSON` is `tutor open LESSON`: find the first word that is not an option."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return argv[: i + 1] + ["open"] + argv[i + 1 :] if i + 1 < len(argv) else argv
        if arg in ("--lessons", "--data-dir", "--db"):
            i += 2
            continue
        if arg.startswith("-"):
            i += 1
            continue
        if arg in COMMANDS or arg in CLASS_COMMANDS:
            return argv
        return argv[:i] + ["open"] + argv[i:]
    return argv


def main(argv: list[str] | None = None, *, environ=None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    environ = os.environ if environ is None else environ
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in CLASS_COMMANDS:
        from tutor.cli_class import main as class_main

        return class_main(argv, environ)
    if argv and argv[0] == DB_COMMAND:
        from tutor.cli_db import main as db_main

        return db_main(argv[1:], environ)
    parser = build_parser()
    try:
        args = parser.parse_args(_insert_open(argv))
    except SystemExit as exit_:  # --help, --version, and usage errors (status 2)
        return exit_.code if isinstance(exit_.code, int) else 0
    args.lessons = list(args.lessons) + list(getattr(args, "sub_lessons", []) or [])
    args.data_dir = getattr(args, "sub_data_dir", None) or args.data_dir
    args.db = getattr(args, "sub_db", None) or args.db
    args.no_builtin = bool(getattr(args, "sub_no_builtin", False) or args.no_builtin)
    try:
        if args.command == "check":
            from tutor import cli_check

            run = cli_check.watch if args.watch else cli_check.check
            return run(args, environ)
        if args.command == "lessons":
            from tutor.cli_check import list_lessons

            return list_lessons(args, environ)
        # tutor.cli_progress is imported here, not at the top: it uses this module's helpers
        if args.command == "progress":
            from tutor.cli_progress import show

            return show(args, environ)
        if args.command == "reset":
            from tutor.cli_progress import reset

            return reset(args, environ)
        if args.command == "step":
            return _step(args, environ)
        if args.command == "rule":
            return _rule(args, environ)
        if args.command == "train":
            return _train(args, environ)
        return _open(args, environ)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except _StoreRefused as refused:
        _err(str(refused))
        return 2


def _err(message: str) -> None:
    print(f"tutor: {message}", file=sys.stderr)


def _catalog(args, environ, files=(), *, grade_examples=False, check=True) -> Catalog:
    from tutor.lessons.course import course_dirs

    problems: list[Problem] = []  # an installed course that cannot be found
    dirs = course_dirs(
        args.lessons, environ, no_builtin=getattr(args, "no_builtin", False), problems=problems
    )
    catalog = load_catalog(dirs, files, grade_examples=grade_examples, check=check)
    catalog.problems = problems + catalog.problems
    return catalog


class _StoreRefused(Exception):
    """The progress store cannot be opened at all (a bad --db, a newer database): said, exit 2."""


def _progress_store(args, environ) -> Progress:
    from tutor.progress.pg_schema import NewerDatabase  # light: psycopg only when a URL is used

    try:
        db = db_from(args.db, environ)
        progress = open_store(
            db, default_data_dir(args.data_dir, environ), default_learner(environ) if db else ""
        )
    except (BadDatabase, NewerDatabase) as err:
        raise _StoreRefused(err) from err
    if progress.notice:
        _err(progress.notice)
    return progress


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# ------------------------------------------------------------------------------ the app


def _launch(catalog: Catalog, progress: Progress, **kwargs) -> int:
    """Run the app; afterwards wait for the answers still being written, and say plainly (once
    the terminal is back) if some could not be."""
    try:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            # Without a terminal the app could never be used or told to quit: it would outlive an
            # `ssh host tutor` (no -t) on the server.
            _err(
                "the app needs a terminal; over SSH use ssh -t (tutor check, progress and reset work anywhere)"
            )
            return 1
        from tutor.app import run_app

        with _saved_on_hangup(progress):
            result = run_app(catalog, progress, **kwargs)
        return int(result or 0)
    finally:
        lost = progress.close()
        if lost:
            _err(lost)


HANGUP_WAIT_S = 3.0  # how long a hung-up tutor waits for its last answers to be written


@contextlib.contextmanager
def _saved_on_hangup(progress: Progress):
    """A dropped SSH connection hangs the tutor up (SIGHUP) and a shutting-down server sends
    SIGTERM; either would end the process at once, before the writer thread has written an answer
    given a moment before. Wait (a little) for the queue first, then end as the signal would."""

    def handler(signum, _frame):
        progress.flush(HANGUP_WAIT_S)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGHUP, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _open(args, environ) -> int:
    files = []
    lesson_id = None
    target = getattr(args, "lesson", None)
    if target is not None:
        path = Path(target)
        if target.endswith(".md") or os.sep in target or path.is_file():
            if not path.is_file():
                _err(f"no lesson file {target}")
                return 1
            files.append(path)
        else:
            lesson_id = target
    # the app checks the lessons' blocks after its first screen is drawn (start-up time)
    catalog = _catalog(args, environ, with_siblings(files), check=False)
    if files:
        resolved = files[0].resolve()
        lesson = next((l for l in catalog.lessons if l.path.resolve() == resolved), None)
        lesson_id = lesson.id if lesson else None
    elif lesson_id is not None and catalog.get(lesson_id) is None:
        ids = ", ".join(l.id for l in catalog.lessons) or "none"
        _err(f"no lesson with id '{lesson_id}'. The lessons are: {ids}")
        return 1
    progress = _progress_store(args, environ)
    return _launch(catalog, progress, open_lesson=lesson_id)


def _read_small_text(where: str, what: str) -> str | None:
    """A small UTF-8 file's text, or None after saying plainly why it cannot be used."""
    from tutor.files import NotARegularFile, read_regular

    try:
        data = read_regular(where, MAX_PROGRAM_BYTES)  # a FIFO would block open() for good
    except NotARegularFile as err:
        _err(f"{where} is not a regular file ({err.kind}); give the path of a text file holding {what}")
        return None
    except OSError as err:
        _err(f"cannot read {where}: {err.strerror or err}")
        return None
    if len(data) > MAX_PROGRAM_BYTES:
        _err(f"{where}: the file is larger than 1 MiB; {what} is a few lines")
        return None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        _err(f"{where}: byte {err.start} is not UTF-8; save it as UTF-8 text")
        return None


def _train(args, environ) -> int:
    from tutor.lessons import read_task_file

    where = args.task_file
    text = _read_small_text(where, "a task")
    if text is None:
        return 1
    task, problems = read_task_file(where, text)  # every problem of the task, each at its line
    for problem in problems:
        print(problem, file=sys.stderr)
    if task is None:
        return 1
    if args.print:
        from tutor.cli_check import print_train

        return print_train(task, args.every)
    catalog = _catalog(args, environ)
    progress = _progress_store(args, environ)
    return _launch(catalog, progress, train_task=task, step_title=Path(where).name)


def _step(args, environ) -> int:
    from engine.expr import ProgramError, parse_program

    if args.program_text is not None:
        where, text, title = "-e", args.program_text, "tutor step -e"
    else:
        where = args.program_file
        title = Path(where).name
        text = _read_small_text(where, "a program")
        if text is None:
            return 1
    try:
        program = parse_program(text)
        program.check_backward()  # log of -1, overflow, 0 ** -0.5: found before the app opens
    except ProgramError as err:
        print(f"{where}:{err.line}:{err.col}: {err.message}", file=sys.stderr)
        return 1
    catalog = _catalog(args, environ)
    progress = _progress_store(args, environ)
    return _launch(catalog, progress, step_program=program, step_title=title)


def _rule(args, environ) -> int:
    from tutor.lessons.exercise import exercise_for

    catalog = _catalog(args, environ)
    try:
        exercise = exercise_for(args.op, catalog)
    except ValueError as err:
        _err(str(err))
        return 2
    progress = _progress_store(args, environ)
    return _launch(catalog, progress, exercise=exercise)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
