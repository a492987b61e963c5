"""The training screen's footer: rebuilt when its keys change, left alone when they do not.

Textual's `Footer` remounts one widget per key on every bindings refresh (each focus change, each
start and end of a run): tens of milliseconds of the UI thread while a worker trains beside it.
"""

from __future__ import annotations

from engine.train import MOONS_DEMO_TASK
from tests.app.conftest import screen_text
from tests.app.test_train_screen import SIZE, Host, settle
from tests.app.textual_internals import footer_keys
from tutor.lessons import read_task
from tutor.screens.train import TrainScreen


def step_key_disabled(screen) -> bool:
    return next(disabled for _, action, disabled in footer_keys(screen) if action == "step")


async def test_swapping_the_panes_leaves_the_footer_as_it_is_and_a_run_updates_it(monkeypatch):
    monkeypatch.setattr(TrainScreen, "MIN_RUN_SECONDS", 30.0)  # still running when looked at
    screen = TrainScreen(read_task(MOONS_DEMO_TASK))
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before, footer_line = footer_keys(screen), screen_text(app).splitlines()[-1]
        assert not step_key_disabled(screen)
        assert "Boundary" in footer_line and "Step" in footer_line
        for _ in range(3):  # the table comes and goes: the focus moves every time
            await pilot.press("v")
            await pilot.pause()
        screen.refresh_bindings()
        await pilot.pause()
        assert footer_keys(screen) == before  # the same widgets: nothing was rebuilt
        assert screen_text(app).splitlines()[-1] == footer_line

        await pilot.press("space")  # while it runs, s (one step) is shown disabled
        await pilot.pause(0.2)
        assert step_key_disabled(screen)
        await pilot.press("space")
        await settle(pilot, screen)
        assert not step_key_disabled(screen)
