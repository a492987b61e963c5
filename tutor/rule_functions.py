"""The functions a learner's text may call: the engine's call ops on floats, and a few of math's.

One table for a backward rule (`tutor.rule_code`) and a new op's forward (`tutor.own_op`), both
read by `tutor.safe_eval`. Each refuses a number it has no value at with `CannotCompute`, in words
a learner reads, instead of Python's ``math domain error``.

Pure logic: the engine's op table and the standard library.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from engine.ops import OPS
from tutor.safe_eval import CannotCompute

__all__ = ["ARITY", "RULE_FUNCTIONS"]


def _relu(x: float) -> float:
    return x if x > 0 else 0.0


def _leaky_relu(x: float, slope: float) -> float:
    return x if x > 0 else slope * x


def _log(x: float) -> float:
    if x <= 0:
        raise CannotCompute("it takes the log of a number that is not positive")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0:
        raise CannotCompute("it takes the square root of a negative number")
    return math.sqrt(x)


# The engine's functions (its call ops, on floats, from the op table) and a few of math's.
RULE_FUNCTIONS: dict[str, Callable[..., float]] = {
    **{name: op.forward for name, op in OPS.items() if op.syntax == "call"},
    "relu": _relu,
    "leaky_relu": _leaky_relu,
    "log": _log,
    "sqrt": _sqrt,
    "cosh": math.cosh,
    "sinh": math.sinh,
    "abs": abs,
    "float": float,
}
ARITY = {"leaky_relu": 2}  # functions of two arguments; every other takes one
