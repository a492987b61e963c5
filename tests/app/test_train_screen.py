"""The training screen, driven with Pilot: a run's losses, reset and learning rate, bug runs beside
the correct one, a diverging run's reason, the predictions table, and the way into the debugger.
(The worker: test_train_worker.py; the decision boundary: test_train_boundary.py; the runs
without a screen: tests/logic/test_training.py.) The helpers here serve those files too.

Every number the tests compare comes from the engine: a fresh `Trainer` on the same task gives the
same losses (same seed, same initial weights), so the screen must show exactly those.
"""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import pytest
from textual.app import App

from engine.train import SEEDS_TASK, Task, Trainer, TrainingStopped
from tests.app.conftest import screen_text, squash, toast_text, wait_until
from tutor.lessons import read_task
from tutor.screens.bug_picker import BugPicker
from tutor.screens.train import TrainScreen
from tutor.training import SampleProgram, describe_task

FIXTURES = Path(__file__).parent / "train_fixtures"
SIZE = (80, 24)


def load(name: str) -> Task:
    with open(FIXTURES / f"{name}.toml", "rb") as f:
        return read_task(tomllib.load(f))


def seeds() -> Task:
    return read_task(SEEDS_TASK)


def engine_losses(task: Task, mistake=None):
    """What the engine reports for a whole run: (losses, reports, stop reason or None)."""
    trainer = Trainer(task, mistake)
    reports = []
    try:
        for report in trainer.run():
            reports.append(report)
    except TrainingStopped as stop:
        return [r.loss for r in reports], reports, stop.reason
    return [r.loss for r in reports], reports, None


class Host(App):
    """Pushes one training screen and keeps what it is dismissed with."""

    def __init__(self, screen: TrainScreen) -> None:
        super().__init__()
        self.train_screen = screen
        self.results: list = []

    def on_mount(self) -> None:
        self.push_screen(self.train_screen, self.results.append)


@pytest.fixture(autouse=True)
def no_pacing(monkeypatch):
    monkeypatch.setattr(TrainScreen, "MIN_RUN_SECONDS", 0.0)


async def settle(pilot, screen: TrainScreen, timeout: float = 60.0) -> None:
    """Wait until the worker thread has returned and its messages are handled."""
    deadline = time.monotonic() + timeout
    while screen.busy:
        assert time.monotonic() < deadline, "the training worker never returned"
        await pilot.pause(0.02)
    await pilot.pause()


def text(app) -> str:
    return squash(screen_text(app))


async def boundary_drawn(
    pilot, screen: TrainScreen, caption: str | None = None, timeout: float = 60.0
) -> None:
    """Wait until the decision boundary shows a grid of its own size (worked out in its worker)."""
    boundary = screen.boundary
    deadline = time.monotonic() + timeout

    def drawn() -> bool:
        grid = boundary.grid
        fits = bool(grid) and (len(grid[0]), len(grid)) == boundary.grid_shape
        return fits and (caption is None or boundary.caption == caption)

    while not drawn():
        assert time.monotonic() < deadline, "the boundary was never drawn"
        await pilot.pause(0.02)
    await pilot.pause()


# --------------------------------------------------------------------------- running


async def test_a_run_plots_exactly_the_losses_the_engine_reported():
    task = seeds()
    screen = TrainScreen(task, title="seeds")
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Ready" in text(app)
        await pilot.press("space")
        await settle(pilot, screen)
        steps, plotted = screen.plot.drawn["no bug"]
        reported = [r.loss for r in screen.main.reports]
        assert steps == list(range(1, 101))
        assert plotted == reported
        expected, _, _ = engine_losses(task)
        assert plotted == expected
        shown = text(app)
        assert "step 100/100" in shown
        assert "■ finished" in shown
        assert "4/4 right" in shown


async def test_reset_goes_back_to_the_initial_weights():
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        initial = screen.main.snapshot.values
        screen.advance(5)
        assert screen.main.snapshot.values != initial
        await pilot.press("r")
        await pilot.pause()
        assert screen.main.step == 0
        assert screen.main.snapshot.values == initial
        assert screen.plot.drawn == {}
        assert "step 0/100" in text(app)


