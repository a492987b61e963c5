"""What the progress store hands back: a lesson's state, and one recorded answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from tutor.misconceptions import current

if TYPE_CHECKING:
    from tutor.lessons import Lesson
    from tutor.progress.store import Progress

__all__ = ["Attempt", "LessonState", "lesson_state"]


class LessonState(StrEnum):
    """Where the learner stands in a lesson. The store knows the first three; ``BROKEN`` is a
    lesson whose file has problems, whatever the store says (see :func:`lesson_state`). The
    values are the words the home screen and `tutor progress` (its JSON too) show."""

    NOT_STARTED = "not started"
    IN_PROGRESS = "in progress"
    DONE = "done"
    BROKEN = "broken"


def lesson_state(lesson: Lesson, progress: Progress) -> LessonState:
    """``BROKEN`` for a lesson that cannot open, else the progress store's state of it."""
    if lesson.broken:
        return LessonState.BROKEN
    return progress.state(lesson.id)


@dataclass(frozen=True)
class Attempt:
    """One answer to an interactive block (named by its id, ``Block.id``)."""

    lesson_id: str
    block_id: str
    answer: str
    correct: bool
    tags: list[str] = field(default_factory=list)
    timestamp: str = ""  # ISO 8601, UTC

    def __post_init__(self) -> None:
        # a tag merged into another since the answer was stored counts under its name today
        if any(current(t) != t for t in self.tags):
            object.__setattr__(self, "tags", list(dict.fromkeys(current(t) for t in self.tags)))
