"""engine.numfmt: the one rule every number on screen is written by."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.numfmt import CELL_WIDTH, cell, exponent, fmt, relation


@pytest.mark.parametrize(
    "x, text",
    [
        (-3.0, "-3.0"),
        (6, "6.0"),
        (0.70710678, "0.70711"),
        (-2.47312, "-2.4731"),
        (1.2e-5, "1.2e-05"),
        (0.0, "0.0"),
        (-0.0, "0.0"),
        (2.5e7, "2.5e+07"),
        (12345.67, "12346"),
        (0.0013333, "0.0013333"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (math.nan, "nan"),
    ],
)
def test_five_significant_figures(x, text):
    assert fmt(x) == text


def test_more_digits_on_request():
    assert fmt(math.sqrt(0.5), 12) == "0.707106781187"


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_float_fits_the_cell_and_reads_back_to_its_figures(x):
    assert len(cell(x)) == CELL_WIDTH
    assert float(fmt(x)) == pytest.approx(x, rel=5e-5, abs=0) or abs(x) > 1.7976e308
    assert float(cell(x)) == pytest.approx(x, rel=5e-4, abs=0) or abs(x) > 1.79e308


@pytest.mark.parametrize("k, text", [(2.0, "2"), (-1, "-1"), (0.5, "0.5"), (3.25, "3.25")])
def test_exponents_are_written_as_code_writes_them(k, text):
    assert exponent(k) == text


def test_relation_is_equals_only_when_the_shown_numbers_add_up():
    assert relation(0.0, [(-3.0, -2.0)], 6.0) == "="
    assert relation(1 / 750, [(-3.0, 1 / 750)], 1 / 750 - 3 / 750) == "≈"
    assert relation(0.5, [(1.0,), (1.0,)], 2.5) == "="
