"""The own-op screen at 80×24: write a new op's forward and rule, see what is wrong, run it in the
debugger, train it; hostile and unreadable text answered on screen, never run."""

from __future__ import annotations

import re

import pytest

from tests.app.conftest import ScreenHost, screen_text, squash, wait_until
from tests.app.test_exercise_screen import type_text
from tutor.lessons.exercise import Exercise
from tutor.lessons.train import read_task
from tutor.own_op import read_reference

SIZE = (80, 24)
FORWARD = "log(1 + exp(x))"
RIGHT = "self.grad += sigmoid(self.data) * out.grad"
TASK = {
    "steps": 20,
    "model": {"layers": [8, 1], "linear_output": True},
    "data": {"name": "moons", "samples": 40},
    "loss": {"kind": "max_margin"},
    "optimiser": {"kind": "sgd", "lr": 0.5},
}


def exercise(train=True):
    return Exercise(
        "softplus",
        None,
        "Write softplus",
        ("its slope is sigmoid",),
        own=read_reference("softplus", FORWARD, "sigmoid(x)"),
        train=read_task(TASK) if train else None,
    )


def host(ex=None, attempts=None):
    from tutor.screens.own_op import OwnOpScreen

    def record(text, correct, tags):
        if attempts is not None:
            attempts.append((text, correct, tags))

    return ScreenHost(lambda: OwnOpScreen(ex or exercise(), on_attempt=record))


async def write(pilot, app, forward: str, body: str):
    """Both parts as the learner leaves them: the forward typed in, the rule's body under its start."""
    screen = app.screen
    screen.forward.value = forward
    screen.editor.text = screen.exercise.start.rstrip() + "\n    " + body + "\n"
    await pilot.pause()


async def check(pilot, app) -> str:
    await pilot.press("ctrl+s")
    await pilot.pause()
    return squash(screen_text(app))


@pytest.mark.asyncio
async def test_both_parts_open_on_one_screen_and_typing_goes_from_forward_to_rule():
    app = host()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "forward: f(x) =" in text and "def _softplus_backward(out):" in text
        assert "(self,) = out._prev" in text and "Your own op: softplus" in text
        await type_text(pilot, FORWARD)  # the forward has the focus first
        await pilot.press("enter")  # to the rule, at its body's indent
        await type_text(pilot, RIGHT)
        assert app.screen.forward.value == FORWARD
        assert app.screen.editor.text.endswith(f"\n    {RIGHT}")
        assert "✓ Right" in await check(pilot, app)


@pytest.mark.asyncio
async def test_a_wrong_forward_is_named_with_its_numbers():
    attempts = []
    app = host(attempts=attempts)
    async with app.run_test(size=SIZE) as pilot:
        await write(pilot, app, "log(1 + exp(2 * x))", RIGHT)
        text = await check(pilot, app)
        assert "✗ Not yet" in text
        assert re.search(
            r"forward ✗ Your forward is not softplus: at x = \S+ it gives \S+, softplus is \S+", text
        )
        assert "rule ✓ Your rule is softplus's rule" in text
    (recorded, correct, _tags), *_ = attempts
    assert not correct and "forward: f(x) = log(1 + exp(2 * x))" in recorded and RIGHT in recorded


@pytest.mark.asyncio
async def test_a_wrong_rule_gets_its_diagnosis_and_the_values():
    attempts = []
    app = host(attempts=attempts)
    async with app.run_test(size=SIZE) as pilot:
        await write(pilot, app, FORWARD, "self.grad += sigmoid(self.data)")
        text = await check(pilot, app)
        assert "✗ Not yet: forgot the upstream gradient" in text
        assert "forward ✓ Your forward is softplus." in text
        assert re.search(
            r"rule ✗ Your rule: forgot the upstream gradient .* yours gives \S+, the rule \S+", text
        )
        assert "ctrl+g" in text  # offered in the intro; nothing trains yet, and ctrl+g says why
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert type(app.screen).__name__ == "OwnOpScreen"
        text = squash(screen_text(app))
        assert "Training opens once both parts are right" in text
        assert "forgot the upstream gradient" in text  # with what is still wrong
    assert attempts == [(attempts[0][0], False, ["forgot-upstream"])]


@pytest.mark.asyncio
async def test_right_both_then_train_it_runs_and_lowers_the_loss(monkeypatch):
    from tutor.screens.train import TrainScreen

    monkeypatch.setattr(TrainScreen, "MIN_RUN_SECONDS", 0.0)
    app = host()
    async with app.run_test(size=SIZE) as pilot:
        await write(pilot, app, FORWARD, RIGHT)
        text = await check(pilot, app)
        assert "✓ Right" in text and "forward ✓" in text and "rule ✓" in text
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "TrainScreen", "the training screen")
        text = screen_text(app)
        assert "Training" in text and "with your softplus" in text
        assert "your softplus, linear out" in text  # the task line names their op, not tanh
        await pilot.press("s")  # one step: its loss
        await wait_until(pilot, lambda: re.search(r"step\s+1/20", screen_text(app)), "the first step")
        first = float(re.search(r"step\s+1/20\s+loss ([\d.]+)", screen_text(app)).group(1))
        await pilot.press("space")
        await wait_until(pilot, lambda: "finished" in screen_text(app), "the end of the run")
        last = float(re.search(r"step 20/20\s+loss ([\d.]+)", screen_text(app)).group(1))
        assert last < 0.7 * first
        await pilot.press("q")
        await pilot.pause()
        assert type(app.screen).__name__ == "OwnOpScreen"