async def test_learning_rate_keys_change_the_rate_of_the_next_run():
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen.advance(3)
        await pilot.press("plus")
        await pilot.pause()
        assert screen.lr == pytest.approx(0.2)
        assert screen.main.step == 0  # a new rate means a new run from the initial weights
        assert "lr 0.2 ·" in text(app)
        await pilot.press("s")
        await settle(pilot, screen)
        assert screen.main.reports[0].lr == pytest.approx(0.2)
        await pilot.press("minus", "minus")
        await pilot.pause()
        assert screen.lr == pytest.approx(0.05)
        assert "lr 0.05 ·" in text(app)


# --------------------------------------------------------------------------- bugs side by side


async def pick_bug(pilot, app, number: str) -> None:
    await pilot.press("b")
    await pilot.pause()
    assert isinstance(app.screen, BugPicker)
    await pilot.press(number)
    await pilot.pause()


async def test_a_bug_run_is_plotted_beside_the_correct_one():
    task = seeds()
    screen = TrainScreen(task)
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pick_bug(pilot, app, "1")  # no zero_grad
        await settle(pilot, screen)
        assert set(screen.plot.drawn) == {"no bug", "no zero_grad"}
        correct, _, _ = engine_losses(task)
        buggy, _, _ = engine_losses(task, "no_zero_grad")
        assert screen.plot.drawn["no bug"][1] == correct
        assert screen.plot.drawn["no zero_grad"][1] == buggy
        shown = screen_text(app)
        assert "loss  • no bug  x no zero_grad" in shown  # the legend: markers and names


async def test_without_zero_grad_the_run_parts_from_the_correct_one_at_step_2():
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen.start_bug_run("no_zero_grad", run=False)
        screen.advance(100)
        good = screen.runs["main"].reports
        bad = screen.runs["bug"].reports
        assert len(good) == len(bad) == 100
        # step 1: both start from zeroed grads, so the step is the same
        assert bad[0] == good[0]
        # step 2: same weights, so the same loss; but step 1's gradient is still in the grads,
        # so the gradient (and every weight after this update) is different
        assert bad[1].loss == good[1].loss
        assert bad[1].grad_norm != good[1].grad_norm
        # from then on every loss differs
        assert all(b.loss != g.loss for b, g in zip(bad[2:], good[2:]))


async def test_with_the_update_sign_flipped_the_loss_rises():
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pick_bug(pilot, app, "3")  # += instead of -=
        await settle(pilot, screen)
        climbed = [r.loss for r in screen.runs["bug"].reports]
        fell = [r.loss for r in screen.runs["main"].reports]
        assert all(b >= a for a, b in zip(climbed, climbed[1:]))
        assert climbed[-1] > 2 * climbed[0]
        assert fell[-1] < fell[0] / 100
        assert "+= instead of -=" in screen_text(app)


async def test_overwrite_bug_keeps_the_loss_from_falling():
    task = load("xor_small")
    screen = TrainScreen(task)
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pick_bug(pilot, app, "2")  # = instead of +=
        await settle(pilot, screen)
        expected, _, _ = engine_losses(task, "overwrite")
        assert screen.plot.drawn["= instead of +="][1] == expected
        assert expected[-1] > expected[0]  # shared weights get one share: no learning here
        assert screen.plot.drawn["no bug"][1][-1] < expected[-1]


