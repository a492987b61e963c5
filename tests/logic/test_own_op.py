"""A learner's own op (tutor.own_op): reading the forward, grading both parts with named
diagnoses, refusing hostile formulas and a bad reference, and the node it makes in the engine."""

from __future__ import annotations

import math

import pytest

from engine.value import Value
from tutor.own_op import FormulaError, grade_own_op, read_forward, read_reference, rule_start

FORWARD = "log(1 + exp(x))"
RIGHT = "self.grad += sigmoid(self.data) * out.grad"


@pytest.fixture(scope="module")
def ref():
    return read_reference("softplus", FORWARD, "sigmoid(x)")


def rule(body: str) -> str:
    return rule_start("softplus") + f"    {body}\n"


def test_right_forward_and_rule(ref):
    v = grade_own_op(ref, FORWARD, rule(RIGHT))
    assert v.correct and v.forward_ok and v.rule_ok
    assert "gradient check on your forward agrees" in v.message


def test_another_right_form_of_both(ref):
    """softplus' = sigmoid = 1 - exp(-softplus): written with the output it is right too."""
    v = grade_own_op(ref, "log(exp(0) + exp(x))", rule("self.grad += (1 - exp(-out.data)) * out.grad"))
    assert v.correct, v.message


@pytest.mark.parametrize(
    "body, diagnosis, tag",
    [
        ("self.grad += sigmoid(self.data)", "forgot the upstream gradient", "forgot-upstream"),
        ("self.grad = sigmoid(self.data) * out.grad", "= for +=", "overwrote-not-accumulated"),
        ("self.grad -= sigmoid(self.data) * out.grad", "a flipped sign", "rule-wrong-sign"),
        ("self.grad += sigmoid(out.data) * out.grad", "the derivative at the output", "derivative-at-input"),
    ],
)
def test_each_diagnosis(ref, body, diagnosis, tag):
    v = grade_own_op(ref, FORWARD, rule(body))
    assert not v.correct and v.forward_ok and not v.rule_ok
    assert v.diagnoses == [diagnosis]
    assert v.tags == [tag]
    assert diagnosis in v.message


def test_derivative_at_the_input_when_the_reference_uses_the_output():
    ref = read_reference("softplus", FORWARD, "1 - exp(-out)")
    v = grade_own_op(ref, FORWARD, rule("self.grad += (1 - exp(-self.data)) * out.grad"))
    assert v.diagnoses == ["the derivative at the input"]


def test_two_mistakes_at_once(ref):
    v = grade_own_op(ref, FORWARD, rule("self.grad = sigmoid(self.data)"))
    assert v.diagnoses == ["= for +=", "forgot the upstream gradient"]


def test_wrong_forward_is_named_and_rule_checked_against_it(ref):
    """A wrong forward: said so; the right rule for softplus then disagrees with their forward's slope."""
    v = grade_own_op(ref, "log(exp(x))", rule(RIGHT))
    assert not v.correct and not v.forward_ok and v.rule_ok
    assert "Your forward is not softplus" in v.message
    assert "gradient check on your own forward disagrees" in v.message


def test_rule_consistent_with_own_forward_but_not_the_reference(ref):
    """tanh as forward and tanh's rule: the numeric check on their forward passes, the reference does not."""
    v = grade_own_op(ref, "tanh(x)", rule("self.grad += (1 - out.data**2) * out.grad"))
    assert not v.forward_ok and not v.rule_ok
    assert "gradient check on your own forward" not in v.message


@pytest.mark.parametrize(
    "text, says",
    [
        ("__import__('os').system('true')", "can be called"),
        ("import os", "Python cannot read it"),
        ("9**9**9", "a power of a power"),
        ("x ** 1000", "an exponent of at most 64"),
        ("x" * 100_000, "at most 300 are read"),
        ("open('/etc/passwd')", "can be called"),
        ("x.__class__", "no attributes"),
        ("y + 1", "unknown name 'y'"),
        ("2 + 3", "never uses x"),
        ("", "write the formula"),
    ],
)
def test_hostile_forward_refused_with_a_message(text, says):
    with pytest.raises(FormulaError) as err:
        read_forward(text)
    assert says in err.value.message


def test_hostile_forward_is_graded_not_raised(ref):
    v = grade_own_op(ref, "__import__('os')", rule(RIGHT))
    assert not v.correct and v.forward is None and v.op("softplus") is None
    assert v.message.startswith("Not yet. Your forward, column 1:")


def test_forward_that_overflows_is_a_message_not_a_crash(ref):
    v = grade_own_op(ref, "exp(exp(exp(x)))", rule(RIGHT))
    assert not v.forward_ok
    assert "Your forward" in v.message


