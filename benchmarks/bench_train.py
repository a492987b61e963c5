"""The moons demo's 100 steps in the training screen: whole-run time and key-to-repaint delay.

    /work/venv/bin/python benchmarks/bench_train.py               # the moons demo, in the app
    /work/venv/bin/python benchmarks/bench_train.py --engine      # also the engine alone
    /work/venv/bin/python benchmarks/bench_train.py --task seeds  # the seeds' task instead

The screen is opened at 80×24 under Textual's headless driver (``App.run_test``) on micrograd's
moons demo (ReLU MLP(2, [16, 16, 1]), 337 parameters, 100 samples, max-margin + L2, SGD with
linear decay, 100 steps). Space starts training in the screen's thread worker; the clock stops
when the worker has returned and the screen shows step 100.

While it trains, ``v`` (swap the predictions table and the decision boundary; ``z``, the layout,
for the seeds' task) is pressed every ``--every`` seconds. One sample is the time from handing the key event to the driver until the
first repaint after the screen has swapped its pane. A repaint is a call of the app's
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

TASKS = {"moons": MOONS_DEMO_TASK, "seeds": SEEDS_TASK}


class Host(App):
    def __init__(self, task: Task):
        super().__init__()
        self.train_task = task

    def on_mount(self):
        self.push_screen(TrainScreen(self.train_task, title="benchmark"))


def send(app: App, key: str) -> None:
    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    app._driver.send_message(event)


async def in_app(task: Task, every: float) -> dict:
    app = Host(task)
    paints: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        display = app._display

        def timed_display(screen, renderable):
            display(screen, renderable)
            if renderable is not None:
                renderable.render_segments(app.console)
                paints.append(time.perf_counter())

        app._display = timed_display
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

        async def press_and_wait() -> float:
            shown = state()
            seen = len(paints)
            pressed = time.perf_counter()
            send(app, key)
            while state() == shown:
                await asyncio.sleep(0)
            swapped = time.perf_counter()
            while not any(p >= swapped for p in paints[seen:]):
                await asyncio.sleep(0.0005)
            painted = next(p for p in paints[seen:] if p >= swapped)
            return (painted - pressed) * 1000

        idle = []
        for _ in range(6):
            idle.append(await press_and_wait())
            await asyncio.sleep(0.1)
        delays: list[float] = []
        start = time.perf_counter()
        send(app, "space")
        while not screen.busy:
            await asyncio.sleep(0.001)
        while screen.busy:
            await asyncio.sleep(every)
            if not screen.busy:
                break
            delays.append(await press_and_wait())
        total = time.perf_counter() - start
        await pilot.pause()
        return {
            "total_s": total,
            "steps": screen.main.step,
            "delays_ms": delays,
            "redraws": redraws,
            "paints": len(paints),
            "key": key,
            "idle_ms": idle,
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
    i = r["idle_ms"]
    print(
        f"key-to-repaint before training:   median {statistics.median(i):.1f} ms, "
        f"worst {max(i):.1f} ms over {len(i)} presses of {r['key']}"
    )
    if d:
        print(
            f"key-to-repaint while training: median {statistics.median(d):.1f} ms, "
            f"worst {max(d):.1f} ms over {len(d)} presses of {r['key']}"
        )
    if args.engine:
        paused = engine_alone(task, pause_gc=True)
        print(f"engine alone, gc paused per step: {paused:.1f} s")
        plain = engine_alone(task, pause_gc=False)
        print(f"engine alone, gc as is:           {plain:.1f} s")


if __name__ == "__main__":
    main()
