"""The lesson layer's ```train block: TOML read into the engine's typed Task, with every problem
of a block at once, "did you mean", and the budget's message at the key to shrink."""

import copy
import textwrap
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tutor.lessons.train
from engine import cost
from engine.train import MOONS_DEMO, MOONS_DEMO_TASK, SEEDS_TASK, Task, Trainer
from tutor.lessons import TaskConfigError, read_task, read_task_file


def config(base=SEEDS_TASK, **changes):
    """A copy of ``base`` with top-level keys replaced and tables updated."""
    c = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict):
            c.setdefault(key, {}).update(value)
        else:
            c[key] = value
    return c


def test_the_schema_in_the_docstring_is_a_valid_config():
    block = tutor.lessons.train.__doc__.split("The block holds TOML::\n", 1)[1].split("\nThe mistake names")[
        0
    ]
    task = read_task(tomllib.loads(textwrap.dedent(block)))
    assert task.data.name == "moons" and task.model.layers == (4, 4, 1)


def test_a_lesson_block_parses_into_the_demo_task():
    text = """
    steps = 100
    [model]
    layers = [16, 16, 1]
    activation = "relu"
    linear_output = true
    [data]
    name = "moons"
    samples = 100
    noise = 0.1
    [loss]
    kind = "max_margin"
    l2 = 1e-4
    [optimiser]
    kind = "sgd"
    lr = 1
    decay = "linear"
    """
    task = read_task(tomllib.loads(textwrap.dedent(text)))
    assert task == read_task(MOONS_DEMO_TASK) == MOONS_DEMO
    assert task.optimiser.lr == 1.0 and isinstance(task.optimiser.lr, float)
    assert task.model.inputs == 2 and task.seed == 1 and task.mistake is None


def _drop(path):
    c = copy.deepcopy(SEEDS_TASK)
    *tables, key = path
    target = c
    for t in tables:
        target = target[t]
    del target[key]
    return c


BAD_CONFIGS = [
    (_drop(("steps",)), ("steps",), "missing; add steps = 100"),
    (_drop(("model", "layers")), ("model", "layers"), "missing; add layers = [4, 4, 1]"),
    (_drop(("data", "name")), ("data", "name"), "missing"),
    (_drop(("loss",)), ("loss",), "missing; add a [loss] table"),
    (_drop(("optimiser", "lr")), ("optimiser", "lr"), "missing; add lr = 0.1"),
    (
        config(optimizer={}),
        ("optimizer",),
        "unknown key 'optimizer' in a train block; did you mean 'optimiser'?",
    ),
    (config(model={"layer": [2]}), ("model", "layer"), "did you mean 'layers'?"),
    (config(loss={"alpha": 0.1}), ("loss", "alpha"), "; allowed: kind, l2"),
    (config(steps=0), ("steps",), "must be from 1 to 10000, not 0"),
    (config(steps=2.5), ("steps",), "must be a whole number, not 2.5"),
    (config(steps=True), ("steps",), "must be a whole number, not true"),
    (config(seed=-1), ("seed",), "at least 0"),
    (config(mistake="oops"), ("mistake",), 'must be one of "none", "no_zero_grad", "overwrite", "ascend"'),
    (config(model=3), ("model",), "must be a table of keys, not 3"),
    (config(model={"layers": [4, 2]}), ("model", "layers"), "the last layer must have 1 neuron"),
    (config(model={"layers": []}), ("model", "layers"), "must be a list of layer sizes"),
    (config(model={"layers": [4, 0, 1]}), ("model", "layers"), "from 1 to 64, not 0"),
    (config(model={"layers": [1] * 9}), ("model", "layers"), "at most 8 layers"),
    (config(model={"inputs": 2}), ("model", "inputs"), "the seeds data has 3 numbers per sample"),
    (
        config(model={"activation": "softmax"}),
        ("model", "activation"),
        '"tanh", "relu", "leaky_relu", "sigmoid", "linear"',
    ),
    (config(model={"activation": "sigmoid"}), ("model", "activation"), "a sigmoid output is never negative"),
    (config(model={"linear_output": "yes"}), ("model", "linear_output"), 'true or false, not "yes"'),
    (config(data={"name": "spirals"}), ("data", "name"), 'must be one of "seeds", "moons", "circles", "xor"'),
    (config(data={"samples": 10}), ("data", "samples"), "the seeds data is always the same 4 samples"),
    (config(data={"name": "moons", "samples": 5000}), ("data", "samples"), "from 1 to 1000"),
    (config(data={"name": "moons", "noise": -1}), ("data", "noise"), "at least 0"),
    (config(loss={"kind": "mse"}), ("loss", "kind"), '"sse", "max_margin", "bce"'),
    (config(loss={"l2": -0.5}), ("loss", "l2"), "at least 0"),
    (config(optimiser={"lr": 0}), ("optimiser", "lr"), "must be above 0"),
    (config(optimiser={"lr": "fast"}), ("optimiser", "lr"), 'must be a number, not "fast"'),
    (config(optimiser={"kind": "rmsprop"}), ("optimiser", "kind"), '"sgd", "adam"'),
    (config(optimiser={"decay": "cosine"}), ("optimiser", "decay"), '"none", "linear"'),
    (config(optimiser={"momentum": 1.0}), ("optimiser", "momentum"), "below 1"),
    (config(optimiser={"beta1": 0.8}), ("optimiser", "beta1"), 'beta1 is for "adam"'),
    (config(optimiser={"kind": "adam", "momentum": 0.9}), ("optimiser", "momentum"), 'momentum is for "sgd"'),
    ([1, 2], (), "must be a table of keys"),
]


