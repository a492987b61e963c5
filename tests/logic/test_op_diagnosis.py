"""Predict mode names a mistake for every op the engine has: each op of engine.ops.OPS has an
entry, and its characteristic wrong answer is diagnosed with a catalogue tag, in the debugger's
diagnosis and in a predict quiz's feedback."""

from __future__ import annotations

import pytest

from engine.ops import OPS
from tutor.misconceptions import CATALOGUE
from tutor.op_diagnosis import OP_MISTAKES
from tutor.predict_diagnosis import close_enough, diagnose
from tutor.quiz import grade, parse_quiz

# one program per op: (program, the node whose rule runs, the operand asked about)
PROGRAMS = {
    "+": ("a = 2; b = -3; c = a + b; L = c * 3", "c", "a"),
    "*": ("a = 2; b = -3; c = a * b; L = c * 3", "c", "a"),
    "-": ("a = 2; b = -3; c = a - b; L = c * 3", "c", "b"),
    "/": ("a = 2; b = 4; c = a / b; L = c * 3", "c", "a"),
    "**": ("x = 0.5; y = x**3; L = y * 3", "y", "x"),
    "tanh": ("x = 0.5; y = tanh(x); L = y * 3", "y", "x"),
    "exp": ("x = 0.5; y = exp(x); L = y * 3", "y", "x"),
    "log": ("x = 0.5; y = log(x); L = y * 3", "y", "x"),
    "relu": ("x = 0.5; y = relu(x); L = y * 3", "y", "x"),
    "leaky_relu": ("x = -0.5; y = leaky_relu(x, 0.1); L = y * 3", "y", "x"),
    "sigmoid": ("x = 0.5; y = sigmoid(x); L = y * 3", "y", "x"),
}


def test_every_op_of_the_engine_has_an_entry_and_a_program_here():
    assert set(OP_MISTAKES) == set(OPS) == set(PROGRAMS)


@pytest.mark.parametrize("op", sorted(OPS))
def test_each_ops_own_mistake_is_named(op):
    program, node, operand = PROGRAMS[op]
    quiz = parse_quiz({"kind": "predict", "program": program, "node": node, "operand": operand})
    q, _ = quiz.question()
    assert q.op == op
    from tutor.predict_diagnosis import _candidates

    tagged = [(tag, value) for tag, value, _ in _candidates(q) if tag and not close_enough(value, q.after)]
    assert tagged, f"no mistake of {op} is diagnosed"
    for tag, value in tagged:
        assert tag in CATALOGUE
        verdict = diagnose(q, repr(value))
        assert verdict.tag is not None and verdict.tag in CATALOGUE
        answer = grade(quiz, repr(value))
        assert not answer.correct and answer.tags and answer.tags[0] in CATALOGUE
        assert answer.feedback.startswith("Not quite: ")  # the mistake named, then why


def test_sigmoid_worked_out_from_its_input_is_named():
    quiz = parse_quiz(
        {"kind": "predict", "program": "x = 0.5; y = sigmoid(x); L = y * 3", "node": "y", "operand": "x"}
    )
    v = grade(quiz, "0.75")  # 0.5 · (1 - 0.5) × 3: the input where the output belongs
    assert v.tags == ["derivative-at-input"]  # as the rule exercises name it
    assert v.feedback.startswith("Not quite: took a derivative at the input instead of the output")
    assert "sigmoid's derivative is out·(1 - out) with y.data = 0.62246, the output" in v.feedback


def test_the_denominator_of_a_divide_that_stops_at_minus_a_over_b_is_named():
    quiz = parse_quiz(
        {"kind": "predict", "program": "a = 2; b = 4; c = a / b; L = c * 3", "node": "c", "operand": "b"}
    )
    v = grade(quiz, "-1.5")  # -a/b × 3 = -1.5; right: -a/b² × 3 = -0.375
    assert v.tags == ["wrong-operand"] and "-a/b²" in v.feedback
