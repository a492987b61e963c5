"""Our engine against micrograd 0.1.0 on micrograd's own demo. Run by hand, not by pytest.

    python3 -m venv /tmp/mgvenv && /tmp/mgvenv/bin/pip install micrograd==0.1.0   # once
    /work/venv/bin/python benchmarks/bench_engine.py --micrograd-python /tmp/mgvenv/bin/python
    ... --cpu    # CPU seconds of each worker instead of the wall clock (a shared machine)

micrograd is never a dependency of the project: it lives in its own virtual environment, and only
the micrograd worker process imports it.

The workload is micrograd's demo notebook: MLP(2, [16, 16, 1]) with ReLU and a linear output,
100 moons points (noise 0.1), max-margin loss + 1e-4 * L2, full-batch SGD with learning rate
1.0 - 0.9 * k / 100. Each engine trains in its own process with Python's default garbage
collector settings (nothing here touches ``gc``). Both start from the same weights (micrograd's
initial parameters, copied into ours in parameter order) and see the same data.

It prints, and with ``--json`` saves: seconds per training step for each engine (median over
steps), the ratios against micrograd (targets: the notebook's loop at least 12x, ``Trainer.step()``
at least 40x), how far apart the losses and every gradient are over the first five steps (limit
1e-12), the time of ``loss.backward()`` against recording the same graph in
``engine.stepper.Stepper`` (target at most 2x) and stepping it to the end (at most 3x), and the
memory of one step's graph per node in each engine (tracemalloc), with the objects per node the
cyclic garbage collector has to walk.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
COMPARE_STEPS = 5  # steps whose losses and every gradient are compared
AGREE = 1e-12  # how close they must be
ALPHA = 1e-4
# --cpu: every figure in CPU seconds of the worker (time.process_time), not the wall clock, so
# that other work on a shared machine does not count (it still slows the caches); the workers
# hear it through the environment
CPU_CLOCK = os.environ.get("BENCH_CLOCK") == "cpu"
clock = time.process_time if CPU_CLOCK else time.perf_counter


# ----------------------------------------------------------------- the two workers


def graph_memory(build, walk):
    """Bytes (tracemalloc) and objects tracked by the cyclic collector per node of one graph."""
    import gc
    import tracemalloc

    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        objects_before = len(gc.get_objects())
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        root = build()
        size = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        objects = len(gc.get_objects()) - objects_before
        nodes = len(walk(root))
    finally:
        if was_enabled:
            gc.enable()
    return {"nodes": nodes, "bytes_per_node": size / nodes, "tracked_objects_per_node": objects / nodes}


def micrograd_topo(root):
    """micrograd's own build_topo (from Value.backward), to count a graph's nodes."""
    topo, visited, stack = [], set(), [(root, False)]
    while stack:
        v, done = stack.pop()
        if done:
            topo.append(v)
        elif v not in visited:
            visited.add(v)
            stack.append((v, True))
            stack.extend((child, False) for child in v._prev)
    return topo


def demo_step_micrograd(model, Value, X, y, k, steps):
    """One step of micrograd's demo, as its notebook writes it."""
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * k / steps
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return total_loss.data, sum(accuracy) / len(accuracy)


def run_micrograd(data, steps, seed):
    import random

    from micrograd.engine import Value
    from micrograd.nn import MLP

    random.seed(seed)
    model = MLP(2, [16, 16, 1])
    initial = [p.data for p in model.parameters()]

    def step(k):
        return demo_step_micrograd(model, Value, data["xs"], data["ys"], k, steps)

    result = _train(model, step, steps)

    def build():
        scores = [model(list(map(Value, xrow))) for xrow in data["xs"]]
        losses = [(1 + -yi * si).relu() for yi, si in zip(data["ys"], scores)]
        return sum(losses) * (1.0 / len(losses)) + ALPHA * sum(p * p for p in model.parameters())

    result["memory"] = graph_memory(build, micrograd_topo)
    return initial, result


