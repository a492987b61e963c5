"""Snapshots of the training screen at the design size, 80×24.

Each one steps the engine a fixed number of times on the calling thread (``TrainScreen.advance``)
instead of racing the worker, so the picture is the same on every run: the tasks are seeded.

Update with ``pytest tests/app/test_snapshots_train.py --snapshot-update`` and look at the SVGs in
``__snapshots__`` before committing them.
"""

from __future__ import annotations

from tests.app.test_train_screen import Host, boundary_drawn, load, seeds
from tutor.screens.train import TrainScreen

SIZE = (80, 24)


def advance(ticks: int, bug: str | None = None, press: tuple[str, ...] = ()):
    async def run_before(pilot) -> None:
        await pilot.pause()
        screen = pilot.app.screen
        if bug:
            screen.start_bug_run(bug, run=False)
        screen.advance(ticks)
        for key in press:
            await pilot.press(key)
        if screen.query_one("#side").current == "boundary":
            await boundary_drawn(pilot, screen)  # worked out off the UI thread, at the pane's size
        await pilot.pause()

    return run_before


def test_mid_run(snap_compare):
    app = Host(TrainScreen(seeds(), title="the seeds' task"))
    assert snap_compare(app, terminal_size=SIZE, run_before=advance(25))


def test_a_bug_run_beside_the_correct_one(snap_compare):
    app = Host(TrainScreen(seeds(), title="the seeds' task"))
    assert snap_compare(app, terminal_size=SIZE, run_before=advance(60, bug="ascend"))


def test_a_diverging_bug_run_on_a_log_scale(snap_compare):
    app = Host(TrainScreen(load("xor_linear"), title="xor, linear"))
    assert snap_compare(app, terminal_size=SIZE, run_before=advance(20, bug="high_lr"))


def test_the_decision_boundary(snap_compare):
    app = Host(TrainScreen(load("xor_small"), title="xor"))
    assert snap_compare(app, terminal_size=SIZE, run_before=advance(40, press=("v",)))
