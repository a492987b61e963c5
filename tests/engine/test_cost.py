"""engine.cost: a task's values per step counted from its shape, and the budget every task must fit."""

import copy
import itertools
import tracemalloc

import pytest

from engine import cost
from engine.cost import (
    MAX_VALUE_STEPS,
    MAX_VALUES_PER_STEP,
    over_budget,
    task_cost,
    values_per_step,
)
from engine.train import (
    MOONS_DEMO_TASK,
    SEEDS_TASK,
    DataSpec,
    LossSpec,
    ModelSpec,
    Task,
    TaskConfigError,
    Trainer,
)
from engine.value import topological_order


def counted(task: Task) -> int:
    """The real number of values in one step's loss graph."""
    loss, _ = Trainer(task).forward()
    return len(topological_order(loss))


def _tasks():
    """A spread of shapes, data, activations, losses and L2 (bce only where a sigmoid is allowed)."""
    shapes = [(1,), (3, 1), (4, 4, 1), (5, 2, 3, 1)]
    combos = itertools.product(
        ["seeds", "moons", "circles", "xor"],
        shapes,
        ["tanh", "relu", "sigmoid", "linear"],
        [False, True],
        ["sse", "max_margin", "bce"],
        [0.0, 0.01],
    )
    tasks = []
    for i, (data, layers, activation, linear, kind, l2) in enumerate(combos):
        if kind != "bce" and activation == "sigmoid" and not linear:
            continue  # refused by the config: a sigmoid cannot reach -1
        if i % 7:  # every seventh combination keeps the test quick, and still covers each kind
            continue
        samples = (1, 2, 9)[i % 3]
        spec = DataSpec() if data == "seeds" else DataSpec(data, samples)
        tasks.append(Task(ModelSpec(layers, None, activation, linear), spec, LossSpec(kind, l2)))
    return tasks


@pytest.mark.parametrize("task", _tasks(), ids=lambda t: f"{t.data.name}-{t.model}-{t.loss}")
def test_values_per_step_is_the_number_of_values_in_the_loss_graph(task):
    assert values_per_step(task) == counted(task)


@pytest.mark.parametrize("config", [SEEDS_TASK, MOONS_DEMO_TASK], ids=["seeds", "moons demo"])
def test_the_course_tasks_are_counted_exactly(config):
    task = Task.from_config(config)
    assert values_per_step(task) == counted(task)


def test_the_moons_demo_stays_well_inside_the_budget():
    demo = task_cost(Task.from_config(MOONS_DEMO_TASK))
    assert demo.values_per_step == 66_014 and demo.steps == 100
    assert demo.values_per_step * 10 < MAX_VALUES_PER_STEP
    assert demo.value_steps * 5 < MAX_VALUE_STEPS
    assert over_budget(Task.from_config(MOONS_DEMO_TASK)) is None


def test_memory_per_step_is_close_to_what_a_step_really_allocates():
    # the constant was measured this way (benchmarks/bench_task_cost.py): tracemalloc's peak
    # during one step, over the step's values
    task = Task.from_config(MOONS_DEMO_TASK)
    trainer = Trainer(task)
    trainer.step()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        trainer.step()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    estimate = task_cost(task).bytes_per_step
    assert 0.6 * estimate < peak <= 1.1 * estimate, (peak, estimate)


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
        Task.from_config(LARGEST_THE_FORMAT_ALLOWED)
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
    Task.from_config(c)
    c["data"]["samples"] = 20
    with pytest.raises(TaskConfigError, match="1000 → 19|20 → 19"):
        Task.from_config(c)


def test_without_a_samples_key_the_error_points_at_the_layers():
    c = copy.deepcopy(LARGEST_THE_FORMAT_ALLOWED)
    del c["data"]["samples"]  # the default, 100
    with pytest.raises(TaskConfigError) as err:
        Task.from_config(c)
    assert err.value.keypath == ("model", "layers")
    assert "fewer samples (100 → 19)" in err.value.message


def test_too_many_steps_is_refused_at_steps_with_the_number_that_fits():
    c = copy.deepcopy(SEEDS_TASK)
    c["model"]["layers"] = [64] * 7 + [1]  # 200,000 values a step on the seeds' 4 samples: fine
    c["steps"] = 10_000
    with pytest.raises(TaskConfigError) as err:
        Task.from_config(c)
    per_step = values_per_step(Task.from_config({**c, "steps": 1}))
    assert err.value.keypath == ("steps",)
    assert f"use fewer steps (10000 → {MAX_VALUE_STEPS // per_step})" in err.value.message
    assert "the limit is 50,000,000" in err.value.message
    c["steps"] = MAX_VALUE_STEPS // per_step
    assert Task.from_config(c).steps == MAX_VALUE_STEPS // per_step


def test_a_trainer_refuses_an_over_budget_task_built_directly():
    task = Task(ModelSpec((64,) * 7 + (1,)), DataSpec("moons", 1000), steps=1)
    with pytest.raises(TaskConfigError) as err:
        Trainer(task)
    assert err.value.keypath == ("data", "samples") and "values per step" in err.value.message
    with pytest.raises(TaskConfigError, match="^steps: "):
        Trainer(Task(steps=10**9))


def test_the_budget_is_one_check_shared_by_the_config_and_the_trainer(monkeypatch):
    monkeypatch.setattr(cost, "MAX_VALUES_PER_STEP", 100)  # the seeds' task is 360
    with pytest.raises(TaskConfigError, match="the limit is 100"):
        Task.from_config(SEEDS_TASK)
    with pytest.raises(TaskConfigError, match="the limit is 100"):
        Trainer(Task())
