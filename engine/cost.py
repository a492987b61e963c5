"""What a training task costs: values per step, the memory they take, and the time a run takes.

A step of `engine.train.Trainer` builds one graph of `Value`s over every sample, runs backward
through it and lets it go. Its size follows from the task's shape alone, so it is counted here
before anything is built, the way a learner would count it from the code:

* each sample brings its inputs (one leaf per number);
* a neuron with ``m`` inputs makes ``m`` products and ``m`` sums (``b + w0*x0 + w1*x1 + ...``)
  and, unless it is linear, one more value for its activation;
* the loss adds a few values per sample (a plain-number target becomes a constant leaf) and then
  sums the samples' terms;
* the parameters are leaves of the graph, and the L2 penalty adds a square per parameter, their
  sum and the scaling.

`values_per_step` is that count; the tests compare it with ``len(topological_order(loss))`` for
many tasks. A learner's own op (`engine.custom.CustomOp`) as the activation makes the same nodes,
but each of its nodes runs an interpreted forward and rule: ``activation_cost`` (the op's
``cost``) says how many built-in values' time one such node takes, and the time budget counts it. Memory and time are that count times constants measured on the project machine
(``benchmarks/bench_task_cost.py`` measures them again). `over_budget` says whether a task fits
the budget below and, if not, what to shrink; it is checked when a lesson's train block or a task
file is read (``tutor.lessons.read_task``: ``tutor check``, ``tutor train``, the app) and again
when a `Trainer` is built, so no lesson file or learner can make a step that eats the machine.

Pure Python, no imports from the tutor or any UI.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BYTES_PER_VALUE",
    "SECONDS_PER_VALUE_STEP",
    "MAX_VALUES_PER_STEP",
    "MAX_VALUE_STEPS",
    "TaskCost",
    "activation_nodes",
    "values_per_step",
    "task_cost",
    "over_budget",
]

# Peak memory of one `Trainer.step()` (the graph, its topological order and the walk's visited
# set, the grads backward makes) divided by the step's values: measured with tracemalloc by
# `benchmarks/bench_task_cost.py` on the project machine (Python 3.11.7, 64-bit Linux) on seven
# tasks from 360 to 959,084 values per step, 218 to 250 bytes; this is the largest. (The
# 50,016,216-value task that once took 12.7 GB is 254 bytes per value.)
BYTES_PER_VALUE = 250

# Seconds of `Trainer.step()` per value of its graph on the same tasks and machine (2 cores, shared,
# the collector paused as the step does): 2.2 to 4.2 µs, median 3.0 and 3.3 µs in two runs. The
# time of a run is estimated as values per step × steps × this.
SECONDS_PER_VALUE_STEP = 3.0e-6

# The budget. micrograd's moons demo, the largest task of the course, builds 65,814 values per
# step for 100 steps (6.6 million value-steps, ≈ 20 s); the limits leave it far inside.
MAX_VALUES_PER_STEP = 1_000_000  # ≈ 250 MB at a step's peak, ≈ 3 s a step: 15 times the demo
MAX_VALUE_STEPS = 50_000_000  # ≈ 2.5 minutes for a whole run: 7.5 times the demo

# Values each loss adds per sample, besides the model's output (see `engine.losses`):
#   sse         (pred - y) ** 2: the constant y, the difference, the square
#   max_margin  relu(1 - y * score): y*score (2), 1 - (...) (2), relu
#   bce         y*log(p + eps) (5) + (1-y)*log(1 - p + eps) (7), and their sum
_PER_SAMPLE = {"sse": 3, "max_margin": 5, "bce": 13}


def values_per_step(task) -> int:
    """How many values one training step of ``task`` builds (its loss graph's node count)."""
    m, d = task.model, task.data
    seeds = d.name == "seeds"
    inputs = m.inputs if m.inputs is not None else (3 if seeds else 2)
    samples = 4 if seeds else d.samples
    sizes = [inputs, *m.layers]

    per_sample = inputs  # the sample's input leaves
    parameters = 0
    for i, (fan_in, width) in enumerate(zip(sizes, sizes[1:])):
        last = i == len(m.layers) - 1
        activation = "linear" if last and m.linear_output else m.activation
        squash = activation != "linear"
        per_sample += width * (2 * fan_in + squash)  # products, sums, the activation
        parameters += width * (fan_in + 1)
    ends_in_sigmoid = m.activation == "sigmoid" and not m.linear_output
    kind = task.loss.kind
    if kind == "bce" and not ends_in_sigmoid:
        per_sample += 1  # the driver's sigmoid that turns the score into a probability
    per_sample += _PER_SAMPLE[kind]

    count = samples * per_sample + (samples - 1)  # every sample's values, and adding them up
    if kind in ("max_margin", "bce") and samples > 1:
        count += 2  # the mean: * (1 / n), a constant and a product
    if kind == "bce":
        count += 2  # the minus sign: * -1
    count += parameters  # the weights and biases are leaves of the graph
    if task.loss.l2:
        # alpha * sum(p * p): a square per parameter, the sums, alpha and its product, then + loss
        count += parameters + (parameters - 1) + 2 + 1
    return count


def activation_nodes(task) -> int:
    """How many of a step's values are activation nodes (one per squashed neuron per sample)."""
    m, d = task.model, task.data
    samples = 4 if d.name == "seeds" else d.samples
    squashed = m.layers[:-1] if m.linear_output else m.layers
    return 0 if m.activation == "linear" else samples * sum(squashed)


@dataclass(frozen=True)
class TaskCost:
    values_per_step: int
    steps: int
    slow_nodes: int = 0  # activation nodes of a learner's op, each taking `node_cost` values' time
    node_cost: int = 1

    @property
    def time_values_per_step(self) -> int:
        """The step's values weighted by time: a learner's op's node counts as ``node_cost``."""
        return self.values_per_step + self.slow_nodes * (self.node_cost - 1)

    @property
    def value_steps(self) -> int:
        return self.time_values_per_step * self.steps

    @property
    def bytes_per_step(self) -> int:
        return self.values_per_step * BYTES_PER_VALUE

    @property
    def seconds_per_step(self) -> float:
        return self.time_values_per_step * SECONDS_PER_VALUE_STEP

    @property
    def seconds(self) -> float:
        return self.value_steps * SECONDS_PER_VALUE_STEP


def task_cost(task, *, activation_cost: int = 1) -> TaskCost:
    """The estimated cost of a whole run of ``task``; ``activation_cost`` as for `over_budget`."""
    slow = activation_nodes(task) if activation_cost > 1 else 0
    return TaskCost(values_per_step(task), task.steps, slow, max(activation_cost, 1))


def over_budget(task, *, activation_cost: int = 1) -> tuple[tuple[str, ...], str] | None:
    """None if ``task`` fits the budget; else (the key to change, a message saying by how much).

    ``activation_cost``: the built-in values' time one activation node takes (a learner's own op,
    `engine.custom.CustomOp.cost`; 1 for the engine's ops). Memory does not change with it."""
    cost = task_cost(task, activation_cost=activation_cost)
    d = task.data
    slow = (
        f", counting each of the new op's {_about(cost.slow_nodes)} nodes a step as {cost.node_cost} "
        "values (their forward and rule are interpreted)"
        if cost.slow_nodes
        else ""
    )
    if cost.time_values_per_step > MAX_VALUES_PER_STEP:
        size = _over(cost.time_values_per_step, MAX_VALUES_PER_STEP)
        what = (
            f"this task builds about {size} values per step{slow} "
            if not slow
            else f"a step of this task takes the time of about {size} values{slow} "
        ) + (
            f"(≈ {_bytes(cost.bytes_per_step)}, ≈ {_seconds(cost.seconds_per_step)} a step); "
            f"the limit is {MAX_VALUES_PER_STEP:,}"
        )
        fit = _largest_fitting_samples(task, MAX_VALUES_PER_STEP, activation_cost)
        if d.name != "seeds" and fit >= 1:
            return ("data", "samples"), f"{what}; use fewer samples ({d.samples} → {fit}) or smaller layers"
        return ("model", "layers"), f"{what}; use fewer or smaller layers"
    if cost.value_steps > MAX_VALUE_STEPS:
        what = (
            f"a run of this task {'takes the time of' if slow else 'builds'} about "
            f"{_over(cost.value_steps, MAX_VALUE_STEPS)} values in all{slow} "
            f"({_about(cost.time_values_per_step)} per step × {task.steps} steps, ≈ {_seconds(cost.seconds)}); "
            f"the limit is {MAX_VALUE_STEPS:,}"
        )
        steps = MAX_VALUE_STEPS // cost.time_values_per_step
        extra = " or smaller layers" if d.name == "seeds" else ", smaller layers or fewer samples"
        return ("steps",), f"{what}; use fewer steps ({task.steps} → {steps}){extra}"
    return None


def _largest_fitting_samples(task, limit: int, activation_cost: int = 1) -> int:
    """The most samples (of the task's data, up to its own count) that keep a step within limit."""
    from dataclasses import replace

    def fits(n: int) -> bool:
        smaller = replace(task, data=replace(task.data, samples=n))
        return task_cost(smaller, activation_cost=activation_cost).time_values_per_step <= limit

    low, high = 0, task.data.samples  # fits(low) is assumed, fits(high) is known to be False
    while high - low > 1:
        mid = (low + high) // 2
        if fits(mid):
            low = mid
        else:
            high = mid
    return low


def _about(n: int) -> str:
    """A count rounded to two significant figures, with separators: 66,014,000 → 66,000,000."""
    if n < 100:
        return str(n)
    digits = len(str(n)) - 2
    return f"{round(n, -digits):,}"


def _over(n: int, limit: int) -> str:
    """``n`` as `_about` gives it, or exactly where rounding would bring it down to ``limit``."""
    rounded = _about(n)
    return rounded if int(rounded.replace(",", "")) > limit else f"{n:,}"


def _bytes(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            x = n / size
            return f"{x:.1f} {unit}" if x < 10 else f"{x:.0f} {unit}"
    return f"{n:.0f} bytes"


def _seconds(s: float) -> str:
    if s >= 3600:
        return f"{s / 3600:.1f} hours"
    if s >= 60:
        minutes = s / 60
        return f"{minutes:.1f} minutes" if minutes < 10 else f"{minutes:.0f} minutes"
    if s >= 1:
        return f"{s:.0f} s"
    return f"{s * 1000:.0f} ms"
