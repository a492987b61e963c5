"""The training screen's runner without a screen: snapshots against the engine, lockstep runs,
bug runs from the mistake registry, cancelling a tick, and the learner's orders to the worker.

Every number compared comes from the engine: a fresh `Trainer` on the same task gives the same
losses and outputs (same seed, same initial weights).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from engine.cancel import Cancelled
from engine.mistakes import HIGH_LR_FACTOR, MISTAKES, TRAINING
from engine.nn import ACTIVATIONS
from engine.train import SEEDS_TASK, Task, Trainer
from tutor.lessons import read_task
from tutor.lessons.train import TaskConfigError
from tutor.training import LEARNING_RATES, Orders, Snapshot, Training, next_rate

REPO = Path(__file__).resolve().parents[2]


def seeds() -> Task:
    return read_task(SEEDS_TASK)


def engine_losses(task: Task, steps: int, mistake: str | None = None) -> list[float]:
    trainer = Trainer(task, mistake)
    return [trainer.step().loss for _ in range(steps)]


def test_the_runner_imports_no_textual_and_no_rich():
    code = (
        "import sys, json, tutor.training; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    loaded = set(json.loads(out.stdout))
    assert not loaded & {"textual", "rich"}


# --------------------------------------------------------------------------- snapshots


@pytest.mark.parametrize("activation", ACTIVATIONS)  # every op-table activation, and "linear"
@pytest.mark.parametrize(
    "loss, linear_output",
    [("sse", False), ("max_margin", True), ("bce", False), ("bce", True)],
)
def test_snapshot_outputs_are_the_engines_forward_for_every_activation(activation, loss, linear_output):
    config = {
        "steps": 5,
        "seed": 3,
        "model": {"layers": [4, 3, 1], "activation": activation, "linear_output": linear_output},
        "data": {"name": "moons", "samples": 16, "noise": 0.2},
        "loss": {"kind": loss},
        "optimiser": {"kind": "sgd", "lr": 0.05},
    }
    if activation == "sigmoid" and loss != "bce" and not linear_output:
        # no snapshot to compare: the task is refused, saying what to change
        with pytest.raises(TaskConfigError, match="cannot reach targets of -1"):
            read_task(config)
        return
    trainer = Trainer(read_task(config))
    for _ in range(2):
        trainer.step()
    snap = Snapshot.take(trainer)
    # to the last bit: the same arithmetic in the same order as the engine's graph
    assert snap.outputs == tuple(trainer.predict(x) for x in trainer.data.xs)
    assert snap.values == tuple(trainer.model.parameter_values())
    for x, y in [(0.3, -0.2), (-1.5, 1.0), (2.0, 0.5)]:
        assert snap.positive_at(x, y) == snap.says_positive(trainer.predict((x, y)))


def test_a_leaky_relu_snapshot_keeps_the_leak_below_zero():
    task = read_task(
        {
            "steps": 3,
            "model": {"layers": [3, 1], "activation": "leaky_relu", "linear_output": True},
            "data": {"name": "xor", "samples": 12},
            "loss": {"kind": "sse"},
            "optimiser": {"kind": "sgd", "lr": 0.05},
        }
    )
    trainer = Trainer(task)
    snap = Snapshot.take(trainer)
    hidden = [
        b + sum(w * c for w, c in zip(ws, trainer.data.xs[0])) for ws, b, _ in snap.layers[0]
    ]  # the first layer's weighted sums for sample 0
    assert any(z < 0 for z in hidden), "the fixture should put a hidden unit below zero"
    assert snap.outputs[0] == trainer.predict(trainer.data.xs[0])


# --------------------------------------------------------------------------- runs


def test_runs_move_in_lockstep_and_a_run_behind_catches_up_first():
    training = Training(seeds())
    for _ in range(10):
        training.apply(training.tick())
    training.add_bug_run("ascend")
    for _ in range(4):
        ticks = training.apply(training.tick())
        assert [t.run.key for t in ticks] == ["bug"]  # only the one behind moves
    assert (training.main.step, training.runs["bug"].step) == (10, 4)
    for _ in range(8):
        training.apply(training.tick())
    assert (training.main.step, training.runs["bug"].step) == (12, 12)
    main_losses = [r.loss for r in training.main.reports]
    assert main_losses == engine_losses(seeds(), 12)
    assert [r.loss for r in training.runs["bug"].reports] == engine_losses(seeds(), 12, "ascend")


def test_ticks_of_a_run_replaced_since_are_not_applied():
    training = Training(seeds())
    ticks = training.tick()
    training.reset()  # e.g. r pressed while the tick was on its way
    assert training.apply(ticks) == []
    assert training.main.step == 0 and training.main.reports == []


def test_the_bug_runs_are_the_registrys_training_mistakes():
    training = Training(seeds())
    keys = [key for key, _ in training.bug_choices()]
    assert keys == list(TRAINING)
    assert "high_lr" in keys  # a real trainer mistake now, not a screen-side trick
    lines = dict(training.bug_choices())
    assert lines["no_zero_grad"] == f"{MISTAKES['no_zero_grad'].label}: {MISTAKES['no_zero_grad'].what}"
    assert lines["high_lr"].startswith(f"lr {0.1 * HIGH_LR_FACTOR:g}: ")
    run = training.add_bug_run("high_lr")
    assert run.label == f"lr {0.1 * HIGH_LR_FACTOR:g} (×{HIGH_LR_FACTOR})"
    assert run.trainer.mistake == "high_lr"
    assert [key for key, _ in training.bug_choices()][-1] == "remove"


def test_a_task_with_its_own_bug_offers_the_correct_run_instead():
    training = Training(replace(seeds(), mistake="overwrite"))
    keys = [key for key, _ in training.bug_choices()]
    assert keys[0] == "none" and "overwrite" not in keys
    assert training.main.label == MISTAKES["overwrite"].label
    correct = training.add_bug_run("none")
    assert correct.label == "no bug" and correct.trainer.mistake is None


def test_a_new_learning_rate_is_a_new_main_run_from_the_same_initial_weights():
    training = Training(seeds())
    initial = training.main.snapshot.values
    training.apply(training.tick())
    training.add_bug_run("ascend")
    training.reset(lr=next_rate(training.lr, +1))
    assert training.lr == pytest.approx(0.2)
    assert list(training.runs) == ["main"] and training.main.step == 0
    assert training.main.snapshot.values == initial
    assert training.tick()[0].report.lr == pytest.approx(0.2)
    assert next_rate(LEARNING_RATES[-1], +1) is None and next_rate(LEARNING_RATES[0], -1) is None
    assert next_rate(0.1, -1) == pytest.approx(0.05)


def test_a_cancelled_tick_leaves_the_runs_as_they_were():
    training = Training(seeds())
    training.apply(training.tick())
    before = training.main.trainer.model.parameter_values()
    calls = 0

    def stop_soon() -> bool:
        nonlocal calls
        calls += 1
        return calls > 1  # part way through the step (the graph is small: the second time asked)

    with pytest.raises(Cancelled):
        training.tick(stop_soon)
    assert training.main.trainer.steps_done == 1
    assert training.main.trainer.model.parameter_values() == before
    ticks = training.tick()  # and the same step runs again, as it would have
    assert ticks[0].report.loss == engine_losses(seeds(), 2)[1]


def test_the_sample_program_has_the_weights_of_the_last_applied_step():
    training = Training(seeds())
    for _ in range(3):
        training.apply(training.tick())
    training.tick()  # ticked but not applied: the screen does not show it yet
    program = training.sample_program(2)
    trainer = Trainer(seeds())
    for _ in range(3):
        trainer.step()
    assert program.build().output.data == trainer.sample_graph(2).data


# --------------------------------------------------------------------------- orders


def test_orders_count_single_steps_and_a_halt_takes_them_back():
    orders = Orders()
    assert not orders.take()
    orders.one_more()
    orders.one_more()
    assert orders.owed and not orders.continuous
    assert orders.take() and orders.take() and not orders.take()
    orders.one_more()
    orders.halt()
    assert orders.halted and not orders.take()


def test_orders_to_run_on_last_until_a_halt():
    orders = Orders()
    orders.run_on()
    assert all(orders.take() for _ in range(1000))
    orders.halt()
    assert not orders.take()
    assert orders.continuous and orders.halted  # still "pausing" until the worker has returned
    orders.clear()
    assert not (orders.continuous or orders.halted or orders.owed)


def test_a_rest_between_paced_steps_ends_at_once_on_a_halt_or_a_stop():
    orders = Orders()
    orders.run_on()
    threading.Timer(0.1, orders.halt).start()
    started = time.monotonic()
    orders.rest(10.0)
    assert time.monotonic() - started < 2.0
    orders.run_on()
    stop = threading.Event()
    threading.Timer(0.1, stop.set).start()
    started = time.monotonic()
    orders.rest(10.0, stop.is_set)
    assert time.monotonic() - started < 2.0


def test_a_tick_leaves_the_predictions_to_whoever_draws_them(monkeypatch):
    # a run takes a snapshot every step; the screen draws a few a second: the float network runs
    # over every sample only for a snapshot whose outputs are asked for
    calls = []
    original = Snapshot.output
    monkeypatch.setattr(Snapshot, "output", lambda self, x: calls.append(x) or original(self, x))
    training = Training(read_task(SEEDS_TASK))
    for _ in range(3):
        ticks = training.tick()
    assert calls == []
    trainer = training.main.trainer
    assert ticks[0].snapshot.outputs == tuple(trainer.predict(x) for x in trainer.data.xs)
    assert len(calls) == len(trainer.data.xs)


def test_a_worker_gives_way_while_the_ui_has_work_in_hand_but_not_for_ever(monkeypatch):
    import tutor.training as training_module

    monkeypatch.setattr(training_module, "MAKE_WAY_SECONDS", 30.0)
    orders, stop, rounds = Orders(), threading.Event(), [0]

    def worker():  # as the training worker asks should_stop every few thousand values
        while not stop.is_set():
            orders.give_way()
            rounds[0] += 1

    def moves_on(since: int) -> bool:
        deadline = time.monotonic() + 10
        while rounds[0] <= since + 1:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    try:
        assert moves_on(0)
        orders.make_way()  # a key: the worker waits...
        time.sleep(0.05)
        held = rounds[0]
        time.sleep(0.3)
        assert rounds[0] <= held + 1
        orders.way_clear()  # ... until the screen has repainted
        assert moves_on(rounds[0])
        monkeypatch.setattr(training_module, "MAKE_WAY_SECONDS", 0.2)
        orders.make_way()  # and a way never cleared holds it up only so long
        time.sleep(0.05)
        assert moves_on(rounds[0])
    finally:
        stop.set()
        orders.way_clear()
        thread.join(5)
