"""The classic mistakes of a backward rule, by name: which one a learner's wrong rule made.

Each mistake is the engine's true rule (`tutor.rule_cases`) run with one change (``swap``/``fixed``
of `RuleCode.run`, or its share negated, halved or written with ``=``): whichever reproduces the
learner's numbers names the mistake, with the misconception tag the code-line judge uses for it
(`tutor.misconceptions`: one mistake, one tag). `DIAGNOSES` is the one list of those names, used
by the exercise grading (`tutor.rule_grade`) and the own-op grading (`tutor.own_op`).

Pure logic: standard library, the engine and the rule interpreter; no Textual.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from engine.ops import OPS
from tutor.rule_cases import Case, close, grads_after
from tutor.rule_code import RuleCode, RuleError

__all__ = ["DIAGNOSES", "Diagnosis", "diagnose", "tag_of"]


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
                "the derivative at the input",
                "wrong-operand",
                "the derivative is written with the input (self.data) where the rule needs the output (out.data)",
            ),
            Diagnosis(
                "the derivative at the output",
                "wrong-operand",
                "the derivative is written with the output (out.data) where the rule needs the input (self.data)",
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


def tag_of(op: str, name: str) -> str:
    """The catalogue's tag for a mistake in ``op``'s rule: tanh's taken at its input has its own."""
    if op == "tanh" and name == "the derivative at the input":
        return "tanh-on-input"
    return DIAGNOSES[name].tag


def diagnose(op: str, code: RuleCode, truth: RuleCode, cases: list[Case], slot: int) -> list[str]:
    """The names of the mistakes that, made in the true rule, give the learner's numbers in ``slot``."""
    # does the learner add into the grad, or replace it? Run again with other grads before.
    yours, moved = [], []
    for case in cases:
        shifted = tuple(b + 1.75 for b in case.befores)
        yours.append(grads_after(code.run, op, case)[slot])
        moved.append(grads_after(code.run, op, case, shifted)[slot])
    overwrites = all(close(a, b) for a, b in zip(yours, moved))
    got = yours if overwrites else [y - c.befores[slot] for y, c in zip(yours, cases)]
    spec = OPS[op]

    def share(swap=None, fixed=None) -> list[float]:
        out = []
        for case in cases:
            got_after = grads_after(lambda n: truth.run(n, swap=swap, fixed=fixed), op, case)
            out.append(got_after[slot] - case.befores[slot])
        return out

    def same(xs) -> bool:
        return all(close(a, b) for a, b in zip(got, xs))

    refs = {"self.data", "other.data", "out.data", "out.grad", "self.grad", "other.grad"}
    reads = set()
    for st in truth.statements:
        reads |= {r for r in refs if r in _reads(st)}
    singles: list[tuple[list[str], list[float]]] = [([], share())]
    if op == "*":
        singles.append(
            (["its own input"], share(swap={"other.data": "self.data", "self.data": "other.data"}))
        )
    at_input = {"out.data": "self.data"}
    at_output = {"self.data": "out.data"}
    if "out.data" in reads and spec.operands == 1:
        singles.append((["the derivative at the input"], share(swap=at_input)))
    if "self.data" in reads and spec.operands == 1:
        singles.append((["the derivative at the output"], share(swap=at_output)))
    if "out.grad" in reads:
        singles.append((["forgot the upstream gradient"], share(fixed={"out.grad": 1.0})))
        for names, swap in (
            ("the derivative at the input", at_input),
            ("the derivative at the output", at_output),
        ):
            if [names] in [n for n, _ in singles]:
                singles.append(
                    ([names, "forgot the upstream gradient"], share(swap=swap, fixed={"out.grad": 1.0}))
                )
    tried = list(singles)
    for names, xs in singles:  # each, and each with its sign flipped (or halved, for an add)
        tried.append(([*names, "a flipped sign"], [-x for x in xs]))
        if op == "+":
            tried.append(([*names, "half the gradient"], [x / 2 for x in xs]))
    if spec.operands == 2:  # last: a flipped sign of a - b is also the other operand's share
        swapped = []
        for case in cases:
            got_after = grads_after(truth.run, op, case)
            swapped.append(got_after[1 - slot] - case.befores[1 - slot])
        tried.append((["the wrong operand"], swapped))
    for names, xs in tried:
        if same(xs):
            return (["= for +="] if overwrites else []) + names
    if overwrites:
        return ["= for +=", *_generic(op, truth, cases, slot, got, reads)]
    return _generic(op, truth, cases, slot, got, reads)


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