async def test_a_diverging_run_ends_with_the_engines_reason_on_screen():
    task = load("diverges")
    _, reports, reason = engine_losses(task)
    assert reason == "loss became inf at step 6: the learning rate is too high"
    screen = TrainScreen(task)
    app = Host(screen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await settle(pilot, screen)
        assert screen.main.stopped is not None
        assert screen.plot.drawn["no bug"][1] == [r.loss for r in reports]
        shown = text(app)
        assert f"✗ stopped: {reason}" in shown
        assert "Traceback" not in shown
        await pilot.press("space")  # nothing left to run: a notice, not a crash
        await pilot.pause(0.1)
        assert "r starts again from the initial weights" in toast_text(app)


async def test_a_too_high_learning_rate_bug_diverges_beside_the_correct_run():
    task = load("xor_linear")
    screen = TrainScreen(task)
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pick_bug(pilot, app, "4")  # lr ×10
        await settle(pilot, screen)
        bug = screen.runs["bug"]
        assert bug.label == "lr 0.05 (×10)"
        assert bug.stopped.reason == "loss became inf at step 7: the learning rate is too high"
        assert screen.main.step == 20 and screen.main.stopped is None
        assert screen.plot.log_scale  # the exploding curve would flatten the correct one
        shown = text(app)
        assert "loss became inf at step 7: the learning rate is too high" in shown
        assert "loss (log)  • no bug  x lr 0.05 (×10)" in screen_text(app)


async def test_a_bug_run_catches_up_with_a_correct_run_already_under_way():
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen.advance(10)
        screen.start_bug_run("ascend", run=False)
        screen.advance(4)
        assert (screen.main.step, screen.runs["bug"].step) == (10, 4)  # the one behind moves
        screen.advance(8)
        assert (screen.main.step, screen.runs["bug"].step) == (12, 12)  # then both, in lockstep


# --------------------------------------------------------------------------- the views


async def test_the_table_marks_each_prediction_against_its_target():
    task = load("xor_small")
    screen = TrainScreen(task)
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen.advance(40)
        trainer = Trainer(task)
        for _ in range(40):
            trainer.step()
        rows = screen.table.rows
        assert len(rows) == 20
        for i, x in enumerate(trainer.data.xs):
            out = trainer.predict(x)
            right = (out > 0) == (trainer.targets[i] > 0)
            index, a, b, target, shown, mark = rows[i].plain.split()
            assert (int(index), [float(a), float(b)]) == (i, [round(c, 2) for c in x])
            assert float(target) == trainer.targets[i]
            assert shown == f"{out:+.3f}"
            assert mark == ("✓" if right else "✗")
        assert "step 40: 20/20 right" in text(app)


async def test_the_seeds_data_has_no_boundary_key():
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Boundary" not in screen_text(app).splitlines()[-1]
        await pilot.press("v")
        assert screen.query_one("#side").current == "predictions"


def test_the_task_lines_fit_the_design_width():
    for task in (seeds(), read_task(__import__("engine.train").train.MOONS_DEMO_TASK)):
        for line in describe_task(task):
            assert len(line) <= 78, line
    first, second = describe_task(seeds())
    assert "41 parameters" in first
    assert "lr 0.1" in second and "100 steps" in second


# --------------------------------------------------------------------------- into the debugger


async def test_enter_on_a_row_opens_the_debugger_on_that_samples_graph_with_the_current_weights():
    from tutor.screens.debugger import DebuggerScreen

    task = seeds()
    screen = TrainScreen(task)
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(3):
            await pilot.press("s")
            await settle(pilot, screen)
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        debugger = app.screen
        assert isinstance(debugger, DebuggerScreen)
        loss = debugger.graph.output
        # the engine's own graph for sample 2 with the weights after step 3
        trainer = Trainer(task)
        for _ in range(3):
            trainer.step()
        expected = trainer.sample_graph(2)
        assert loss.data == expected.data
        out = trainer.predict(trainer.data.xs[2])
        assert loss.data == (out - trainer.targets[2]) ** 2
        leaves = debugger.graph.inputs
        params = trainer.model.parameters()
        assert list(leaves) == [p.label for p in params]
        assert [v.data for v in leaves.values()] == [p.data for p in params]
        assert "sample 2, after step 3" in text(app)
        await pilot.press("q")
        await pilot.pause()
        assert app.screen is screen


def test_the_sample_program_rebuilds_with_nudged_parameters():
    trainer = Trainer(seeds())
    trainer.step()
    program = SampleProgram(trainer.task, trainer.model.parameter_values(), 1)
    graph = program.build()
    assert graph.output.data == trainer.sample_graph(1).data
    name = "w[0][0][0]"
    nudged = program.build({name: program.inputs[name] + 0.5})
    assert nudged.inputs[name].data == program.inputs[name] + 0.5
    assert nudged.output.data != graph.output.data
    assert program.build().output.data == graph.output.data  # nudges do not stick
    with pytest.raises(KeyError):
        program.build({"nope": 1.0})


# --------------------------------------------------------------------------- leaving


async def test_leaving_before_a_full_run_reports_not_completed():
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen.advance(10)
        await pilot.press("q")
        await pilot.pause()
    assert app.results == [False]


async def test_leaving_after_a_full_run_reports_completed():
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await settle(pilot, screen)
        await pilot.press("r")  # starting again does not take the completed run away
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [True]


async def test_the_bug_picker_cancels_with_escape_and_can_remove_the_comparison():
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, BugPicker)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and "bug" not in screen.runs
        screen.start_bug_run("overwrite", run=False)
        screen.advance(3)
        await pick_bug(pilot, app, "5")  # with a bug run on screen, a fifth choice removes it
        await pilot.pause()
        assert "bug" not in screen.runs
        assert set(screen.plot.drawn) == {"no bug"}