def demo_step_ours(model, optimiser, X, y):
    """The same step written with our modules."""
    from engine.losses import l2_penalty, max_margin, sign_accuracy
    from engine.value import Value

    inputs = [[Value(c) for c in xrow] for xrow in X]
    scores = [model(x) for x in inputs]
    total_loss = max_margin(scores, y) + l2_penalty(model.parameters(), ALPHA)
    accuracy = sign_accuracy(scores, y)
    optimiser.zero_grad()
    total_loss.backward()
    optimiser.step()
    return total_loss.data, accuracy


def run_ours(data, steps, initial):
    sys.path.insert(0, ROOT)
    from engine.nn import MLP
    from engine.optim import SGD

    model = MLP(2, [16, 16, 1], activation="relu", linear_output=True, seed=0)
    model.set_parameter_values(initial)
    optimiser = SGD(model.parameters(), lr=1.0, decay="linear", steps=steps)
    result = _train(model, lambda k: demo_step_ours(model, optimiser, data["xs"], data["ys"]), steps)
    from engine.losses import l2_penalty, max_margin
    from engine.value import Value, topological_order

    def build():
        scores = [model([Value(c) for c in x]) for x in data["xs"]]
        return max_margin(scores, data["ys"]) + l2_penalty(model.parameters(), ALPHA)

    result["memory"] = graph_memory(build, topological_order)
    return result


def run_ours_trainer(data, steps, initial, data_seed):
    """The app's path: `Trainer.step()` on the same task (adds labels, grad norm, checks)."""
    sys.path.insert(0, ROOT)
    from engine.train import MOONS_DEMO_TASK, Trainer
    from tutor.lessons import read_task

    config = dict(MOONS_DEMO_TASK, steps=steps)
    config["data"] = dict(config["data"], seed=data_seed)
    trainer = Trainer(read_task(config))
    assert trainer.data.xs == data["xs"] and trainer.data.ys == data["ys"], "not the same data"
    trainer.model.set_parameter_values(initial)
    times, losses, grads = [], [], []
    for k in range(steps):
        t0 = clock()
        report = trainer.step()
        times.append(clock() - t0)
        losses.append(report.loss)
        if k < COMPARE_STEPS:
            grads.append([p.grad for p in trainer.model.parameters()])
    # the first step builds the graph, the others replay it: the median is a replayed step
    return {"times": times, "losses": losses, "grads": grads, "final_accuracy": report.accuracy}


class GcWatch:
    """Counts the collector's passes and the time they take, without changing any setting."""

    def __init__(self):
        self.passes = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self._started = 0.0

    def __call__(self, phase, info):
        if phase == "start":
            self._started = clock()
        else:
            self.passes[info["generation"]] += 1
            self.seconds[info["generation"]] += clock() - self._started

    def __enter__(self):
        import gc

        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc):
        import gc

        gc.callbacks.remove(self)


def _train(model, step, steps):
    times, losses, grads = [], [], []
    with GcWatch() as watch:
        for k in range(steps):
            t0 = clock()
            loss, accuracy = step(k)
            times.append(clock() - t0)
            losses.append(loss)
            if k < COMPARE_STEPS:
                grads.append([p.grad for p in model.parameters()])
    return {
        "times": times,
        "losses": losses,
        "grads": grads,
        "final_accuracy": accuracy,
        "gc_passes_per_step": [n / steps for n in watch.passes],
        "gc_seconds_per_step": sum(watch.seconds) / steps,
    }


def time_stepper(data, initial, repeats=7):
    """Median seconds of loss.backward() and of Stepper(loss) (+ stepping it to the end)."""
    sys.path.insert(0, ROOT)
    from engine.nn import MLP

    try:
        from engine.stepper import Stepper
    except ImportError:
        return None
    model = MLP(2, [16, 16, 1], activation="relu", linear_output=True, seed=0)
    model.set_parameter_values(initial)
    from engine.losses import l2_penalty, max_margin
    from engine.value import Value

    def fresh_loss():
        scores = [model([Value(c) for c in x]) for x in data["xs"]]
        return max_margin(scores, data["ys"]) + l2_penalty(model.parameters(), ALPHA)

    plain, record, walk = [], [], []
    for _ in range(repeats):
        loss = fresh_loss()
        t0 = clock()
        loss.backward()
        plain.append(clock() - t0)
        del loss
        loss = fresh_loss()
        model.zero_grad()
        t0 = clock()
        stepper = Stepper(loss)
        record.append(clock() - t0)
        t0 = clock()
        stepper.run_to_end()
        walk.append(clock() - t0)
        del stepper, loss
        model.zero_grad()
    return {
        "backward": statistics.median(plain),
        "stepper_record": statistics.median(record),
        "stepper_run_to_end": statistics.median(walk),
    }


