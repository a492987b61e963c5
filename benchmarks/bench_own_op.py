"""What a node of a learner's own op costs in training, against `tutor.own_op.op_cost`'s estimate.

    /work/venv/bin/python benchmarks/bench_own_op.py

A learner's op (`engine.custom.CustomOp`, made by `tutor.own_op.custom_op`) runs its forward and
its rule through the tutor's interpreter, and a run with it rebuilds its graph every step. For
each op below it times `Trainer.step()` (CPU seconds, the median of a few steps after one to
warm up) with the op as the activation, and with tanh rebuilt every step on the same task; the
difference over the step's activation nodes is what one node of the op costs more. `op_cost`
counts a node as so many built-in values for `engine.cost`'s time budget; the last column, the
estimate over the measured figure in values, must stay at or above 1 for the budget to hold.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.cost import activation_nodes, values_per_step  # noqa: E402
from engine.train import Trainer  # noqa: E402
from tutor.lessons import read_task  # noqa: E402
from tutor.own_op import custom_op, op_cost, read_forward  # noqa: E402
from tutor.rule_code import read_rule  # noqa: E402

TASK = {
    "steps": 100,
    "model": {"layers": [8, 8, 1]},
    "data": {"name": "moons", "samples": 100},
    "loss": {"kind": "sse"},
    "optimiser": {"kind": "sgd", "lr": 0.005},
}
LONG = " + 0 * x * x * x * x * x * x * x * x * x * x"
OPS = {
    "softplus": ("log(1 + exp(x))", "self.grad += sigmoid(self.data) * out.grad"),
    "softplus, a long forward": ("log(1 + exp(x))" + LONG, "self.grad += sigmoid(self.data) * out.grad"),
    "softplus, a long rule": (
        "log(1 + exp(x))",
        "self.grad += (sigmoid(self.data)" + LONG.replace("x", "self.data") + ") * out.grad",
    ),
    "leaky relu": ("x if x > 0 else 0.01 * x", "self.grad += (1 if self.data > 0 else 0.01) * out.grad"),
}


def _per_step(trainer: Trainer, repeat: int = 5) -> float:
    trainer.step()
    times = []
    for _ in range(repeat):
        start = time.process_time()
        trainer.step()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> int:
    task = read_task(TASK)
    values, nodes = values_per_step(task), activation_nodes(task)
    tanh = _per_step(Trainer(task, build_once=False))
    per_value = tanh / values
    print(f"task: moons ×100, [8, 8, 1]: {values:,} values a step, {nodes:,} activation nodes")
    print(f"tanh rebuilt every step: {tanh * 1e3:.1f} ms a step, {per_value * 1e6:.2f} µs a value")
    print(f"{'op':<28} {'µs more a node':>14} {'in values':>9} {'op_cost':>7} {'estimate/measured':>17}")
    for name, (forward_text, line) in OPS.items():
        forward = read_forward(forward_text)
        rule = read_rule(f"def _mine_backward(out):\n    (self,) = out._prev\n    {line}\n")
        op = custom_op("mine", forward, rule)
        extra = (_per_step(Trainer(task, activation=op)) - tanh) / nodes
        measured = 1 + extra / per_value  # the node's own value and what its interpretation adds
        estimate = op_cost(forward, rule)
        print(f"{name:<28} {extra * 1e6:>14.1f} {measured:>9.1f} {estimate:>7} {estimate / measured:>17.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
