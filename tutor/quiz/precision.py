"""When a typed number is right: it agrees with the true value to the precision the learner typed.

One rule for every number a learner types (the debugger's predict mode, ``predict`` and
``numeric`` questions without a ``tolerance`` of their own), and for matching a typed number with
the wrong value a misconception would give:

* the precision typed is the place of its last digit: ``-2.47`` is to 0.01, ``18`` to 1,
  ``1.5e3`` to 100;
* the answer agrees when it is the true value **rounded or cut off** at that place: ``-2.47`` and
  ``-2.473`` both agree with -2.4731, and so does ``0.2231`` with 0.22317 (cut off), but ``-17``
  does not agree with -18;
* whatever was typed, it must carry at least two significant figures of the true value (or four
  decimals, for values near 0), rounded; only an answer with more figures may be cut off: ``-2``
  and ``-2.4`` do not agree with -2.4731, ``-2.5`` does, and ``0`` agrees with 3e-17.

Pure logic: no terminal, no Textual. Text is read as a plain number (`parse_number`), never
evaluated.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

__all__ = ["MIN_FIGURES", "MIN_UNIT", "PRECISION_HELP", "typed_unit", "agrees"]

MIN_FIGURES = 2  # significant figures an answer must carry at least
MIN_UNIT = 1e-4  # ... or four decimals, whichever asks less (a true 3e-17 is 0 to a learner)
PRECISION_HELP = "two significant figures or more, e.g. -2.47 for -2.4731"

_SLACK = 1e-9  # relative: binary floats are not the decimals typed


def typed_unit(answer) -> float | None:
    """The place of the last digit of ``answer`` (text as typed, or a number from a lesson
    file): 0.01 for ``"-2.47"``, 1 for ``"18"``, 100 for ``"1.5e3"``; None if it is no number."""
    from tutor.predict_diagnosis import parse_number

    if isinstance(answer, bool):
        return None
    if isinstance(answer, (int, float)):
        if not math.isfinite(answer):
            return None
        text = repr(answer) if isinstance(answer, float) else str(answer)
    elif isinstance(answer, str):
        if parse_number(answer) is None:
            return None
        text = answer.strip().replace("\u2212", "-").replace("\u2013", "-").replace(" ", "")
    else:
        return None
    try:
        exponent = Decimal(text).as_tuple().exponent
    except InvalidOperation:
        return None
    if not isinstance(exponent, int):
        return None
    return 10.0**exponent


def _coarsest_unit(true: float) -> float:
    """The coarsest place an answer for ``true`` may stop at: its second significant figure,
    or the fourth decimal if that is finer than needed."""
    if true == 0 or not math.isfinite(true):
        return MIN_UNIT
    second_figure = 10.0 ** (math.floor(math.log10(abs(true))) - (MIN_FIGURES - 1))
    return max(second_figure, MIN_UNIT)


def agrees(answer, true: float) -> bool:
    """Whether ``answer`` (text as typed, or a number) is ``true`` rounded or cut off at the
    place of its last digit, that place being no coarser than two significant figures."""
    from tutor.predict_diagnosis import parse_number

    if isinstance(answer, bool):
        return False
    value = float(answer) if isinstance(answer, (int, float)) else parse_number(answer)
    unit = typed_unit(answer)
    if value is None or unit is None or not math.isfinite(true):
        return False
    coarsest = _coarsest_unit(true)
    slack = _SLACK * max(abs(true), abs(value), min(unit, coarsest))
    if abs(true - value) <= min(unit, coarsest) / 2 + slack:
        return True  # rounded (to two figures at least: 0.5 for 0.5, not 0.7 for 0.7071)
    if unit >= coarsest:
        return False  # two figures must be rounded; only a longer answer may be cut off
    # cut off: the true value lies past the typed one, away from 0, by less than one unit
    sign = math.copysign(1.0, value if value != 0 else true)
    beyond = (true - value) * sign
    return 0 <= beyond < unit - slack
