"""Training a network step by step: the loop from the seeds, with every step reported.

One training step is four moves, the same in every framework:

1. **forward**: run every sample through the model and measure the loss;
2. **zero_grad**: set every parameter's grad to 0 (grads accumulate with ``+=``);
3. **backward**: ``loss.backward()`` fills in every parameter's grad;
4. **update**: move every parameter a little against its gradient.

`Trainer` runs one `Task` that way and returns a `StepReport` per step. It can also run with a
classic mistake switched on, for real, so the learner sees what the bug does:

* ``"no_zero_grad"``: move 2 is skipped, so each step's gradients pile onto the last ones;
* ``"overwrite"``: backward rules use ``=`` instead of ``+=`` (`engine.mistakes`), so a weight
  used by many samples keeps only the last sample's gradient;
* ``"ascend"``: the update says ``+=`` instead of ``-=`` and climbs the loss;
* ``"high_lr"``: the same code with a learning rate ten times too high.

Each is a key of the one mistake registry, `engine.mistakes.MISTAKES`. A run whose loss or
gradient stops being a finite number stops with a plain reason.

A `Task` is typed: `ModelSpec`, `DataSpec`, `LossSpec` and `OptimiserSpec`, each a frozen
dataclass. Reading a lesson's ```train block (TOML) into one, with its messages for a teacher, is
the lesson layer's job (`tutor.lessons.train`), not the engine's. `SEEDS_TASK` and
`MOONS_DEMO_TASK` are the course's two reference tasks written as such a block's table;
`MOONS_DEMO` is the second as a `Task` (``Task()`` is the first).

Targets are +1/-1 for "sse" and "max_margin" and 1/0 for "bce" (the driver maps the data's
+1/-1 to 1/0). "bce" needs probabilities: if the last layer is not a sigmoid, its output is put
through one.

The graph of a step has the same shape every step (the same model on the whole data set, the same
loss), so by default the trainer builds it once, on the first step, and then runs it again
(`engine.replay`): each step recomputes every node's number forward with the op table's
arithmetic and runs every node's real backward rule, with the same floating-point operations in
the same order as building it anew, so the losses, gradients and weights are the same to the last
bit. ``Trainer(task, build_once=False)`` builds the graph every step, as micrograd does.

A task must fit the budget of `engine.cost`: at most 1,000,000 values per step
(`MAX_VALUES_PER_STEP`, memory) and 50,000,000 values over the whole run (`MAX_VALUE_STEPS`,
time). micrograd's moons demo builds 65,814 values per step, 100 steps. `Trainer` refuses a task
over it with `OverBudget`, saying what to shrink (the lesson layer says so too, at the key).
"""

from __future__ import annotations

import gc
import math
from contextlib import contextmanager
from dataclasses import dataclass, field

from engine.cancel import CHECK_EVERY, Cancelled
from engine.cost import over_budget
from engine.data import make_dataset
from engine.losses import bce, l2_penalty, max_margin, sign_accuracy, sse, threshold_accuracy
from engine.mistakes import HIGH_LR_FACTOR, TRAINING, backward_overwriting, overwriting_rule
from engine.nn import MLP
from engine.optim import SGD, Adam
from engine.replay import Replay
from engine.value import Value, topological_order

__all__ = [
    "MISTAKES",
    "LOSSES",
    "OPTIMISERS",
    "SEEDS_TASK",
    "MOONS_DEMO_TASK",
    "ModelSpec",
    "DataSpec",
    "LossSpec",
    "OptimiserSpec",
    "MOONS_DEMO",
    "Task",
    "OverBudget",
    "StepReport",
    "TrainingStopped",
    "Cancelled",
    "Trainer",
]

MISTAKES = TRAINING  # the registry's keys that apply to training
LOSSES = ("sse", "max_margin", "bce")
OPTIMISERS = ("sgd", "adam")

MAX_STEPS = 10_000
MAX_LAYERS = 8
MAX_WIDTH = 64
MAX_SAMPLES = 1000
MAX_NOISE = 2.0

# The seeds' task: MLP(3, [4, 4, 1]) on four samples, squared error, lr 0.1, 100 steps.
SEEDS_TASK = {
    "steps": 100,
    "model": {"layers": [4, 4, 1]},
    "data": {"name": "seeds"},
    "loss": {"kind": "sse"},
    "optimiser": {"kind": "sgd", "lr": 0.1},
}

# micrograd's demo: ReLU MLP(2, [16, 16, 1]) with a linear output on 100 moons, max-margin loss
# with 1e-4 L2, SGD with lr 1.0 - 0.9 * k / 100.
MOONS_DEMO_TASK = {
    "steps": 100,
    "model": {"layers": [16, 16, 1], "activation": "relu", "linear_output": True},
    "data": {"name": "moons", "samples": 100, "noise": 0.1},
    "loss": {"kind": "max_margin", "l2": 1e-4},
    "optimiser": {"kind": "sgd", "lr": 1.0, "decay": "linear"},
}


