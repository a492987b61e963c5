"""The runs of the training screen, without the screen: what is trained, and how it moves on.

`Training` holds the runs of one `engine.train.Task` that the training screen shows: the main
run and, on demand, a bug run from the same initial weights with a mistake of the one registry
(`engine.mistakes.TRAINING`) switched on. `Training.tick` steps them in lockstep (a run that is
behind catches up first) and returns what each step reported as plain data (`Tick`); the screen
hands those back to `Training.apply` on its own thread, so the trainers are only ever touched by
whoever calls ``tick`` (the screen's worker thread, or a test's).

A `Snapshot` is the weights after a step, copied out, with the network run on plain floats from
the op table (`engine.nn.float_activation`, `engine.ops.OPS`): the table and the decision boundary
need hundreds of forward passes, far too many to build a graph of `Value`s for each.
`SampleProgram` is one sample's loss graph with fixed weights, in the form the debugger opens.

`Orders` is what the learner has asked the worker for (every step left, one more step, or none:
pause), safe to share between the UI and the worker thread.

Nothing here imports Textual: it is the logic of the screen, and tests run it without one.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, partial, reduce
from types import MappingProxyType

from engine.mistakes import HIGH_LR_FACTOR, MISTAKES, TRAINING
from engine.nn import ACTIVATIONS, DISPLAY_NAMES, float_activation
from engine.ops import OPS
from engine.train import StepReport, Task, Trainer, TrainingStopped
from engine.value import topological_order

__all__ = [
    "BUGS",
    "BUG_MARKER",
    "LEARNING_RATES",
    "MAIN_MARKER",
    "Orders",
    "Run",
    "SampleGraph",
    "SampleProgram",
    "Snapshot",
    "Tick",
    "Training",
    "describe_task",
    "next_rate",
]

NO_BUG = "no bug"  # a run of the code as it should be: it can still fail (a learning rate too large)

# key -> (legend label, what it does), in the order the picker lists them: the mistake registry's
BUGS = {key: (MISTAKES[key].label, MISTAKES[key].what) for key in TRAINING}
MAIN_MARKER = "•"
BUG_MARKER = "x"

# the steps of ``+`` and ``-``: 1, 2, 5 in every decade
LEARNING_RATES = tuple(m * 10.0**e for e in range(-4, 3) for m in (1, 2, 5))

_LOSS_NAMES = {"sse": "squared error", "max_margin": "max-margin", "bce": "cross-entropy"}


def describe_task(task: Task, lr: float | None = None, *, activation: str = "") -> tuple[str, str]:
    """Two short lines: the model and the data; the loss, the optimiser and the steps.
    ``activation`` names the activation instead of the task (a learner's own op: "your softplus")."""
    m, d, loss, o = task.model, task.data, task.loss, task.optimiser
    inputs = m.inputs if m.inputs is not None else (3 if d.name == "seeds" else 2)
    sizes = [inputs, *m.layers]
    params = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    shape = " → ".join(str(s) for s in sizes)
    act = (activation or DISPLAY_NAMES[m.activation]) + (", linear out" if m.linear_output else "")
    data = "the seeds' 4 samples" if d.name == "seeds" else f"{d.name} ×{d.samples}, noise {d.noise:g}"
    first = f"MLP({shape}) {act} · {params} parameters · {data}"
    lr = o.lr if lr is None else lr
    loss_text = _LOSS_NAMES[loss.kind] + (f" + {loss.l2:g}·L2" if loss.l2 else "")
    opt = "SGD" if o.kind == "sgd" else "Adam"
    if o.kind == "sgd" and o.momentum:
        opt += f" momentum {o.momentum:g}"
    rate = f"lr {lr:g}" + (f" → {lr * 0.1:g} (linear decay)" if o.decay == "linear" else "")
    second = f"loss {loss_text} · {opt}, {rate} · {task.steps} steps"
    if task.mistake:
        second += f" · bug: {BUGS[task.mistake][0]}"
    return first, second


def next_rate(lr: float, direction: int) -> float | None:
    """The learning rate one step up (``direction`` > 0) or down `LEARNING_RATES`; None past its end."""
    if direction > 0:
        return next((r for r in LEARNING_RATES if r > lr * 1.0001), None)
    return next((r for r in reversed(LEARNING_RATES) if r < lr * 0.9999), None)


# --------------------------------------------------------------------------- snapshots

# The engine's own arithmetic on floats, from the op table: a neuron is b + w0*x0 + w1*x1 + ...
# (in that order, as `engine.nn.Neuron` sums it), then its activation.
_ADD = OPS["+"].forward
_MUL = OPS["*"].forward
_ACTIVATE = {name: float_activation(name) for name in ACTIVATIONS}


def _float_of(activation):
    """An activation on a plain float: the op table's for a name, a custom op's own forward (nan
    where it has no value: the boundary's grid reaches far from the data, and is blank there)."""
    return _ACTIVATE[activation] if activation.__class__ is str else partial(_or_nan, activation.forward)


def _or_nan(forward, z: float) -> float:
    try:
        return forward(z)
    except OverflowError:  # a learner's op refuses a number it has no value at (`tutor.own_op`)
        return math.nan


@dataclass(frozen=True)
class Snapshot:
    """The weights after one step, copied out of the trainer, and what they predict.

    ``output`` runs the network on plain floats: the same arithmetic, in the same order, as the
    engine's forward pass, so its numbers are the engine's to the last bit.
    """

    step: int
    values: tuple[float, ...]  # every parameter, in model.parameters() order
    layers: tuple  # per layer, per neuron: (weights, bias, activation name)
    squash: bool  # bce on a model without a sigmoid at the end: the driver adds one
    threshold: float  # an output above it says +1: 0.5 for probabilities (bce), else 0
    xs: Sequence[Sequence[float]] = field(default=(), compare=False, repr=False)  # the data (not copied)

    @classmethod
    def take(cls, trainer: Trainer) -> Snapshot:
        layers = tuple(
            tuple((tuple(w.data for w in n.w), n.b.data, n.activation) for n in layer.neurons)
            for layer in trainer.model.layers
        )
        bce = trainer.task.loss.kind == "bce"
        squash = bce and layers[-1][0][2] != "sigmoid"
        values = tuple(trainer.model.parameter_values())
        return cls(trainer.steps_done, values, layers, squash, 0.5 if bce else 0.0, trainer.data.xs)

    @cached_property
    def outputs(self) -> tuple[float, ...]:
        """The output for every sample of the data, worked out when first asked for: a run takes a
        snapshot every step, and the screen draws only a few of them a second."""
        return tuple(self.output(x) for x in self.xs)

    def output(self, x: Sequence[float]) -> float:
        for layer in self.layers:
            x = [_float_of(act)(reduce(_ADD, map(_MUL, w, x), b)) for w, b, act in layer]
        return _ACTIVATE["sigmoid"](x[0]) if self.squash else x[0]

    def says_positive(self, out: float) -> bool:
        return out > self.threshold

    def positive_at(self, x: float, y: float) -> bool:
        """Whether the network says +1 at the point (x, y) of a 2-D input (the decision boundary)."""
        return self.output((x, y)) > self.threshold

    def right(self, out: float, target: float) -> bool:
        """Whether an output classifies its sample right (the engine's accuracy rule)."""
        return (out > self.threshold) == (target > self.threshold)


# --------------------------------------------------------------------------- into the debugger


@dataclass
class SampleGraph:
    """What `SampleProgram.build` returns: the shape the debugger expects of a built program."""

    output: object
    inputs: dict
    values: dict = field(default_factory=dict)


class SampleProgram:
    """One sample's loss graph with fixed weights, in the form `DebuggerScreen` takes a program.

    ``build(inputs)`` makes a fresh graph each time (with ``Trainer.sample_graph``); ``inputs``
    are the network's parameters by label (``w[0][1][2]`` ...), so the debugger's gradient check
    nudges every weight and bias.
    """

    def __init__(self, task: Task, weights: Sequence[float], index: int, *, activation=None) -> None:
        """``activation``: a learner's `engine.custom.CustomOp` in place of the task's (`Trainer`'s)."""
        self._trainer = Trainer(replace(task, mistake=None), activation=activation)
        self._params = self._trainer.model.parameters()
        self._trainer.model.set_parameter_values(weights)
        self.index = index
        self.inputs = {p.label: p.data for p in self._params}
        x = self._trainer.data.xs[index]
        xs = ", ".join(f"{c:g}" for c in x)
        self.text = (
            f"# the loss of sample {index} alone: x = [{xs}], target {self._trainer.targets[index]:g}\n"
            f"# {len(self._params)} parameters, fixed at their values after the last step"
        )

    def build(self, inputs=None) -> SampleGraph:
        values = dict(self.inputs)
        for name, number in (inputs or {}).items():
            if name not in values:
                raise KeyError(f"{name} is not a parameter of this network")
            values[name] = float(number)
        self._trainer.model.set_parameter_values([values[p.label] for p in self._params])
        loss = self._trainer.sample_graph(self.index)
        found = {v.label: v for v in topological_order(loss) if not v._prev and v.label in values}
        leaves = {p.label: found[p.label] for p in self._params if p.label in found}
        return SampleGraph(output=loss, inputs=leaves)


# --------------------------------------------------------------------------- the runs


@dataclass
class Run:
    """One training run on screen: its trainer, and every report the screen has received.

    The trainer belongs to whoever ticks; ``reports``, ``stopped`` and ``snapshot`` are what has
    been applied on the screen's side (`Training.apply`).
    """

    key: str  # "main" or "bug"
    label: str
    marker: str
    trainer: Trainer
    reports: list[StepReport] = field(default_factory=list)
    stopped: TrainingStopped | None = None
    snapshot: Snapshot | None = None

    @property
    def step(self) -> int:
        return self.reports[-1].step if self.reports else 0

    @property
    def done(self) -> bool:
        return self.stopped is not None or self.step >= self.trainer.task.steps


@dataclass(frozen=True)
class Tick:
    """What one step of one run reported, as plain data to apply on the screen's thread."""

    run: Run
    report: StepReport | None  # None when the step stopped the run
    stopped: TrainingStopped | None
    snapshot: Snapshot
    finished: bool  # the run has no step left (all done, or stopped)


class Training:
    """The main run of a task, and a bug run beside it on demand, from the same initial weights."""

    activation = None  # an `engine.custom.CustomOp` in place of the task's (`tutor.own_training`)
    activation_name = ""  # what the task line calls it then (`describe_task`)
    rules: Mapping = MappingProxyType({})  # op -> rule the debugger runs instead of the engine's

    def __init__(self, task: Task) -> None:
        self.task = task  # as given: its own mistake (if any) is the main run's
        self.lr = task.optimiser.lr
        self.runs: dict[str, Run] = {}
        self._ticking = threading.Lock()  # one tick at a time, whoever calls
        self.reset()

    @property
    def main(self) -> Run:
        return self.runs["main"]

    @property
    def all_done(self) -> bool:
        return all(run.done for run in self.runs.values())

    @property
    def started(self) -> bool:
        return any(run.step for run in self.runs.values())

    def _task(self, mistake: str | None) -> Task:
        return replace(self.task, optimiser=replace(self.task.optimiser, lr=self.lr), mistake=mistake)

    def _run(self, key: str, label: str, marker: str, task: Task) -> Run:
        trainer = Trainer(task, activation=self.activation)
        return Run(key, label, marker, trainer, snapshot=Snapshot.take(trainer))

    def reset(self, lr: float | None = None) -> Run:
        """A new main run from the initial weights (at the learning rate ``lr`` if given); the
        bug run goes."""
        if lr is not None:
            self.lr = lr
        mistake = self.task.mistake
        label = BUGS[mistake][0] if mistake else NO_BUG
        self.runs = {"main": self._run("main", label, MAIN_MARKER, self._task(mistake))}
        return self.main

    def add_bug_run(self, bug: str) -> Run:
        """The comparison run: a key of `BUGS`, or "none" for the task without its own bug."""
        if bug == "none":
            label = NO_BUG
        elif bug == "high_lr":
            label = f"lr {self.lr * HIGH_LR_FACTOR:g} (×{HIGH_LR_FACTOR})"
        else:
            label = BUGS[bug][0]
        run = self.runs["bug"] = self._run(
            "bug", label, BUG_MARKER, self._task(None if bug == "none" else bug)
        )
        return run

    def remove_bug_run(self) -> None:
        self.runs.pop("bug", None)

    def bug_choices(self, *, hide_own: bool = False) -> list[tuple[str, str]]:
        """(key, line) for the bug picker: "none" first for a task with its own bug, then the
        registry's training mistakes, then "remove" while a bug run is on screen. The task's own
        bug is left out, unless it is hidden (``hide_own``): then it is listed in its place like
        every other, since leaving it out would name it."""
        choices = []
        if self.task.mistake:
            choices.append(("none", f"{NO_BUG}: the same task with its bug taken out"))
        for key, (label, what) in BUGS.items():
            if key == self.task.mistake and not hide_own:
                continue
            if key == "high_lr":
                label = f"lr {self.lr * HIGH_LR_FACTOR:g}"
                what = f"{what} (not {self.lr:g})"
            choices.append((key, f"{label}: {what}"))
        if "bug" in self.runs:
            choices.append(("remove", "none: remove the bug run's curve"))
        return choices

    def tick(self, should_stop: Callable[[], bool] | None = None) -> list[Tick]:
        """Step every unfinished run that is furthest behind (so the runs move in lockstep).

        ``should_stop`` goes to each step (`engine.cancel`): when it says stop, `Cancelled` comes
        out and the step that was running is undone. An empty list: every run has finished.
        """
        with self._ticking:
            active = [run for run in self.runs.values() if not run.trainer.finished]
            if not active:
                return []
            lowest = min(run.trainer.steps_done for run in active)
            ticks = []
            for run in active:
                trainer = run.trainer
                if trainer.steps_done != lowest:
                    continue
                report = stopped = None
                try:  # Trainer.step pauses the cyclic collector itself (its graphs have no cycles)
                    report = trainer.step(should_stop=should_stop)
                except TrainingStopped as stop:
                    stopped = stop
                ticks.append(Tick(run, report, stopped, Snapshot.take(trainer), trainer.finished))
            return ticks

    def apply(self, ticks: Sequence[Tick]) -> list[Tick]:
        """Record ticks on their runs; returns those whose run is still on screen (not replaced
        since by a reset or a new bug run)."""
        kept = [t for t in ticks if self.runs.get(t.run.key) is t.run]
        for t in kept:
            if t.report is not None:
                t.run.reports.append(t.report)
            if t.stopped is not None:
                t.run.stopped = t.stopped
            t.run.snapshot = t.snapshot
        return kept

    def sample_program(self, index: int) -> SampleProgram:
        """Sample ``index``'s loss graph with the main run's weights after its last applied step."""
        weights = self.main.snapshot.values
        return SampleProgram(self.main.trainer.task, weights, index, activation=self.activation)

    def sample_with_a_loss(self, besides: int, *, look_at: int = 256) -> int | None:
        """A sample other than ``besides`` whose loss is not 0 with the main run's weights (its
        pass pushes something back), among the first ``look_at``; None if none is."""
        for other in range(min(len(self.main.trainer.data.xs), look_at)):
            if other != besides and self.sample_program(other).build().output.data != 0.0:
                return other
        return None


# --------------------------------------------------------------------------- what the learner asked


MAKE_WAY_SECONDS = 0.15  # the longest a worker waits for the UI each time it is asked to


class Orders:
    """The steps the learner has asked for that the worker has not taken yet (thread-safe).

    Space asks for every step left (`run_on`), ``s`` for one more (`one_more`), a pause for none
    (`halt`). The worker takes them one at a time (`take`) and returns when none is left, so a
    pause lets the step in hand finish. Between the steps of a paced run it `rest`s, waking at
    once on a halt. `clear` forgets everything once the worker has returned.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._left: float = 0  # steps still wanted; math.inf until halted
        self.continuous = False  # asked to run until paused (until cleared, also while pausing)
        self.halted = False  # asked to stop after the step in hand
        self._way = threading.Event()  # clear while the UI has work in hand (see make_way)
        self._way.set()
        self._way_since = 0.0

    def run_on(self) -> None:
        with self._changed:
            self._left, self.continuous, self.halted = math.inf, True, False
            self._changed.notify_all()

    def one_more(self) -> None:
        with self._changed:
            self._left += 1
            self.halted = False

    def halt(self) -> None:
        with self._changed:
            self._left, self.halted = 0, True
            self._changed.notify_all()

    def clear(self) -> None:
        with self._changed:
            self._left, self.continuous, self.halted = 0, False, False

    @property
    def owed(self) -> bool:
        return self._left > 0

    def take(self) -> bool:
        """Take one step off the orders: False when none is left."""
        with self._changed:
            if self._left <= 0:
                return False
            self._left -= 1
            return True

    def make_way(self) -> None:
        """The UI has work in hand (a key, a redraw): the worker waits at its next `give_way` until
        `way_clear`, at most `MAKE_WAY_SECONDS`. Python runs one thread at a time, so a thread
        training beside the UI would otherwise halve its speed and more (each hand-over waits)."""
        if self._way.is_set():
            self._way_since = time.monotonic()
            self._way.clear()

    def way_clear(self) -> None:
        self._way.set()

    def give_way(self) -> None:
        """Wait while the UI has work in hand (see `make_way`)."""
        if not self._way.is_set():
            self._way.wait(max(0.0, self._way_since + MAKE_WAY_SECONDS - time.monotonic()))

    def rest(self, seconds: float, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Wait up to ``seconds``, less once halted or once ``should_stop`` says so."""
        until = time.monotonic() + seconds
        with self._changed:
            while self._left > 0 and not should_stop():
                left = until - time.monotonic()
                if left <= 0:
                    return
                self._changed.wait(min(left, 0.05))
