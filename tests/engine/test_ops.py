"""engine.ops: the op table every layer reads, checked against the code that really runs."""

from __future__ import annotations

import ast
import inspect
import math
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import Value
from engine.gradcheck import numeric_derivative
from engine.ops import ACTIVATIONS, FUNCTIONS, OPS

small = st.floats(min_value=-5, max_value=5, allow_nan=False)


def _node(name: str, x: float, y: float, arg: float | None) -> Value:
    a, b = Value(x, label="a"), Value(y, label="b")
    if name == "+":
        return a + b
    if name == "*":
        return a * b
    if name == "-":
        return a - b
    if name == "/":
        return a / b
    if name == "**":
        return a**arg
    method = getattr(a, name)
    return method(arg) if arg is not None else method()


def _args(op, x):
    """An operand and argument on which the op is defined."""
    if op.domain == "positive":
        x = abs(x) + 0.1
    arg = {"**": 3, "leaky_relu": 0.1}.get(op.name)
    if op.name == "**":
        x = abs(x) + 0.1  # fractional powers of negative numbers are refused
    return x, arg


def _nonzero(name: str, y: float) -> float:
    return abs(y) + 0.1 if name == "/" else y  # the denominator


@pytest.mark.parametrize("name", list(OPS))
@given(x=small, y=small)
def test_the_float_forward_is_the_values_forward_bit_for_bit(name, x, y):
    op = OPS[name]
    x, arg = _args(op, x)
    y = _nonzero(name, y)
    node = _node(name, x, y, arg)
    assert node._op == name and node._arg == arg
    if op.operands == 2:
        assert op.forward(x, y) == node.data
    elif arg is not None:
        assert op.forward(x, arg) == node.data
    else:
        assert op.forward(x) == node.data


@pytest.mark.parametrize("name", [n for n, op in OPS.items() if op.operands == 1])
@pytest.mark.parametrize("x", [-1.3, -0.4, 0.6, 1.7])
def test_every_rule_agrees_with_the_numeric_slope(name, x):
    op = OPS[name]
    x, arg = _args(op, x)
    node = _node(name, x, 0.0, arg)
    node.backward()
    (a,) = node._prev
    slope = numeric_derivative(lambda v: _node(name, v, 0.0, arg).data, x, central=True)
    assert a.grad == pytest.approx(slope, rel=1e-5, abs=1e-7)


def _rule_statements(name: str) -> list[str]:
    """The += lines of the op's backward rule in value.py, as ast dumps."""
    method = {"+": "add", "*": "mul", "-": "sub", "/": "div", "**": "pow"}.get(name, name)
    source = textwrap.dedent(inspect.getsource(getattr(Value, f"_{method}_backward")))
    tree = ast.parse(source)
    return [ast.dump(node) for node in ast.walk(tree) if isinstance(node, ast.AugAssign)]


@pytest.mark.parametrize("name", list(OPS))
def test_the_tables_rule_line_is_the_rule_in_value_py(name):
    op = OPS[name]
    arg_names = {"k": "k", "k_1": "(k - 1)", "slope": "slope"}
    lines = [op.rule.format(s="self", o="other", out="out", **arg_names)]
    if op.operands == 2:
        lines.append(op.rule_line("other", "self", "out", slot=1))
    assert [ast.dump(ast.parse(line).body[0]) for line in lines] == _rule_statements(name)


def test_the_programs_functions_and_the_neurons_activations_come_from_the_table():
    assert FUNCTIONS == ("tanh", "exp", "log", "relu", "leaky_relu", "sigmoid")
    assert ACTIVATIONS == ("tanh", "relu", "leaky_relu", "sigmoid")
    for name in FUNCTIONS:
        assert callable(getattr(Value, name)) and OPS[name].torch.startswith("torch.")


@pytest.mark.parametrize(
    "name, arg, label, definition, local",
    [
        ("+", None, "+", "e = a + b", "1"),
        ("*", None, "*", "e = a * b", "b"),
        ("-", None, "-", "e = a - b", "1"),
        ("/", None, "/", "e = a / b", "1/b"),
        ("**", 2, "**2", "e = a**2", "2·a**1"),
        ("**", -0.5, "**-0.5", "e = a**-0.5", "-0.5·a**-1.5"),
        ("tanh", None, "tanh", "e = tanh(a)", "1 - e²   (e = tanh(a))"),
        ("leaky_relu", 0.01, "leaky_relu", "e = leaky_relu(a, 0.01)", "1 if a > 0 else 0.01"),
        ("leaky_relu", 0.2, "leaky_relu(0.2)", "e = leaky_relu(a, 0.2)", "1 if a > 0 else 0.2"),
    ],
)
def test_labels_definitions_and_local_derivatives(name, arg, label, definition, local):
    op = OPS[name]
    assert op.label(arg) == label
    assert op.definition("e", ["a", "b"][: op.operands], arg) == definition
    assert op.local_derivative("a", "b", "e", arg) == local


def test_leaky_relu_refuses_a_slope_outside_0_to_1():
    with pytest.raises(ValueError, match="slope of leaky_relu"):
        Value(1.0).leaky_relu(1.5)
    assert Value(-3.0).leaky_relu(0).data == 0.0 and math.isclose(Value(-3.0).leaky_relu().data, -0.03)


@pytest.mark.parametrize("name", ["-", "/"])
@pytest.mark.parametrize("x, y", [(-1.3, 0.7), (0.6, -1.9), (2.5, 2.5)])
def test_subtraction_and_division_rules_agree_with_the_numeric_slopes(name, x, y):
    node = _node(name, x, y, None)
    node.backward()
    a, b = node._prev
    da = numeric_derivative(lambda v: _node(name, v, y, None).data, x, central=True)
    db = numeric_derivative(lambda v: _node(name, x, v, None).data, y, central=True)
    assert (a.grad, b.grad) == (pytest.approx(da, rel=1e-5), pytest.approx(db, rel=1e-5))
    second = {"-": ("b.grad += -e.grad", "-1"), "/": ("b.grad += (-a.data / b.data**2) * e.grad", "-a/b²")}
    op = OPS[name]
    assert (op.rule_line("b", "a", "e", slot=1), op.local_derivative("b", "a", "e", slot=1)) == second[name]
