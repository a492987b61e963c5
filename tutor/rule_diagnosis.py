"""The classic mistakes of a backward rule, by name: which ones a learner's wrong rule made.

Each mistake is the engine's true rule (`tutor.rule_cases`) run with a change (``swap``/``fixed``
of `RuleCode.run`: a value read in place of another, out.grad read as 1; or its share negated,
halved, replaced by out.grad alone, or written with ``=``): whichever reproduces the learner's
numbers names the mistakes, two together when it took two (``=`` for ``+=`` with any other;
a value with the upstream left out; either with a flipped sign). Each name has its misconception
tag (`tutor.misconceptions`: one mistake, one tag). `DIAGNOSES` is the one list of those names,
used by the exercise grading (`tutor.rule_grade`) and the own-op grading (`tutor.own_op`).

"The derivative at the input" is general: any op whose rule reads out.data, with an operand's
data read there instead; "at the output" the other way round, for any rule that reads an
operand's data. Both carry ``derivative-at-input``.

Pure logic: standard library, the engine and the rule interpreter; no Textual.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from engine.ops import OPS
from tutor.rule_cases import Case, close, grads_after
from tutor.rule_code import RuleCode, RuleError

__all__ = ["DIAGNOSES", "Diagnosis", "diagnose"]


@dataclass(frozen=True)
class Diagnosis:
    """One named mistake: what the screen says, and the catalogue's tag for it."""

    name: str
    tag: str
    explain: str


def _diagnoses() -> dict[str, Diagnosis]:
    return {
        d.name: d
        for d in (
            Diagnosis(
                "forgot the upstream gradient",
                "forgot-upstream",
                "that is the local derivative alone: multiply it by out.grad, the gradient from above",
            ),
            Diagnosis(
                "= for +=",
                "overwrote-not-accumulated",
                "'=' throws away what the operand's grad already holds: add your share with '+='",
            ),
            Diagnosis(
                "the wrong operand",
                "wrong-operand",
                "one operand got the other operand's share",
            ),
            Diagnosis(
                "its own input",
                "own-input-in-mul",
                "each side of a multiply gets the OTHER side's value times out.grad",
            ),
            Diagnosis(
                "left out the local derivative",
                "forgot-local-derivative",
                "out.grad passed on unchanged is right only where the local derivative is 1: "
                "multiply it by this op's local derivative",
            ),
            Diagnosis(
                "the derivative at the input",
                "derivative-at-input",
                "the derivative is written with an input's value (self.data) where the rule needs the "
                "output's (out.data)",
            ),
            Diagnosis(
                "the derivative at the output",
                "derivative-at-input",
                "the derivative is written with the output's value (out.data) where the rule needs an "
                "input's (self.data)",
            ),
            Diagnosis(
                "a flipped sign",
                "rule-wrong-sign",
                "the rule adds local derivative × upstream gradient, with no extra minus",
            ),
            Diagnosis(
                "half the gradient",
                "split-add-gradient",
                "each operand of an add gets the whole upstream gradient, not half",
            ),
            Diagnosis(
                "a wrong value",
                "wrong-operand",
                "a value in the formula is not the one the rule needs",
            ),
        )
    }


DIAGNOSES = _diagnoses()


def diagnose(op: str, code: RuleCode, truth: RuleCode, cases: list[Case], slot: int) -> list[str]:
    """The names of the mistakes that, made in the true rule, give the learner's numbers in ``slot``:
    ``= for +=`` first when the learner's rule replaces the grad, then the one mistake or pair
    of mistakes (a value, a factor left out, a sign) that reproduces the share it adds."""
    # does the learner add into the grad, or replace it? Run again with other grads before.
    yours, moved = [], []
    for case in cases:
        shifted = tuple(b + 1.75 for b in case.befores)
        yours.append(grads_after(code.run, op, case)[slot])
        moved.append(grads_after(code.run, op, case, shifted)[slot])
    overwrites = all(close(a, b) for a, b in zip(yours, moved))
    got = yours if overwrites else [y - c.befores[slot] for y, c in zip(yours, cases)]
    first = ["= for +="] if overwrites else []
    for names, xs in _candidates(op, truth, cases, slot):
        if all(close(a, b) for a, b in zip(got, xs)):
            return first + names
    return first + _generic(op, truth, cases, slot, got, _reads_of(truth))


