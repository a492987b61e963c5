"""The code-line judge: lines of backward rules and training loops, read with ast, never executed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.codeline import MAX_LINE_CHARS, RULES, judge_line, read_line, same_effect

MUL = "self.grad += other.data * out.grad"
ADD = "self.grad += out.grad"
TANH = "self.grad += (1 - out.data**2) * out.grad"
UPDATE = "p.data -= lr * p.grad"


@pytest.mark.parametrize(
    "rule, expect, answer",
    [
        ("mul", MUL, "self.grad += other.data * out.grad"),
        ("mul", MUL, "self.grad += out.grad * other.data"),
        ("mul", MUL, "self.grad = self.grad + other.data * out.grad"),
        ("mul", MUL, "  self.grad += other.data*out.grad   # a comment"),
        ("add", ADD, "self.grad += 1.0 * out.grad"),
        ("tanh", TANH, "self.grad += (1 - t**2) * out.grad"),
        ("tanh", TANH, "self.grad += (1 - math.tanh(self.data)**2) * out.grad"),
        ("exp", "self.grad += out.data * out.grad", "self.grad += exp(self.data) * out.grad"),
        (
            "pow",
            "self.grad += k * self.data**(k - 1) * out.grad",
            "self.grad += (other * self.data**(other - 1)) * out.grad",
        ),
        ("relu", "self.grad += (out.data > 0) * out.grad", "self.grad += out.grad if self.data > 0 else 0"),
        (
            "sigmoid",
            "self.grad += out.data * (1 - out.data) * out.grad",
            "self.grad += (out.data - out.data**2) * out.grad",
        ),
        ("log", "self.grad += (1 / self.data) * out.grad", "self.grad += out.grad / self.data"),
        ("update", UPDATE, "p.data = p.data - lr * p.grad"),
        ("update", UPDATE, "p.data += -lr * p.grad"),
        ("zero_grad", "p.grad = 0.0", "p.grad = 0"),
    ],
)
def test_lines_that_do_the_same_are_right(rule, expect, answer):
    v = judge_line(answer, expect, rule)
    assert (v.correct, v.kind, v.tags) == (True, "right", [])


@pytest.mark.parametrize(
    "rule, expect, answer, tags, words",
    [
        # = instead of +=
        ("mul", MUL, "self.grad = other.data * out.grad", ["overwrote-not-accumulated"], "+="),
        ("add", ADD, "self.grad = out.grad", ["overwrote-not-accumulated"], "+="),
        # the wrong operand
        (
            "mul",
            MUL,
            "self.grad += self.data * out.grad",
            ["own-input-in-mul"],
            "self.data where the rule needs other.data",
        ),
        (
            "mul",
            MUL,
            "self.grad += other.grad * out.grad",
            ["wrong-operand"],
            "other.grad where the rule needs other.data",
        ),
        ("tanh", TANH, "self.grad += (1 - self.data**2) * out.grad", ["derivative-at-input"], "self.data"),
        ("update", UPDATE, "p.data -= lr * p.data", ["wrong-operand"], "p.data where the rule needs p.grad"),
        # missing out.grad
        ("mul", MUL, "self.grad += other.data", ["forgot-upstream"], "out.grad"),
        ("add", ADD, "self.grad += 1", ["forgot-upstream"], "out.grad"),
        ("tanh", TANH, "self.grad += 1 - out.data**2", ["forgot-upstream"], "out.grad"),
        # wrong sign
        ("mul", MUL, "self.grad -= other.data * out.grad", ["rule-wrong-sign"], "sign"),
        ("update", UPDATE, "p.data += lr * p.grad", ["update-wrong-sign"], "uphill"),
        # an add's gradient split in two
        ("add", ADD, "self.grad += out.grad / 2", ["split-add-gradient"], "whole"),
        # no learning rate
        ("update", UPDATE, "p.data -= p.grad", ["forgot-learning-rate"], "learning rate"),
        # two mistakes at once
        (
            "mul",
            MUL,
            "self.grad = self.data * out.grad",
            ["overwrote-not-accumulated", "own-input-in-mul"],
            "+=",
        ),
    ],
)
def test_each_classic_mistake_is_named(rule, expect, answer, tags, words):
    v = judge_line(answer, expect, rule)
    assert v.kind == "wrong" and not v.correct
    assert v.tags == tags
    assert words in v.message


def test_overwriting_a_parameter_in_the_update_is_wrong_but_not_the_accumulation_tag():
    v = judge_line("p.data = -lr * p.grad", UPDATE, "update")
    assert v.kind == "wrong" and v.tags == []
    assert "throws away the old p.data" in v.message


def test_changing_the_wrong_variable_says_which_one_the_rule_changes():
    v = judge_line("other.grad += self.data * out.grad", MUL, "mul")
    assert v.kind == "wrong"
    assert "changes other.grad" in v.message and "must change self.grad" in v.message


def test_a_wrong_line_with_no_known_mistake_gets_a_counter_example_with_numbers():
    v = judge_line("self.grad += 3 * other.data * out.grad", MUL, "mul")
    assert v.kind == "wrong" and v.tags == []
    assert "your line adds" in v.message and "the rule adds" in v.message


def test_relu_counter_example_uses_values_where_the_lines_differ():
    v = judge_line("self.grad += out.grad", "self.grad += (out.data > 0) * out.grad", "relu")
    assert v.kind == "wrong"
    assert "the rule adds 0" in v.message  # shown on a draw where the unit is off


def test_zero_grad_that_leaves_the_grad_alone_says_what_it_should_become():
    v = judge_line("p.grad += 0", "p.grad = 0.0", "zero_grad")
    assert v.kind == "wrong"
    assert "should become 0" in v.message


@pytest.mark.parametrize(
    "answer, words",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("self.grad +=", "Python cannot read it"),
        ("self.grad += other.data × out.grad", "Python cannot read it"),
        ("__import__('os').system('echo hacked')", "only tanh, exp, log and float can be called"),
        ("self.grad += __import__('os').getpid()", "only tanh, exp, log and float can be called"),
        ("self.grad += ().__class__", "only .data and .grad"),
        ("self.grad += other.__class__", "only .data and .grad"),
        ("self.grad += 'text'", "only numbers"),
        ("self.grad += (lambda: 1)()", "only tanh, exp, log and float can be called"),
        ("self.grad += [1][0]", "indexing"),
        ("self.grad += x", "unknown name 'x'"),
        ("self.grad += other * out.grad", "other.data or other.grad"),
        ("self.grad += other.data * out.grad; import os", "exactly one line"),
        ("import os", "not an assignment"),
        ("a = b = 1", "assign to one thing only"),
        ("self.grad += other.data * out.grad\x00", "NUL"),
        ("x" * 100_000, "at most"),
        ("self.grad += " + "(" * 200 + "1" + ")" * 200, ""),
        ("other.data * out.grad", "only an expression"),
        ("self.grad //= 2", "use =, +=, -=, *= or /="),
        ("p.data -= lr * p.grad", "must change one of self.data"),
    ],
    ids=lambda v: repr(v)[:30],
)
def test_unreadable_lines_get_a_message_and_nothing_runs(answer, words):
    v = judge_line(answer, MUL, "mul")
    assert v.kind == "unreadable" and not v.correct and v.tags == []
    assert v.message.startswith("Not a line I can read")
    assert words in v.message


def test_a_line_is_never_executed(tmp_path):
    target = tmp_path / "made-by-the-line"
    for line in (
        f"self.grad += open({str(target)!r}, 'w').write('x')",
        f"__import__('pathlib').Path({str(target)!r}).touch()",
    ):
        judge_line(line, MUL, "mul")
    assert not target.exists()


@pytest.mark.parametrize(
    "answer, words",
    [
        ("self.grad += 2 ** 10 ** 10", "too large"),
        ("self.grad += other.data / 0", "divides by zero"),
        ("self.grad += exp(1000) * out.grad", "too large"),
        ("self.grad += log(-other.data * other.data - 1)", "log"),
    ],
)
def test_lines_that_cannot_be_computed_are_wrong_with_the_reason(answer, words):
    v = judge_line(answer, MUL, "mul")
    assert v.kind == "wrong" and words in v.message


def test_long_lines_are_refused_before_parsing():
    v = judge_line("self.grad += " + "1+" * MAX_LINE_CHARS + "1", MUL, "mul")
    assert v.kind == "unreadable" and "characters" in v.message


def test_same_effect_compares_what_lines_do_not_how_they_are_written():
    rule = RULES["mul"]
    a = read_line("self.grad += other.data * out.grad", rule)
    b = read_line("self.grad = out.grad * other.data + self.grad", rule)
    c = read_line("self.grad += self.data * out.grad", rule)
    assert same_effect(a, b, rule)
    assert not same_effect(a, c, rule)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_any_text_gets_a_verdict_never_an_exception(text):
    v = judge_line(text, MUL, "mul")
    assert v.kind in ("right", "wrong", "unreadable")
    assert v.message


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=-5, max_value=5).filter(lambda c: abs(c - 1) > 1e-6))
def test_a_scaled_rule_is_never_taken_for_the_right_one(c):
    v = judge_line(f"self.grad += {c!r} * other.data * out.grad", MUL, "mul")
    assert not v.correct
