"""The moons demo's 100 steps in the training screen: whole-run time and key-to-repaint delay.

    /work/venv/bin/python benchmarks/bench_train.py               # the moons demo, in the app
    /work/venv/bin/python benchmarks/bench_train.py --engine      # also the engine alone
    /work/venv/bin/python benchmarks/bench_train.py --task seeds  # the seeds' task instead
    /work/venv/bin/python benchmarks/bench_train.py --task wide   # a wide deep net, slow boundary

The screen is opened at 80×24 under Textual's headless driver (``App.run_test``) on micrograd's
moons demo (ReLU MLP(2, [16, 16, 1]), 337 parameters, 100 samples, max-margin + L2, SGD with
linear decay, 100 steps). Space starts training in the screen's thread worker; the clock stops
when the worker has returned and the screen shows its last step. ``--task wide`` is a tanh
MLP(2, [64]*7 + [1]) on 19 moons, 10 steps: as close to the budget of `engine.cost` as 2-D data
goes, over a second for a decision boundary at 80×24 (milliseconds a cell).

Opening the screen is timed from ``push_screen`` to its first repaint. The targets for the moons
demo: the 100 steps in at most 5 s, and key-to-repaint while it trains under 100 ms at the 95th
percentile (``--every 0.1`` gives enough presses for that figure to mean something).

Before training, ``v`` (swap the predictions table and the decision boundary; ``z``, the layout,
for the seeds' task) is pressed 6 times, 0.1 s after each repaint; while it trains, ``--every``
seconds after each repaint. A key arrives at its time even when the app is busy then (as a
terminal's keys do: the event is scheduled on the loop ahead), so a UI thread that freezes for a
second counts. One sample is the time from the key's arrival until the first repaint after the
screen has swapped its pane. A repaint is a call of the app's
``_display`` with an update, and is timed including turning that update into the bytes a
terminal would receive (which the headless driver would otherwise skip).

``--engine`` also times the same 100 steps with ``Trainer.step`` alone, with and without the
cyclic garbage collector paused around each step, as the screen does.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual import events  # noqa: E402
from textual.app import App  # noqa: E402

from engine.train import MOONS_DEMO_TASK, SEEDS_TASK, Task, Trainer  # noqa: E402
from tutor.lessons import read_task  # noqa: E402
from tutor.screens.train import TrainScreen  # noqa: E402

WIDE_TASK = {
    "steps": 10,
    "model": {"layers": [64] * 7 + [1]},
    "data": {"name": "moons", "samples": 19},
    "loss": {"kind": "sse"},
    "optimiser": {"kind": "sgd", "lr": 0.01},
}
TASKS = {"moons": MOONS_DEMO_TASK, "seeds": SEEDS_TASK, "wide": WIDE_TASK}


def send(app: App, key: str) -> None:
    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    app._driver.send_message(event)


async def in_app(task: Task, every: float) -> dict:
    app = App()
    paints: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        display = app._display

        def timed_display(screen, renderable):
            display(screen, renderable)
            if renderable is not None:
                renderable.render_segments(app.console)
                paints.append(time.monotonic())

        app._display = timed_display
        await pilot.pause()
        pushed = time.monotonic()
        app.push_screen(TrainScreen(task, title="benchmark"))
        while not isinstance(app.screen, TrainScreen) or not any(p >= pushed for p in paints):
            await asyncio.sleep(0.0005)
        opened = (min(p for p in paints if p >= pushed) - pushed) * 1000
        await pilot.pause()
        screen = app.screen
        side = screen.query_one("#side")
        # 2-D data: swap table and boundary; the seeds' data has no boundary, so change layout
        key = "v" if screen.two_d else "z"

        def state():
            return side.current if screen.two_d else screen.layout_mode

        redraws = 0
        redraw = screen.plot.redraw

        def counted_redraw():
            nonlocal redraws
            redraws += 1
            redraw()

        screen.plot.redraw = counted_redraw

        loop = asyncio.get_running_loop()

        busy_at_key: list[bool] = []

        def arrive() -> None:
            busy_at_key.append(screen.busy)
            send(app, key)

        async def press_and_wait(due: float) -> tuple[float, float]:
            """The key arrives at ``due`` (loop time, time.monotonic) whether or not the app is
            free then, as a terminal's keys do; the delay runs from then to the repaint."""
            shown = state()
            seen = len(paints)
            loop.call_at(due, arrive)
            while state() == shown:
                await asyncio.sleep(0)
            swapped = time.monotonic()
            while not any(p >= swapped for p in paints[seen:]):
                await asyncio.sleep(0.0005)
            painted = next(p for p in paints[seen:] if p >= swapped)
            return (painted - due) * 1000, painted

        idle = []
        painted = time.monotonic()
        for _ in range(6):
            delay, painted = await press_and_wait(painted + 0.1)
            idle.append(delay)
        await asyncio.sleep(0.2)
        delays: list[float] = []
        start = time.monotonic()
        send(app, "space")
        while not screen.busy:
            await asyncio.sleep(0.001)
        painted = time.monotonic()
        while screen.busy:
            delay, painted = await press_and_wait(painted + every)
            if busy_at_key[-1]:  # (not a key that came after the last step)
                delays.append(delay)
        total = time.monotonic() - start
        await pilot.pause()
        return {
            "total_s": total,
            "steps": screen.main.step,
            "delays_ms": delays,
            "redraws": redraws,
            "paints": len(paints),
            "key": key,
            "idle_ms": idle,
            "open_ms": opened,
            "final_loss": screen.main.reports[-1].loss,
            "accuracy": screen.main.reports[-1].accuracy,
        }


def engine_alone(task: Task, pause_gc: bool) -> float:
    trainer = Trainer(task)
    start = time.perf_counter()
    while not trainer.finished:
        if pause_gc:
            gc.disable()
            try:
                trainer.step()
            finally:
                gc.enable()
        else:
            trainer.step()
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=sorted(TASKS), default="moons")
    parser.add_argument("--every", type=float, default=0.5, help="seconds between key presses (0.5)")
    parser.add_argument("--engine", action="store_true", help="also time the engine without the app")
    args = parser.parse_args(argv)
    task = read_task(TASKS[args.task])
    r = asyncio.run(in_app(task, args.every))
    d = r["delays_ms"]
    print(
        f"task {args.task}: {r['steps']} steps in the app in {r['total_s']:.1f} s "
        f"({r['steps'] / r['total_s']:.2f} steps/s); final loss {r['final_loss']:.4g}, "
        f"accuracy {r['accuracy']:.0%}"
    )
    print(f"plot redraws {r['redraws']}, repaints {r['paints']}")
    print(f"opening the screen: {r['open_ms']:.0f} ms to its first repaint")
    i = r["idle_ms"]
    print(
        f"key-to-repaint before training:   median {statistics.median(i):.1f} ms, "
        f"worst {max(i):.1f} ms over {len(i)} presses of {r['key']}"
    )
    if d:
        p95 = statistics.quantiles(d, n=20, method="inclusive")[-1] if len(d) > 1 else d[0]
        print(
            f"key-to-repaint while training: median {statistics.median(d):.1f} ms, "
            f"p95 {p95:.1f} ms (target < 100), worst {max(d):.1f} ms over {len(d)} presses of {r['key']}"
        )
    if args.engine:
        paused = engine_alone(task, pause_gc=True)
        print(f"engine alone, gc paused per step: {paused:.1f} s")
        plain = engine_alone(task, pause_gc=False)
        print(f"engine alone, gc as is:           {plain:.1f} s")


if __name__ == "__main__":
    main()
