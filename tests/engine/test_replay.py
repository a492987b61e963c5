"""Building a step's graph once and replaying it (engine.replay, Trainer's default) against
building it anew every step: the same numbers to the last bit, and no memory growing."""

from __future__ import annotations

import gc
import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.data import DATASETS
from engine.mistakes import TRAINING
from engine.nn import ACTIVATIONS
from engine.replay import Replay
from engine.train import (
    LOSSES,
    OPTIMISERS,
    DataSpec,
    LossSpec,
    ModelSpec,
    OptimiserSpec,
    Task,
    Trainer,
    TrainingStopped,
)
from engine.value import Value, topological_order


def _bits(numbers) -> list[str]:
    """Each float exactly (nan and the sign of zero included)."""
    return [float(x).hex() for x in numbers]


def _run(trainer: Trainer, steps: int) -> list:
    """What a run shows after each step: its report (or why it stopped), every grad and weight."""
    seen = []
    for _ in range(steps):
        try:
            r = trainer.step()
            report = (r.step, *_bits((r.loss, r.grad_norm, r.lr)), r.accuracy)
        except TrainingStopped as stop:
            seen.append(("stopped", stop.step, stop.reason))
            break
        params = trainer.model.parameters()
        seen.append((report, _bits(p.grad for p in params), _bits(p.data for p in params)))
    return seen


tasks = st.builds(
    Task,
    model=st.builds(
        ModelSpec,
        layers=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(lambda ls: (*ls[:-1], 1)),
        activation=st.sampled_from([a for a in ACTIVATIONS if a != "linear"]),
        linear_output=st.booleans(),
    ),
    data=st.builds(
        DataSpec,
        name=st.sampled_from(DATASETS),
        samples=st.integers(2, 12),
        noise=st.sampled_from([0.0, 0.1, 0.5]),
        seed=st.integers(0, 3),
    ),
    loss=st.builds(LossSpec, kind=st.sampled_from(LOSSES), l2=st.sampled_from([0.0, 1e-4, 0.1])),
    optimiser=st.builds(
        OptimiserSpec,
        kind=st.sampled_from(OPTIMISERS),
        lr=st.sampled_from([0.01, 0.1, 1.0, 5.0]),
        decay=st.sampled_from(["none", "linear"]),
        momentum=st.sampled_from([0.0, 0.9]),
    ),
    steps=st.integers(1, 6),
    seed=st.integers(0, 5),
    mistake=st.sampled_from([None, *TRAINING]),
)


@settings(max_examples=150, deadline=None)
@given(tasks)
def test_building_once_trains_bit_for_bit_as_rebuilding_every_step(task):
    once, rebuilt = Trainer(task), Trainer(task, build_once=False)
    assert once.build_once and not rebuilt.build_once
    assert _run(once, task.steps) == _run(rebuilt, task.steps)


def test_every_activation_loss_optimiser_and_mistake_on_the_moons():
    # the property test draws these at random; here each one at least once, on a larger graph
    for activation in [a for a in ACTIVATIONS if a != "linear"]:
        for loss in LOSSES:
            for optimiser in OPTIMISERS:
                for mistake in (None, *TRAINING):
                    task = Task(
                        ModelSpec((4, 1), None, activation),
                        DataSpec("moons", 8),
                        LossSpec(loss, 1e-4),
                        OptimiserSpec(optimiser, 0.5),
                        steps=3,
                        mistake=mistake,
                    )
                    once, rebuilt = Trainer(task), Trainer(task, build_once=False)
                    assert _run(once, 3) == _run(rebuilt, 3), (activation, loss, optimiser, mistake)


def test_a_replayed_step_makes_no_new_values():
    t = Trainer(Task())
    t.step()
    gc.collect()
    before = sum(isinstance(o, Value) for o in gc.get_objects())
    for _ in range(5):
        t.step()
    gc.collect()
    assert sum(isinstance(o, Value) for o in gc.get_objects()) == before


def test_with_the_collector_off_a_thousand_steps_leave_memory_flat():
    # no reference cycle is made and no graph kept from step to step: without the cyclic
    # collector, memory after 1,000 steps is what it was after the first few (both ways of running)
    for build_once in (True, False):
        task = Task(ModelSpec((4, 4, 1)), DataSpec("moons", 10), steps=1000)
        t = Trainer(task, build_once=build_once)
        was_enabled = gc.isenabled()
        gc.disable()
        tracemalloc.start()
        try:
            for _ in range(10):
                t.step()
            early = tracemalloc.get_traced_memory()[0]
            for _ in range(990):
                t.step()
            late = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
            if was_enabled:
                gc.enable()
        assert t.finished
        # a run of 1,000 steps keeps its 1,000 small reports nowhere; a graph is ~100 KB
        assert late - early < 20_000, (build_once, early, late)


def test_replay_runs_the_real_rules_on_new_leaf_numbers():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    e = a * b
    d = e + a.tanh()
    out = (d**2).relu()
    replay = Replay(out, keep=[a])
    for x, y in [(0.5, 4.0), (-1.25, 0.75)]:
        a.data, b.data = x, y
        a.grad = 0.0
        replay.forward()
        replay.backward()
        # the same graph built anew on the same numbers
        a2, b2 = Value(x), Value(y)
        out2 = ((a2 * b2 + a2.tanh()) ** 2).relu()
        out2.backward()
        assert (out.data, a.grad, b.grad) == (out2.data, a2.grad, b2.grad)
        assert e.data == x * y  # every node holds its new number


def test_a_replayed_node_keeps_its_operands_tuple_and_stays_a_value():
    # a rule's `self, other = out._prev` runs on every node every step: in a replayed graph that
    # tuple is made once (a read, not a Python call making it anew); the nodes are still Values
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    loss = ((a * b + a).relu() + b * b).tanh()
    replay = Replay(loss)
    made = [v for v in topological_order(loss) if v._a is not None]
    assert made and all(isinstance(v, Value) for v in made)
    for v in made:
        assert v._prev is v._prev  # kept, not made at each read
        assert v._prev == ((v._a, v._b) if v._b is not None else (v._a,))
    replay.forward()
    replay.backward()
    grads = (a.grad, b.grad)
    a2, b2 = Value(2.0), Value(-3.0)
    fresh = ((a2 * b2 + a2).relu() + b2 * b2).tanh()
    fresh.backward()
    assert grads == (a2.grad, b2.grad)
