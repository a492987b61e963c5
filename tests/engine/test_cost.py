"""engine.cost: a task's values per step counted from its shape, and the budget every task must fit."""

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
    MOONS_DEMO,
    DataSpec,
    LossSpec,
    ModelSpec,
    OverBudget,
    Task,
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


@pytest.mark.parametrize("task", [Task(), MOONS_DEMO], ids=["seeds", "moons demo"])
def test_the_course_tasks_are_counted_exactly(task):
    assert values_per_step(task) == counted(task)


def test_the_moons_demo_stays_well_inside_the_budget():
    demo = task_cost(MOONS_DEMO)
    assert demo.values_per_step == 65_814 and demo.steps == 100
    assert demo.values_per_step * 10 < MAX_VALUES_PER_STEP
    assert demo.value_steps * 5 < MAX_VALUE_STEPS
    assert over_budget(MOONS_DEMO) is None


def test_memory_per_step_is_close_to_what_a_step_really_allocates():
    # the constant was measured this way (benchmarks/bench_task_cost.py): tracemalloc's peak
    # during one step, over the step's values. A trainer that builds its graph every step
    # allocates it in each step; one that builds it once allocates it in the first step and keeps
    # it (then the next steps allocate next to nothing).
    task = MOONS_DEMO
    estimate = task_cost(task).bytes_per_step
    for trainer in (Trainer(task, build_once=False), Trainer(task)):
        if not trainer.build_once:
            trainer.step()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            trainer.step()
            peak = tracemalloc.get_traced_memory()[1] - before
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            trainer.step()
            next_peak = tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
        assert 0.6 * estimate < peak <= 1.1 * estimate, (trainer.build_once, peak, estimate)
        if trainer.build_once:
            assert next_peak < 0.01 * estimate, next_peak


# --------------------------------------------------------------------------- the budget

# (the budget as a lesson's train block meets it: tests/logic/test_train_block.py)


def test_a_trainer_refuses_an_over_budget_task_built_directly():
    task = Task(ModelSpec((64,) * 7 + (1,)), DataSpec("moons", 1000), steps=1)
    with pytest.raises(OverBudget) as err:
        Trainer(task)
    assert err.value.keypath == ("data", "samples") and "values per step" in err.value.message
    with pytest.raises(OverBudget, match="^steps: "):
        Trainer(Task(steps=10**9))


def test_the_budget_the_trainer_checks_is_the_one_in_engine_cost(monkeypatch):
    monkeypatch.setattr(cost, "MAX_VALUES_PER_STEP", 100)  # the seeds' task is 360
    with pytest.raises(OverBudget, match="the limit is 100"):
        Trainer(Task())


@pytest.mark.parametrize("task", _tasks(), ids=lambda t: f"{t.data.name}-{t.model}-{t.loss}")
def test_activation_nodes_are_the_graphs_activation_nodes(task):
    trainer = Trainer(task)
    acts = 0
    for x in trainer.data.xs:  # the model's nodes alone: the loss may use relu or sigmoid too
        out = trainer.model(list(x))
        outs = out if isinstance(out, list) else [out]
        acts += len({id(v) for o in outs for v in topological_order(o) if v._op == task.model.activation})
    assert cost.activation_nodes(task) == acts


def test_a_slow_activation_counts_in_the_time_budget_not_in_memory():
    task = Task(ModelSpec((16, 16, 1)), DataSpec("moons", 100), steps=100)
    assert over_budget(task) is None
    plain, slow = task_cost(task), task_cost(task, activation_cost=40)
    assert slow.bytes_per_step == plain.bytes_per_step
    assert slow.value_steps == plain.value_steps + 100 * cost.activation_nodes(task) * 39
    keys, message = over_budget(task, activation_cost=200)
    assert keys == ("steps",)
    assert "nodes a step as 200 values" in message and "use fewer steps (100 → " in message
    steps = int(message.split("100 → ")[1].split(")")[0])
    assert over_budget(Task(task.model, task.data, steps=steps), activation_cost=200) is None
    assert over_budget(Task(task.model, task.data, steps=steps + 1), activation_cost=200) is not None


def test_a_trainer_refuses_a_learners_op_too_slow_for_the_task():
    from engine.custom import CustomOp

    task = Task(ModelSpec((16, 16, 1)), DataSpec("moons", 100), steps=100)
    quick = CustomOp("mine", lambda x: x, lambda out: None)
    Trainer(task, activation=quick)  # fits: one value a node, as tanh
    slow = CustomOp("mine", lambda x: x, lambda out: None, cost=500)
    with pytest.raises(OverBudget, match="nodes a step as 500 values"):
        Trainer(task, activation=slow)
