"""Predict-mode grading without a terminal: right answers, the named mistakes, unreadable text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.predict_diagnosis import (
    TAGS,
    UNREADABLE,
    GradQuestion,
    close_enough,
    diagnose,
    parse_number,
)

# The seeds' worked example, L = (a*b + c) * f with a=2, b=-3, c=10, f=-2: the step of e = a * b,
# upstream e.grad = -2, asking about a (right answer 6 = b.data × e.grad).
MUL_A = GradQuestion(
    operand="a",
    node="e",
    op="*",
    upstream=-2.0,
    before=0.0,
    after=6.0,
    local=-3.0,
    own_data=2.0,
    other_data=-3.0,
    n_operands=2,
)
# d = e + c, upstream d.grad = -2, asking about e (right answer -2).
ADD_E = GradQuestion(
    operand="e",
    node="d",
    op="+",
    upstream=-2.0,
    before=0.0,
    after=-2.0,
    local=1.0,
    own_data=-6.0,
    other_data=10.0,
    n_operands=2,
)
# a used twice across steps: c = a * b (a=3, b=2), d = c + a. The + step already gave a 1;
# c's step (upstream 1) adds b.data × 1 = 2, so the answer is 3.
REUSED_A = GradQuestion(
    operand="a",
    node="c",
    op="*",
    upstream=1.0,
    before=1.0,
    after=3.0,
    local=2.0,
    own_data=3.0,
    other_data=2.0,
    n_operands=2,
)
# b = a + a: one step, a in both slots, answer 2.
A_PLUS_A = GradQuestion(
    operand="a",
    node="b",
    op="+",
    upstream=1.0,
    before=0.0,
    after=2.0,
    local=2.0,
    own_data=3.0,
    other_data=3.0,
    n_operands=2,
    slots=2,
)
SEED = GradQuestion(operand="L", node="L", op="seed", upstream=1.0, before=0.0, after=1.0)


@pytest.mark.parametrize(
    "question, typed",
    [
        (MUL_A, "6"),
        (MUL_A, "6.0000"),
        (MUL_A, " +6.00 "),
        (ADD_E, "-2"),
        (ADD_E, "\u22122"),
        (REUSED_A, "3"),
        (A_PLUS_A, "2"),
        (SEED, "1"),
    ],
)
def test_right_answers_are_accepted(question, typed):
    verdict = diagnose(question, typed)
    assert verdict.correct
    assert verdict.tag is None


@pytest.mark.parametrize(
    "question, typed, tag, words",
    [
        (MUL_A, "-3", "forgot-upstream", "upstream"),  # b.data alone, no × e.grad
        (MUL_A, "-4", "own-input-in-mul", "OTHER"),  # a.data × e.grad
        (ADD_E, "-1", "split-add-gradient", "whole upstream"),  # half of -2
        (ADD_E, "1", "forgot-upstream", "upstream"),  # the local derivative of + alone
        (REUSED_A, "2", "overwrote-not-accumulated", "already holds 1"),  # this step's share only
        (A_PLUS_A, "1", "overwrote-not-accumulated", "2 operand slots"),  # one slot's share
        (SEED, "0", "forgot-seed", "= 1"),
    ],
)
def test_each_misconception_is_named(question, typed, tag, words):
    verdict = diagnose(question, typed)
    assert not verdict.correct
    assert verdict.tag == tag
    assert tag in TAGS
    assert words in verdict.message


def test_split_add_also_recognises_division_by_the_operand_count():
    three = GradQuestion(
        operand="x", node="s", op="+", upstream=-3.0, before=0.0, after=-3.0, local=1.0, n_operands=3
    )
    assert diagnose(three, "-1").tag == "split-add-gradient"
    assert diagnose(three, "-1.5").tag == "split-add-gradient"


def test_a_flipped_sign_is_pointed_out_without_a_tag():
    verdict = diagnose(MUL_A, "-6")
    assert not verdict.correct and verdict.tag is None
    assert "sign" in verdict.message


def test_an_unrelated_wrong_number_gets_the_general_hint():
    verdict = diagnose(MUL_A, "17")
    assert not verdict.correct and verdict.tag is None
    assert "local derivative" in verdict.message and "upstream" in verdict.message


def test_a_diagnosis_is_not_given_when_the_mistake_would_give_the_right_number():
    # upstream 1: forgetting it changes nothing, so typing the local derivative is simply right
    up_one = GradQuestion(
        operand="d",
        node="L",
        op="*",
        upstream=1.0,
        before=0.0,
        after=-2.0,
        local=-2.0,
        own_data=4.0,
        other_data=-2.0,
        n_operands=2,
    )
    assert diagnose(up_one, "-2").correct
    assert diagnose(up_one, "4").tag == "own-input-in-mul"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "abc",
        "six",
        "__import__('os')",
        "1/2",
        "2*3",
        "nan",
        "inf",
        "-inf",
        "1e999",
        "1,5",
        "--4",
        "4-",
        "0x10",
        "1_000",
        "x" * 10_000,
        "9" * 100,
        "٣",
        "💥",
        None,
    ],
)
def test_unreadable_text_asks_for_a_number(typed):
    verdict = diagnose(MUL_A, typed)
    assert not verdict.correct
    assert verdict.tag == "unreadable"
    assert verdict.message == UNREADABLE == "enter a number like -4 or 0.5"


@pytest.mark.parametrize(
    "text, value",
    [
        ("-4", -4.0),
        ("0.5", 0.5),
        (".5", 0.5),
        ("5.", 5.0),
        ("1e-3", 1e-3),
        ("+2", 2.0),
        ("\u22123.25", -3.25),
        (" 6 ", 6.0),
        ("- 4", -4.0),
    ],
)
def test_plain_numbers_are_read(text, value):
    assert parse_number(text) == value


def test_tolerance_accepts_what_the_screen_shows_and_no_more():
    assert close_enough(0.4200, 0.41997)  # within 5e-5, as before
    assert close_enough(-2.4731, -2.473114)  # the five figures the screen shows
    assert close_enough(12.346, 12.34567)  # ... also where they are 3 decimals (more than 5e-5 off)
    assert not close_enough(12.35, 12.34567)
    assert not close_enough(0.4199, 0.41997 + 1e-4)
    assert close_enough(1_000_000.5, 1_000_000.0)  # one part in a million for large numbers
    assert not close_enough(1_000_100.0, 1_000_000.0)  # 1.0001e+06 is not 1e+06


@settings(max_examples=150, deadline=None)
@given(
    st.floats(-1e4, 1e4, allow_nan=False),
    st.floats(-1e4, 1e4, allow_nan=False),
    st.floats(-1e4, 1e4, allow_nan=False),
)
def test_the_right_answer_typed_to_four_decimals_is_always_accepted(before, contribution, other):
    after = before + contribution
    q = GradQuestion(
        operand="x",
        node="y",
        op="*",
        upstream=2.0,
        before=before,
        after=after,
        local=contribution / 2,
        own_data=1.0,
        other_data=other,
        n_operands=2,
    )
    verdict = diagnose(q, f"{after:.4f}")
    assert verdict.correct
