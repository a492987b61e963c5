"""Re-measure the constants of `engine.cost`: bytes per value and seconds per value-step.

    /work/venv/bin/python benchmarks/bench_task_cost.py            # every task below
    /work/venv/bin/python benchmarks/bench_task_cost.py --quick    # the smaller ones only
    /work/venv/bin/python benchmarks/bench_task_cost.py --json FILE

For each task it builds a `Trainer`, runs one step to warm up, then:

* **memory**: one more `Trainer.step()` under ``tracemalloc``; the peak above what was allocated
  before the step, divided by the step's values (`engine.cost.values_per_step`, checked here
  against ``len(topological_order(loss))``). The peak is the graph, its topological order, the
  walk's visited set and the grads backward makes, all alive at once.
* **time**: ``--repeat`` more steps without tracemalloc (it slows allocation down); the median
  seconds per step, divided by the step's values.

It prints one line per task and the figures to put in `engine/cost.py`: the largest bytes per
value, and the median and largest seconds per value-step. Each task runs in its own process,
so one task's freed memory does not lower the next one's figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.cost import BYTES_PER_VALUE, SECONDS_PER_VALUE_STEP, values_per_step  # noqa: E402
from engine.train import MOONS_DEMO_TASK, SEEDS_TASK, Trainer  # noqa: E402
from engine.value import topological_order  # noqa: E402
from tutor.lessons import read_task  # noqa: E402


def _moons(layers, samples, **extra):
    return {
        "steps": 100,
        "model": {"layers": layers, "activation": "relu", "linear_output": True},
        "data": {"name": "moons", "samples": samples},
        "loss": {"kind": "max_margin", "l2": 1e-4},
        "optimiser": {"kind": "sgd", "lr": 0.1},
        **extra,
    }


TASKS = {
    "seeds": SEEDS_TASK,
    "moons demo": MOONS_DEMO_TASK,
    "zero-grad lesson, tanh [8, 8, 1] ×40": {
        "steps": 100,
        "model": {"layers": [8, 8, 1]},
        "data": {"name": "moons", "samples": 40},
        "loss": {"kind": "sse"},
        "optimiser": {"kind": "sgd", "lr": 0.01},
    },
    "bce tanh [32, 32, 1] ×200": {
        "steps": 100,
        "model": {"layers": [32, 32, 1]},
        "data": {"name": "xor", "samples": 200},
        "loss": {"kind": "bce"},
        "optimiser": {"kind": "adam", "lr": 0.01},
    },
    "relu [64, 64, 1] ×100": _moons([64, 64, 1], 100),
    "relu [32, 32, 32, 1] ×200": _moons([32, 32, 32, 1], 200),
    "relu [64, 64, 64, 1] ×55": _moons([64, 64, 64, 1], 55),
}
QUICK = ("seeds", "moons demo", "bce tanh [32, 32, 1] ×200")


def measure(name: str, repeat: int) -> dict:
    task = read_task(TASKS[name])
    trainer = Trainer(task)
    loss, _ = trainer.forward()
    counted = len(topological_order(loss))
    estimated = values_per_step(task)
    assert counted == estimated, f"{name}: counted {counted} values, estimated {estimated}"
    del loss
    trainer.step()  # warm up: the optimiser's state, caches

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    trainer.step()
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()

    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        trainer.step()
        times.append(time.perf_counter() - started)
    per_step = statistics.median(times)
    return {
        "task": name,
        "values_per_step": estimated,
        "peak_bytes": peak,
        "bytes_per_value": peak / estimated,
        "seconds_per_step": per_step,
        "seconds_per_value_step": per_step / estimated,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only the smaller tasks")
    parser.add_argument("--repeat", type=int, default=3, help="timed steps per task (default 3)")
    parser.add_argument("--json", metavar="FILE", help="also save the figures as JSON")
    parser.add_argument("--one", metavar="TASK", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.repeat)))
        return 0

    names = QUICK if args.quick else tuple(TASKS)
    rows = []
    for name in names:
        child = subprocess.run(
            [sys.executable, __file__, "--one", name, "--repeat", str(args.repeat)],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(child.stdout)
        rows.append(row)
        print(
            f"{name:<44} {row['values_per_step']:>10,} values  {row['bytes_per_value']:6.1f} B/value"
            f"  {row['seconds_per_step']:8.3f} s/step  {row['seconds_per_value_step'] * 1e6:5.2f} µs/value",
            flush=True,
        )
    per_value = [r["bytes_per_value"] for r in rows]
    per_second = [r["seconds_per_value_step"] for r in rows]
    print()
    print(
        f"bytes per value:        {min(per_value):.0f} to {max(per_value):.0f}  "
        f"(engine.cost.BYTES_PER_VALUE = {BYTES_PER_VALUE})"
    )
    print(
        f"µs per value-step:      {min(per_second) * 1e6:.2f} to {max(per_second) * 1e6:.2f}, "
        f"median {statistics.median(per_second) * 1e6:.2f}  "
        f"(engine.cost.SECONDS_PER_VALUE_STEP = {SECONDS_PER_VALUE_STEP * 1e6:g} µs)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