@pytest.mark.asyncio
async def test_train_it_is_not_offered_without_a_task():
    app = host(exercise(train=False))
    async with app.run_test(size=SIZE) as pilot:
        await write(pilot, app, FORWARD, RIGHT)
        await check(pilot, app)
        text = screen_text(app)
        assert "Train it" not in text and "ctrl+g" not in text
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert type(app.screen).__name__ == "OwnOpScreen"


@pytest.mark.asyncio
async def test_run_it_steps_their_rule_and_the_gradient_check_marks_it_wrong():
    app = host()
    async with app.run_test(size=SIZE) as pilot:
        await write(pilot, app, FORWARD, "self.grad += sigmoid(self.data)")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DebuggerScreen", "the debugger")
        assert "your softplus" in screen_text(app) and "softplus" in screen_text(app)
        await pilot.press("n", "n", "n")  # seed, L's rule, then y = softplus(z): their rule
        await pilot.pause()
        text = screen_text(app)
        assert "y = softplus(z)" in text and "your rule" in text
        assert "self.grad += sigmoid(self.data)" in text  # the code that ran is theirs
        await pilot.press("g")
        await wait_until(pilot, lambda: "Gradient check" in screen_text(app), "the gradient check")
        await wait_until(pilot, lambda: "rel.err" in screen_text(app), "its table")
        rows = [line for line in screen_text(app).splitlines() if re.match(r"\s*[xw]\s", line)]
        assert len(rows) == 2 and all("✗" in row for row in rows), rows
        await pilot.press("q")
        await pilot.pause()
        assert type(app.screen).__name__ == "OwnOpScreen"


@pytest.mark.asyncio
async def test_run_it_with_the_right_rule_checks_ok():
    app = host()
    async with app.run_test(size=SIZE) as pilot:
        await write(pilot, app, FORWARD, RIGHT)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DebuggerScreen", "the debugger")
        await pilot.press("g")
        await wait_until(pilot, lambda: "All 2 gradients match" in screen_text(app), "a passing check")


@pytest.mark.asyncio
async def test_unreadable_parts_say_where_and_nothing_runs():
    app = host()
    async with app.run_test(size=SIZE) as pilot:
        await write(pilot, app, "log(1 + exp(x)", RIGHT)
        await pilot.press("ctrl+r")
        await pilot.pause()
        text = squash(screen_text(app))
        assert "✗ Cannot read the forward" in text and "Your forward, column" in text
        assert type(app.screen).__name__ == "OwnOpScreen"  # the debugger did not open
        assert app.screen.focused is app.screen.forward
        await write(pilot, app, FORWARD, "self.grad += = 1")
        await pilot.press("ctrl+r")
        await pilot.pause()
        text = squash(screen_text(app))
        assert "✗ Cannot read the rule" in text and re.search(r"Your rule, line 3, column \d+", text)
        assert type(app.screen).__name__ == "OwnOpScreen"
        assert app.screen.focused is app.screen.editor and app.screen.editor.cursor_location[0] == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "forward, body, says",
    [
        ("__import__('os').system('true')", RIGHT, "Your forward, column"),
        (FORWARD, "import os", "Your rule, line 3, column 5: an import is not allowed"),
        ("x + " * 25_000 + "x", RIGHT, "at most 300 are read"),
        (FORWARD, "self.grad += 1 " + "+ 1 " * 25_000, "Your rule, line"),
    ],
    ids=["forward-import", "rule-import", "forward-100KB", "rule-100KB"],
)
async def test_hostile_text_is_answered_with_a_message(forward, body, says):
    attempts = []
    app = host(attempts=attempts)
    async with app.run_test(size=SIZE) as pilot:
        await write(pilot, app, forward, body)
        await pilot.press("ctrl+g")  # not right: training does not open
        await pilot.pause()
        await pilot.press("ctrl+r")  # unreadable: the debugger does not open
        await pilot.pause()
        text = squash(screen_text(app))
        assert "✗ Cannot read" in text and says in text
        assert type(app.screen).__name__ == "OwnOpScreen"
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert attempts == []  # an unreadable attempt is not recorded


@pytest.mark.asyncio
async def test_hints_and_leaving_once_right():
    app = host()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert "Hint 1 of 1: its slope is sigmoid" in screen_text(app)
        await write(pilot, app, FORWARD, RIGHT)
        await check(pilot, app)
        app.screen.forward.focus()
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [True]


@pytest.mark.asyncio
async def test_a_right_op_too_slow_for_the_task_is_told_so_and_nothing_trains():
    """The task fits the budget with the lesson's softplus (22 values a node); a right forward
    padded with terms that add nothing costs 50 a node, more than 1,500 steps allow: ctrl+g says
    so and stays put."""
    from engine.cost import over_budget
    from tutor.own_op import op_cost
    from tutor.screens.own_op import OwnOpScreen

    ref = read_reference("softplus", FORWARD, "sigmoid(x)")
    task = read_task({**TASK, "steps": 1500, "data": {"name": "moons", "samples": 100}})
    assert over_budget(task, activation_cost=op_cost(ref.forward, ref.rule)) is None
    app = host(Exercise("softplus", None, own=ref, train=task))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await write(pilot, app, FORWARD + " + 0 * x" * 8, RIGHT)
        assert "✓ Right" in await check(pilot, app)
        await pilot.press("ctrl+g")
        await pilot.pause()
        text = squash(screen_text(app))
        assert isinstance(app.screen, OwnOpScreen)
        assert "Your op is too slow to train this task" in text
        assert "Write the forward or the rule shorter" in text
