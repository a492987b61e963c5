"""The quiz screen, driven with Pilot at 80×24: tagged feedback, hints, giving up, progress."""

from __future__ import annotations

import tomllib

from textual.widgets import Input, OptionList

from tests.app.conftest import ScreenHost, screen_text, squash
from tests.logic.test_quiz import CHOICE, CODE, NUMERIC, ORDER, PREDICT
from tutor.progress import Progress
from tutor.quiz import parse_quiz
from tutor.screens.quiz import QuizScreen

SIZE = (80, 24)


def QuizApp(
    block: str, progress=None, lesson_id: str = "backprop-by-hand", block_id: str = "quiz-test"
) -> ScreenHost:
    """A bare app that opens one quiz and keeps what the screen was dismissed with."""
    quiz = parse_quiz(tomllib.loads(block))
    return ScreenHost(
        lambda: QuizScreen(quiz, lesson_id=lesson_id, block_id=block_id, progress=progress),
        title="QuizApp",
    )


def text_of(app) -> str:
    return squash(screen_text(app))


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[{" ": "space"}.get(ch, ch) for ch in text])


async def test_wrong_then_hint_then_right_is_recorded_and_survives_a_restart(tmp_path):
    progress = Progress(tmp_path)
    app = QuizApp(NUMERIC, progress)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "what is a.grad?" in text_of(app)
        assert "try 1 of 3" in text_of(app)
        # a wrong answer that shows a misconception
        await type_text(pilot, "-4")
        await pilot.press("enter")
        await pilot.pause()
        shown = text_of(app)
        assert "✗ Not right." in shown
        assert "That multiplies by a's own value" in shown
        assert "Mistake: used a multiply's own input instead of the other one." in shown
        assert "See it: Debugger on 'L = (a*b + c) * f'" in shown
        assert "try 2 of 3" in shown
        # the first hint, then the second
        await pilot.press("h")
        await pilot.pause()
        assert "Hint 1 of 2: a reaches L through e = a * b" in text_of(app)
        assert "Hint 2 of 2" not in text_of(app)
        await pilot.press("h")
        await pilot.pause()
        assert "Hint 2 of 2: a.grad = b.data * e.grad" in text_of(app)
        # back to the answer: Enter, fix it, check
        await pilot.press("enter")
        assert isinstance(app.focused, Input)
        await pilot.press("ctrl+u")
        await type_text(pilot, "6")
        await pilot.press("enter")
        await pilot.pause()
        assert "✓ Right." in text_of(app)
        assert app.results == []  # still on screen, so the learner reads the verdict
        await pilot.press("q")
        await pilot.pause()
        assert app.results == [True]
    progress.close()

    again = Progress(tmp_path)  # a restart on the same data directory
    attempts = again.attempts("backprop-by-hand")
    assert [(a.block_id, a.answer, a.correct, a.tags) for a in attempts] == [
        ("quiz-test", "-4", False, ["own-input-in-mul"]),
        ("quiz-test", "6", True, []),
    ]
    again.close()


async def test_unreadable_text_gets_a_message_and_costs_no_try(tmp_path):
    progress = Progress(tmp_path)
    app = QuizApp(NUMERIC, progress)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for text in ("__import__('os')", "six", "x" * 300):
            input_ = app.screen.query_one("#quiz-input", Input)
            input_.value = text
            await pilot.press("enter")
            await pilot.pause()
            shown = text_of(app)
            assert "? Cannot read that." in shown
            assert "Enter a number like -4 or 0.5." in shown
            assert "try 1 of 3" in shown
            assert isinstance(app.focused, Input)  # straight back to typing
    assert progress.attempts() == []
    progress.close()


async def test_the_answer_is_revealed_after_max_tries():
    app = QuizApp(NUMERIC)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for wrong in ("1", "2", "3"):
            await pilot.press("enter")  # back to the box (first time it is already there)
            app.screen.query_one("#quiz-input", Input).value = wrong
            app.screen.query_one("#quiz-input", Input).focus()
            await pilot.press("enter")
            await pilot.pause()
        shown = text_of(app)
        assert "That was try 3 of 3: here is the answer." in shown
        assert "Answer: The answer is 6." in shown
        await pilot.press("q")
        await pilot.pause()
        assert app.results == [False]


