"""A lesson's ```train block (or a ``tutor train TASK.toml`` file) read into the engine's `Task`.

The block holds TOML::

    steps = 100                # required: 1 to 10000 training steps
    seed = 1                   # optional (1): the seed of the initial weights
    mistake = "none"           # optional: "none", "no_zero_grad", "overwrite", "ascend", "high_lr"

    [model]
    layers = [4, 4, 1]         # required: neurons per layer (1 to 8 layers of 1 to 64);
                               # the last layer has 1 neuron
    inputs = 2                 # optional: numbers per sample, as the data has (3 for "seeds")
    activation = "tanh"        # optional: "tanh", "relu", "leaky_relu", "sigmoid" or "linear"
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

The mistake names are the training keys of the one mistake registry (`engine.mistakes`), read
with `engine.mistakes.mistake_key`. Besides each key's own range, a task must fit the engine's
budget (`engine.cost.over_budget`: values per step and over the whole run); its message is put
at the key to shrink. Every problem of a block is reported at once.

Pure logic: imports the engine's typed task, never Textual.
"""

from __future__ import annotations

import tomllib

from engine.cost import over_budget
from engine.data import DATASETS
from engine.mistakes import NO_MISTAKE, TRAINING, mistake_key
from engine.nn import ACTIVATIONS
from engine.optim import DECAYS
from engine.train import (
    LOSSES,
    MAX_LAYERS,
    MAX_NOISE,
    MAX_SAMPLES,
    MAX_STEPS,
    MAX_WIDTH,
    OPTIMISERS,
    DataSpec,
    LossSpec,
    ModelSpec,
    OptimiserSpec,
    Task,
)
from tutor.lessons import toml_text
from tutor.lessons.model import Problem
from tutor.lessons.positions import toml_error_position, toml_key_position
from tutor.schema import Issue, Issues, Key, Table, did_you_mean, dotted, show

__all__ = ["TASK", "TaskConfigError", "read_task", "read_task_file", "read_task_issues"]


class TaskConfigError(ValueError):
    """A train block that is not right. ``problems`` lists every :class:`~tutor.schema.Issue`;
    ``keypath`` and ``message`` are the first one's."""

    def __init__(self, problems: list[Issue]):
        self.problems = list(problems)
        self.keypath = self.problems[0].path
        self.message = self.problems[0].message
        where = dotted(self.keypath) if self.keypath else "the train config"
        super().__init__(f"{where}: {self.message}")


def _layers(value: list) -> str | None:
    if not value:
        return "must be a list of layer sizes like [4, 4, 1], not an empty list"
    if len(value) > MAX_LAYERS:
        return f"at most {MAX_LAYERS} layers, not {len(value)}"
    for size in value:
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_WIDTH:
            return f"each layer size must be a whole number from 1 to {MAX_WIDTH}, not {show(size)}"
    if value[-1] != 1:
        return "the last layer must have 1 neuron: each loss compares one score with one target"
    return None


def _mistake(value: str) -> str | None:
    try:
        mistake_key(value, TRAINING)
    except ValueError:
        options = ", ".join(f'"{k}"' for k in (NO_MISTAKE, *TRAINING))
        return f"must be one of {options}, not {show(value)}{did_you_mean(value, TRAINING, quote=chr(34))}"
    return None


def _choice(name: str, choices, what: str, **kw) -> Key:
    return Key(name, "str", what, choices=tuple(choices), **kw)


MODEL = Table(
    "the [model] table",
    (
        Key(
            "layers",
            "list",
            "a list of layer sizes like [4, 4, 1]",
            required=True,
            example="layers = [4, 4, 1] (the neurons in each layer)",
            check=_layers,
        ),
        Key("inputs", "int", "a whole number", lo=1),
        _choice("activation", ACTIVATIONS, "an activation", default="tanh"),
        Key("linear_output", "bool", "true or false", default=False),
    ),
)
DATA = Table(
    "the [data] table",
    (
        _choice(
            "name",
            DATASETS,
            "a data set",
            required=True,
            example='name = "moons" (or "seeds", "circles", "xor")',
        ),
        Key("samples", "int", "a whole number", lo=1, hi=MAX_SAMPLES),
        Key("noise", "number", "a number", lo=0.0, hi=MAX_NOISE),
        Key("seed", "int", "a whole number", lo=0),
    ),
)
LOSS = Table(
    "the [loss] table",
    (
        _choice("kind", LOSSES, "a loss", required=True, example='kind = "sse" (or "max_margin", "bce")'),
        Key("l2", "number", "a number", lo=0.0, hi=1.0, default=0.0),
    ),
)
OPTIMISER = Table(
    "the [optimiser] table",
    (
        _choice("kind", OPTIMISERS, "an optimiser", required=True, example='kind = "sgd" (or "adam")'),
        Key(
            "lr",
            "number",
            "a number",
            required=True,
            lo=0.0,
            above=True,
            hi=1e6,
            example="lr = 0.1 (the learning rate)",
        ),
        _choice("decay", DECAYS, "a decay", default="none"),
        Key("momentum", "number", "a number", lo=0.0, hi=1.0, below=True),
        Key("beta1", "number", "a number", lo=0.0, hi=1.0, below=True),
        Key("beta2", "number", "a number", lo=0.0, hi=1.0, below=True),
    ),
)


