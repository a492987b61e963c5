"""A learner's own op trained and stepped (tutor.own_training): their rule runs, their forward
predicts, and the debugger's program and mistake runs work with it."""

from __future__ import annotations

import math

import pytest

from engine.stepper import Stepper
from engine.train import Trainer
from tutor.lessons.train import read_task
from tutor.own_op import custom_op, grade_own_op, read_reference, rule_start
from tutor.own_training import OwnOpProgram, OwnTraining
from tutor.rule_code import read_rule
from tutor.rule_grade import check_program
from tutor.training import Snapshot, describe_task
from tutor.widgets.rule_editor import with_body_indent

FORWARD = "log(1 + exp(x))"
RIGHT = "self.grad += sigmoid(self.data) * out.grad"
TASK = {
    "steps": 15,
    "model": {"layers": [8, 1], "linear_output": True},
    "data": {"name": "moons", "samples": 40},
    "loss": {"kind": "max_margin"},
    "optimiser": {"kind": "sgd", "lr": 0.5},
}


@pytest.fixture(scope="module")
def ref():
    return read_reference("softplus", FORWARD, "sigmoid(x)")


def learners(ref, body=RIGHT, forward=FORWARD):
    return grade_own_op(ref, forward, rule_start("softplus") + f"    {body}\n").op("softplus")


def losses(training, steps):
    for _ in range(steps):
        training.apply(training.tick())
    return [r.loss for r in training.main.reports]


def test_training_with_the_learners_rule_equals_training_with_the_references_op(ref):
    task = read_task(TASK)
    theirs = losses(OwnTraining(task, learners(ref)), 15)
    reference = custom_op("softplus", ref.forward, ref.rule)
    engine = [r.loss for r in Trainer(task, activation=reference).run()]
    assert len(theirs) == 15 and theirs[-1] < 0.6 * theirs[0]
    assert theirs == pytest.approx(engine, rel=1e-9)
    # and not the task's own activation (tanh): the op really is theirs
    assert theirs != pytest.approx([r.loss for r in Trainer(task).run()], rel=1e-3)


def test_a_flipped_sign_rule_trains_the_wrong_way(ref):
    task = read_task(TASK)
    right = losses(OwnTraining(task, learners(ref)), 15)
    flipped = losses(OwnTraining(task, learners(ref, "self.grad -= sigmoid(self.data) * out.grad")), 15)
    assert flipped[0] == right[0]  # the same forward, the same start
    assert flipped[-1] > right[-1] * 1.2


def test_predictions_and_the_boundary_use_the_learners_forward(ref):
    """A forward that is not softplus (2x + 1, a line) predicts as the engine's graph of it does."""
    task = read_task(TASK)
    op = learners(ref, "self.grad += 2 * out.grad", forward="2 * x + 1")
    training = OwnTraining(task, op)
    losses(training, 3)
    snap, trainer = training.main.snapshot, training.main.trainer
    assert snap.outputs == pytest.approx([trainer.predict(x) for x in trainer.data.xs], rel=1e-12)
    softplus = OwnTraining(task, learners(ref))
    losses(softplus, 3)
    assert snap.outputs != pytest.approx(softplus.main.snapshot.outputs, rel=1e-3)
    assert snap.positive_at(0.5, 0.5) == (trainer.predict((0.5, 0.5)) > 0)
    assert isinstance(snap, Snapshot)


def test_the_task_line_names_the_learners_op(ref):
    training = OwnTraining(read_task(TASK), learners(ref))
    first, _ = describe_task(training.task, activation=training.activation_name)
    assert "your softplus" in first and "Tanh" not in first


def test_a_forward_without_a_value_is_blank_in_a_plot_not_an_error(ref):
    training = OwnTraining(read_task(TASK), learners(ref))
    snap = training.main.snapshot
    with pytest.raises(OverflowError, match="softplus"):
        learners(ref)(1000.0)  # the node refuses exp(1000) as the engine's ops do (a run stops)
    far = (1e6, 1e6)  # a point of the boundary's grid far enough for exp to give out
    assert math.isnan(snap.output(far)) and snap.positive_at(*far) is False


def test_the_sample_debugger_runs_the_learners_rule_as_theirs(ref):
    training = OwnTraining(read_task(TASK), learners(ref))
    program = training.sample_program(0)
    stepper = Stepper(program.build().output, rules=training.rules)
    mine = [s for s in stepper.steps if s.op == "softplus"]
    assert len(mine) == 8 and all(s.overridden for s in mine)
    assert all("your rule" in s.rule_text for s in mine)


def test_an_overwrite_bug_run_makes_the_mistake_in_the_learners_rule(ref):
    """= for += in their rule too (its twin), not an error for a rule with no Python source."""
    task = read_task({**TASK, "loss": {"kind": "sse"}, "optimiser": {"kind": "sgd", "lr": 0.002}})
    training = OwnTraining(task, learners(ref))
    training.add_bug_run("overwrite")
    losses(training, 4)
    bug = [r.loss for r in training.runs["bug"].reports]
    main = [r.loss for r in training.main.reports]
    assert len(bug) == 4 and bug[0] == main[0] and bug[-1] > main[-1]
    assert training.runs["bug"].stopped is None


def test_a_rules_overwriting_twin_says_and_does_equals():
    code = read_rule(rule_start("softplus") + f"    {RIGHT}\n")
    twin = code.overwriting()
    assert "self.grad = sigmoid" in twin.text and "+=" not in twin.text
    from engine.value import Value

    x = Value(0.3)
    x.grad = 5.0
    out = Value(0.0, (x,), "softplus")
    out.grad = 2.0
    twin.run(out)
    assert x.grad == pytest.approx(2.0 / (1 + math.exp(-0.3)))  # the 5.0 before is gone


# ------------------------------------------------------------------ the debugger's program


def test_the_own_op_program_builds_x_w_through_the_op(ref):
    program = OwnOpProgram(learners(ref))
    graph = program.build()
    assert list(graph.inputs) == ["x", "w"] and graph.values["y"]._op == "softplus"
    z = 0.6 * 1.5
    assert graph.output.data == pytest.approx(math.log(1 + math.exp(z)) * 1.5)
    assert program.build({"x": 2.0}).inputs["x"].data == 2.0
    assert "y = softplus(z)" in program.text
    with pytest.raises(KeyError, match="x and w"):
        program.build({"z": 1.0})


def test_the_gradient_check_passes_the_right_rule_and_marks_a_wrong_one(ref):
    right, wrong = learners(ref), learners(ref, "self.grad += sigmoid(self.data)")
    checks = check_program(OwnOpProgram(right), rules={"softplus": right.rule})
    assert [c.ok for c in checks] == [True, True]
    checks = check_program(OwnOpProgram(wrong), rules={"softplus": wrong.rule})
    assert [c.name for c in checks if not c.ok] == ["x", "w"]


def test_the_editor_opens_at_the_bodys_indent():
    assert with_body_indent(rule_start("softplus")).endswith("(self,) = out._prev\n    ")
    assert with_body_indent("def f(out):\n") == "def f(out):\n    "
    assert with_body_indent("already\n    written") == "already\n    written"
