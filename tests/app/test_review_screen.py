"""Practice that comes back, as a learner sees it at 80×24: "Review: N due" on the lesson list,
the review screen, a review asked with new numbers and graded by the quiz screen (its diagnosis
included), the item moving on the schedule, the debugger's predict mode as a review, and the
mastery view from the lesson list and from the summary. The days are simulated: the app's clock
and the progress store's stamps follow one clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.expr import run_program
from tests.app.conftest import screen_text, squash, wait_until
from tutor.screens.mastery import MasteryScreen
from tutor.screens.review import ReviewQuizScreen, ReviewScreen

SIZE = (80, 24)
DAY0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.now = DAY0
        self.ticks = 0

    def __call__(self) -> datetime:
        return self.now

    def stamp(self) -> str:
        self.ticks += 1
        return (self.now + timedelta(microseconds=self.ticks)).isoformat()

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)


@pytest.fixture
def clock(monkeypatch):
    import tutor.progress.store as store

    clock = Clock()
    monkeypatch.setattr(store, "now", clock.stamp)  # answers are stamped on the simulated day
    return clock


def quiz_block(app, lesson_id: str, answer_from: str):
    lesson = app.catalog.get(lesson_id)
    block = next(b for b in lesson.blocks if b.kind == "quiz" and b.config.get("answer_from") == answer_from)
    return lesson, block


def wrong_in_the_lesson(app):
    """Day 0: the backprop quiz answered with b's own value times e.grad (own-input-in-mul)."""
    lesson, block = quiz_block(app, "backprop-by-hand", "b.grad")
    app.progress.record_attempt(lesson.id, block.id, "6", False, ["own-input-in-mul"])
    app.progress.record_attempt(lesson.id, block.id, "-4", True, [])
    return lesson, block


async def type_answer(pilot, text: str) -> None:
    await pilot.press(*[{"-": "minus", ".": "full_stop"}.get(ch, ch) for ch in text])
    await pilot.press("enter")


async def test_home_says_how_many_reviews_are_due_and_r_opens_them(course, clock):
    app = course(clock=clock)
    wrong_in_the_lesson(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Review:" not in text  # a mistake made today comes back tomorrow
        assert "r Review" not in text
        # 14 lessons in 5 sections take 19 rows, the list has 18 where a summary wraps: one row short
        assert len([ls for ls in app.catalog.lessons if ls.title in text]) >= len(app.catalog.lessons) - 1
    clock.advance(days=1)
    app = course(clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Review: 1 due · r to start" in text and "r Review" in text and "m Mastery" in text
        # the line sits in the rule above the details, taking no row from the list; where a
        # summary wraps, the list scrolls by a row, and the last lesson is an End away
        shown = [ls.title for ls in app.catalog.lessons if ls.title in text]
        assert len(shown) >= len(app.catalog.lessons) - 1
        await pilot.press("end")
        await pilot.pause()
        assert app.catalog.lessons[-1].title in screen_text(app)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        text = squash(screen_text(app))
        assert "1 review due today" in text
        assert "Backprop by hand, part" in text and "(a number)" in text
        assert "you answered 6: used a multiply's own input instead of the other one" in text


async def test_a_review_asks_new_numbers_and_a_right_answer_moves_it_two_days_on(course, clock):
    app = course(clock=clock)
    lesson, block = wrong_in_the_lesson(app)
    clock.advance(days=1)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReviewQuizScreen)
        quiz = screen.quiz
        assert quiz.program != block.quiz.program  # new leaves ...
        graph = run_program(quiz.program)
        graph.output.backward()
        assert quiz.answer == graph.values["b"].grad  # ... and the engine's answer on them
        text = screen_text(app)
        assert "Review with new numbers" in text and quiz.program in text
        await type_answer(pilot, f"{quiz.answer:g}")
        await pilot.pause()
        assert "✓" in screen_text(app)
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen), "back on the review list")
        await pilot.pause()
        text = squash(screen_text(app))
        assert "✓ Right: box 2 of 4; it comes back in 2 days." in text
        assert "Nothing due today. The next review comes back in 2 days." in text
        await pilot.press("q")
        await pilot.pause()
        assert "Review:" not in screen_text(app)  # nothing due: the line gives its rows back to the list
    attempts = app.progress.attempts(lesson.id)
    assert attempts[-1].block_id == block.id and attempts[-1].correct  # on the block's own id