@pytest.mark.parametrize("bad, keypath, message", BAD_CONFIGS)
def test_config_errors_name_the_key_and_say_what_is_allowed(bad, keypath, message):
    with pytest.raises(TaskConfigError) as err:
        read_task(bad)
    assert err.value.keypath == keypath
    assert message in err.value.message
    assert "Traceback" not in str(err.value)


def test_the_error_text_starts_with_the_dotted_key():
    with pytest.raises(TaskConfigError, match=r"^optimiser\.lr: must be above 0"):
        read_task(config(optimiser={"lr": -1}))


@settings(max_examples=100)
@given(
    value=st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True),
        st.text(max_size=5),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ),
    path=st.sampled_from(
        [
            ("steps",),
            ("seed",),
            ("model", "layers"),
            ("model", "activation"),
            ("data", "name"),
            ("loss", "l2"),
            ("optimiser", "lr"),
            ("optimiser", "momentum"),
        ]
    ),
)
def test_any_value_is_either_accepted_or_refused_with_a_config_error(value, path):
    c = copy.deepcopy(SEEDS_TASK)
    target = c
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    try:
        read_task(c)
    except TaskConfigError as err:
        assert err.keypath[: len(path)] == path or err.keypath == ("model", "activation")


def test_every_problem_of_a_block_is_reported_at_once():
    bad = config(
        steps=0,
        seed=-1,
        model={"layers": [4, 2], "activaton": "relu"},
        optimiser={"lr": -1, "kind": "adam", "momentum": 0.5},
    )
    with pytest.raises(TaskConfigError) as err:
        read_task(bad)
    got = [(p.path, p.message.split(";")[0]) for p in err.value.problems]
    assert got == [
        (("steps",), "must be from 1 to 10000, not 0"),
        (("seed",), "must be at least 0, not -1"),
        (("model", "activaton"), "unknown key 'activaton' in the [model] table"),
        (
            ("model", "layers"),
            "the last layer must have 1 neuron: each loss compares one score with one target",
        ),
        (("optimiser", "lr"), "must be above 0 and at most 1e+06, not -1.0"),
        (("optimiser", "momentum"), 'momentum is for "sgd"'),
    ]
    assert "did you mean 'activation'?" in err.value.problems[2].message
    assert str(err.value).startswith("steps: must be from 1 to 10000")


def test_the_mistake_goes_through_the_registry_and_none_keeps_working():
    assert read_task(config(mistake="none")).mistake is None
    assert read_task(config()).mistake is None
    assert read_task(config(mistake="high_lr")).mistake == "high_lr"
    with pytest.raises(TaskConfigError) as err:
        read_task(config(mistake="no_seed"))  # a mistake of the backward pass, not of training
    assert err.value.keypath == ("mistake",) and '"no_zero_grad"' in err.value.message


