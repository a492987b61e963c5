"""The commands about the learner's progress: ``tutor progress [--json]`` and
``tutor reset [LESSON] [--yes]``. The parser and the dispatch are in :mod:`tutor.cli`."""

from __future__ import annotations

import json
import sys

from tutor.cli import _catalog, _err, _plural, _progress_store
from tutor.misconceptions import CATALOGUE
from tutor.progress import LessonState, Progress, lesson_state, tag_summary
from tutor.review import RESOLVED_WORDS

__all__ = ["COMMAND_WAIT_S", "reset", "show"]

COMMAND_WAIT_S = 10.0  # how long `tutor reset` waits for its write before it says it failed

# how each state reads in the text listing (a lesson not started has no mark)
MARKS = {
    LessonState.DONE: "✓",
    LessonState.IN_PROGRESS: "…",
    LessonState.NOT_STARTED: " ",
    LessonState.BROKEN: "✗",
}


def _tag_summary(progress: Progress, catalog=None) -> list[dict]:
    """Each misconception tag met in an attempt: how often, in which lessons, whether it was put
    right (:func:`tutor.progress.tag_summary`: the review schedule's rule), and its title: from the lesson where it showed when that lesson (or its
    course) declares it, else from the built-in catalogue ("" for a tag neither knows)."""
    out = tag_summary(progress.attempts())
    for entry in out:
        known = None
        for lesson_id in entry["lessons"]:
            lesson = catalog.get(lesson_id) if catalog is not None else None
            if lesson is not None and entry["tag"] in lesson.misconceptions:
                known = lesson.misconceptions[entry["tag"]]
                break
        known = known or CATALOGUE.get(entry["tag"])
        entry["title"] = known.title if known else ""
    return out


# ------------------------------------------------------------------------------ tutor progress


def show(args, environ) -> int:
    """``tutor progress``: each lesson's state, and the misconceptions the answers showed."""
    catalog = _catalog(args, environ)
    progress = _progress_store(args, environ)
    try:
        known = {l.id for l in catalog.lessons}
        for l in catalog.lessons:  # progress from a version 1 file, named by index: read by id
            progress.adopt_block_ids(l.id, [b.id for b in l.blocks])
        others = [i for i in progress.lesson_ids() if i not in known]
        tags = _tag_summary(progress, catalog)
        if args.json:
            data = {
                "data_dir": str(progress.data_dir),
                "store": progress.where,
                "lessons": [
                    {
                        "id": l.id,
                        "title": l.title,
                        "section": l.section,
                        "state": lesson_state(l, progress),
                        "position": progress.position(l.id),
                        "completed_blocks": sorted(progress.completed_blocks(l.id)),
                        "problem": str(l.first_problem) if l.broken else None,
                    }
                    for l in catalog.lessons
                ],
                "not_installed": [{"id": i, "state": progress.state(i)} for i in others],
                "misconceptions": tags,
                "notice": progress.notice,
            }
            print(json.dumps(data, indent=2))
            return 0
        width = max([len(l.id) for l in catalog.lessons] + [len(i) for i in others] + [10])
        done = sum(1 for l in catalog.lessons if progress.state(l.id) is LessonState.DONE)
        print(f"Progress in {progress.where}: {done} of {_plural(len(catalog.lessons), 'lesson')} done")
        for section, lessons in catalog.sections():
            print()
            print(section)
            for l in lessons:
                state = lesson_state(l, progress)
                print(f"  {MARKS[state]} {l.id:<{width}}  {state:<11}  {l.title}")
        if others:
            print()
            print("Lessons not installed any more")
            for i in others:
                print(f"    {i:<{width}}  {progress.state(i)}")
        if tags:
            print()
            print("Misconceptions your answers showed")
            for t in tags:
                status = f"put right ({RESOLVED_WORDS})" if t["resolved"] else "not yet put right"
                title = f" ({t['title']})" if t["title"] else ""
                print(f"  {t['tag']}{title}: {_plural(t['hits'], 'time')}, {status}")
        return 0
    finally:
        progress.close()


# ------------------------------------------------------------------------------ tutor reset


def reset(args, environ) -> int:
    """``tutor reset``: forget one lesson's progress, or every lesson's, once the learner agrees."""
    progress = _progress_store(args, environ)
    try:
        if args.lesson is not None:
            if args.lesson not in progress.lesson_ids():
                catalog = _catalog(args, environ)
                if catalog.get(args.lesson) is None:
                    _err(f"no lesson with id '{args.lesson}' (see `tutor progress` for the ids)")
                    return 1
                print(f"Nothing to reset: lesson '{args.lesson}' has no progress.")
                return 0
            what = f"your progress in lesson '{args.lesson}' ({progress.state(args.lesson)})"
        else:
            count = len(progress.lesson_ids())
            if count == 0:
                print("Nothing to reset: no progress is recorded.")
                return 0
            what = f"ALL your progress ({_plural(count, 'lesson')}) in {progress.where}"
        if not args.yes and not _confirmed(what):
            return 1
        progress.reset(args.lesson)
        # the store writes on its own thread: wait for the reset to be committed, and say so
        # plainly if it was not (the store gives up on it when closed, so it never lands later)
        if not progress.flush(timeout=COMMAND_WAIT_S):
            error = progress.error
            if progress.close(timeout=0) is not None:  # None: it landed after all
                _err(
                    f"nothing was reset: the progress file could not be written ({error or 'unknown error'})."
                )
                return 1
        print(f"Reset {what}.")
        return 0
    finally:
        progress.close()


def _confirmed(what: str) -> bool:
    """Ask on the terminal whether to discard ``what``; never without a terminal to ask on."""
    stdin = sys.stdin
    if stdin is None or not stdin.isatty():
        _err(
            f"not resetting {what}: I can only ask for confirmation on a terminal. "
            "Pass --yes to reset without asking."
        )
        return False
    print(f"Discard {what}? This cannot be undone. [y/N] ", end="", flush=True)
    answer = stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        print("Nothing was reset.")
        return False
    return True