def _candidates(op: str, truth: RuleCode, cases: list[Case], slot: int):
    """(names, the share that mistake gives in ``slot`` on each case), most likely first: each
    value-mistake (none, its own input, the derivative at the input or the output) with or
    without the upstream gradient, then each of those negated (or halved, for an add); then
    out.grad passed on as it is; then the other operand's share."""
    spec = OPS[op]
    reads = _reads_of(truth)

    def share(swap=None, fixed=None) -> list[float] | None:
        run = lambda n: truth.run(n, swap=swap, fixed=fixed)  # noqa: E731
        try:
            return [grads_after(run, op, c)[slot] - c.befores[slot] for c in cases]
        except RuleError:
            return None

    inputs = ("self.data", "other.data")[: spec.operands]
    values: list[tuple[list[str], dict[str, str] | None]] = [([], None)]
    if op == "*":
        values.append((["its own input"], {"other.data": "self.data", "self.data": "other.data"}))
    if "out.data" in reads:  # a rule written from the output, worked out from an input
        values += [(["the derivative at the input"], {"out.data": d}) for d in inputs]
    values += [(["the derivative at the output"], {d: "out.data"}) for d in inputs if d in reads]
    factors: list[tuple[list[str], dict[str, float] | None]] = [([], None)]
    if "out.grad" in reads:
        factors.append((["forgot the upstream gradient"], {"out.grad": 1.0}))
    singles = []
    for names, swap in values:
        for more, fixed in factors:
            xs = share(swap, fixed)
            if xs is not None:
                singles.append(([*names, *more], xs))
    signs = [([], 1.0), (["a flipped sign"], -1.0)]
    if op == "+":
        signs.append((["half the gradient"], 0.5))
    for sign, k in signs:
        for names, xs in singles:  # the unchanged share first: with '=', that is all
            yield [*names, *sign], [k * x for x in xs]
    upstream = [c.upstream for c in cases]
    for sign, k in signs[:2]:
        yield ["left out the local derivative", *sign], [k * u for u in upstream]
    if spec.operands == 2:  # last: a flipped sign of a - b is also the other operand's share
        other = [grads_after(truth.run, op, c)[1 - slot] - c.befores[1 - slot] for c in cases]
        for sign, k in signs[:2]:
            yield ["the wrong operand", *sign], [k * x for x in other]


def _reads_of(truth: RuleCode) -> set[str]:
    refs = {"self.data", "other.data", "out.data", "out.grad", "self.grad", "other.grad"}
    found: set[str] = set()
    for st in truth.statements:
        found |= _reads(st) & refs
    return found


def _reads(st) -> set[str]:
    found = set()
    for node in ast.walk(st.value):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            found.add(f"{node.value.id}.{node.attr}")
    return found


def _generic(op: str, truth: RuleCode, cases, slot: int, got, reads) -> list[str]:
    """One value swapped for another anywhere in the rule: 'a wrong value', or nothing known."""
    names = (
        ["self.data", "other.data", "out.data", "out.grad"]
        if OPS[op].operands == 2
        else [
            "self.data",
            "out.data",
            "out.grad",
        ]
    )
    for ref in sorted(reads):
        for alt in names:
            if alt == ref:
                continue
            xs = []
            try:
                for case in cases:
                    got_after = grads_after(lambda n, r=ref, a=alt: truth.run(n, swap={r: a}), op, case)
                    xs.append(got_after[slot] - case.befores[slot])
            except RuleError:
                continue
            if all(close(a, b) for a, b in zip(got, xs)):
                return ["a wrong value"]
    return []