def test_a_task_file_gives_every_problem_at_its_line():
    text = 'steps = "many"\n[model]\nlayers = [4, 2]\n[data]\nname = "seedz"\n'
    task, problems = read_task_file("task.toml", text)
    assert task is None
    assert [str(p) for p in problems] == [
        'task.toml:1:1: steps: must be a whole number, not "many"',
        'task.toml:1:1: loss: missing; add a [loss] table with kind = "sse" or similar',
        'task.toml:1:1: optimiser: missing; add an [optimiser] table, kind = "sgd"',
        "task.toml:3:1: model.layers: the last layer must have 1 neuron: each loss compares one score with one target",
        'task.toml:5:1: data.name: must be one of "seeds", "moons", "circles", "xor", not "seedz"; did you mean "seeds"?',
    ]
    task, problems = read_task_file("task.toml", "steps = \n")
    assert task is None and str(problems[0]).startswith("task.toml:1:9: Invalid value")


# --------------------------------------------------------------------------- the budget

LARGEST_THE_FORMAT_ALLOWED = {  # once 12.7 GB and 142 s to quit after q
    "steps": 10_000,
    "model": {"layers": [64] * 7 + [1]},
    "data": {"name": "moons", "samples": 1000},
    "loss": {"kind": "sse"},
    "optimiser": {"kind": "sgd", "lr": 0.1},
}


def test_the_largest_task_the_format_allowed_is_refused_with_the_estimate_and_what_to_shrink():
    with pytest.raises(TaskConfigError) as err:
        read_task(LARGEST_THE_FORMAT_ALLOWED)
    assert err.value.keypath == ("data", "samples")
    message = err.value.message
    assert "this task builds about 50,000,000 values per step (≈ 13 GB" in message
    assert "the limit is 1,000,000" in message
    assert "use fewer samples (1000 → 19) or smaller layers" in message
    assert str(err.value).startswith("data.samples: ")


def test_the_suggested_sample_count_is_the_largest_that_fits():
    c = copy.deepcopy(LARGEST_THE_FORMAT_ALLOWED)
    c["steps"] = 10
    c["data"]["samples"] = 19
    read_task(c)
    c["data"]["samples"] = 20
    with pytest.raises(TaskConfigError, match="1000 → 19|20 → 19"):
        read_task(c)


def test_without_a_samples_key_the_error_points_at_the_layers():
    c = copy.deepcopy(LARGEST_THE_FORMAT_ALLOWED)
    del c["data"]["samples"]  # the default, 100
    with pytest.raises(TaskConfigError) as err:
        read_task(c)
    assert err.value.keypath == ("model", "layers")
    assert "fewer samples (100 → 19)" in err.value.message


def test_too_many_steps_is_refused_at_steps_with_the_number_that_fits():
    c = copy.deepcopy(SEEDS_TASK)
    c["model"]["layers"] = [64] * 7 + [1]  # 200,000 values a step on the seeds' 4 samples: fine
    c["steps"] = 10_000
    with pytest.raises(TaskConfigError) as err:
        read_task(c)
    per_step = cost.values_per_step(read_task({**c, "steps": 1}))
    assert err.value.keypath == ("steps",)
    assert f"use fewer steps (10000 → {cost.MAX_VALUE_STEPS // per_step})" in err.value.message
    assert "the limit is 50,000,000" in err.value.message
    c["steps"] = cost.MAX_VALUE_STEPS // per_step
    assert read_task(c).steps == cost.MAX_VALUE_STEPS // per_step


def test_the_budget_is_one_check_shared_by_the_block_and_the_trainer(monkeypatch):
    monkeypatch.setattr(cost, "MAX_VALUES_PER_STEP", 100)  # the seeds' task is 360
    with pytest.raises(TaskConfigError, match="the limit is 100"):
        read_task(SEEDS_TASK)
    with pytest.raises(ValueError, match="the limit is 100"):
        Trainer(Task())
