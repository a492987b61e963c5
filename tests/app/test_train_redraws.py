"""What the training screen redraws: the loss plot goes back to plotext only when a curve changed."""

from __future__ import annotations

from engine.train import MOONS_DEMO_TASK
from tests.app.test_train_screen import SIZE, Host
from tutor.lessons import read_task
from tutor.screens.train import TrainScreen


async def test_swapping_panes_does_not_redraw_an_unchanged_loss_plot():
    screen = TrainScreen(read_task(MOONS_DEMO_TASK))
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen.advance(3)
        await pilot.pause()
        plotted = []
        plot_curve = screen.plot.plt.plot
        screen.plot.plt.plot = lambda *a, **k: plotted.append(a) or plot_curve(*a, **k)
        for _ in range(4):
            await pilot.press("v")
            await pilot.pause()
        assert plotted == []  # nothing changed: plotext was not asked again
        screen.advance(1)
        await pilot.pause()
        assert len(plotted) == 1 and len(plotted[0][0]) == 4  # the curve, with its new point
        assert screen.plot.drawn["no bug"][0] == [1, 2, 3, 4]
