"""What a lesson is once read: its problems, its blocks, the lesson, and the catalogue of lessons."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["INTERACTIVE_KINDS", "Block", "Catalog", "Lesson", "Problem", "ProgramBlock"]

INTERACTIVE_KINDS = ("debugger", "train", "quiz", "pytorch", "exercise")


@dataclass(frozen=True)
class Problem:
    """One mistake in a lesson file, at a line and column of that file (both 1-based).

    ``line`` and ``col`` are 0 when the problem is about the file as a whole (for instance a
    directory that does not exist); ``str()`` then leaves them out. A ``"warning"`` is something
    that works but is likely not what the teacher meant (a ```quiz fence inside a list is shown
    as code); it does not make the lesson broken.
    """

    path: str
    line: int
    col: int
    message: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        text = f"warning: {self.message}" if self.severity == "warning" else self.message
        if self.line <= 0:
            return f"{self.path}: {text}"
        return f"{self.path}:{self.line}:{max(self.col, 1)}: {text}"


@dataclass(frozen=True)
class ProgramBlock:
    """A checked ```debugger or ```pytorch block: the engine's parsed program and its options."""

    program: Any  # engine.expr.Program, built with the block's output
    caption: str = ""
    output: str | None = None
    predict: bool = False  # debugger only


_UNCHECKED = object()


@dataclass
class Block:
    """One part of a lesson, in reading order.

    ``kind`` is "markdown" (prose), "code" (a fence shown as code; ``lang`` is its info string),
    or one of the interactive kinds "debugger", "train", "quiz", "pytorch" (``config`` is the
    block's parsed TOML; for a debugger block the optional keys are filled with their defaults).
    ``index`` is the block's position in ``Lesson.blocks``; ``id`` names it for good (its TOML's
    ``id``, else derived from its kind and text: :mod:`tutor.lessons.ids`), and progress is keyed
    by the id, so inserting a block shifts no one's progress; ``line`` is
    the 1-based line where the block starts in the file (the opening fence for fenced blocks);
    ``text`` is the block's text without its fences.

    An interactive block that checks out carries what it was read into, so no screen reads it
    again: ``program``/``spec`` (debugger, pytorch), ``task`` (train), ``quiz`` (quiz). Giving
    the block a new ``config`` drops that until it is checked again (see
    :func:`tutor.lessons.block_result`).
    """

    kind: str
    index: int
    line: int
    text: str
    lang: str = ""
    config: dict = field(default_factory=dict)
    id: str = ""  # stable: progress is keyed by it (see tutor.lessons.ids)
    result: Any = field(default=_UNCHECKED, repr=False, compare=False)
    problems: list[Problem] = field(default_factory=list, repr=False, compare=False)
    warnings: list[Problem] = field(default_factory=list, repr=False, compare=False)

    def __setattr__(self, name: str, value) -> None:
        object.__setattr__(self, name, value)
        if name == "config":
            object.__setattr__(self, "result", _UNCHECKED)

    @property
    def interactive(self) -> bool:
        return self.kind in INTERACTIVE_KINDS

    @property
    def checked(self) -> bool:
        return self.result is not _UNCHECKED

    @property
    def parsed(self):
        """What the block was read into (None when it has a problem or is not checked yet)."""
        return None if self.result is _UNCHECKED else self.result

    @property
    def spec(self) -> ProgramBlock | None:
        return self.parsed if isinstance(self.parsed, ProgramBlock) else None

    @property
    def program(self):
        spec = self.spec
        return spec.program if spec is not None else None

    @property
    def task(self):
        return self.parsed if self.kind == "train" else None

    @property
    def quiz(self):
        return self.parsed if self.kind == "quiz" else None

    @property
    def exercise(self):
        """A checked ```exercise block's `tutor.lessons.exercise.Exercise`."""
        return self.parsed if self.kind == "exercise" else None


@dataclass
class Lesson:
    """A parsed lesson file. ``problems`` is empty for a good lesson; a broken one still loads."""

    id: str
    title: str
    section: str
    order: int
    summary: str
    prerequisites: list[str]
    path: Path
    blocks: list[Block] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    # the teacher's own misconception tags its quizzes may use: its course's, then its own
    # [[misconceptions]] (tag -> tutor.misconceptions.Misconception)
    misconceptions: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # line of each front-matter key in the file, for problems found later (duplicate ids, ...)
    key_lines: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    # interactive blocks whose contents are not checked yet (see ``load_lesson(check=False)``)
    unchecked: list[Block] = field(default_factory=list, repr=False, compare=False)

    @property
    def broken(self) -> bool:
        """True when the lesson has a problem. Until :func:`check_blocks` has run on a lesson
        loaded with ``check=False``, only the problems of its file and front matter count."""
        return bool(self.problems)

    @property
    def checked(self) -> bool:
        """Whether every block has been checked (always, unless loaded with ``check=False``)."""
        return not self.unchecked

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    @property
    def interactive_blocks(self) -> list[Block]:
        return [b for b in self.blocks if b.interactive]


@dataclass
class Catalog:
    """Every lesson found, in the order the app lists them, with every problem found."""

    lessons: list[Lesson] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    courses: list[Any] = field(default_factory=list)  # tutor.lessons.course.Course, one per manifest
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def unchecked(self) -> list[Lesson]:
        """The lessons whose blocks are still to be checked, in list order."""
        return [lesson for lesson in self.lessons if lesson.unchecked]

    def check(self, lesson: Lesson) -> list[Problem]:
        """Check ``lesson``'s blocks if they are not yet (see ``load_catalog(check=False)``) and
        return the problems found. Safe to call from several threads: the app checks in a
        worker while the learner may open a lesson, which checks it first."""
        from tutor.lessons.blocks import check_blocks

        with self._lock:
            found = check_blocks(lesson)
            if found:
                self.problems = sorted([*self.problems, *found], key=lambda p: (p.path, p.line, p.col))
            return found

    def sections(self) -> list[tuple[str, list[Lesson]]]:
        """The lessons grouped by section, sections in the order of their first lesson."""
        groups: dict[str, list[Lesson]] = {}
        for lesson in self.lessons:  # already sorted section by section
            groups.setdefault(lesson.section, []).append(lesson)
        return list(groups.items())

    def get(self, lesson_id: str) -> Lesson | None:
        for lesson in self.lessons:
            if lesson.id == lesson_id:
                return lesson
        return None
