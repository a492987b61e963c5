"""What a review asks: a due item's block, asked again (with fresh numbers where it has a program).

:func:`review_question` finds the item's block in the catalogue by its stable id and makes the
question: a quiz read again with new leaves (:func:`tutor.review.fresh.fresh_quiz`), a debugger
block's program with new leaves in predict mode, or, for a block with nothing to redraw (choice,
order, code, a plain-number answer), the block as it was. An exercise comes back as the rule to
write again (its grading draws new values every time). The quiz screen and the debugger grade
it as they do in the lesson, and its answers are recorded on the same block id, which is what
moves the item on the schedule (:mod:`tutor.review.schedule`).

Pure logic: no Textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tutor.review.fresh import fresh_program, fresh_quiz, right_number
from tutor.review.schedule import ReviewItem

__all__ = ["ReviewQuestion", "find_block", "item_line", "review_question", "review_seed"]

_KIND_WORDS = {
    "numeric": "a number",
    "predict": "predict a gradient",
    "code": "one line of code",
    "choice": "choose",
    "order": "put in order",
    "debugger": "predict each gradient",
    "exercise": "write the rule",
    "own op": "write the op",
}


@dataclass
class ReviewQuestion:
    """One review, ready for a screen: a ``quiz`` (for the quiz screen), a ``program`` (for
    the debugger in predict mode) or an ``exercise`` (for the exercise screen). ``fresh`` tells
    whether its numbers are new."""

    item: ReviewItem
    lesson: Any  # tutor.lessons.Lesson
    block: Any  # tutor.lessons.Block
    quiz: Any = None  # tutor.quiz.Quiz
    program: Any = None  # engine.expr.Program (a debugger block)
    exercise: Any = None  # tutor.lessons.exercise.Exercise (an exercise block)
    fresh: bool = False

    @property
    def where(self) -> str:
        return f"{self.lesson.title}, part {self.block.index + 1}"


def review_seed(item: ReviewItem, today: date) -> str:
    """The same question all day (reopening it is no new draw), new ones on later answers and days."""
    return f"{item.lesson_id}/{item.block_id}/{today.isoformat()}/{item.attempts}"


def find_block(catalog, lesson_id: str, block_id: str):
    """(lesson, block) of an item, or None when the course no longer has that block."""
    lesson = catalog.get(lesson_id)
    if lesson is None or lesson.broken:
        return None
    if lesson.unchecked:
        catalog.check(lesson)
    block = next((b for b in lesson.blocks if b.id == block_id), None)
    if block is None or block.parsed is None:
        return None
    return lesson, block


def review_question(item: ReviewItem, catalog, today: date) -> ReviewQuestion | None:
    """The question a review of ``item`` asks today; None when its block is gone or cannot be asked."""
    found = find_block(catalog, item.lesson_id, item.block_id)
    if found is None:
        return None
    lesson, block = found
    seed = review_seed(item, today)
    if block.kind == "quiz":
        made = fresh_quiz(block.config, right_number(block.quiz), seed, lesson.misconceptions)
        if made is None:
            return ReviewQuestion(item, lesson, block, quiz=block.quiz)
        return ReviewQuestion(item, lesson, block, quiz=made[0], fresh=True)
    if block.kind == "debugger" and block.spec is not None:
        spec = block.spec
        made = fresh_program(spec.program.text, seed, output=spec.program.output)
        if made is None:
            return ReviewQuestion(item, lesson, block, program=spec.program)
        return ReviewQuestion(item, lesson, block, program=made[1], fresh=True)
    if block.kind == "exercise" and block.exercise is not None:
        return ReviewQuestion(item, lesson, block, exercise=block.exercise)
    return None


def item_line(item: ReviewItem, catalog) -> tuple[str, str]:
    """(where the item is, what the learner got wrong), for a list of reviews."""
    found = find_block(catalog, item.lesson_id, item.block_id)
    if found is None:
        return item.lesson_id, "this part is no longer in the course"
    lesson, block = found
    kind = block.quiz.kind if block.kind == "quiz" else block.kind
    if kind == "exercise" and block.exercise is not None and block.exercise.is_own:
        kind = "own op"
    where = f"{lesson.title}, part {block.index + 1} ({_KIND_WORDS.get(kind, kind)})"
    from tutor.misconceptions import describe

    wrong = item.wrong_answers[0] if item.wrong_answers else ""
    what = f"you answered {wrong}" if wrong else "you got it wrong"
    if len(what) > 60:
        what = what[:57] + "..."
    titles = [m.title for m in (describe(t, lesson.misconceptions) for t in item.last_wrong_tags) if m]
    if titles:
        what += ": " + "; ".join(titles)
    return where, what
