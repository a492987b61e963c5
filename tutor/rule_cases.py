"""The engine's true rule for an op and the random cases a learner's rule is tried on.

The true rule is written from the op table (`engine.ops`: each op's rule line, the one the
inspector shows) and read by the same interpreter as the learner's text (`tutor.rule_code`), so
the two are compared like for like. The cases are drawn from a fixed seed, where each op is
defined (both signs around a kink), so grading is reproducible. Used by `tutor.rule_grade` and
`tutor.rule_diagnosis`.

Pure logic: standard library, the engine and the rule interpreter; no Textual.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from engine.numfmt import fmt
from engine.ops import OPS
from engine.value import Value
from tutor.rule_code import RuleCode, read_rule, signature

__all__ = ["Case", "close", "describe_case", "draw_cases", "grads_after", "true_rule", "true_rule_text"]

_TRIALS = 6
_SEED = 20261202  # the same draws every time: grading is reproducible

# ------------------------------------------------------------------------ the true rule


def true_rule_text(op: str) -> str:
    """The engine's rule for ``op`` in micrograd's style, each line the op table's rule line."""
    spec = OPS[op]
    if spec.syntax == "power":
        fields = {"k": "k", "k_1": "(k - 1)"}
    elif spec.arg is not None:
        fields = {spec.arg: spec.arg}
    else:
        fields = {}
    if spec.operands == 2:
        lines = [
            spec.rule.format(s="self", o="other", out="out", **fields),
            (spec.rule_right or spec.rule).format(s="other", o="self", out="out", **fields),
        ]
    else:
        lines = [spec.rule.format(s="self", o="other", out="out", **fields)]
    return signature(op) + "".join(f"    {line}\n" for line in lines)


_TRUE: dict[str, RuleCode] = {}


def true_rule(op: str) -> RuleCode:
    code = _TRUE.get(op)
    if code is None:
        code = _TRUE[op] = read_rule(true_rule_text(op), op)
    return code


# ------------------------------------------------------------------------ random cases


@dataclass(frozen=True)
class Case:
    xs: tuple[float, ...]
    arg: float | None
    upstream: float
    befores: tuple[float, ...]


def _signed(rng: random.Random, lo: float = 0.5, hi: float = 2.0) -> float:
    return round(rng.uniform(lo, hi) * rng.choice((-1.0, 1.0)), 2)


def draw_cases(op: str) -> list[Case]:
    spec = OPS[op]
    rng = random.Random(_SEED)
    drawn = []
    for trial in range(_TRIALS):
        if spec.syntax == "power":
            arg = (2.0, 3.0, -1.0, 0.5, 4.0, -2.0)[trial % 6]
            xs = (round(rng.uniform(0.5, 2.0), 2),)
        else:
            arg = None
            if spec.arg is not None:
                low, high = spec.arg_range or (0.0, 1.0)
                arg = round(rng.uniform(max(low, 0.05), min(high, 0.3)), 2)
            xs = tuple(_signed(rng) for _ in range(spec.operands))
            if spec.domain == "positive":
                xs = tuple(abs(x) for x in xs)
            elif spec.kink_at_zero:
                xs = tuple(abs(x) * (-1 if trial % 2 else 1) for x in xs)
        drawn.append(Case(xs, arg, _signed(rng), tuple(_signed(rng) for _ in xs)))
    return drawn


def _apply(op: str, operands: list[Value], arg: float | None) -> Value:
    spec = OPS[op]
    if spec.syntax == "power":
        return operands[0] ** arg
    if spec.syntax == "infix":
        a, b = operands
        return {"+": a.__add__, "*": a.__mul__, "-": a.__sub__, "/": a.__truediv__}[op](b)
    method = getattr(operands[0], op)
    return method(arg) if spec.arg is not None else method()


def _build(op: str, case: Case, befores: tuple[float, ...] | None = None) -> tuple[Value, list[Value]]:
    operands = [Value(x) for x in case.xs]
    out = _apply(op, operands, case.arg)
    out.grad = case.upstream
    for v, g in zip(operands, befores or case.befores):
        v.grad = g
    return out, operands


def describe_case(op: str, case: Case) -> str:
    names = ("a", "b") if len(case.xs) == 2 else ("x",)
    parts = [f"{n} = {fmt(x)}" for n, x in zip(names, case.xs)]
    if case.arg is not None:
        parts.append(f"{OPS[op].arg} = {fmt(case.arg)}")
    parts.append(f"out.grad = {fmt(case.upstream)}")
    return ", ".join(parts)


def grads_after(run: Callable[[Value], None], op: str, case: Case, befores=None) -> list[float]:
    out, operands = _build(op, case, befores)
    run(out)
    return [v.grad for v in operands]


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-9)