async def test_give_up_key_shows_the_answer_and_leaving_unanswered_is_false():
    app = QuizApp(CODE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Answer:" not in text_of(app)
        await pilot.press("escape")  # out of the answer box
        await pilot.press("g")
        await pilot.pause()
        assert "Answer: One right line: self.grad += other.data * out.grad" in text_of(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [False]


async def test_code_line_wrong_then_right():
    app = QuizApp(CODE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await type_text(pilot, "self.grad = other.data * out.grad")
        await pilot.press("enter")
        await pilot.pause()
        assert "Mistake: overwrote a gradient instead of accumulating it." in text_of(app)
        await pilot.press("enter")
        app.screen.query_one("#quiz-input", Input).value = "self.grad += out.grad * other.data"
        await pilot.press("enter")
        await pilot.pause()
        assert "✓ Right." in text_of(app)
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [True]


async def test_choice_with_keys(tmp_path):
    progress = Progress(tmp_path)
    app = QuizApp(CHOICE, progress, lesson_id="local-rules", block_id="quiz-test")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.focused, OptionList)
        assert "[ ] 1. a.grad gets out.grad unchanged" in text_of(app)
        await pilot.press("2", "3", "enter")  # picks 2 and 3 (2 is wrong), then checks
        await pilot.pause()
        shown = text_of(app)
        assert "[x] 2." in shown and "[x] 3." in shown
        assert "✗ Not right." in shown and "Mistake: split an add's gradient" in shown
        await pilot.press("2", "1", "enter")  # unpick 2, pick 1
        await pilot.pause()
        assert "✓ Right." in text_of(app)
        await pilot.press("q")
        await pilot.pause()
    assert app.results == [True]
    assert [(a.answer, a.correct) for a in progress.attempts()] == [("2,3", False), ("1,3", True)]
    progress.close()


async def test_order_with_keys_shows_what_the_order_does_to_a_real_run():
    app = QuizApp(ORDER)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        q = screen.quiz
        # arrange the right loop, but without zero_grad and the distractor, using the keys only
        wanted = [s for s in q.steps if s.role != "zero_grad"]
        options = screen.query_one("#quiz-options", OptionList)
        for item in q.items:
            if item.role in (None, "zero_grad"):
                options.highlighted = screen.rows.index(q.items.index(item))
                await pilot.press("space")
        for place, step in enumerate(wanted):
            row = screen.rows.index(q.items.index(step))
            options.highlighted = row
            for _ in range(row - place):
                await pilot.press("u")
        await pilot.pause()
        assert screen.current_answer() == [s.text for s in wanted]
        await pilot.press("enter")
        await pilot.pause()
        shown = text_of(app)
        assert "✗ Not right." in shown and "There is no zero_grad" in shown
        assert "your order: loss" in shown and "right order: loss" in shown
        # the catalogue entry is further down: scroll the feedback to it
        screen.query_one("#quiz-feedback-box").focus()
        await pilot.press("end")
        await pilot.pause()
        assert "Mistake: forgot to zero the gradients." in text_of(app)
        assert "See it: Training screen" in text_of(app)
        # put zero_grad back in and move it before backward
        zero = q.items.index(next(s for s in q.steps if s.role == "zero_grad"))
        options.focus()
        options.highlighted = screen.rows.index(zero)
        await pilot.press("space")
        await pilot.press("u", "u")
        await pilot.press("enter")
        await pilot.pause()
        assert "✓ Right." in text_of(app)


async def test_predict_shows_the_program_and_the_debuggers_diagnosis():
    app = QuizApp(PREDICT)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = text_of(app)
        assert "e's backward rule is about to run. What will a.grad be right after it?" in shown
        assert "a = 2; b = -3; c = 10; e = a * b; d = e + c; f = -2; L = d * f" in shown
        await type_text(pilot, "-3")
        await pilot.press("enter")
        await pilot.pause()
        assert "Mistake: forgot the upstream gradient." in text_of(app)
        await pilot.press("enter")
        app.screen.query_one("#quiz-input", Input).value = "6"
        await pilot.press("enter")
        await pilot.pause()
        assert "✓ Right." in text_of(app)
        assert "a.grad += b.data * e.grad 0.0 + (-3.0)(-2.0) = 6.0" in text_of(app)


async def test_nothing_typed_can_crash_the_screen():
    app = QuizApp(CODE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for text in ("import os", "self.grad += \x00", "ŝ☃" * 50, "2**10**10", "(" * 500):
            box = app.screen.query_one("#quiz-input", Input)
            box.value = text
            box.focus()
            await pilot.press("enter")
            await pilot.pause()
            assert app.is_running
            assert "Cannot read that" in text_of(app) or "Not right" in text_of(app)


def test_snapshot_of_feedback_with_a_misconception(snap_compare):
    async def answer_wrong(pilot):
        await pilot.pause()
        await type_text(pilot, "-4")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("h")
        await pilot.pause()

    assert snap_compare(QuizApp(NUMERIC), terminal_size=SIZE, run_before=answer_wrong)


def test_snapshot_of_an_order_question(snap_compare):
    assert snap_compare(QuizApp(ORDER), terminal_size=SIZE, press=["down", "u", "_"])
