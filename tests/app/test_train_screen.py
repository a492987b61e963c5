"""The training screen, driven with Pilot: runs in the worker, pause and step, bug runs beside the
correct one, a diverging run's reason, the decision boundary, and the way into the debugger.

Every number the tests compare comes from the engine: a fresh `Trainer` on the same task gives the
same losses (same seed, same initial weights), so the screen must show exactly those.
"""

from __future__ import annotations

import asyncio
import os
import time
import tomllib
from pathlib import Path

import pytest
from textual.app import App

from engine.cost import MAX_VALUES_PER_STEP, values_per_step
from engine.train import SEEDS_TASK, Task, Trainer, TrainingStopped
from tests.app.conftest import screen_text, squash, threads_in, toast_text
from tutor.screens.bug_picker import BugPicker
from tutor.screens.train import TrainScreen
from tutor.training import SampleProgram, Snapshot, describe_task
from tutor.widgets.boundary import predict_grid

FIXTURES = Path(__file__).parent / "train_fixtures"
SIZE = (80, 24)


def load(name: str) -> Task:
    with open(FIXTURES / f"{name}.toml", "rb") as f:
        return Task.from_config(tomllib.load(f))


def seeds() -> Task:
    return Task.from_config(SEEDS_TASK)


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
        steps, plotted = screen.plot.drawn["correct"]
        reported = [r.loss for r in screen.main.reports]
        assert steps == list(range(1, 101))
        assert plotted == reported
        expected, _, _ = engine_losses(task)
        assert plotted == expected
        shown = text(app)
        assert "step 100/100" in shown
        assert "■ finished" in shown
        assert "4/4 right" in shown


async def test_pause_then_step_once_advances_by_exactly_one_step(monkeypatch):
    monkeypatch.setattr(TrainScreen, "MIN_RUN_SECONDS", 4.0)  # slow enough to pause mid-run
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        deadline = time.monotonic() + 30
        while screen.main.step < 3:
            assert time.monotonic() < deadline
            await pilot.pause(0.02)
        await pilot.press("space")
        await settle(pilot, screen)
        paused_at = screen.main.step
        assert 3 <= paused_at < 100
        assert "paused" in text(app)
        await pilot.pause(0.2)
        assert screen.main.step == paused_at  # paused means paused
        await pilot.press("s")
        await settle(pilot, screen)
        assert screen.main.step == paused_at + 1
        assert screen.main.trainer.steps_done == paused_at + 1
        assert len(screen.plot.drawn["correct"][1]) == paused_at + 1
        assert f"step {paused_at + 1:>3}/100" in screen_text(app)


async def test_step_key_from_the_start_runs_one_step_per_press():
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for n in (1, 2, 3):
            await pilot.press("s")
            await settle(pilot, screen)
            assert screen.main.step == n
        expected, _, _ = engine_losses(seeds())
        assert screen.plot.drawn["correct"][1] == expected[:3]
        assert "step 3/100" in text(app)


async def test_the_screen_answers_keys_while_training(monkeypatch):
    monkeypatch.setattr(TrainScreen, "MIN_RUN_SECONDS", 20.0)  # a long run to press keys during
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause(0.1)
        assert screen.running
        await pilot.press("z")
        assert screen.layout_mode == "plot-only"
        assert not screen.query_one("#side").display and screen.plot.display
        await pilot.press("z")
        assert screen.layout_mode == "side-only"
        assert screen.query_one("#side").display and not screen.plot.display
        assert screen.running  # layout changes do not stop the run
        await pilot.press("space")
        await settle(pilot, screen)
        assert not screen.running
        assert 0 < screen.main.step < 100


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
        assert set(screen.plot.drawn) == {"correct", "no zero_grad"}
        correct, _, _ = engine_losses(task)
        buggy, _, _ = engine_losses(task, "no_zero_grad")
        assert screen.plot.drawn["correct"][1] == correct
        assert screen.plot.drawn["no zero_grad"][1] == buggy
        shown = screen_text(app)
        assert "loss  • correct  x no zero_grad" in shown  # the legend: markers and names


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
        assert screen.plot.drawn["correct"][1][-1] < expected[-1]


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
        assert screen.plot.drawn["correct"][1] == [r.loss for r in reports]
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
        assert "loss (log)  • correct  x lr 0.05 (×10)" in screen_text(app)


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


@pytest.mark.parametrize(
    "model, loss",
    [
        ({"layers": [3, 1], "activation": "tanh"}, {"kind": "sse"}),
        (
            {"layers": [5, 4, 1], "activation": "relu", "linear_output": True},
            {"kind": "max_margin", "l2": 0.01},
        ),
        ({"layers": [3, 1], "activation": "sigmoid"}, {"kind": "bce"}),
        ({"layers": [3, 1], "activation": "tanh"}, {"kind": "bce"}),
        ({"layers": [2, 1], "activation": "linear"}, {"kind": "sse"}),
    ],
)
@pytest.mark.parametrize("seed", [1, 7])
def test_the_float_snapshot_predicts_what_the_engine_predicts(model, loss, seed):
    config = {
        "steps": 3,
        "seed": seed,
        "model": model,
        "data": {"name": "circles", "samples": 12, "seed": seed},
        "loss": loss,
        "optimiser": {"kind": "sgd", "lr": 0.05},
    }
    trainer = Trainer(Task.from_config(config))
    trainer.step()
    snap = Snapshot.take(trainer)
    assert snap.step == 1
    assert snap.outputs == tuple(trainer.predict(x) for x in trainer.data.xs)
    assert snap.values == tuple(trainer.model.parameter_values())


