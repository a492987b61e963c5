"""The training screen's decision boundary: what it draws, that it follows the run (and a reset),
and that working it out never freezes the screen, however wide the network.

The grids compared are worked out here from the main run's snapshot with `predict_grid`, so they
are the network's own answers at the centre of every cell.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from tests.app.conftest import screen_text
from tests.app.test_train_screen import SIZE, Host, boundary_drawn, load, settle
from tests.app.textual_internals import threads_in
from tutor.lessons import read_task
from tutor.screens.train import TrainScreen
from tutor.widgets.boundary import predict_grid


@pytest.fixture(autouse=True)
def no_pacing(monkeypatch):
    monkeypatch.setattr(TrainScreen, "MIN_RUN_SECONDS", 0.0)


def expected_grid(screen: TrainScreen):
    boundary, snap = screen.boundary, screen.main.snapshot
    cols, rows = boundary.grid_shape
    return predict_grid(lambda x, y: snap.output((x, y)) > 0, boundary.bounds, cols, rows)


async def test_two_d_data_has_a_decision_boundary_view():
    screen = TrainScreen(load("xor_small"))
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen.advance(40)
        await pilot.press("v")
        await boundary_drawn(pilot, screen, "step 40")
        boundary = screen.boundary
        assert boundary.display and screen.query_one("#side").current == "boundary"
        expected = expected_grid(screen)
        assert boundary.grid == expected
        assert "+ o samples, · says +1, step 40" in screen_text(app)
        # xor: the +1 corners are top-left and bottom-right, and the model has learnt them
        assert expected[0][0] and expected[-1][-1] and not expected[0][-1] and not expected[-1][0]
        await pilot.press("v")
        assert screen.query_one("#side").current == "predictions"


async def test_the_boundary_follows_training_and_goes_back_to_step_0_on_reset():
    screen = TrainScreen(load("xor_small"))
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await boundary_drawn(pilot, screen, "step 0")
        assert screen.boundary.grid == expected_grid(screen)
        await pilot.press("space")
        await settle(pilot, screen)
        await boundary_drawn(pilot, screen, "step 40")  # the last step is always drawn
        assert screen.boundary.grid == expected_grid(screen)
        await pilot.press("r")
        await boundary_drawn(pilot, screen, "step 0")
        assert screen.boundary.grid == expected_grid(screen)
        assert "says +1, step 0" in screen_text(app)


async def test_the_boundary_is_worked_out_again_at_a_new_size():
    screen = TrainScreen(load("xor_small"))
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen.advance(10)
        await pilot.press("v")
        await boundary_drawn(pilot, screen, "step 10")
        narrow = screen.boundary.grid_shape
        await pilot.press("z", "z")  # the boundary alone: the whole width
        await boundary_drawn(pilot, screen, "step 10")
        assert screen.boundary.grid_shape[0] > narrow[0]
        assert screen.boundary.grid == expected_grid(screen)


# A wide deep network on 2-D data within the budget of engine.cost: about 3 ms a cell on plain
# floats, over a second for the boundary at 80×24 (it froze the screen for that long at mount,
# reset and resize when the UI thread worked it out).
WIDE_AND_DEEP = {
    "steps": 10,
    "model": {"layers": [64] * 7 + [1]},
    "data": {"name": "moons", "samples": 19},
    "loss": {"kind": "sse"},
    "optimiser": {"kind": "sgd", "lr": 0.01},
}


def working_out_a_boundary() -> list[int]:
    return threads_in("predict_grid", os.path.join("widgets", "boundary.py"))


# Pilot waits for the process to go idle after each key (up to 2 s), and a thread working out a
# grid keeps it busy: these press a key without waiting, and watch what happens meanwhile.


def pressing(pilot, key: str) -> asyncio.Future:
    return asyncio.ensure_future(pilot.press(key))


async def until(condition, what: str, timeout: float = 30.0) -> float:
    """Wait for ``condition()``; the seconds it took."""
    since = time.monotonic()
    while not condition():
        assert time.monotonic() - since < timeout, what
        await asyncio.sleep(0.005)
    return time.monotonic() - since


async def test_a_slow_boundary_never_freezes_the_screen_and_stops_when_the_learner_leaves():
    screen = TrainScreen(read_task(WIDE_AND_DEEP))
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        swapped = pressing(pilot, "v")
        await until(working_out_a_boundary, "the boundary was never worked out")
        layout = pressing(pilot, "z")  # the screen answers while the grid is worked out
        await until(lambda: screen.layout_mode == "plot-only", "z was never answered")
        assert working_out_a_boundary()  # answered while the grid was still being worked out
        await swapped
        await layout
        await pilot.press("z")  # the boundary alone, at its full width
        await boundary_drawn(pilot, screen, "step 0")
        assert screen.boundary.grid == expected_grid(screen)
        narrower = pressing(pilot, "z")  # both panes again: worked out anew, and left meanwhile
        await until(working_out_a_boundary, "the boundary was never worked out again")
        leaving = pressing(pilot, "q")
        await until(lambda: not working_out_a_boundary(), "the grid's worker outlived the screen", 1.0)
        await narrower
        await leaving
        assert app.results == [False]
