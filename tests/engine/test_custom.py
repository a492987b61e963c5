"""engine.custom: a node for an op outside the op table, as a neuron's activation, in training
and in the stepper."""

from __future__ import annotations

import math

import pytest

from engine.custom import CustomOp
from engine.nn import MLP
from engine.stepper import YOUR_RULE_WORDS, Stepper
from engine.train import DataSpec, LossSpec, ModelSpec, OptimiserSpec, Task, Trainer
from engine.value import Value


def _softplus_backward(out):
    (self,) = out._prev
    self.grad += 1 / (1 + math.exp(-self.data)) * out.grad


SOFTPLUS = CustomOp("softplus", lambda x: math.log1p(math.exp(x)), _softplus_backward)

TASK = Task(
    model=ModelSpec(layers=(8, 1), linear_output=True),
    data=DataSpec(name="moons", samples=40),
    loss=LossSpec(kind="max_margin"),
    optimiser=OptimiserSpec(lr=0.5),
    steps=20,
)


def test_node_shape_and_backward():
    x = Value(0.3)
    y = SOFTPLUS(x)
    assert (y._op, y._prev, y._arg) == ("softplus", (x,), None)
    (y * 2.0).backward()
    assert math.isclose(x.grad, 2 / (1 + math.exp(-0.3)))


@pytest.mark.parametrize(
    "name, says", [("tanh", "already an op"), ("linear", "already an op"), ("a b", "one word")]
)
def test_names_refused(name, says):
    with pytest.raises(ValueError, match=says):
        CustomOp(name, float, _softplus_backward)


def test_overflowing_forward_is_an_overflow_error():
    big = CustomOp("big", lambda x: math.inf, _softplus_backward)
    with pytest.raises(OverflowError, match="not a finite number"):
        big(Value(1.0))


def test_mlp_with_a_custom_activation():
    model = MLP(2, [3, 1], activation=SOFTPLUS, linear_output=True, seed=1)
    assert repr(model.layers[0].neurons[0]) == "SoftplusNeuron(2)"
    hidden = model.layers[0]([Value(0.5), Value(-0.5)])
    assert {h._op for h in hidden} == {"softplus"}


def test_training_with_the_custom_op_lowers_the_loss_and_rebuilds_each_step():
    trainer = Trainer(TASK, activation=SOFTPLUS)
    assert trainer.build_once is False  # engine.replay knows only the op table
    reports = list(trainer.run())
    assert len(reports) == 20
    assert reports[-1].loss < 0.5 * reports[0].loss


def test_custom_training_equals_the_same_network_built_by_hand():
    """The first step's loss with the custom op equals a forward written with exp/log ops."""
    trainer = Trainer(TASK, activation=SOFTPLUS)
    first = trainer.step().loss
    plain = Trainer(TASK)
    model = plain.model  # same seed, same weights: only the activation differs

    def softplus(z):
        return (z.exp() + 1).log()

    for layer in model.layers[:1]:
        for n in layer.neurons:
            n.activation = "linear"
    scores = []
    for x in plain.data.xs:
        h = [softplus(n([Value(c) for c in x])) for n in model.layers[0].neurons]
        scores.append(model.layers[1](h))
    margins = [(1 + -y * s).relu() for s, y in zip(scores, plain.targets)]
    loss = sum(margins, Value(0.0)) * (1 / len(margins))
    assert math.isclose(first, loss.data, rel_tol=1e-9)


def test_stepper_shows_the_custom_rule_as_the_learners():
    x = Value(0.6, label="x")
    y = SOFTPLUS(x)
    y.label = "y"
    loss = y * 3.0
    steps = [s for s in Stepper(loss).steps if s.op == "softplus"]
    assert len(steps) == 1
    step = steps[0]
    assert step.overridden and step.rule_text == YOUR_RULE_WORDS
    assert "def _softplus_backward(out):" in step.source