# --------------------------------------------------------------------------- the task


@dataclass(frozen=True)
class ModelSpec:
    layers: tuple[int, ...] = (4, 4, 1)
    inputs: int | None = None  # None: as many as the data has
    activation: str = "tanh"
    linear_output: bool = False


@dataclass(frozen=True)
class DataSpec:
    name: str = "seeds"
    samples: int = 100
    noise: float = 0.1
    seed: int = 1


@dataclass(frozen=True)
class LossSpec:
    kind: str = "sse"
    l2: float = 0.0


@dataclass(frozen=True)
class OptimiserSpec:
    kind: str = "sgd"
    lr: float = 0.1
    decay: str = "none"
    momentum: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999


@dataclass(frozen=True)
class Task:
    """Everything a training run needs. ``Task()`` is the seeds' task."""

    model: ModelSpec = field(default_factory=ModelSpec)
    data: DataSpec = field(default_factory=DataSpec)
    loss: LossSpec = field(default_factory=LossSpec)
    optimiser: OptimiserSpec = field(default_factory=OptimiserSpec)
    steps: int = 100
    seed: int = 1
    mistake: str | None = None


class OverBudget(ValueError):
    """A task over the budget of `engine.cost`: ``keypath`` names what to shrink (as a train
    block writes it, e.g. ``("data", "samples")``), ``message`` says by how much."""

    def __init__(self, keypath, message: str):
        self.keypath = tuple(keypath)
        self.message = message
        super().__init__(f"{'.'.join(self.keypath)}: {message}" if self.keypath else message)


# micrograd's moons demo as a typed task (MOONS_DEMO_TASK as a train block reads it)
MOONS_DEMO = Task(
    ModelSpec((16, 16, 1), 2, "relu", True),
    DataSpec("moons", 100, 0.1, 1),
    LossSpec("max_margin", 1e-4),
    OptimiserSpec("sgd", 1.0, "linear"),
    steps=100,
)


# -------------------------------------------------------------------------- training


def _ends_in_sigmoid(model: ModelSpec) -> bool:
    return model.activation == "sigmoid" and not model.linear_output


@dataclass(frozen=True)
class StepReport:
    step: int  # 1 for the first step
    loss: float  # the loss at the start of this step, before its update
    accuracy: float | None  # fraction of samples classified right, before the update
    grad_norm: float  # length of the gradient, sqrt(sum of grad**2) over every parameter
    lr: float  # the learning rate this step's update used


class TrainingStopped(Exception):
    """The run cannot go on: the loss or the gradient is no longer a finite number."""

    def __init__(self, step: int, reason: str):
        self.step = step
        self.reason = reason
        super().__init__(reason)


