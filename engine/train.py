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

The task config (what a lesson's ```train block holds, as TOML)
---------------------------------------------------------------

    steps = 100                # required: 1 to 10000 training steps
    seed = 1                   # optional (1): the seed of the initial weights
    mistake = "none"           # optional: "none", "no_zero_grad", "overwrite", "ascend", "high_lr"

    [model]
    layers = [4, 4, 1]         # required: neurons per layer (1 to 8 layers of 1 to 64);
                               # the last layer has 1 neuron
    inputs = 2                 # optional: numbers per sample, as the data has (3 for "seeds")
    activation = "tanh"        # optional: "tanh", "relu", "sigmoid" or "linear"
    linear_output = false      # optional: true leaves the last layer's output unsquashed

    [data]
    name = "moons"             # required: "seeds", "moons", "circles" or "xor"
    samples = 100              # optional (not for "seeds"): 1 to 1000
    noise = 0.1                # optional (not for "seeds"): 0 to 2, std of the jitter
    seed = 1                   # optional (not for "seeds"): the seed of the data

    [loss]
    kind = "sse"               # required: "sse", "max_margin" or "bce"
    l2 = 0.0                   # optional: 0 to 1, alpha in the L2 penalty alpha * sum(p * p)

    [optimiser]
    kind = "sgd"               # required: "sgd" or "adam"
    lr = 0.1                   # required: the learning rate, above 0
    decay = "none"             # optional: "none" or "linear" (lr * (1 - 0.9 * k / steps))
    momentum = 0.0             # optional, sgd only: 0 up to (not including) 1
    # beta1 = 0.9              # optional, adam only: 0 up to 1 (the gradient's running average)
    # beta2 = 0.999            # optional, adam only: 0 up to 1 (the squared gradient's average)

Targets are +1/-1 for "sse" and "max_margin" and 1/0 for "bce" (the driver maps the data's
+1/-1 to 1/0). "bce" needs probabilities: if the last layer is not a sigmoid, its output is put
through one.

Besides each key's own range, a task must fit the budget of `engine.cost`: at most
1,000,000 values per step (`MAX_VALUES_PER_STEP`, memory) and 50,000,000 values over the whole
run (`MAX_VALUE_STEPS`, time). micrograd's moons demo builds 66,014 values per step, 100 steps.
Both `Task.from_config` and `Trainer` refuse a task over it, saying what to shrink.
"""

from __future__ import annotations

import difflib
import gc
import math
from contextlib import contextmanager
from dataclasses import dataclass, field

from engine.cancel import CHECK_EVERY, Cancelled
from engine.cost import over_budget
from engine.data import DATASETS, make_dataset
from engine.losses import bce, l2_penalty, max_margin, sign_accuracy, sse, threshold_accuracy
from engine.mistakes import HIGH_LR_FACTOR, TRAINING, backward_overwriting, overwriting_rule
from engine.nn import ACTIVATIONS, MLP
from engine.optim import DECAYS, SGD, Adam
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
    "Task",
    "TaskConfigError",
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

    @classmethod
    def from_config(cls, config: dict) -> Task:
        """Check a config dict (a lesson's ```train block) and build the task it describes.

        Raises `TaskConfigError` naming the first key that is missing, unknown or wrong.
        """
        return _read_task(config)


class TaskConfigError(ValueError):
    """A problem with one key of a task config: ``keypath`` says where, ``message`` what to do."""

    def __init__(self, keypath, message: str):
        self.keypath = tuple(keypath)
        self.message = message
        where = ".".join(self.keypath) if self.keypath else "the train config"
        super().__init__(f"{where}: {message}")


# ------------------------------------------------------------------- reading a config


_REQUIRED = object()

MODEL_KEYS = ("layers", "inputs", "activation", "linear_output")
DATA_KEYS = ("name", "samples", "noise", "seed")
LOSS_KEYS = ("kind", "l2")
OPTIMISER_KEYS = ("kind", "lr", "decay", "momentum", "beta1", "beta2")


def _read_task(config) -> Task:
    top = _Table(config, (), ("steps", "seed", "mistake", "model", "data", "loss", "optimiser"))
    steps = top.whole("steps", 1, MAX_STEPS, hint="steps = 100 (the number of training steps)")
    seed = top.whole("seed", 0, None, default=1)
    mistake = top.choice("mistake", ("none", *MISTAKES), default="none")
    data = _read_data(top.table("data", DATA_KEYS, hint='a [data] table with name = "moons" or similar'))
    model = _read_model(top.table("model", MODEL_KEYS, hint="a [model] table with layers = [4, 4, 1]"), data)
    loss = _read_loss(top.table("loss", LOSS_KEYS, hint='a [loss] table with kind = "sse" or similar'), model)
    optimiser = _read_optimiser(
        top.table("optimiser", OPTIMISER_KEYS, hint='an [optimiser] table, kind = "sgd"')
    )
    task = Task(model, data, loss, optimiser, steps, seed, None if mistake == "none" else mistake)
    problem = over_budget(task)
    if problem is not None:
        keypath, message = problem
        if keypath == ("data", "samples") and "samples" not in config["data"]:
            keypath = ("model", "layers")  # point at a line the config has
        raise TaskConfigError(keypath, message)
    return task


def _read_data(t: _Table) -> DataSpec:
    name = t.choice("name", DATASETS, hint='name = "moons" (or "seeds", "circles", "xor")')
    if name == "seeds":
        for key in ("samples", "noise", "seed"):
            if t.has(key):
                raise t.error(key, f"the seeds data is always the same 4 samples: remove {key}")
        return DataSpec(name)
    samples = t.whole("samples", 1, MAX_SAMPLES, default=100)
    noise = t.number("noise", 0.0, MAX_NOISE, default=0.1)
    seed = t.whole("seed", 0, None, default=1)
    return DataSpec(name, samples, noise, seed)


def _read_model(t: _Table, data: DataSpec) -> ModelSpec:
    layers = t.get("layers", hint="layers = [4, 4, 1] (the neurons in each layer)")
    if not isinstance(layers, list) or not layers:
        raise t.error("layers", f"must be a list of layer sizes like [4, 4, 1], not {_show(layers)}")
    if len(layers) > MAX_LAYERS:
        raise t.error("layers", f"at most {MAX_LAYERS} layers, not {len(layers)}")
    for size in layers:
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_WIDTH:
            message = f"each layer size must be a whole number from 1 to {MAX_WIDTH}, not {_show(size)}"
            raise t.error("layers", message)
    if layers[-1] != 1:
        message = "the last layer must have 1 neuron: each loss compares one score with one target"
        raise t.error("layers", message)
    data_inputs = 3 if data.name == "seeds" else 2
    inputs = t.whole("inputs", 1, None, default=data_inputs)
    if inputs != data_inputs:
        message = (
            f"the {data.name} data has {data_inputs} numbers per sample, so inputs must be {data_inputs}"
        )
        raise t.error("inputs", message)
    activation = t.choice("activation", tuple(ACTIVATIONS), default="tanh")
    linear_output = t.flag("linear_output", default=False)
    return ModelSpec(tuple(layers), inputs, activation, linear_output)


def _read_loss(t: _Table, model: ModelSpec) -> LossSpec:
    kind = t.choice("kind", LOSSES, hint='kind = "sse" (or "max_margin", "bce")')
    l2 = t.number("l2", 0.0, 1.0, default=0.0)
    if kind != "bce" and _ends_in_sigmoid(model):
        raise TaskConfigError(
            ("model", "activation"),
            f'a sigmoid output is never negative, so it cannot reach targets of -1 for "{kind}": '
            'set linear_output = true or use the loss kind "bce"',
        )
    return LossSpec(kind, l2)


def _read_optimiser(t: _Table) -> OptimiserSpec:
    kind = t.choice("kind", OPTIMISERS, hint='kind = "sgd" (or "adam")')
    lr = t.number("lr", 0.0, 1e6, above=True, hint="lr = 0.1 (the learning rate)")
    decay = t.choice("decay", DECAYS, default="none")
    if kind == "sgd":
        for key in ("beta1", "beta2"):
            if t.has(key):
                raise t.error(key, f'{key} is for "adam"; sgd uses momentum')
        momentum = t.number("momentum", 0.0, 1.0, below=True, default=0.0)
        return OptimiserSpec(kind, lr, decay, momentum=momentum)
    if t.has("momentum"):
        message = 'momentum is for "sgd"; adam keeps its own average of past gradients (beta1)'
        raise t.error("momentum", message)
    beta1 = t.number("beta1", 0.0, 1.0, below=True, default=0.9)
    beta2 = t.number("beta2", 0.0, 1.0, below=True, default=0.999)
    return OptimiserSpec(kind, lr, decay, beta1=beta1, beta2=beta2)


class _Table:
    """One table of the config: refuses keys it does not know, then reads the rest one by one."""

    def __init__(self, value, path: tuple[str, ...], allowed: tuple[str, ...]):
        if not isinstance(value, dict):
            raise TaskConfigError(path, f"must be a table of keys, not {_show(value)}")
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                suggestion = f"did you mean {close[0]!r}? " if close else ""
                message = f"unknown key; {suggestion}allowed here: {', '.join(allowed)}"
                raise TaskConfigError(path + (str(key),), message)
        self.values = value
        self.path = path

    def error(self, key: str, message: str) -> TaskConfigError:
        return TaskConfigError(self.path + (key,), message)

    def has(self, key: str) -> bool:
        return key in self.values

    def get(self, key: str, default=_REQUIRED, *, hint: str = ""):
        if key in self.values:
            return self.values[key]
        if default is _REQUIRED:
            raise self.error(key, f"missing; add {hint}")
        return default

    def table(self, key: str, allowed: tuple[str, ...], *, hint: str) -> _Table:
        return _Table(self.get(key, hint=hint), self.path + (key,), allowed)

    def whole(self, key, lo: int, hi: int | None, default=_REQUIRED, hint="") -> int:
        value = self.get(key, default, hint=hint)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number, not {_show(value)}")
        if value < lo or (hi is not None and value > hi):
            span = f"from {lo} to {hi}" if hi is not None else f"at least {lo}"
            raise self.error(key, f"must be {span}, not {value}")
        return value

    def number(self, key, lo: float, hi: float, *, above=False, below=False, default=_REQUIRED, hint=""):
        """A number from lo to hi; ``above``/``below`` leave out lo/hi themselves."""
        value = self.get(key, default, hint=hint)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"must be a number, not {_show(value)}")
        value = float(value)
        too_low = value <= lo if above else value < lo
        too_high = value >= hi if below else value > hi
        if math.isnan(value) or too_low or too_high:
            low = f"above {lo:g}" if above else f"at least {lo:g}"
            high = f"below {hi:g}" if below else f"at most {hi:g}"
            raise self.error(key, f"must be {low} and {high}, not {_show(value)}")
        return value

    def choice(self, key, allowed: tuple[str, ...], default=_REQUIRED, hint="") -> str:
        value = self.get(key, default, hint=hint)
        if not isinstance(value, str) or value not in allowed:
            options = ", ".join(f'"{a}"' for a in allowed)
            raise self.error(key, f"must be one of {options}, not {_show(value)}")
        return value

    def flag(self, key, default=_REQUIRED) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {_show(value)}")
        return value


def _show(value) -> str:
    """How a TOML author would recognise the value in a message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _ends_in_sigmoid(model: ModelSpec) -> bool:
    return model.activation == "sigmoid" and not model.linear_output


# -------------------------------------------------------------------------- training


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
    """Runs a `Task` one step at a time. ``mistake`` overrides the task's own mistake mode."""

    def __init__(self, task: Task, mistake: str | None = None):
        mistake = mistake if mistake is not None else task.mistake
        if mistake is not None and mistake not in MISTAKES:
            raise ValueError(f"unknown mistake {mistake!r}; use one of {', '.join(MISTAKES)}")
        problem = over_budget(task)  # the same budget as Task.from_config, for a Task built directly
        if problem is not None:
            raise TaskConfigError(*problem)
        self.task = task
        self.mistake = mistake
        d = task.data
        self.data = make_dataset(d.name, d.samples, d.noise, d.seed)
        # bce wants 1/0 targets; the datasets give +1/-1
        self.targets = [(y + 1) / 2 for y in self.data.ys] if task.loss.kind == "bce" else list(self.data.ys)
        self.reset()

    # ------------------------------------------------------------------ set up

    def _new_model(self) -> MLP:
        m = self.task.model
        inputs = m.inputs if m.inputs is not None else self.data.inputs
        return MLP(inputs, m.layers, m.activation, m.linear_output, seed=self.task.seed)

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

    @property
    def finished(self) -> bool:
        """True once every step has run, or the run has stopped."""
        return self.stopped is not None or self.steps_done >= self.task.steps

    # ---------------------------------------------------------------- forward

    def _outputs(self, model, x, label_inputs=False):
        """The model's output for one sample; a probability when the loss is bce."""
        inputs = [Value(c, label=f"x[{j}]" if label_inputs else "") for j, c in enumerate(x)]
        out = model(inputs)
        if self.task.loss.kind == "bce" and not _ends_in_sigmoid(self.task.model):
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
        outputs = []
        for x in self.data.xs:
            if should_stop is not None and should_stop():
                raise Cancelled("the step was cancelled during the forward pass")
            outputs.append(self._outputs(self.model, x))
        loss = self._data_loss(outputs, self.targets)
        if self.task.loss.l2:
            loss = loss + l2_penalty(self.model.parameters(), self.task.loss.l2)
        loss.label = "loss"
        return loss, self._accuracy(outputs)

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
                loss, accuracy = self.forward() if should_stop is None else self._forward(should_stop)
            except OverflowError:
                raise self._stop(k, "loss", math.inf) from None
            if not math.isfinite(loss.data):
                raise self._stop(k, "loss", loss.data)

            if self.mistake != "no_zero_grad":
                self.optimiser.zero_grad()
            try:
                if should_stop is not None:
                    _backward_stoppable(loss, should_stop, overwrite=self.mistake == "overwrite")
                elif self.mistake == "overwrite":
                    backward_overwriting(loss)
                else:
                    loss.backward()
            except OverflowError:
                raise self._stop(k, "gradient", math.inf) from None
        except Cancelled:
            for p, grad in zip(params, grads_before):  # as before the step: no half-filled grads
                p.grad = grad
            raise
        grad_norm = math.hypot(*(p.grad for p in params))
        if not math.isfinite(grad_norm):
            raise self._stop(k, "gradient", grad_norm)

        self.optimiser.step()
        self.steps_done = k
        return StepReport(k, loss.data, accuracy, grad_norm, lr)

    def run(self):
        """Yield a `StepReport` for each remaining step; raises `TrainingStopped` if it breaks."""
        while not self.finished:
            yield self.step()

    def _stop(self, k: int, what: str, number: float) -> TrainingStopped:
        word = "nan" if math.isnan(number) else "inf"
        if self.mistake == "ascend":
            why = "the update climbs the loss (+= instead of -=)"
        elif self.mistake == "no_zero_grad":
            why = "the gradients piled up because zero_grad was skipped"
        else:
            why = "the learning rate is too high"
        self.stopped = TrainingStopped(k, f"{what} became {word} at step {k}: {why}")
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
