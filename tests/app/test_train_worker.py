"""The training screen's worker: pausing, single steps, what waits for the step in hand (reset,
a bug run, the debugger), leaving or quitting in the middle of a long step, and an error in it.

The worker is a Textual thread worker; `settle` waits until its `Worker.StateChanged` has been
handled, so every test looks at the screen once the worker has returned.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from engine.cost import MAX_VALUES_PER_STEP, values_per_step
from engine.train import Trainer
from tests.app.conftest import screen_text
from tests.app.test_train_screen import SIZE, Host, engine_losses, pick_bug, seeds, settle, text
from tests.app.textual_internals import threads_in
from tutor.lessons import read_task
from tutor.screens.train import TrainScreen


@pytest.fixture(autouse=True)
def no_pacing(monkeypatch):
    monkeypatch.setattr(TrainScreen, "MIN_RUN_SECONDS", 0.0)


async def training_until(pilot, screen: TrainScreen, step: int) -> None:
    deadline = time.monotonic() + 30
    while screen.main.step < step:
        assert time.monotonic() < deadline, f"the run never reached step {step}"
        await pilot.pause(0.02)


# --------------------------------------------------------------------------- pause and step


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
        assert len(screen.plot.drawn["no bug"][1]) == paused_at + 1
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
        assert screen.plot.drawn["no bug"][1] == expected[:3]
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


async def test_steps_pressed_quickly_several_times_run_that_many_steps():
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("s", "s", "s", "s", "s")  # one burst: most reach a worker still running
        await settle(pilot, screen)
        assert screen.main.step == 5 and screen.main.trainer.steps_done == 5
        expected, _, _ = engine_losses(seeds())
        assert screen.plot.drawn["no bug"][1] == expected[:5]
        assert "step 5/100" in text(app) and "paused" in text(app)


async def test_space_while_pausing_goes_on_once_the_step_in_hand_has_returned(monkeypatch):
    monkeypatch.setattr(TrainScreen, "MIN_RUN_SECONDS", 4.0)
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await training_until(pilot, screen, 2)
        await pilot.press("space", "space")  # pause, and straight away go on
        await pilot.pause(0.2)
        assert screen.running
        await training_until(pilot, screen, screen.main.step + 2)
        await pilot.press("space")
        await settle(pilot, screen)
        assert not screen.running and "paused" in text(app)
        expected, _, _ = engine_losses(seeds())
        assert screen.plot.drawn["no bug"][1] == expected[: screen.main.step]


async def test_the_learning_rate_keys_wait_while_training(monkeypatch):
    monkeypatch.setattr(TrainScreen, "MIN_RUN_SECONDS", 20.0)
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await training_until(pilot, screen, 1)
        await pilot.press("plus", "s")
        assert screen.lr == pytest.approx(0.1) and screen.running  # disabled while it trains
        await pilot.press("space")
        await settle(pilot, screen)
        await pilot.press("plus")
        await pilot.pause()
        assert screen.lr == pytest.approx(0.2) and screen.main.step == 0


# --------------------------------------------------------------------------- what waits for the step


async def test_reset_while_training_waits_for_the_step_in_hand_then_goes_back_to_step_0(monkeypatch):
    monkeypatch.setattr(TrainScreen, "MIN_RUN_SECONDS", 20.0)
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        initial = screen.main.snapshot.values
        await pilot.press("space")
        await training_until(pilot, screen, 2)
        await pilot.press("r")
        await settle(pilot, screen)
        assert not screen.running
        assert screen.main.step == 0 and screen.main.trainer.steps_done == 0
        assert screen.main.snapshot.values == initial
        assert screen.plot.drawn == {}
        shown = text(app)
        assert "step 0/100" in shown and "Ready" in shown


async def test_a_bug_picked_while_training_runs_beside_from_the_same_initial_weights(monkeypatch):
    monkeypatch.setattr(TrainScreen, "MIN_RUN_SECONDS", 4.0)
    screen = TrainScreen(seeds())
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await training_until(pilot, screen, 5)
        monkeypatch.setattr(TrainScreen, "MIN_RUN_SECONDS", 0.0)
        await pick_bug(pilot, app, "1")  # no zero_grad: waits for the step, then both go on
        await settle(pilot, screen)
        assert screen.main.step == screen.runs["bug"].step == 100
        correct, _, _ = engine_losses(seeds())
        buggy, _, _ = engine_losses(seeds(), "no_zero_grad")
        assert screen.plot.drawn["no bug"][1] == correct
        assert screen.plot.drawn["no zero_grad"][1] == buggy


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


async def _start_a_long_step(pilot, screen) -> asyncio.Task:
    """Press s and return once the step is under way (with the press still in hand: Pilot waits
    for the app to go idle after a key, up to 2 s, and the step could be over by then)."""
    assert values_per_step(screen.train_task) > 0.9 * MAX_VALUES_PER_STEP
    pressing = asyncio.ensure_future(pilot.press("s"))
    deadline = time.monotonic() + 30
    while not stepping():
        assert time.monotonic() < deadline, "the step never started"
        await asyncio.sleep(0.005)
    return pressing


async def _gone_within(seconds: float, since: float, pause) -> float:
    while training_worker() or stepping():
        assert time.monotonic() - since < seconds, "the worker thread is still training"
        await pause(0.01)
    return time.monotonic() - since


async def test_leaving_in_the_middle_of_a_long_step_stops_the_worker_within_a_second():
    screen = TrainScreen(read_task(NEAR_THE_BUDGET))
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pressing = await _start_a_long_step(pilot, screen)
        pressed = time.monotonic()
        await pilot.press("q")
        await _gone_within(1.0, pressed, pilot.pause)
        await pressing
        assert app.results == [False]
        assert screen.main.trainer.steps_done == 0  # abandoned, not finished behind our back


async def test_quitting_the_app_in_the_middle_of_a_long_step_stops_the_worker_within_a_second():
    screen = TrainScreen(read_task(NEAR_THE_BUDGET))
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pressing = await _start_a_long_step(pilot, screen)
        quit_at = time.monotonic()
        app.exit()
        pressing.cancel()
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