@contextmanager
def cyclic_collector_paused():
    """Pause Python's cyclic garbage collector while a step builds and frees its graph.

    The engine's graphs hold no reference cycles, so reference counting frees each one the moment
    the step lets go of it and the cyclic collector has nothing to find. Left on, it still walks
    the hundreds of thousands of live objects a big step allocates (a third of a step on
    micrograd's moons demo, where micrograd's own cyclic graphs spend most of their time there).
    Restores the collector as it was, also when the step raises.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _backward_stoppable(root: Value, should_stop, *, overwrite: bool = False) -> None:
    """``root.backward()`` (or `backward_overwriting` with ``overwrite``), asking ``should_stop``
    every `CHECK_EVERY` nodes and raising `Cancelled` when it says so.

    The same topological order, the same seed and the same rules in the same order as those two,
    so the grads come out bit for bit the same; only the checks are added between the rules.
    """
    order = topological_order(root, should_stop=should_stop)
    root.grad = 1.0
    nodes = order[::-1]  # every node after all the nodes that use it
    for start in range(0, len(nodes), CHECK_EVERY):
        if should_stop():
            raise Cancelled("the step was cancelled during the backward pass")
        for node in nodes[start : start + CHECK_EVERY]:
            if not overwrite:
                node._backward()
            elif node._grad_fn is not None:
                overwriting_rule(node._grad_fn)(node)


class Trainer:
    """Runs a `Task` one step at a time. ``mistake`` overrides the task's own mistake mode.

    ``build_once`` (the default) builds the step's graph on the first step and replays it on the
    next ones (`engine.replay`); False builds it anew every step. Both give the same numbers.
    """

    def __init__(self, task: Task, mistake: str | None = None, *, build_once: bool = True, activation=None):
        """``activation`` (an `engine.custom.CustomOp`) replaces the task's activation in every
        layer the task squashes: one node per neuron like any activation, each taking the op's
        ``cost`` in values' time (the budget counts it). `engine.replay` knows only the op table, so such a run rebuilds its graph
        every step (``build_once`` is then False)."""
        mistake = mistake if mistake is not None else task.mistake
        if mistake is not None and mistake not in MISTAKES:
            raise ValueError(f"unknown mistake {mistake!r}; use one of {', '.join(MISTAKES)}")
        cost = getattr(activation, "cost", 1)  # a learner's op: its nodes take longer (engine.cost)
        problem = over_budget(task, activation_cost=cost)  # the budget the lesson layer checks too
        if problem is not None:
            raise OverBudget(*problem)
        self.task = task
        self.mistake = mistake
        self.activation = activation
        self.build_once = build_once and activation is None
        d = task.data
        self.data = make_dataset(d.name, d.samples, d.noise, d.seed)
        # bce wants 1/0 targets; the datasets give +1/-1
        self.targets = [(y + 1) / 2 for y in self.data.ys] if task.loss.kind == "bce" else list(self.data.ys)
        self.reset()

    # ------------------------------------------------------------------ set up

    def _new_model(self) -> MLP:
        m = self.task.model
        inputs = m.inputs if m.inputs is not None else self.data.inputs
        activation = self.activation if self.activation is not None else m.activation
        return MLP(inputs, m.layers, activation, m.linear_output, seed=self.task.seed)

    def reset(self) -> None:
        """Back to the initial weights (the same seed gives the same ones) and step 0."""
        self.model = self._new_model()
        o = self.task.optimiser
        ascend = self.mistake == "ascend"
        lr = o.lr * HIGH_LR_FACTOR if self.mistake == "high_lr" else o.lr
        params = self.model.parameters()
        schedule = dict(decay=o.decay, steps=self.task.steps, ascend=ascend)
        if o.kind == "adam":
            self.optimiser = Adam(params, lr, beta1=o.beta1, beta2=o.beta2, **schedule)
        else:
            self.optimiser = SGD(params, lr, momentum=o.momentum, **schedule)
        self.steps_done = 0
        self.stopped: TrainingStopped | None = None
        self._replay = None  # the step's graph once built (build_once), with its outputs and model

    @property
    def finished(self) -> bool:
        """True once every step has run, or the run has stopped."""
        return self.stopped is not None or self.steps_done >= self.task.steps

    # ---------------------------------------------------------------- forward

    def _outputs(self, model, x, label_inputs=False):
        """The model's output for one sample; a probability when the loss is bce."""
        inputs = [Value(c, label=f"x[{j}]" if label_inputs else "") for j, c in enumerate(x)]
        out = model(inputs)
        ends_in_sigmoid = _ends_in_sigmoid(self.task.model) and self.activation is None
        if self.task.loss.kind == "bce" and not ends_in_sigmoid:
            out = out.sigmoid()
            out.label = "p"
        return out

    def _data_loss(self, outputs, targets) -> Value:
        kind = self.task.loss.kind
        if kind == "sse":
            return sse(outputs, targets)
        if kind == "max_margin":
            return max_margin(outputs, targets)
        return bce(outputs, targets)

    def _accuracy(self, outputs) -> float:
        if self.task.loss.kind == "bce":
            return threshold_accuracy(outputs, self.targets)
        return sign_accuracy(outputs, self.targets)

    def forward(self):
        """The loss over every sample with the current weights, and the accuracy."""
        return self._forward(None)

    def _forward(self, should_stop):
        """`forward`, asking ``should_stop`` (if given) before each sample: raises `Cancelled`."""
        loss, outputs = self._build(should_stop)
        return loss, self._accuracy(outputs)

    def _forward_once(self, should_stop):
        """`forward` on the graph built at the first step (built now if there is none yet)."""
        replay = self._replay
        if replay is None or replay[2] is not self.model:  # none yet, or the model was replaced
            self._replay = None
            loss, outputs = self._build(should_stop)
            graph = Replay(loss, self.model.parameters(), overwrite=self.mistake == "overwrite")
            self._replay = (graph, outputs, self.model)
            return loss, self._accuracy(outputs)
        graph, outputs, _ = replay
        graph.forward(should_stop)
        return graph.root, self._accuracy(outputs)

    def _build(self, should_stop):
        """The loss graph over every sample, and the model's outputs in it."""
        outputs = []
        for x in self.data.xs:
            if should_stop is not None and should_stop():
                raise Cancelled("the step was cancelled during the forward pass")
            outputs.append(self._outputs(self.model, x))
        loss = self._data_loss(outputs, self.targets)
        if self.task.loss.l2:
            loss = loss + l2_penalty(self.model.parameters(), self.task.loss.l2)
        loss.label = "loss"
        return loss, outputs

    def predict(self, x) -> float:
        """The model's output for one input: a score, or a probability when the loss is bce."""
        return self._outputs(self.model, x).data

    # ------------------------------------------------------------------- a step

    def step(self, should_stop=None) -> StepReport:
        """forward, zero_grad, backward, update: one step of gradient descent.

        ``should_stop`` (optional, see `engine.cancel`) is asked between the samples of the
        forward pass and every few thousand values of the backward pass; when it returns True
        the step raises `Cancelled` and leaves the trainer as it was before the step (weights,
        grads, optimiser and step count), so the same step can run again later. A step that is
        not cancelled runs the same rules in the same order as ``loss.backward()``.
        """
        with cyclic_collector_paused():
            try:
                return self._step(should_stop)
            except (Cancelled, TrainingStopped) as stop:
                # The traceback (and the error this was raised from) hold the step's frames, and
                # so its whole graph: let go of them while the collector is still paused. Else the
                # collector walks every value of it once it is back on (a second near the
                # budget), and a stopped trainer, which keeps its TrainingStopped, keeps the graph.
                stop.__context__ = None  # (`from None` only hides the context; this lets it go)
                raise stop.with_traceback(None) from None

    def _step(self, should_stop=None) -> StepReport:
        if self.stopped is not None:
            raise self.stopped
        if self.steps_done >= self.task.steps:
            raise RuntimeError(f"all {self.task.steps} steps are done; reset() to start again")
        k = self.steps_done + 1
        lr = self.optimiser.lr
        params = self.model.parameters()
        grads_before = [p.grad for p in params] if should_stop is not None else None
        try:
            try:
                if self.build_once:
                    loss, accuracy = self._forward_once(should_stop)
                else:
                    loss, accuracy = self.forward() if should_stop is None else self._forward(should_stop)
            except OverflowError as err:
                raise self._stop(k, "loss", math.inf, err) from None
            if not math.isfinite(loss.data):
                raise self._stop(k, "loss", loss.data)

            if self.mistake != "no_zero_grad":
                self.optimiser.zero_grad()
            try:
                if self.build_once:
                    self._replay[0].backward(should_stop)
                elif should_stop is not None:
                    _backward_stoppable(loss, should_stop, overwrite=self.mistake == "overwrite")
                elif self.mistake == "overwrite":
                    backward_overwriting(loss)
                else:
                    loss.backward()
            except OverflowError as err:
                raise self._stop(k, "gradient", math.inf, err) from None
        except Cancelled:
            for p, grad in zip(params, grads_before):  # as before the step: no half-filled grads
                p.grad = grad
            self._replay = None  # a trainer cancelled keeps no graph (the next step builds it again)
            raise
        grad_norm = math.hypot(*(p.grad for p in params))
        if not math.isfinite(grad_norm):
            raise self._stop(k, "gradient", grad_norm)

        self.optimiser.step()
        self.steps_done = k
        if k >= self.task.steps:
            self._replay = None  # the last step: the graph is not needed again
        return StepReport(k, loss.data, accuracy, grad_norm, lr)

    def run(self):
        """Yield a `StepReport` for each remaining step; raises `TrainingStopped` if it breaks."""
        while not self.finished:
            yield self.step()

    def _stop(self, k: int, what: str, number: float, error: OverflowError | None = None) -> TrainingStopped:
        word = "nan" if math.isnan(number) else "inf"
        if error is not None and self.activation is not None and str(error).startswith(self.activation.name):
            word += f" ({error})"  # where the learner's own op gave out, e.g. softplus(812.5)
        if self.mistake == "ascend":
            why = "the update climbs the loss (+= instead of -=)"
        elif self.mistake == "no_zero_grad":
            why = "the gradients piled up because zero_grad was skipped"
        else:
            why = "the learning rate is too high"
        self.stopped = TrainingStopped(k, f"{what} became {word} at step {k}: {why}")
        self._replay = None  # no more steps: let the graph go
        return self.stopped

    # ------------------------------------------------------------ for the debugger

    def sample_graph(self, i: int) -> Value:
        """The loss graph of sample ``i`` alone, with the current weights, to open in a debugger.

        It is built on a copy of the parameters (same numbers, same labels, grads 0), so running
        backward on it cannot disturb training. The L2 penalty is left out: it would hang every
        parameter under the root and hide the sample's own path.
        """
        if not 0 <= i < len(self.data):
            n = len(self.data)
            raise IndexError(f"sample {i} does not exist: the data has {n} samples (0 to {n - 1})")
        model = self._new_model()
        model.set_parameter_values(self.model.parameter_values())
        out = self._outputs(model, self.data.xs[i], label_inputs=True)
        y = Value(self.targets[i], label="y")
        loss = self._data_loss([out], [y])
        loss.label = "loss"
        return loss