def _table(name: str, table: Table, example: str) -> Key:
    return Key(name, "table", "a table of keys", required=True, example=example, table=table)


TASK = Table(
    "a train block",
    (
        Key(
            "steps",
            "int",
            "a whole number",
            required=True,
            lo=1,
            hi=MAX_STEPS,
            example="steps = 100 (the number of training steps)",
        ),
        Key("seed", "int", "a whole number", lo=0, default=1),
        Key("mistake", "str", "a mistake's name", default=NO_MISTAKE, check=_mistake),
        _table("model", MODEL, "a [model] table with layers = [4, 4, 1]"),
        _table("data", DATA, 'a [data] table with name = "moons" or similar'),
        _table("loss", LOSS, 'a [loss] table with kind = "sse" or similar'),
        _table("optimiser", OPTIMISER, 'an [optimiser] table, kind = "sgd"'),
    ),
)


def read_task_issues(config, issues: Issues, *, activation_cost: int = 1) -> Task | None:
    """The task a train block describes, reporting every problem into ``issues`` (None if any).
    ``activation_cost``: what one activation node costs in the budget (`engine.cost.over_budget`),
    more than 1 when an own op's exercise trains the task with the learner's op."""
    values = TASK.read(config, issues)
    if values is None:
        return None
    data, model = values.get("data", {}), values.get("model", {})
    loss, opt = values.get("loss", {}), values.get("optimiser", {})
    raw_data = config.get("data") if isinstance(config.get("data"), dict) else {}
    raw_opt = config.get("optimiser") if isinstance(config.get("optimiser"), dict) else {}
    if data.get("name") == "seeds":
        for key in ("samples", "noise", "seed"):
            if key in raw_data:
                issues.add(["data", key], f"the seeds data is always the same 4 samples: remove {key}")
    if "name" in data and "inputs" in model:
        data_inputs = 3 if data["name"] == "seeds" else 2
        if model["inputs"] != data_inputs:
            issues.add(
                ["model", "inputs"],
                f"the {data['name']} data has {data_inputs} numbers per sample, so inputs must be {data_inputs}",
            )
    sigmoid_out = model.get("activation") == "sigmoid" and not model.get("linear_output", False)
    if sigmoid_out and loss.get("kind", "bce") != "bce":
        issues.add(
            ["model", "activation"],
            f'a sigmoid output is never negative, so it cannot reach targets of -1 for "{loss["kind"]}": '
            'set linear_output = true or use the loss kind "bce"',
        )
    if opt.get("kind") == "sgd":
        for key in ("beta1", "beta2"):
            if key in raw_opt:
                issues.add(["optimiser", key], f'{key} is for "adam"; sgd uses momentum')
    elif opt.get("kind") == "adam" and "momentum" in raw_opt:
        issues.add(
            ["optimiser", "momentum"],
            'momentum is for "sgd"; adam keeps its own average of past gradients (beta1)',
        )
    if issues:
        return None
    name = data["name"]
    data_spec = (
        DataSpec(name)
        if name == "seeds"
        else DataSpec(name, data.get("samples", 100), data.get("noise", 0.1), data.get("seed", 1))
    )
    task = Task(
        ModelSpec(
            tuple(model["layers"]),
            model.get("inputs", 3 if name == "seeds" else 2),
            model["activation"],
            model["linear_output"],
        ),
        data_spec,
        LossSpec(loss["kind"], loss["l2"]),
        OptimiserSpec(
            opt["kind"],
            opt["lr"],
            opt["decay"],
            momentum=opt.get("momentum", 0.0),
            beta1=opt.get("beta1", 0.9),
            beta2=opt.get("beta2", 0.999),
        ),
        values["steps"],
        values["seed"],
        mistake_key(values["mistake"], TRAINING),
    )
    problem = over_budget(task, activation_cost=activation_cost)
    if problem is not None:
        keypath, message = problem
        if keypath == ("data", "samples") and "samples" not in raw_data:
            keypath = ("model", "layers")  # point at a line the block has
        issues.add(keypath, message)
        return None
    return task


def read_task(config) -> Task:
    """The task a train block (as parsed TOML) describes; `TaskConfigError` listing every
    problem when it is not right."""
    issues = Issues()
    task = read_task_issues(config, issues)
    if task is None:
        raise TaskConfigError(issues)
    return task


def read_task_file(where: str, text: str) -> tuple[Task | None, list[Problem]]:
    """A standalone task file (``tutor train TASK.toml``): the task, or every problem in it at
    its ``path:line:col``."""
    try:
        config = toml_text.loads(text)
    except toml_text.TomlRefused as err:
        return None, [Problem(where, err.line, err.col, err.message)]
    except tomllib.TOMLDecodeError as err:
        line, col, message = toml_error_position(err, text)
        return None, [Problem(where, line, col, message)]
    issues = Issues()
    task = read_task_issues(config, issues)
    problems = []
    for issue in issues:
        line, col = toml_key_position(text, issue.path)
        problems.append(
            Problem(where, line, col, f"{issue.dotted}: {issue.message}" if issue.path else issue.message)
        )
    return task, sorted(problems, key=lambda p: (p.line, p.col))