async def test_a_wrong_review_shows_the_diagnosis_and_comes_back_tomorrow(course, clock):
    app = course(clock=clock)
    wrong_in_the_lesson(app)
    clock.advance(days=1)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        quiz = app.screen.quiz
        graph = run_program(quiz.program)
        graph.output.backward()
        own = graph.values["b"].data * graph.values["e"].grad  # the same mistake, on the new numbers
        await type_answer(pilot, f"{own:g}")
        await pilot.pause()
        text = squash(screen_text(app))
        assert "✗" in text and "used a multiply's own input instead of the other one" in text
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen), "back on the review list")
        await pilot.pause()
        text = squash(screen_text(app))
        assert "✗ Not yet: it comes back tomorrow" in text
    clock.advance(days=1)
    app = course(clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Review: 1 due" in screen_text(app)


async def test_a_debugger_block_comes_back_in_predict_mode_with_new_leaves(course, clock):
    from tutor.screens.debugger import DebuggerScreen

    app = course(clock=clock)
    lesson = app.catalog.get("local-rules")
    block = next(b for b in lesson.blocks if b.kind == "debugger" and b.spec.predict)
    app.progress.record_attempt(lesson.id, block.id, "5", False, ["own-input-in-mul"])
    clock.advance(days=1)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        assert "(predict each gradient)" in screen_text(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DebuggerScreen), "the debugger opened")
        screen = app.screen
        assert screen.predict and screen.program.inputs != block.spec.program.inputs
        await pilot.press("n")
        await wait_until(pilot, lambda: screen.question is not None, "a prediction asked")
        await type_answer(pilot, f"{screen.question.after:.3g}")
        await wait_until(pilot, lambda: screen.question is None, "the step ran")
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen), "back on the review list")
        await pilot.pause()
        assert "✓ Right: box 2 of 4; it comes back in 2 days." in squash(screen_text(app))
    last = app.progress.attempts(lesson.id)[-1]
    assert (last.block_id, last.correct) == (block.id, True)


async def test_the_mastery_view_from_home_and_from_the_summary(course, clock):
    app = course(clock=clock)
    wrong_in_the_lesson(app)
    clock.advance(days=1)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, MasteryScreen)
        text = screen_text(app)
        row = next(line for line in text.splitlines() if "the mul rule" in line)
        assert "✗ needs work" in row and "review: 1 due now" in row
        row = next(line for line in text.splitlines() if "the add rule" in line)
        assert "· not met" in row and "→ The local rules, part" in row
        await pilot.press("q")
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, MasteryScreen)


async def test_a_mistake_put_right_on_two_later_days_is_solid(course, clock):
    app = course(clock=clock)
    lesson, block = wrong_in_the_lesson(app)
    for days in (1, 2):
        clock.advance(days=days)
        app.progress.record_attempt(lesson.id, block.id, "-4", True, [])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        row = next(line for line in screen_text(app).splitlines() if "the mul rule" in line)
        assert "✓ solid" in row


def test_snapshot_home_with_reviews_due(snap_compare, course, clock):
    app = course(clock=clock)
    wrong_in_the_lesson(app)
    lesson = app.catalog.get("local-rules")
    block = next(b for b in lesson.blocks if b.kind == "debugger" and b.spec.predict)
    app.progress.record_attempt(lesson.id, block.id, "5", False, ["own-input-in-mul"])
    clock.advance(days=1)
    assert snap_compare(app, terminal_size=SIZE)


def test_snapshot_review_with_a_diagnosis(snap_compare, course, clock):
    app = course(clock=clock)
    wrong_in_the_lesson(app)
    clock.advance(days=1)

    async def wrong_again(pilot):
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        quiz = app.screen.quiz
        graph = run_program(quiz.program)
        graph.output.backward()
        await type_answer(pilot, f"{graph.values['b'].data * graph.values['e'].grad:g}")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=wrong_again)


def test_snapshot_the_mastery_view(snap_compare, course, clock):
    app = course(clock=clock)
    wrong_in_the_lesson(app)
    clock.advance(days=1)

    async def open_it(pilot):
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_it)


async def test_a_wrong_rule_in_an_exercise_comes_back_as_the_rule_to_write_again(course, clock):
    from tutor.screens.exercise import ExerciseScreen

    app = course(clock=clock)
    lesson = app.catalog.get("neuron")
    if lesson.unchecked:
        app.catalog.check(lesson)
    block = next(b for b in lesson.blocks if b.kind == "exercise" and b.exercise.op == "tanh")
    app.progress.record_attempt(
        lesson.id, block.id, "self.grad += 1 - out.data**2", False, ["forgot-upstream"]
    )
    clock.advance(days=1)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        assert "(write the rule)" in squash(screen_text(app))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ExerciseScreen)
        assert "def _tanh_backward(out):" in screen_text(app)
        editor = app.screen.editor
        editor.text = editor.text.rstrip("\n") + "\n    self.grad += (1 - out.data**2) * out.grad\n"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "✓ Right" in screen_text(app)
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen), "back on the review list")
        await pilot.pause()
        assert "✓ Right: box 2 of 4" in squash(screen_text(app))
    assert app.progress.attempts(lesson.id)[-1].correct
