"""The one rule for typed numbers: right to the precision the learner typed (tutor.quiz.precision)."""

from __future__ import annotations

import pytest

from tutor.predict_diagnosis import GradQuestion, diagnose
from tutor.quiz.precision import agrees, typed_unit


@pytest.mark.parametrize(
    ("typed", "unit"),
    [("-2.47", 0.01), ("18", 1.0), ("1.5e3", 100.0), (" −0.5 ", 0.1), (0.25, 0.01), (-18, 1.0)],
)
def test_the_precision_typed_is_the_place_of_the_last_digit(typed, unit):
    assert typed_unit(typed) == pytest.approx(unit)


@pytest.mark.parametrize("typed", ["six", "", "1/2", True, None, float("nan")])
def test_what_is_no_number_has_no_precision_and_never_agrees(typed):
    assert typed_unit(typed) is None
    assert not agrees(typed, 6.0)


@pytest.mark.parametrize(
    ("typed", "true"),
    [
        ("-2.47", -2.4731),  # rounded to what was typed
        ("-2.473", -2.4731),
        ("-2.4731", -2.473114),  # what the screen shows
        ("0.2231", 0.223173),  # cut off
        ("0.2232", 0.223173),
        ("-2.5", -2.4731),  # two significant figures are enough
        ("-18", -18.0),
        ("6", 6.0),
        ("1.5e3", 1523.0),
        ("0", 3e-17),  # float dust is 0 to a learner
        ("0.5", 0.5),
        (0.5, 0.5),
    ],
)
def test_agrees(typed, true):
    assert agrees(typed, true)


@pytest.mark.parametrize(
    ("typed", "true"),
    [
        ("-17", -18.0),  # one unit off is not rounding
        ("-2", -2.4731),  # one significant figure is too few
        ("-2.4", -2.4731),  # two figures must be rounded
        ("0.7", 0.70712),
        ("0.23", 0.223173),  # neither rounded (0.22) nor cut off
        ("0", 0.7),
        ("2.47", -2.4731),  # the sign counts
        ("0.0003", 0.0),
    ],
)
def test_does_not_agree(typed, true):
    assert not agrees(typed, true)


def test_predict_mode_takes_the_learners_rounding_and_matches_mistakes_by_the_same_rule():
    # y.grad = -2.4731 after a multiply by x = 3 (upstream 1 would be the local derivative alone)
    q = GradQuestion(
        operand="y", node="s", op="*", upstream=-0.82437, before=0.0, after=-2.4731,
        local=3.0, own_data=-0.5, other_data=3.0, n_operands=2,
    )  # fmt: skip
    assert diagnose(q, "-2.47").correct
    assert not diagnose(q, "-2.4").correct
    assert diagnose(q, "3.0").tag == "forgot-upstream"  # the local derivative, 3, to two figures
    assert diagnose(q, "0.412").tag == "own-input-in-mul"  # -0.5 × -0.82437 = 0.41219, rounded