def worker(args):
    with open(args.data) as f:
        data = json.load(f)
    if args.worker == "micrograd":
        initial, result = run_micrograd(data, args.steps, args.seed)
        result["initial"] = initial
    else:
        with open(args.initial) as f:
            initial = json.load(f)
        if args.worker == "ours":
            result = run_ours(data, args.steps, initial)
            result["stepper"] = time_stepper(data, initial)
        else:
            result = run_ours_trainer(data, args.steps, initial, args.data_seed)
    import gc

    result["python"] = sys.version.split()[0]
    result["gc_threshold"] = list(gc.get_threshold())
    result["gc_enabled"] = gc.isenabled()
    with open(args.out, "w") as f:
        json.dump(result, f)


# ---------------------------------------------------------------------- the parent


def run_worker(python, name, tmp, steps, seed, data_seed, data_path, initial_path=None):
    out = os.path.join(tmp, f"{name}.json")
    cmd = [python, os.path.abspath(__file__), "--worker", name, "--data", data_path, "--out", out]
    cmd += ["--steps", str(steps), "--seed", str(seed), "--data-seed", str(data_seed)]
    if initial_path:
        cmd += ["--initial", initial_path]
    subprocess.run(cmd, check=True, cwd=tmp)  # cwd away from the repo: micrograd's process sees no engine/
    with open(out) as f:
        return json.load(f)


def _gc_line(result):
    passes = "/".join(f"{n:.1f}" for n in result["gc_passes_per_step"])
    return f"collector: {result['gc_seconds_per_step']:.4f} s per step in {passes} passes of gen 0/1/2"