async def test_help_in_the_tutor_lists_the_training_keys(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = TrainScreen(seeds(), title="the seeds' task")
        app.push_screen(screen)
        await pilot.pause()
        assert "? Help" in screen_text(app).splitlines()[-1]  # the footer still fits 80 columns
        await pilot.press("question_mark")
        await pilot.pause()
        shown = text(app)
        for words in ("Run/Pause", "Run exactly one training step", "lr down", "Bug run", "Layout", "Debug"):
            assert words in shown, words


async def test_a_sample_with_zero_loss_says_why_its_pass_is_all_zeros():
    """Max-margin on a sample already past the margin: its loss, and so every gradient, is 0;
    the learner is told to pick a ✗ row instead of staring at zeros."""
    from tutor.screens.debugger import DebuggerScreen

    task = read_task(
        {
            "steps": 10,
            "model": {"layers": [4, 4, 1], "linear_output": True},
            "data": {"name": "seeds"},
            "loss": {"kind": "max_margin"},
            "optimiser": {"kind": "sgd", "lr": 0.1},
        }
    )
    trainer = Trainer(task)
    for _ in range(2):
        trainer.step()
    assert trainer.sample_graph(0).data == 0.0 and trainer.sample_graph(1).data > 0
    screen = TrainScreen(task)
    app = Host(screen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        for _ in range(2):
            await pilot.press("s")
            await settle(pilot, screen)
        await pilot.press("enter")  # sample 0
        await pilot.pause()
        assert isinstance(app.screen, DebuggerScreen)
        assert app.screen.graph.output.data == 0.0
        assert "Sample 0's loss is 0, so every weight's gradient from it is 0" in toast_text(app)
        assert "open sample 1: its loss is not 0" in toast_text(app)
        await pilot.press("q")
        await pilot.pause()
        app.clear_notifications()
        await pilot.press("down", "enter")  # sample 1 has a loss: no such notice
        await pilot.pause()
        assert isinstance(app.screen, DebuggerScreen)
        assert "loss is 0" not in toast_text(app)


async def test_when_every_sample_has_zero_loss_the_notice_points_at_none():
    """Past step 23 every seed sample is beyond the margin: no row to send the learner to, so
    the notice says so instead of "open a sample marked ✗" (there is none)."""
    task = read_task(
        {
            "steps": 30,
            "model": {"layers": [4, 4, 1], "linear_output": True},
            "data": {"name": "seeds"},
            "loss": {"kind": "max_margin"},
            "optimiser": {"kind": "sgd", "lr": 0.1},
        }
    )
    screen = TrainScreen(task)
    app = Host(screen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.main.done, "the run's end")
        await settle(pilot, screen)
        assert "✗" not in screen_text(app).split("predictions")[-1]  # every row classified right
        await pilot.press("enter")
        await pilot.pause()
        shown = toast_text(app)
        assert "Every sample's loss is 0 with these weights" in shown
        assert "marked ✗" not in shown