async def test_two_d_data_has_a_decision_boundary_view():
    task = load("xor_small")
    screen = TrainScreen(task)
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen.advance(40)
        await pilot.press("v")
        await pilot.pause()
        await pilot.pause()
        boundary = screen.boundary
        assert boundary.display and screen.query_one("#side").current == "boundary"
        cols, rows = boundary.grid_shape
        snap = screen.main.snapshot
        expected = predict_grid(lambda x, y: snap.output((x, y)) > 0, boundary.bounds, cols, rows)
        assert boundary.grid == expected
        drawn = screen_text(app)
        assert "+ o samples, · says +1, step 40" in drawn
        # xor: the +1 corners are top-left and bottom-right, and the model has learnt them
        assert expected[0][0] and expected[-1][-1] and not expected[0][-1] and not expected[-1][0]
        await pilot.press("v")
        assert screen.query_one("#side").current == "predictions"


async def test_the_seeds_data_has_no_boundary_key():
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Boundary" not in screen_text(app).splitlines()[-1]
        await pilot.press("v")
        assert screen.query_one("#side").current == "predictions"


def test_the_task_lines_fit_the_design_width():
    for task in (seeds(), Task.from_config(__import__("engine.train").train.MOONS_DEMO_TASK)):
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


async def test_opening_the_debugger_while_training_pauses_first(monkeypatch):
    monkeypatch.setattr(TrainScreen, "MIN_RUN_SECONDS", 20.0)
    from tutor.screens.debugger import DebuggerScreen

    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause(0.1)
        await pilot.press("d")
        await settle(pilot, screen)
        assert isinstance(app.screen, DebuggerScreen)
        step = screen.main.step
        assert screen.main.trainer.steps_done == step
        trainer = Trainer(seeds())
        for _ in range(step):
            trainer.step()
        assert app.screen.graph.output.data == trainer.sample_graph(0).data


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


# A task near the budget of engine.cost: 32-wide tanh layers on 420 moons, ~970,000 values a
# step, a few seconds each (the boundary and the table stay cheap: the network is small).
NEAR_THE_BUDGET = {
    "steps": 10,
    "model": {"layers": [32, 32, 1]},
    "data": {"name": "moons", "samples": 420},
    "loss": {"kind": "sse"},
    "optimiser": {"kind": "sgd", "lr": 0.01},
}


def stepping() -> list[int]:
    return threads_in("_step", os.path.join("engine", "train.py"))


def training_worker() -> list[int]:
    return threads_in("_train", os.path.join("screens", "train.py"))


async def _start_a_long_step(pilot, screen) -> None:
    assert values_per_step(screen.train_task) > 0.9 * MAX_VALUES_PER_STEP
    await pilot.press("s")
    deadline = time.monotonic() + 30
    while not stepping():
        assert time.monotonic() < deadline, "the step never started"
        await pilot.pause(0.01)


async def _gone_within(seconds: float, since: float, pause) -> float:
    while training_worker() or stepping():
        assert time.monotonic() - since < seconds, "the worker thread is still training"
        await pause(0.01)
    return time.monotonic() - since


async def test_leaving_in_the_middle_of_a_long_step_stops_the_worker_within_a_second():
    screen = TrainScreen(Task.from_config(NEAR_THE_BUDGET))
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await _start_a_long_step(pilot, screen)
        pressed = time.monotonic()
        await pilot.press("q")
        await _gone_within(1.0, pressed, pilot.pause)
        assert app.results == [False]
        assert screen.main.trainer.steps_done == 0  # abandoned, not finished behind our back


async def test_quitting_the_app_in_the_middle_of_a_long_step_stops_the_worker_within_a_second():
    screen = TrainScreen(Task.from_config(NEAR_THE_BUDGET))
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await _start_a_long_step(pilot, screen)
        quit_at = time.monotonic()
        app.exit()
    await _gone_within(1.0, quit_at, asyncio.sleep)
    assert screen.main.trainer.steps_done == 0


async def test_an_unexpected_error_in_the_worker_is_a_message_not_a_traceback(monkeypatch):
    def broken(self, should_stop=None):  # the worker hands every step its should_stop
        raise ZeroDivisionError("something inside broke")

    monkeypatch.setattr(Trainer, "step", broken)
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await settle(pilot, screen)
        shown = text(app)
        assert "error in the tutor: ZeroDivisionError: something inside broke" in shown
        assert app.screen is screen and app.is_running


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
        assert set(screen.plot.drawn) == {"correct"}


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

    task = Task.from_config(
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
        assert "open a sample marked ✗" in toast_text(app)
        await pilot.press("q")
        await pilot.pause()
        app.clear_notifications()
        await pilot.press("down", "enter")  # sample 1 has a loss: no such notice
        await pilot.pause()
        assert isinstance(app.screen, DebuggerScreen)
        assert "loss is 0" not in toast_text(app)