def max_abs_diff(a, b):
    return max(abs(x - y) for x, y in zip(a, b))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--micrograd-python",
        default="/tmp/mgvenv/bin/python",
        help="a Python with micrograd==0.1.0 installed (default: %(default)s)",
    )
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1337, help="micrograd's random.seed (the demo's 1337)")
    parser.add_argument("--data-seed", type=int, default=1)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--cpu", action="store_true", help="time in CPU seconds of each worker, not the wall clock"
    )
    parser.add_argument("--worker", choices=["micrograd", "ours", "trainer"], help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--initial", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    if args.cpu:
        os.environ["BENCH_CLOCK"] = "cpu"  # for the workers

    sys.path.insert(0, ROOT)
    from engine.data import moons

    dataset = moons(100, 0.1, seed=args.data_seed)
    with tempfile.TemporaryDirectory() as tmp:
        data_path = os.path.join(tmp, "data.json")
        with open(data_path, "w") as f:
            json.dump({"xs": dataset.xs, "ys": dataset.ys}, f)
        mg_args = (args.steps, args.seed, args.data_seed, data_path)
        mg = run_worker(args.micrograd_python, "micrograd", tmp, *mg_args)
        initial_path = os.path.join(tmp, "initial.json")
        with open(initial_path, "w") as f:
            json.dump(mg["initial"], f)
        common = (args.steps, args.seed, args.data_seed, data_path, initial_path)
        ours = run_worker(sys.executable, "ours", tmp, *common)
        ours["trainer"] = run_worker(sys.executable, "trainer", tmp, *common)

    mg_step = statistics.median(mg["times"])
    our_step = statistics.median(ours["times"])
    trainer_step = statistics.median(ours["trainer"]["times"])
    loss_diff = max_abs_diff(mg["losses"][:COMPARE_STEPS], ours["losses"][:COMPARE_STEPS])
    grad_diff = max(max_abs_diff(g, h) for g, h in zip(mg["grads"], ours["grads"]))
    tr = ours["trainer"]
    trainer_loss_diff = max_abs_diff(mg["losses"][:COMPARE_STEPS], tr["losses"][:COMPARE_STEPS])
    trainer_grad_diff = max(max_abs_diff(g, h) for g, h in zip(mg["grads"], tr["grads"]))
    final_diff = abs(mg["losses"][-1] - ours["losses"][-1])
    figures = {
        "python": ours["python"],
        "gc_threshold": ours["gc_threshold"],
        "micrograd_seconds_per_step": mg_step,
        "ours_seconds_per_step": our_step,
        "ours_trainer_seconds_per_step": trainer_step,
        "speedup": mg_step / our_step,
        "speedup_trainer": mg_step / trainer_step,
        "max_loss_diff_first_steps": loss_diff,
        "max_grad_diff_first_steps": grad_diff,
        "trainer_max_loss_diff_first_steps": trainer_loss_diff,
        "trainer_max_grad_diff_first_steps": trainer_grad_diff,
        "memory_micrograd": mg["memory"],
        "memory_ours": ours["memory"],
        "final_loss_micrograd": mg["losses"][-1],
        "final_loss_ours": ours["losses"][-1],
        "final_loss_diff": final_diff,
        "final_accuracy_micrograd": mg["final_accuracy"],
        "final_accuracy_ours": ours["final_accuracy"],
        "micrograd_gc_seconds_per_step": mg["gc_seconds_per_step"],
        "micrograd_gc_passes_per_step": mg["gc_passes_per_step"],
        "ours_gc_seconds_per_step": ours["gc_seconds_per_step"],
        "ours_gc_passes_per_step": ours["gc_passes_per_step"],
        "stepper": ours["stepper"],
    }
    print(f"Python {figures['python']}, gc thresholds {figures['gc_threshold']} in both workers")
    print("times in CPU seconds of each worker (--cpu)" if args.cpu else "times by the wall clock")
    print(f"micrograd 0.1.0       {mg_step:.4f} s per step (median of {len(mg['times'])}); {_gc_line(mg)}")
    print(
        f"ours (demo loop)      {our_step:.4f} s per step   -> {mg_step / our_step:.1f}x faster; "
        f"{_gc_line(ours)}"
    )
    print(f"ours (Trainer.step)   {trainer_step:.4f} s per step   -> {mg_step / trainer_step:.1f}x faster")
    for who, ld, gd in (
        ("demo loop", loss_diff, grad_diff),
        ("Trainer", trainer_loss_diff, trainer_grad_diff),
    ):
        verdict = "agree" if max(ld, gd) <= AGREE else "DISAGREE"
        print(
            f"first {COMPARE_STEPS} steps, {who} vs micrograd: max |loss diff| {ld:.2e}, "
            f"max |grad diff| {gd:.2e} ({verdict} to {AGREE:g})"
        )
    print(
        f"after {args.steps} steps: loss {mg['losses'][-1]:.6f} vs {ours['losses'][-1]:.6f}, "
        f"accuracy {mg['final_accuracy']:.2f} vs {ours['final_accuracy']:.2f}"
    )
    for who, m in (("micrograd", mg["memory"]), ("ours", ours["memory"])):
        print(
            f"one step's graph, {who}: {m['nodes']} nodes, {m['bytes_per_node']:.0f} bytes per node, "
            f"{m['tracked_objects_per_node']:.2f} objects per node for the collector"
        )
    st = ours["stepper"]
    if st is None:
        print("engine.stepper not found: stepper timing skipped")
    else:
        print(
            f"backward() {st['backward']:.4f} s; Stepper(loss) records it in {st['stepper_record']:.4f} s "
            f"({st['stepper_record'] / st['backward']:.2f}x); run_to_end {st['stepper_run_to_end']:.4f} s "
            f"({st['stepper_run_to_end'] / st['backward']:.2f}x)"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
