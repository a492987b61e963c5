"""tutor.rule_diagnosis: a wrong rule with two mistakes gets both names, for every op of the table.

Each row is a rule a learner might type (the body under the signature and unpacking line) and the
diagnoses grading gives it, per operand in order. The pairs are the classic mistakes made
together with '=' for '+=': the upstream gradient left out, the local derivative left out, the
wrong operand, a sign, the derivative at the input instead of the output (or the other way).
"""

from __future__ import annotations

import pytest

from engine.ops import OPS
from tutor.misconceptions import CATALOGUE
from tutor.rule_code import signature
from tutor.rule_grade import DIAGNOSES, grade_rule

EQ = "= for +="
UP = "forgot the upstream gradient"
LOCAL = "left out the local derivative"
SIGN = "a flipped sign"
AT_IN = "the derivative at the input"
AT_OUT = "the derivative at the output"
OPERAND = "the wrong operand"

ROWS = [
    # +
    ("+", ["self.grad = out.grad", "other.grad = out.grad"], [[EQ], [EQ]]),
    ("+", ["self.grad = 1", "other.grad = 1"], [[EQ, UP], [EQ, UP]]),
    ("+", ["self.grad = -out.grad", "other.grad += out.grad"], [[EQ, SIGN]]),
    # *: the known miss, both mistakes at once
    ("*", ["self.grad = out.grad", "other.grad = out.grad"], [[EQ, LOCAL], [EQ, LOCAL]]),
    ("*", ["self.grad += out.grad", "other.grad += self.data * out.grad"], [[LOCAL]]),
    ("*", ["self.grad = other.data", "other.grad = self.data"], [[EQ, UP], [EQ, UP]]),
    (
        "*",
        ["self.grad = self.data * out.grad", "other.grad = other.data * out.grad"],
        [[EQ, "its own input"]] * 2,
    ),
    ("*", ["self.grad = -other.data * out.grad", "other.grad += self.data * out.grad"], [[EQ, SIGN]]),
    ("*", ["self.grad = out.data * out.grad", "other.grad += self.data * out.grad"], [[EQ, AT_OUT]]),
    # -
    ("-", ["self.grad = out.grad", "other.grad = -out.grad"], [[EQ], [EQ]]),
    ("-", ["self.grad += out.grad", "other.grad = out.grad"], [[EQ, SIGN]]),
    ("-", ["self.grad = 1", "other.grad = -1"], [[EQ, UP], [EQ, UP]]),
    # /
    ("/", ["self.grad = out.grad", "other.grad = out.grad"], [[EQ, LOCAL], [EQ, LOCAL]]),
    (
        "/",
        ["self.grad = (-self.data / other.data**2) * out.grad", "other.grad = (1 / other.data) * out.grad"],
        [[EQ, OPERAND], [EQ, OPERAND]],
    ),
    (
        "/",
        ["self.grad = 1 / other.data", "other.grad += (-self.data / other.data**2) * out.grad"],
        [[EQ, UP]],
    ),
    (
        "/",
        ["self.grad = -(1 / other.data) * out.grad", "other.grad += (-self.data / other.data**2) * out.grad"],
        [[EQ, SIGN]],
    ),
    (
        "/",
        ["self.grad = (1 / out.data) * out.grad", "other.grad += (-self.data / other.data**2) * out.grad"],
        [[EQ, AT_OUT]],
    ),
    # **
    ("**", ["k = out._arg", "self.grad = out.grad"], [[EQ, LOCAL]]),
    ("**", ["k = out._arg", "self.grad = k * self.data**(k - 1)"], [[EQ, UP]]),
    ("**", ["k = out._arg", "self.grad = -k * self.data**(k - 1) * out.grad"], [[EQ, SIGN]]),
    ("**", ["k = out._arg", "self.grad = k * out.data**(k - 1) * out.grad"], [[EQ, AT_OUT]]),
    # tanh
    ("tanh", ["self.grad = out.grad"], [[EQ, LOCAL]]),
    ("tanh", ["self.grad = 1 - out.data**2"], [[EQ, UP]]),
    ("tanh", ["self.grad = -(1 - out.data**2) * out.grad"], [[EQ, SIGN]]),
    ("tanh", ["self.grad = (1 - self.data**2) * out.grad"], [[EQ, AT_IN]]),
    ("tanh", ["self.grad += -(1 - self.data**2) * out.grad"], [[AT_IN, SIGN]]),
    # exp
    ("exp", ["self.grad = out.grad"], [[EQ, LOCAL]]),
    ("exp", ["self.grad = out.data"], [[EQ, UP]]),
    ("exp", ["self.grad = self.data * out.grad"], [[EQ, AT_IN]]),
    ("exp", ["self.grad = self.data"], [[EQ, AT_IN, UP]]),
    # log
    ("log", ["self.grad = out.grad"], [[EQ, LOCAL]]),
    ("log", ["self.grad = 1 / self.data"], [[EQ, UP]]),
    ("log", ["self.grad = -(1 / self.data) * out.grad"], [[EQ, SIGN]]),
    ("log", ["self.grad = (1 / out.data) * out.grad"], [[EQ, AT_OUT]]),
    # relu: its gate reads the same from the input or the output, so only the others show
    ("relu", ["self.grad = out.grad"], [[EQ, LOCAL]]),
    ("relu", ["self.grad = (self.data > 0)"], [[EQ, UP]]),
    ("relu", ["self.grad = -(out.data > 0) * out.grad"], [[EQ, SIGN]]),
    # leaky_relu
    ("leaky_relu", ["slope = out._arg", "self.grad = out.grad"], [[EQ, LOCAL]]),
    ("leaky_relu", ["slope = out._arg", "self.grad = (1 if self.data > 0 else slope)"], [[EQ, UP]]),
    (
        "leaky_relu",
        ["slope = out._arg", "self.grad = -(1 if self.data > 0 else slope) * out.grad"],
        [[EQ, SIGN]],
    ),
    # sigmoid
    ("sigmoid", ["self.grad = out.grad"], [[EQ, LOCAL]]),
    ("sigmoid", ["self.grad = out.data * (1 - out.data)"], [[EQ, UP]]),
    ("sigmoid", ["self.grad = -out.data * (1 - out.data) * out.grad"], [[EQ, SIGN]]),
    ("sigmoid", ["self.grad = self.data * (1 - self.data) * out.grad"], [[EQ, AT_IN]]),
]


