"""Enter pressed again on the same wrong answer of a choice or order quiz: one try, one tag."""

from __future__ import annotations

from textual.widgets import OptionList

from tests.app.test_quiz_screen import SIZE, QuizApp, text_of
from tests.logic.test_quiz import ORDER
from tutor.progress import Progress

ONE_RIGHT = """
kind = "choice"
prompt = "out = a + b. What does a.grad get?"
max_tries = 2

[[options]]
text = "out.grad, unchanged"
correct = true
feedback = "Yes: the local derivative of a sum is 1."

[[options]]
text = "half of out.grad"
feedback = "Addition does not share the gradient out."
tag = "split-add-gradient"
"""


async def test_enter_after_a_wrong_pick_does_not_submit_it_again(tmp_path):
    progress = Progress(tmp_path)
    app = QuizApp(ONE_RIGHT, progress, lesson_id="local-rules", block_id="quiz-test")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("2")  # picks the wrong option and checks at once
        await pilot.pause()
        assert "✗ Not right." in text_of(app) and "try 2 of 2" in text_of(app)
        await pilot.press("enter")  # the cursor is still on option 2
        await pilot.pause()
        shown = text_of(app)
        assert "That is the answer you just tried" in shown
        assert "try 2 of 2" in shown and "answer shown" not in shown  # max_tries = 2 not used up
        await pilot.press("1")
        await pilot.pause()
        assert "✓ Right." in text_of(app)
    attempts = progress.attempts()
    assert [(a.answer, a.correct) for a in attempts] == [("2", False), ("1", True)]
    assert [t for a in attempts for t in a.tags] == ["split-add-gradient"]
    progress.close()


async def test_enter_again_on_the_same_wrong_order_costs_no_second_try(tmp_path):
    progress = Progress(tmp_path)
    app = QuizApp(ORDER, progress, lesson_id="training-loop", block_id="quiz-test")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        q = screen.quiz
        options = screen.query_one("#quiz-options", OptionList)
        zero = q.items.index(next(s for s in q.steps if s.role == "zero_grad"))
        options.highlighted = screen.rows.index(zero)
        await pilot.press("space")  # leave zero_grad out: some order without it
        await pilot.press("enter")
        await pilot.pause()
        assert "✗ Not right." in text_of(app)
        options.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert "That is the answer you just tried" in text_of(app)
    attempts = progress.attempts()
    assert len(attempts) == 1 and not attempts[0].correct
    progress.close()
