"""Walk every built-in lesson end to end with the keyboard, as a learner at 80×24 would.

For each lesson: open it, press ``n`` through every part, and on each card that has a screen press
Enter and finish it: a debugger block is stepped to the end (answering every prediction in predict
mode with the engine's number rounded as a learner would, to three significant figures), a quiz is
answered with the first right answer its block lists in ``[[examples]]`` (a number again to three
figures), a training block is run to its last step, an exercise is given the wrong rule its block
lists (its diagnosis must be on screen), then the right one, which is run in the debugger. At the
end card the lesson must be marked done in the progress store.

Quizzes typed as text with a wrong answer among their examples get that one first (then the
right one), so every such lesson leaves reviews behind. The next (simulated) day the walk goes
back to the list of lessons, which must say how many are due, and does every review right: new
numbers where the block has a program, answered with the engine's number for them.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import Input, Static

from tests.app.conftest import rendered_lines, screen_text, squash, wait_until
from tests.logic.test_course import PATH
from tutor.lessons import builtin_lessons_dir, load_catalog
from tutor.progress import Progress
from tutor.quiz import grade
from tutor.quiz.common import read_number
from tutor.review.fresh import right_number
from tutor.screens.lesson import LessonScreen
from tutor.screens.review import ReviewQuizScreen, ReviewScreen
from tutor.widgets.block_card import BlockCard, EndCard

SIZE = (80, 24)
MAX_KEYS = 600  # n presses per lesson before the walk gives up (the longest needs about 60)
TRAIN_TIMEOUT = 600  # seconds for one training run (the moons demo is by far the longest)


def the_right_answer(quiz):
    """The first example the block lists as right; the grader must agree."""
    answer = next(ex.answer for ex in quiz.examples if ex.verdict == "right")
    assert grade(quiz, answer).correct
    return answer


def learner_rounding(number) -> str:
    """A number as a learner types it: three significant figures (-2.47 for -2.4731)."""
    return f"{float(number):.3g}"


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[{" ": "space"}.get(ch, ch) for ch in str(text)])


# ----------------------------------------------------------------------------- the screens


async def finish_debugger(pilot, screen) -> None:
    for _ in range(10 * len(screen.stepper.steps) + 10):
        if screen.finished:
            break
        if screen.predict:
            if screen.question is None:
                await pilot.press("n")  # opens the question for the next step
            else:
                await type_text(pilot, learner_rounding(screen.question.after))
                await pilot.press("enter")
        else:
            await pilot.press("e")
        await pilot.pause()
    assert screen.finished, "the debugger never reached the end of the backward pass"
    await pilot.press("q")


def a_wrong_answer(quiz):
    """The first example the block lists as wrong (None if it lists none)."""
    return next((ex.answer for ex in quiz.examples or () if ex.verdict == "wrong"), None)


async def answer_quiz(pilot, screen, wrong_first: bool = True) -> None:
    quiz = screen.quiz
    if quiz.examples:
        answer = the_right_answer(quiz)
    else:  # a review with new numbers lists no examples: the engine's number is the answer
        answer = right_number(quiz)
        assert grade(quiz, repr(answer)).correct
    if quiz.kind in ("numeric", "predict") and read_number(answer) is not None:
        answer = learner_rounding(read_number(answer))
    if quiz.kind in ("numeric", "predict", "code"):
        assert isinstance(screen.focused, Input)
        wrong = a_wrong_answer(quiz) if wrong_first else None
        if wrong is not None:
            await type_text(pilot, wrong)
            await pilot.press("enter")
            await pilot.pause()
            assert not screen.solved and screen.verdict.message_kind == "wrong"
            await pilot.press("a", "home", "ctrl+k")  # back to the answer, and clear it
        await type_text(pilot, answer)
        await pilot.press("enter")
    elif quiz.kind == "choice":
        picks = (
            [int(k) for k in answer]
            if isinstance(answer, list)
            else [int(k) for k in str(answer).replace(",", " ").split()]
        )
        if quiz.multiple:
            await pilot.press(*[str(k) for k in picks], "enter")
        else:
            (pick,) = picks
            await pilot.press(str(pick))
    else:
        await put_in_order(pilot, screen, answer)
        await pilot.press("enter")
    await pilot.pause()
    assert screen.solved, f"the listed right answer {answer!r} was not accepted on screen"
    await pilot.press("q")


async def put_in_order(pilot, screen, answer) -> None:
    """Arrange the order question's lines as ``answer`` lists them, with the cursor keys."""
    from textual.widgets import OptionList

    quiz = screen.quiz
    items = quiz.items

    def item_of(entry) -> int:
        for i, item in enumerate(items):
            if entry in (item.text, item.role):
                return i
        raise AssertionError(f"no line {entry!r} in the order question")

    wanted = [item_of(e) for e in answer]
    options = screen.query_one("#quiz-options", OptionList)

    async def cursor_to(row: int) -> None:
        while options.highlighted != row:
            await pilot.press("down" if options.highlighted < row else "up")

    # leave out the lines that do not belong (they sink to the bottom)
    for i in range(len(items)):
        if i not in wanted and i not in screen.left_out:
            await cursor_to(screen.rows.index(i))
            await pilot.press("space")
    # then bring each wanted line up to its place, top to bottom
    for place, i in enumerate(wanted):
        row = screen.rows.index(i)
        await cursor_to(row)
        for _ in range(row - place):
            await pilot.press("u")
    assert [items[i].text for i in screen.rows if i not in screen.left_out] == [items[i].text for i in wanted]


