"""How every number is written on screen: one rule, by significant figures.

``fmt(x)`` writes a float with ``DIGITS`` (5) significant figures, as Python's ``g`` format does,
and keeps a ``.0`` on a number that rounds to a short whole number so it still reads as a float:
``6.0``, ``-2.4731``, ``0.70711``, ``0.0013333``, ``12346``, ``1.2346e-05``. The graph tree, the inspector,
the chain-rule lines, quiz feedback and the PyTorch table all write numbers this way (the PyTorch
table asks for more digits, to show how far two engines agree).

A chain-rule line shows a sum of rounded numbers: ``before + (local)(upstream) = after``. Rounded
numbers need not add up to the rounded result, so `relation` says ``=`` only when the numbers as
shown do, and ``≈`` when the rounding shows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["DIGITS", "CELL_WIDTH", "fmt", "cell", "exponent", "relation"]

DIGITS = 5
CELL_WIDTH = 11  # the widest fmt() at 5 digits: -1.2346e-05


def fmt(x: float, digits: int = DIGITS) -> str:
    """``x`` with ``digits`` significant figures: 6.0, -2.4731, 0.70711, 1.2346e-05."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)  # nan, inf, -inf
    if x == 0:
        return "0.0"  # and never "-0.0"
    text = f"{x:.{digits}g}"
    if "e" not in text and "." not in text and len(text.lstrip("-")) < digits:
        text += ".0"  # a whole number still reads as a float: 6.0, and 4.0 for 3.9999999
    return text


def cell(x: float) -> str:
    """``fmt(x)`` right-aligned in a column of ``CELL_WIDTH`` (the graph tree's data and grad);
    a number beyond 1e±99 keeps fewer figures to fit."""
    digits = DIGITS
    text = fmt(x, digits)
    while len(text) > CELL_WIDTH and digits > 1:
        digits -= 1
        text = fmt(x, digits)
    return text.rjust(CELL_WIDTH)


def exponent(k: float) -> str:
    """An exponent as code writes it: ``2`` for 2.0, ``-1``, ``0.5``."""
    k = float(k)
    return str(int(k)) if k.is_integer() else fmt(k)


def relation(before: float, products: Iterable[tuple[float, ...]], after: float) -> str:
    """``"="`` if ``before`` plus the products, each number rounded as `fmt` shows it, gives what
    `fmt` shows for ``after``; ``"≈"`` if the rounding would show."""
    total = float(fmt(before))
    for factors in products:
        term = 1.0
        for factor in factors:
            term *= float(fmt(factor))
        total += term
    return "=" if fmt(total) == fmt(after) else "≈"