def _rule(op: str, lines: list[str]) -> str:
    return signature(op) + "".join(f"    {line}\n" for line in lines)


@pytest.mark.parametrize("op, lines, expected", ROWS, ids=[f"{op}:{'; '.join(ls)}" for op, ls, _ in ROWS])
def test_a_wrong_rule_gets_every_mistake_it_makes_by_name(op, lines, expected):
    verdict = grade_rule(_rule(op, lines), op)
    assert verdict.kind == "wrong", verdict.message
    assert verdict.diagnoses == [name for names in expected for name in names]
    want_tags = list(dict.fromkeys(DIAGNOSES[name].tag for names in expected for name in names))
    assert verdict.tags == want_tags and all(tag in CATALOGUE for tag in verdict.tags)
    for names in expected:
        assert " and ".join(names) in verdict.message


def test_the_table_covers_every_op_and_every_pair_with_equals():
    ops = {op for op, _, _ in ROWS}
    assert ops == set(OPS)
    pairs = {tuple(names) for _, _, expected in ROWS for names in expected}
    for mistake in (UP, LOCAL, SIGN, AT_IN, AT_OUT, OPERAND):
        assert (EQ, mistake) in pairs, mistake


@pytest.mark.parametrize("op", [op for op, spec in OPS.items() if "{out}.data" in spec.rule])
def test_every_rule_written_from_the_output_names_the_input_in_its_place(op):
    """tanh, exp, relu, sigmoid: out.data replaced by self.data is 'the derivative at the input',
    except where the two give the same numbers (relu's gate: out > 0 exactly when x > 0)."""
    spec = OPS[op]
    line = spec.rule.format(s="self", o="other", out="out").replace("out.data", "self.data")
    verdict = grade_rule(_rule(op, [line]), op)
    if op == "relu":
        assert verdict.correct
        return
    assert verdict.diagnoses == [AT_IN] and verdict.tags == ["derivative-at-input"]


@pytest.mark.parametrize(
    "op", [op for op, spec in OPS.items() if "{s}.data" in spec.rule and "{out}.data" not in spec.rule]
)
def test_every_rule_written_from_the_input_names_the_output_in_its_place(op):
    """log, **, leaky_relu: self.data replaced by out.data is 'the derivative at the output'
    (leaky_relu's gate, like relu's, reads the same from either side)."""
    spec = OPS[op]
    fields = (
        {"k": "k", "k_1": "(k - 1)"} if spec.syntax == "power" else ({spec.arg: spec.arg} if spec.arg else {})
    )
    line = spec.rule.format(s="self", o="other", out="out", **fields).replace("self.data", "out.data")
    unpack = [f"{spec.arg} = out._arg"] if spec.arg else []
    verdict = grade_rule(_rule(op, [*unpack, line]), op)
    if op == "leaky_relu":
        assert verdict.correct
        return
    assert verdict.diagnoses == [AT_OUT] and verdict.tags == ["derivative-at-input"]