async def finish_training(pilot, screen) -> None:
    await pilot.press("space")
    deadline = time.monotonic() + TRAIN_TIMEOUT
    while not screen.completed and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        await pilot.pause()
    assert screen.completed, "the training run did not reach its last step"
    await pilot.press("q")


async def finish_pytorch(pilot, app, screen) -> None:
    """With PyTorch installed the numbers must agree; without it the screen must say how to
    install it. Either way the part counts once that is on screen."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert screen.shown
    if screen.comparison is not None:
        assert screen.comparison.agrees, screen.comparison.summary()
    else:
        assert "pip install torch" in screen.problem, screen.problem
    await pilot.press("q")


async def finish_exercise(pilot, app, screen) -> None:
    """A wrong rule first (its diagnosis and tags on screen), then the right one, run in the debugger."""
    from tests.app.conftest import squash
    from tutor.misconceptions import CATALOGUE
    from tutor.rule_grade import DIAGNOSES

    exercise = screen.exercise
    wrong = next(ex for ex in exercise.examples if not ex.right)
    right = next(ex for ex in exercise.examples if ex.right)
    screen.editor.text = wrong.rule.lstrip("\n")
    await pilot.press("ctrl+s")
    await pilot.pause()
    shown = squash("\n".join(rendered_lines(app)))
    assert "✗ Not yet" in shown and set(screen.verdict.tags) == set(wrong.tags), shown
    names = [name for name, d in DIAGNOSES.items() if d.tag in wrong.tags or name in screen.verdict.diagnoses]
    assert any(name in shown for name in names) and all(t in CATALOGUE for t in wrong.tags), shown
    screen.editor.text = right.rule.lstrip("\n")
    await pilot.press("ctrl+r")
    await pilot.pause()
    assert screen.solved and type(app.screen).__name__ == "DebuggerScreen"
    await finish_debugger(pilot, app.screen)
    await pilot.pause()
    assert app.screen is screen
    await pilot.press("escape", "escape")  # out of the editor, then out of the exercise


async def finish_own_op(pilot, app, screen) -> None:
    """The closing lesson's own op: a wrong rule first (its diagnosis on screen), then both parts
    right, run in the debugger (stepped to the end), then trained with the op to the last step."""
    from tutor.rule_grade import DIAGNOSES

    exercise = screen.exercise
    wrong = next(ex for ex in exercise.examples if not ex.right and ex.tags)
    right = next(ex for ex in exercise.examples if ex.right)
    screen.forward.value, screen.editor.text = wrong.forward, wrong.rule.lstrip("\n")
    await pilot.press("ctrl+s")
    await pilot.pause()
    shown = squash("\n".join(rendered_lines(app)))
    assert "✗ Not yet" in shown and "rule ✗" in shown and set(screen.verdict.tags) == set(wrong.tags), shown
    assert any(name in shown for name in screen.verdict.diagnoses if name in DIAGNOSES), shown
    screen.forward.value, screen.editor.text = right.forward, right.rule.lstrip("\n")
    await pilot.press("ctrl+r")
    await pilot.pause()
    assert screen.solved and type(app.screen).__name__ == "DebuggerScreen"
    await pilot.press("n", "n", "n")
    await pilot.pause()
    assert "your rule" in screen_text(app)
    await finish_debugger(pilot, app.screen)
    await pilot.pause()
    assert app.screen is screen
    await pilot.press("ctrl+g")
    await wait_until(pilot, lambda: type(app.screen).__name__ == "TrainScreen", "the training screen")
    assert f"your {exercise.op}" in screen_text(app)
    await finish_training(pilot, app.screen)
    await wait_until(pilot, lambda: app.screen is screen, "back on the own-op screen")
    await pilot.press("escape", "escape")  # out of the editor, then out of the exercise


async def finish(pilot, app, card) -> None:
    if card.block.kind == "exercise":  # the card says what Enter opens: an op's rule, or a whole op
        line = card.action_line()
        assert ("forward and rule" in line) == card.block.exercise.is_own
        assert line in squash(screen_text(app))
        if card.block.exercise.is_own:  # the op's name, never its forward (that is an answer)
            shown = squash(screen_text(app))
            assert f"a new op, {card.block.exercise.op}: write its forward and its backward rule" in shown
            held = " ".join(str(part.content) for part in card.query(Static))
            assert card.block.config["forward"] not in held
    await pilot.press("enter")
    await pilot.pause()
    screen = app.screen
    name = type(screen).__name__
    if name == "DebuggerScreen":
        await finish_debugger(pilot, screen)
    elif name == "QuizScreen":
        await answer_quiz(pilot, screen)
    elif name == "TrainScreen":
        await finish_training(pilot, screen)
    elif name == "PytorchScreen":
        await finish_pytorch(pilot, app, screen)
    elif name == "ExerciseScreen":
        await finish_exercise(pilot, app, screen)
    elif name == "OwnOpScreen":
        await finish_own_op(pilot, app, screen)
    else:
        raise AssertionError(f"Enter on a {card.block.kind} card opened {name}")
    await pilot.pause()
    assert isinstance(app.screen, LessonScreen)


# ----------------------------------------------------------------------------- the walk


class Clock:
    """The simulated day: the app's clock, and the stamps the progress store puts on answers."""

    def __init__(self):
        self.now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
        self.ticks = 0

    def __call__(self) -> datetime:
        return self.now

    def stamp(self) -> str:
        self.ticks += 1
        return (self.now + timedelta(microseconds=self.ticks)).isoformat()


