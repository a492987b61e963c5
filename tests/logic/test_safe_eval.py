"""tutor.safe_eval: the one evaluator the quizzes' answer_from and the code-line judge share."""

from __future__ import annotations

import ast

import pytest

from tutor import safe_eval
from tutor.quiz.programs import evaluate_value


def _names(node: ast.AST) -> str:
    if isinstance(node, ast.Name) and node.id in ("x", "y"):
        return node.id
    raise safe_eval.Unreadable(f"unknown name {ast.unparse(node)!r}")


PLAIN = safe_eval.Grammar(_names)
FULL = safe_eval.Grammar(
    _names, functions={"tanh": __import__("math").tanh}, comparisons=True, conditionals=True
)


def value(text: str, grammar=PLAIN, **env) -> float:
    tree, _ = safe_eval.parse(text, grammar)
    return safe_eval.evaluate(tree, {"x": 2.0, "y": -3.0, **env}, grammar)


def test_arithmetic_on_named_numbers():
    assert value("x * y + 1") == -5.0
    assert value("-x ** 2") == -4.0 and value("(x - y) / 5") == 1.0
    assert value("1 if x > 0 else -1", FULL) == 1.0
    assert value("tanh(0) + math.tanh(0)", FULL) == 0.0


@pytest.mark.parametrize(
    "text, words",
    [
        ("__import__('os').system('true')", "not allowed"),
        ("x.__class__", "unknown name"),
        ("[x, y]", "a list is not allowed"),
        ("x if y else 1", "x if c else y is not allowed"),
        ("tanh(x)", "a call is not allowed"),
        ("'text'", "only numbers"),
        ("x +", "Python cannot read it"),
        ("1" * 600, "at most 500"),
        ("-" * 50 + "x", "nests more than"),
        ("+".join(["x"] * 100), "too long and nested"),
        ("z", "unknown name 'z'"),
    ],
)
def test_anything_else_is_unreadable_and_never_run(text, words):
    with pytest.raises(safe_eval.Unreadable) as err:
        value(text)
    assert words in err.value.message


@pytest.mark.parametrize(
    "text, words",
    [
        ("x / (y + 3)", "divides by zero"),
        ("x ** 65", "exponent of 65 is too large"),
        ("y ** 0.5", "fractional"),
    ],
)
def test_bounded_computation_stops_with_a_reason(text, words):
    with pytest.raises(safe_eval.CannotCompute) as err:
        value(text)
    assert words in err.value.message


def test_the_quiz_and_the_code_line_judge_use_it():
    values = {"a": (2.0, 6.0), "b": (-3.0, -4.0)}
    assert evaluate_value("b.data * a.grad", values) == -18.0 and evaluate_value("a", values) == 2.0
    with pytest.raises(ValueError, match="did you mean 'a'"):
        evaluate_value("aa.grad", values)
    from tutor import codeline

    line = codeline.read_line("self.grad += other.data * out.grad", codeline.RULES["mul"])
    assert line.grammar.functions and line.refs == {"other.data", "out.grad"}
