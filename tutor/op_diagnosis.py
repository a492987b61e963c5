"""The mistake each op of the engine invites, for predict mode: one entry per op of
:data:`engine.ops.OPS` (tests/logic/test_op_diagnosis.py proves none is missing).

Each entry takes the question (:class:`tutor.predict_diagnosis.GradQuestion`) and gives
``(tag, wrong value, explanation)`` for the answers that mistake would produce. The tag is one of
the built-in catalogue's: ``derivative-at-input`` where a rule written from the output (tanh, exp,
sigmoid) is given the input, as the rule exercises name it too; ``wrong-operand`` ("used the wrong
value in a rule") for the others, whose explanation says which value (x for 1/x, the gate on the
wrong side, the exponent not lowered). Every tag of the catalogue is
taught by a quiz of the built-in course (tests/logic/test_course.py), so op-specific tags would
need built-in quizzes of their own; the explanation carries the op's detail instead. Only what the question already holds is used: the
operand's data ``x``, the op's own float forward (:data:`engine.ops.OPS`) for the output, the
local derivative the engine computed, the upstream gradient. The mistakes every op shares
(``=`` for ``+=``, the upstream forgotten, the sign) and those of ``+`` (the gradient split)
and ``*`` (the operand's own input) are found in :mod:`tutor.predict_diagnosis` itself.

Pure logic: no Textual.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.numfmt import fmt
from engine.ops import OPS

__all__ = ["OP_MISTAKES", "op_candidates"]

Candidate = tuple[str, float, str]


def _shared(q) -> list[Candidate]:
    return []  # + and *: diagnosed in predict_diagnosis (split-add-gradient, own-input-in-mul)


def _power(q) -> list[Candidate]:
    if q.local is None or q.own_data is None:
        return []
    kept = q.local * q.own_data  # k·x**k: the exponent not lowered by one
    return [
        (
            "wrong-operand",
            q.before + kept * q.upstream,
            f"The power rule lowers the exponent by one: d(x**k)/dx = k·x**(k-1). That answer "
            f"keeps x**k, as if {q.node}'s derivative were k·{q.node}.",
        )
    ]


def _on_input(tag: str, derivative: Callable[[float], float], words: str):
    """An activation whose derivative is written with its output, worked out from the input."""

    def candidates(q) -> list[Candidate]:
        if q.own_data is None:
            return []
        return [
            (
                tag,
                q.before + derivative(q.own_data) * q.upstream,
                f"Not from the input: {words} with {q.node}.data = {fmt(OPS[q.op].forward(q.own_data))}, "
                f"the output, not {q.operand}.data = {fmt(q.own_data)}.",
            )
        ]

    return candidates


def _log(q) -> list[Candidate]:
    if q.own_data is None:
        return []
    return [
        (
            "wrong-operand",
            q.before + q.own_data * q.upstream,
            f"log's derivative is 1/x, so {q.operand} gets (1 / {fmt(q.own_data)}) × {q.node}.grad, "
            f"not {q.operand}.data × {q.node}.grad.",
        )
    ]


def _gate(q, passes: float, other: float, names: tuple[str, str]) -> list[Candidate]:
    """relu, leaky_relu: the local derivative is one of two numbers, chosen by the sign."""
    if q.own_data is None:
        return []
    positive = q.own_data > 0
    wrong = other if positive else passes
    side = "positive" if positive else "not positive"
    return [
        (
            "wrong-operand",
            q.before + wrong * q.upstream,
            f"{q.operand}.data = {fmt(q.own_data)} is {side}, so the local derivative is "
            f"{names[0] if positive else names[1]}, not {names[1] if positive else names[0]}.",
        )
    ]


def _relu(q) -> list[Candidate]:
    return _gate(q, 1.0, 0.0, ("1 (the gradient passes)", "0 (the gradient stops)"))


def _leaky_relu(q) -> list[Candidate]:
    if q.own_data is None or q.local is None:
        return []
    if q.own_data > 0:
        return [
            (
                "wrong-operand",
                q.before,
                f"{q.operand}.data = {fmt(q.own_data)} is positive: leaky_relu passes the gradient "
                "unchanged there (local derivative 1).",
            )
        ]
    return [
        (
            "wrong-operand",
            q.before,
            f"leaky_relu does not stop the gradient where the input is not positive: it passes "
            f"slope × {q.node}.grad = {fmt(q.local)} × {fmt(q.upstream)}.",
        ),
        (
            "wrong-operand",
            q.before + q.upstream,
            f"{q.operand}.data = {fmt(q.own_data)} is not positive, so the local derivative is the "
            f"slope {fmt(q.local)}, not 1.",
        ),
    ]


def _subtract(q) -> list[Candidate]:
    """a - b: the second operand's local derivative is -1; passing the gradient on as add does
    forgets the sign."""
    if q.local is None or q.local >= 0:
        return []  # the first operand (local 1), or a - a (local 0)
    return [
        (
            "rule-wrong-sign",
            q.before - q.local * q.upstream,
            f"Subtract flips the sign on the way to its second operand ({q.operand}.grad += "
            f"-{q.node}.grad); that answer passes the gradient on unchanged, as add does.",
        )
    ]


def _divide(q) -> list[Candidate]:
    """a / b: a gets 1/b (not b, as a multiply would give), b gets -a/b² (not -a/b)."""
    if q.own_data is None or q.other_data is None or q.slots != 1:
        return []
    if q.local is not None and abs(q.local - 1 / q.other_data) < 1e-12 * max(1.0, abs(q.local)):
        return [
            (
                "wrong-operand",
                q.before + q.other_data * q.upstream,
                f"Divide gives the numerator 1 / {fmt(q.other_data)}, not {fmt(q.other_data)} as a "
                "multiply would: d(a/b)/da = 1/b.",
            )
        ]
    return [
        (
            "wrong-operand",
            q.before + (-q.other_data / q.own_data) * q.upstream,
            f"The denominator's derivative is -a/b², with b = {fmt(q.own_data)} squared: that answer "
            "stops at -a/b.",
        )
    ]


OP_MISTAKES: dict[str, Callable] = {
    "+": _shared,
    "*": _shared,
    "-": _subtract,
    "/": _divide,
    "**": _power,
    "tanh": _on_input("derivative-at-input", lambda x: 1 - x**2, "tanh's derivative is 1 - out²"),
    "exp": _on_input("derivative-at-input", lambda x: x, "exp's derivative is out itself (e**x)"),
    "log": _log,
    "relu": _relu,
    "leaky_relu": _leaky_relu,
    "sigmoid": _on_input(
        "derivative-at-input", lambda x: x * (1 - x), "sigmoid's derivative is out·(1 - out)"
    ),
}


def op_candidates(q) -> list[Candidate]:
    """The mistakes of ``q``'s op (none for the seed step, or an op without an entry)."""
    found = OP_MISTAKES.get(q.op)
    return found(q) if found is not None else []
