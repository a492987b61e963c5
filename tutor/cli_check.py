"""The teacher's loop: ``tutor check`` (``--strict``, ``--watch``) and ``tutor train TASK --print``.

    tutor check [PATH ...]          every problem, as path:line:col: message; status 1 if any
    tutor check --strict PATH       also fail a quiz that lists no example answers
    tutor check --watch PATH        check again each time a lesson file is saved (Ctrl-C ends it)
    tutor train TASK.toml --print   run the task here, printing loss and accuracy every N steps
    tutor lessons                   every lesson's id (for prerequisites), section, title and file

``--watch`` polls the files' modification times with the standard library (no watcher thread,
no package): every ``WATCH_INTERVAL_S`` it stats the lessons it checks, at most
``MAX_WATCHED`` of them, and it ends by itself after ``MAX_WATCH_S``.

No Textual: the command line imports this module for these commands only.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tutor.lessons import (
    Lesson,
    Problem,
    check_blocks,
    lesson_files,
    load_catalog,
    with_siblings,
)

__all__ = ["check", "list_lessons", "print_train", "watch"]

WATCH_INTERVAL_S = 0.5  # how often --watch looks at the files
MAX_WATCHED = 2_000  # files --watch looks at (a course is a few dozen)
MAX_WATCH_S = 12 * 3600  # --watch ends by itself after this long
MAX_PRINTED_LINES = 1_000  # lines --print prints for a run, at most


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# ------------------------------------------------------------------------------ check


def _dirs(args, environ, problems: list[Problem]) -> list[Path]:
    """The folders the app would load: built-in (unless hidden), --lessons, TUTOR_LESSONS and
    installed courses (see tutor.lessons.course)."""
    from tutor.lessons.course import course_dirs

    return course_dirs(
        args.lessons, environ, no_builtin=getattr(args, "no_builtin", False), problems=problems
    )


def _checked(args, environ) -> tuple[list[Lesson], list[Problem], list[Problem]]:
    """The lessons checked, their problems and their warnings (the given paths', or all)."""
    if not args.paths:
        found: list[Problem] = []  # an installed course that cannot be found
        catalog = load_catalog(_dirs(args, environ, found), grade_examples=True)
        return catalog.lessons, found + list(catalog.problems), list(catalog.warnings)
    # the given files are checked in the company of the built-in lessons (and --lessons /
    # TUTOR_LESSONS), so a prerequisite may name one of those and a clashing id is caught;
    # only the given files' problems are reported
    dirs, files, missing = [], [], []
    for raw in args.paths:
        path = Path(raw)
        if path.is_dir():
            dirs.append(path)
        elif path.exists():
            files.append(path)
        else:
            missing.append(raw)
    mine: set[Path] = set()
    for d in dirs:
        try:
            mine.update(p.resolve() for p in lesson_files(d))
        except OSError:
            pass
    mine.update(p.resolve() for p in files)
    # the context first: a lesson clashing with a built-in one is the one told so; a file's
    # prerequisites beside it in its folder come along
    context = [d for d in _dirs(args, environ, []) if d.is_dir()]
    # the company is read for its ids only; the blocks checked (and examples graded) are the
    # given lessons' own, so checking one file does not grade the whole built-in course
    catalog = load_catalog(context + dirs, with_siblings(files), check=False)
    chosen = [lesson for lesson in catalog.lessons if lesson.path.resolve() in mine]
    for lesson in chosen:
        check_blocks(lesson, grade_examples=True)
    problems = [p for lesson in chosen for p in lesson.problems]
    problems = [p for p in catalog.problems if p.line == 0 and Path(p.path) in dirs] + problems
    problems += [p for p in catalog.problems if _manifest_of(p, dirs)]  # a course folder's course.toml
    problems += [Problem(raw, 0, 0, "no such file or directory") for raw in missing]
    warnings = [w for lesson in chosen for w in lesson.warnings]
    return chosen, problems, warnings


def _manifest_of(problem: Problem, dirs: list[Path]) -> bool:
    path = Path(problem.path)
    return path.name == "course.toml" and path.parent in dirs


def _strict(lessons: list[Lesson]) -> list[Problem]:
    """--strict: a quiz must prove itself with example answers, a right one among them."""
    found = []
    for lesson in lessons:
        for block in lesson.blocks:
            quiz = block.quiz
            if quiz is None:
                continue
            if not quiz.examples:
                message = (
                    "quiz block: no [[examples]] (--strict); list the right answer and each wrong "
                    'answer you expect, each with verdict = "right" or "wrong" (see docs/quiz-format.md)'
                )
            elif not any(ex.verdict == "right" for ex in quiz.examples):
                message = 'quiz block: no example with verdict = "right" (--strict); add the right answer'
            else:
                continue
            found.append(Problem(str(lesson.path), block.line, 1, message))
    return found


def check(args, environ, out=None) -> int:
    """Print every problem (and warning) of the lessons asked for; 1 if there is a problem."""
    out = out or sys.stdout
    lessons, problems, warnings = _checked(args, environ)
    if getattr(args, "strict", False):
        problems += _strict(lessons)
    for problem in sorted([*problems, *warnings], key=lambda p: (p.path, p.line, p.col)):
        print(problem, file=out)
    # warnings (a ```quiz fence in a list, shown as code) are printed but do not fail the check
    said = f", {_plural(len(warnings), 'warning')}" if warnings else ""
    print(f"checked {_plural(len(lessons), 'lesson')}: {_plural(len(problems), 'problem')}{said}", file=out)
    out.flush()
    return 1 if problems else 0


# ------------------------------------------------------------------------------ --watch


def _watched(args, environ) -> list[Path]:
    """The files whose saving starts a new check: the paths given (a folder's lessons), or
    every lesson the app would load."""
    roots = [Path(p) for p in args.paths] or _dirs(args, environ, [])
    found: list[Path] = []
    for root in roots:
        if root.is_dir():
            try:
                found += lesson_files(root)
            except OSError:
                pass
            found.append(root)  # a lesson added to or removed from the folder
        else:
            found.append(root)
    return found[:MAX_WATCHED]


def _stamp(paths: list[Path]) -> tuple:
    stamps = []
    for p in paths:
        try:
            st = os.stat(p)
            stamps.append((str(p), st.st_mtime_ns, st.st_size))
        except OSError:
            stamps.append((str(p), None, None))
    return tuple(stamps)


def watch(args, environ, *, sleep=time.sleep, clock=time.monotonic, out=None) -> int:
    """Check, then check again each time a watched file changes, until Ctrl-C (or
    ``MAX_WATCH_S``). Returns the last check's status."""
    out = out or sys.stdout
    started = clock()
    status = check(args, environ, out)
    files = _watched(args, environ)
    seen = _stamp(files)
    print(f"watching {_plural(len(files), 'file')}; save a lesson to check again, Ctrl-C to stop", file=out)
    out.flush()
    try:
        while clock() - started < MAX_WATCH_S:
            sleep(WATCH_INTERVAL_S)
            now = _stamp(files)
            if now == seen:
                continue
            changed = sorted({a[0] for a, b in zip(seen, now) if a != b})
            print(f"\n--- {time.strftime('%H:%M:%S')} changed: {', '.join(changed)}", file=out)
            status = check(args, environ, out)
            files = _watched(args, environ)  # a lesson may have been added to a folder
            seen = _stamp(files)
        print(f"stopped watching after {MAX_WATCH_S // 3600} hours", file=out)
    except KeyboardInterrupt:
        print(file=out)
    return status


# ------------------------------------------------------------------------------ train --print


def print_train(task, every: int | None, out=None) -> int:
    """Run ``task`` here and print the loss (and accuracy) every ``every`` steps and at the end,
    so a teacher can check what the lesson's prose says about the run."""
    from engine.numfmt import fmt
    from engine.train import Trainer, TrainingStopped

    out = out or sys.stdout
    every = every or max(1, task.steps // 10)
    every = max(every, -(-task.steps // MAX_PRINTED_LINES))
    trainer = Trainer(task)
    mistake = f", mistake {task.mistake}" if task.mistake else ""
    print(f"{task.steps} steps, printing every {every}{mistake}", file=out)
    print(f"{'step':>6}  {'loss':>12}  {'accuracy':>8}  {'grad size':>10}", file=out)
    last = None
    try:
        for report in trainer.run():
            last = report
            if report.step % every == 0 or report.step == 1 or report.step == task.steps:
                acc = "" if report.accuracy is None else f"{report.accuracy:.0%}"
                print(
                    f"{report.step:>6}  {fmt(report.loss):>12}  {acc:>8}  {fmt(report.grad_norm):>10}",
                    file=out,
                )
    except TrainingStopped as stop:
        print(f"stopped: {stop.reason}", file=out)
        return 1
    if last is not None:
        loss, accuracy = trainer.forward()
        acc = "" if accuracy is None else f", accuracy {accuracy:.0%}"
        print(f"after step {last.step}: loss {fmt(loss.data)}{acc}", file=out)
    return 0


# ------------------------------------------------------------------------------ lessons


def list_lessons(args, environ, out=None) -> int:
    """Every lesson the app would list, in its order: the ids a prerequisite may name."""
    out = out or sys.stdout
    catalog = load_catalog(_dirs(args, environ, []), check=False)  # front matter only
    width = max((len(lesson.id) for lesson in catalog.lessons), default=2)
    for section, lessons in catalog.sections():
        print(section, file=out)
        for lesson in lessons:
            broken = "  (broken: tutor check it)" if lesson.broken else ""
            print(f"  {lesson.id:<{width}}  {lesson.title}  [{lesson.path}]{broken}", file=out)
    print(f"{_plural(len(catalog.lessons), 'lesson')}", file=out)
    return 0