async def review_everything(pilot, app, lesson_id: str) -> None:
    """On the list of lessons: r, then every review due, right, until none is due."""
    from tutor.review import due_items, review_items
    from tutor.screens.debugger import DebuggerScreen

    due = len(due_items(review_items(app.progress.attempts()), app.today()))
    lesson = app.catalog.get(lesson_id)
    wrong_first = [
        b
        for b in lesson.blocks
        if (b.kind == "quiz" and b.quiz.kind in ("numeric", "predict", "code") and a_wrong_answer(b.quiz))
        or b.kind == "exercise"  # every exercise is given a wrong rule first
    ]
    assert due == len(wrong_first)  # each block answered wrong first is due the next day
    if not due:
        assert "Review:" not in screen_text(app)
        return
    assert f"Review: {due} due" in screen_text(app)
    await pilot.press("r")
    await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen), "the review screen opened")
    for n in range(due):
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        if isinstance(screen, ReviewQuizScreen):
            await answer_quiz(pilot, screen, wrong_first=False)
        elif type(screen).__name__ in ("ExerciseScreen", "OwnOpScreen"):  # again: right this time
            right = next(ex for ex in screen.exercise.examples if ex.right)
            if screen.exercise.is_own:
                screen.forward.value = right.forward
            screen.editor.text = right.rule.lstrip("\n")
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert "✓ Right" in screen_text(app)
            # out of the editor, then out of the exercise (the own op's opens in its forward's Input)
            await pilot.press(*(["escape"] if screen.exercise.is_own else ["escape", "escape"]))
        else:
            assert isinstance(screen, DebuggerScreen) and screen.predict
            await finish_debugger(pilot, screen)
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen), "back on the review list")
        await pilot.pause()
        assert "✓ Right: box 2 of 4" in squash(screen_text(app)), f"review {n + 1} of {lesson_id}"
    assert "Nothing due today" in squash(screen_text(app))
    await pilot.press("q")
    await pilot.pause()
    assert "Review:" not in screen_text(app)  # nothing due: the line gives its rows back to the list


@pytest.mark.parametrize("lesson_id", list(dict.fromkeys([*(lid for lid, _ in PATH), "your-own-op"])))
async def test_walk_a_lesson_from_start_to_done(lesson_id, tmp_path, monkeypatch):
    import tutor.progress.store as store
    from tutor.app import TutorApp

    clock = Clock()
    monkeypatch.setattr(store, "now", clock.stamp)
    catalog = load_catalog([builtin_lessons_dir()])
    progress = Progress(tmp_path)
    lesson = catalog.get(lesson_id)
    openable = [b.index for b in lesson.blocks if b.interactive]
    try:
        app = TutorApp(catalog, progress, open_lesson=lesson_id, clock=clock)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, LessonScreen) and screen.lesson.id == lesson_id
            finished = []
            for _ in range(MAX_KEYS):
                part = screen.focused
                if isinstance(part, EndCard):
                    break
                if isinstance(part, BlockCard) and not part.done:
                    await finish(pilot, app, part)
                    assert part.block.id in progress.completed_blocks(lesson_id)
                    finished.append(part.block.index)
                await pilot.press("n")
            else:
                raise AssertionError("n never reached the end card")
            assert finished == openable
            await pilot.pause()
            assert progress.state(lesson_id) == "done"
            # the next day, back on the list of lessons: what was answered wrong comes back
            clock.now += timedelta(days=1)
            await pilot.press("q")
            await wait_until(pilot, lambda: not isinstance(app.screen, LessonScreen), "back on the list")
            await pilot.pause()
            await review_everything(pilot, app, lesson_id)
    finally:
        progress.close()