def test_unreadable_rule_points_at_its_line(ref):
    v = grade_own_op(ref, FORWARD, rule_start("softplus") + "    import os\n")
    assert not v.rule_ok and v.line == 3
    assert "line 3" in v.message


@pytest.mark.parametrize(
    "args, says",
    [
        (("softplus", FORWARD, "tanh(x)"), "derivative: at x ="),
        (("tanh", "x", "1"), "already an op of the engine"),
        (("soft plus", "x", "1"), "one word"),
        (("softplus", "log(1 + exp(y))", "1"), "forward: unknown name 'y'"),
        (("softplus", FORWARD, "sigmoid(z)"), "derivative: unknown name 'z'"),
        (("softplus", "log(x)", "1 / x"), "log of a number that is not positive"),
    ],
)
def test_bad_reference_refused(args, says):
    with pytest.raises(FormulaError) as err:
        read_reference(*args)
    assert says in str(err.value)


def test_engine_node_gradients_equal_a_hand_written_value_computation(ref):
    """softplus(x*w) * w with the learner's op == log(1 + exp(x*w)) * w made of the engine's ops."""
    op = grade_own_op(ref, FORWARD, rule(RIGHT)).op("softplus")
    x, w = Value(0.6), Value(-1.5)
    z = x * w
    y = op(z)
    loss = y * w
    loss.backward()
    assert y._op == "softplus" and y._prev == (z,)

    hx, hw = Value(0.6), Value(-1.5)
    hand = ((hx * hw).exp() + 1).log() * hw
    hand.backward()
    assert math.isclose(loss.data, hand.data, rel_tol=1e-12)
    assert math.isclose(x.grad, hx.grad, rel_tol=1e-9)
    assert math.isclose(w.grad, hw.grad, rel_tol=1e-9)


def test_a_wrong_rule_gives_wrong_engine_gradients(ref):
    op = grade_own_op(ref, FORWARD, rule("self.grad += sigmoid(self.data)")).op("softplus")
    x = Value(0.6)
    y = op(x) * 3.0
    y.backward()
    right = 3.0 / (1 + math.exp(-0.6))
    assert not math.isclose(x.grad, right)


def _moons_task():
    from engine.train import DataSpec, LossSpec, ModelSpec, OptimiserSpec, Task

    return Task(
        model=ModelSpec(layers=(8, 1), linear_output=True),
        data=DataSpec(name="moons", samples=40),
        loss=LossSpec(kind="max_margin"),
        optimiser=OptimiserSpec(lr=0.5),
        steps=20,
    )


def test_training_with_the_learners_op_lowers_the_loss(ref):
    from engine.train import Trainer

    op = grade_own_op(ref, FORWARD, rule(RIGHT)).op("softplus")
    reports = list(Trainer(_moons_task(), activation=op).run())
    assert reports[-1].loss < 0.5 * reports[0].loss


def test_a_flipped_sign_trains_the_wrong_way(ref):
    """-= in the rule sends every hidden weight uphill: the loss ends above the right rule's."""
    from engine.train import Trainer

    right = grade_own_op(ref, FORWARD, rule(RIGHT)).op("softplus")
    wrong = grade_own_op(ref, FORWARD, rule("self.grad -= sigmoid(self.data) * out.grad")).op("softplus")
    good = list(Trainer(_moons_task(), activation=right).run())[-1].loss
    bad = list(Trainer(_moons_task(), activation=wrong).run())[-1].loss
    assert bad > good * 1.2


def test_a_forward_that_gives_out_in_training_stops_the_run_with_the_ops_name(ref):
    """softplus's log(1 + exp(x)) has no float past x ≈ 709: with a learning rate that blows the
    weights up, the run stops saying so, as an overflow of the engine's own ops does."""
    from dataclasses import replace

    from engine.train import Trainer, TrainingStopped

    op = grade_own_op(ref, FORWARD, rule(RIGHT)).op("softplus")
    task = _moons_task()
    task = replace(task, optimiser=replace(task.optimiser, lr=500.0), steps=50)
    with pytest.raises(TrainingStopped) as stopped:
        list(Trainer(task, activation=op).run())
    assert "softplus(" in str(stopped.value) and "a number grows too large" in str(stopped.value)


def test_the_ops_cost_grows_with_what_the_interpreter_walks(ref):
    from tutor.own_op import op_cost

    short = grade_own_op(ref, FORWARD, rule(RIGHT))
    longer = grade_own_op(ref, FORWARD + " + 0 * x * x * x * x", rule(RIGHT))
    assert short.op("softplus").cost == op_cost(short.forward, short.rule) > 10
    assert longer.op("softplus").cost > short.op("softplus").cost
