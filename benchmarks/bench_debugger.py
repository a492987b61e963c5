"""Key-to-repaint time of the debugger screen, per backward step (run by hand, not in CI).

    /work/venv/bin/python benchmarks/bench_debugger.py            # all three graphs
    /work/venv/bin/python benchmarks/bench_debugger.py --steps 60

For each graph the screen is opened at 80×24 under Textual's headless driver (``App.run_test``),
then ``n`` is pressed repeatedly. One sample is the time from handing the key event to the driver
(as ``Pilot.press`` does) until the step has been applied, every message it caused has been
handled, and the screen has been composed and written out again, twice, so the
``call_after_refresh`` that moves the tree cursor is included. ``Pilot.press`` itself is not
timed: it sleeps in 20 ms slices until the process looks idle, which would swamp the figure. A pass shorter than the number of samples asked for is
reset (untimed) and stepped again. The time to open the screen (recording the backward pass and
building the first tree lines) is reported separately, as are ``p`` (undo) and ``e`` (run to the
end) on the largest graph.

Graphs:

* the seeds' expression ``L = (a*b + c) * f``;
* the seeds' network, MLP(3, [4, 4, 1]) with 41 parameters, its sum-of-squares loss over the four
  samples;
* a graph of about 10,000 values: MLP(3, [16, 16, 1]) over enough samples of the same kind.

Target: under 50 ms median per step for each.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual import events  # noqa: E402
from textual.app import App  # noqa: E402

from engine.expr import parse_program  # noqa: E402
from engine.nn import MLP  # noqa: E402
from engine.value import Value, topological_order  # noqa: E402
from tutor.screens.debugger import DebuggerScreen  # noqa: E402

SEEDS_PROGRAM = "a = 2; b = -3; c = 10; f = -2\ne = a * b\nd = e + c\nL = d * f"
SEEDS_XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
SEEDS_YS = [1.0, -1.0, -1.0, 1.0]


class BuiltGraph:
    """A `DebuggerProgram` whose builds are ``make()``'s graph (no inputs to nudge)."""

    text = "# a graph built in Python"

    def __init__(self, make):
        self._make = make
        self.inputs = {}

    def build(self, inputs=None):
        return SimpleNamespace(output=self._make(), inputs={}, values={})


def mlp_loss(sizes, xs, ys, seed=1):
    def make():
        model = MLP(3, sizes, seed=seed)
        loss = None
        for x, y in zip(xs, ys):
            term = (model([Value(v) for v in x]) - y) ** 2
            loss = term if loss is None else loss + term
        loss.label = "loss"
        return loss

    return make


def ten_thousand():
    """Enough samples for MLP(3, [16, 16, 1]) to make a graph of about 10,000 values."""
    xs, ys = [], []
    k = 0
    while True:
        x = [((k * 7 + i * 3) % 11) / 5 - 1 for i in range(3)]
        xs.append(x)
        ys.append(1.0 if k % 2 else -1.0)
        k += 1
        size = len(topological_order(mlp_loss([16, 16, 1], xs, ys)()))
        if size >= 10_000:
            return mlp_loss([16, 16, 1], xs, ys), size


class Host(App):
    def __init__(self, program):
        super().__init__()
        self.program = program

    def on_mount(self):
        self.push_screen(DebuggerScreen(self.program, title="benchmark"))


async def press(pilot, key: str, stepper) -> float:
    """Send ``key`` and return the milliseconds until the step is on screen."""
    app = pilot.app
    event = events.Key(key, key)
    event.set_sender(app)
    before = stepper.position
    start, cpu = time.perf_counter(), time.process_time()
    app._driver.send_message(event)
    while stepper.position == before:
        await asyncio.sleep(0)
    await settle(pilot)
    CPU.append((time.process_time() - cpu) * 1000)
    return (time.perf_counter() - start) * 1000


CPU: list[float] = []  # process time of each sample, beside its wall time


async def settle(pilot):
    await pilot._wait_for_screen()
    pilot.app.screen._on_timer_update()
    await pilot._wait_for_screen()
    pilot.app.screen._on_timer_update()


async def measure(program, steps: int, extra: bool = False) -> dict:
    app = Host(program)
    result = {}
    t0 = time.perf_counter()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        result["open_ms"] = (time.perf_counter() - t0) * 1000
        screen = app.screen
        stepper = screen.stepper
        result["values"] = len(stepper.nodes)
        result["steps"] = len(stepper.steps)
        samples = []
        CPU.clear()
        while len(samples) < steps:
            if stepper.done:  # a short pass: start it again (not timed) and keep stepping
                await press(pilot, "r", stepper)
                CPU.pop()
            samples.append(await press(pilot, "n", stepper))
        result["next_ms"] = samples
        result["next_cpu_ms"] = list(CPU)
        if extra:
            undo = []
            for _ in range(min(10, stepper.position)):
                undo.append(await press(pilot, "p", stepper))
            result["back_ms"] = undo
            result["end_ms"] = await press(pilot, "e", stepper)
        result["tree_lines"] = len(screen.graph_tree._tree_nodes)
    return result


def report(name, r):
    s = r["next_ms"]
    print(
        f"{name:<34} {r['values']:>6} values {r['steps']:>6} steps | open {r['open_ms']:7.1f} ms | "
        f"n: median {statistics.median(s):5.1f} ms (cpu {statistics.median(r['next_cpu_ms']):4.1f}), "
        f"max {max(s):5.1f} ms over {len(s)} | "
        f"tree lines built {r['tree_lines']}"
    )
    if "back_ms" in r:
        b = r["back_ms"]
        print(f"{'':<34} p: median {statistics.median(b):5.1f} ms | e (run to end): {r['end_ms']:.1f} ms")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="n presses per graph (default 40)")
    args = parser.parse_args(argv)
    big, size = ten_thousand()
    graphs = [
        ("seeds' expression", parse_program(SEEDS_PROGRAM), False),
        ("MLP(3,[4,4,1]) 41 params, 4 samples", BuiltGraph(mlp_loss([4, 4, 1], SEEDS_XS, SEEDS_YS)), False),
        (f"MLP(3,[16,16,1]) ~{size} values", BuiltGraph(big), True),
    ]
    for name, program, extra in graphs:
        report(name, asyncio.run(measure(program, args.steps, extra)))


if __name__ == "__main__":
    main()
