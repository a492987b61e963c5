"""Grade a learner's prediction of a gradient, and name the mistake when the answer shows one.

Pure logic: no terminal, no Textual. The debugger's predict mode uses it, and so can the quiz's
"predict" questions.

The question is always "what will ``operand.grad`` be right after this backward step?", so the
right answer is the accumulated value (what the operand already had, plus what this step adds).
A wrong answer is compared with the numbers each classic misconception would produce. The tags
are those of the quiz's misconception catalogue (`tutor.misconceptions`):

* ``overwrote-not-accumulated``: only this step's contribution, though the operand already held
  grad from an earlier step (or, for ``a + a``, one slot's share): ``=`` instead of ``+=``;
* ``forgot-upstream``: the local derivative alone, not multiplied by the upstream grad;
* ``own-input-in-mul``: a multiply's OWN input × upstream instead of the other operand's;
* ``split-add-gradient``: an add's upstream grad divided between its operands;
* ``forgot-seed``: 0 for the seed step, whose grad is 1.

A flipped sign gets its own message but no tag.

An answer is right when it agrees with the true value to the precision the learner typed (the
rule of `tutor.quiz.precision`: rounded or cut off at its last digit, two significant figures at
least), and a wrong answer is matched with a misconception by the same rule. Text is read as a
plain number only: it is never evaluated.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from engine.numfmt import fmt

__all__ = [
    "GradQuestion",
    "Verdict",
    "TAGS",
    "UNREADABLE",
    "parse_number",
    "close_enough",
    "diagnose",
]

UNREADABLE = "enter a number like -4 or 0.5"

# Each tag's name, as the learner reads it in the feedback ("Not quite: <name>. <why>").
TAGS = {
    "overwrote-not-accumulated": "overwrote instead of accumulating",
    "forgot-upstream": "forgot the upstream gradient",
    "own-input-in-mul": "used the node's own input in a multiply",
    "split-add-gradient": "split an add's gradient",
    "forgot-seed": "forgot to seed the output's gradient with 1",
}

ABS_TOLERANCE = 5e-5  # half the last of four decimals
REL_TOLERANCE = 1e-6

_MAX_LENGTH = 40
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class GradQuestion:
    """One prediction: the grad ``operand`` will hold after ``node``'s backward step."""

    operand: str  # display name of the operand asked about, e.g. "a"
    node: str  # display name of the node whose rule runs, e.g. "e"
    op: str  # the node's op ("+", "*", "**2", "tanh", ...) or "seed"
    upstream: float  # node.grad when its rule runs
    before: float  # operand.grad before the step
    after: float  # operand.grad after the step: the right answer
    local: float | None = None  # d(node)/d(operand), summed over the slots it fills
    own_data: float | None = None  # operand.data
    other_data: float | None = None  # the other operand's data, for a two-operand op
    n_operands: int = 1  # how many operands the node has (a + a has 2)
    slots: int = 1  # how many of those slots are this operand (a + a: 2)

    @property
    def contribution(self) -> float:
        return self.after - self.before


@dataclass(frozen=True)
class Verdict:
    correct: bool
    message: str
    tag: str | None = None  # a key of TAGS, "unreadable", or None (right, or no named mistake)
    value: float | None = None  # the number read, when one was


def parse_number(text: str) -> float | None:
    """The number in ``text`` (``-4``, ``0.5``, ``.5``, ``1e-3``, ``−2`` with a Unicode minus),
    or None if it is not a plain finite number."""
    if not isinstance(text, str):
        return None
    cleaned = text.strip().replace("\u2212", "-").replace("\u2013", "-").replace(" ", "")
    if not cleaned or len(cleaned) > _MAX_LENGTH or not _NUMBER.fullmatch(cleaned):
        return None
    value = float(cleaned)
    return value if math.isfinite(value) else None


def close_enough(typed: float, expected: float) -> bool:
    """The number the screen shows for ``expected`` (its five significant figures), or within
    5e-5 of it, or equal to one part in a million."""
    diff = abs(typed - expected)
    if diff <= ABS_TOLERANCE * (1 + 1e-9) or diff <= REL_TOLERANCE * max(abs(typed), abs(expected)):
        return True
    return fmt(typed) == fmt(expected)


def _agrees(text: str, value: float) -> bool:
    from tutor.quiz.precision import agrees  # tutor.quiz imports this module

    return agrees(text, value)


def _same(x: float, y: float) -> bool:
    """Two of the engine's numbers that no typed answer could tell apart."""
    return abs(x - y) <= 1e-12 * max(1.0, abs(x), abs(y))


def _candidates(q: GradQuestion):
    """(tag, wrong value, explanation) for every misconception that applies to ``q``."""
    s, n, up, before = q.operand, q.node, q.upstream, q.before
    out: list[tuple[str, float, str]] = []

    if q.op == "seed":
        out.append(
            (
                "forgot-seed",
                0.0,
                f"{s} is the output, and d{s}/d{s} = 1: the backward pass starts by setting "
                f"{s}.grad = 1. Left at 0, every gradient after it would be 0 too.",
            )
        )
        return out

    if before != 0:
        out.append(
            (
                "overwrote-not-accumulated",
                q.contribution,
                f"That is only what this step adds. {s}.grad already holds {fmt(before)} from "
                f"an earlier step ({s} is used more than once), and the rule adds with +=, so "
                f"the answer is {fmt(before)} + {fmt(q.contribution)}.",
            )
        )
    if q.slots > 1:
        share = q.contribution / q.slots
        out.append(
            (
                "overwrote-not-accumulated",
                before + share,
                f"{s} fills {q.slots} operand slots of {n}, and each slot runs its own += line: "
                f"both shares of {fmt(share)} land in {s}.grad, the second does not replace the first.",
            )
        )
    if q.local is not None and not _same(up, 1.0):
        out.append(
            (
                "forgot-upstream",
                before + q.local,
                f"{fmt(q.local)} is the local derivative d{n}/d{s}. The chain rule multiplies it "
                f"by the upstream gradient {n}.grad = {fmt(up)}.",
            )
        )
        if before != 0:
            out.append(
                (
                    "forgot-upstream",
                    q.local,
                    f"{fmt(q.local)} is the local derivative d{n}/d{s}; multiply it by "
                    f"{n}.grad = {fmt(up)} and add it to the {fmt(before)} already there.",
                )
            )
    if q.op == "*" and q.slots == 1 and q.own_data is not None and q.other_data is not None:
        out.append(
            (
                "own-input-in-mul",
                before + q.own_data * up,
                f"In a multiply each side gets the OTHER side's value times the upstream grad: "
                f"{s}.grad += (other operand's data) × {n}.grad, not {s}'s own data {fmt(q.own_data)}.",
            )
        )
    if q.op == "+" and q.slots == 1 and q.n_operands >= 2:
        for parts in sorted({2, q.n_operands}):
            out.append(
                (
                    "split-add-gradient",
                    before + up / parts,
                    f"Addition does not share the gradient out: d{n}/d{s} = 1, so {s} gets the "
                    f"whole upstream {fmt(up)}, and so does every other operand.",
                )
            )
    from tutor.op_diagnosis import op_candidates  # each op's own mistake (every op has an entry)

    out.extend(op_candidates(q))
    if q.after != 0:
        out.append((None, -q.after, "Check the sign: the numbers are right but the sign is flipped."))
    return out


def _name(tag: str) -> str:
    if tag in TAGS:
        return TAGS[tag]
    from tutor.misconceptions import CATALOGUE

    return CATALOGUE[tag].title


def diagnose(question: GradQuestion, text: str) -> Verdict:
    """Grade ``text`` as the answer to ``question``."""
    typed = parse_number(text)
    if typed is None:
        return Verdict(False, UNREADABLE, "unreadable")
    expected = question.after
    if _agrees(text, expected):
        return Verdict(True, f"Right: {question.operand}.grad = {fmt(expected)}.", None, typed)
    for tag, wrong, explanation in _candidates(question):
        if _agrees(text, wrong) and not _same(wrong, expected):
            named = f"Not quite: {_name(tag)}." if tag else "Not quite."
            return Verdict(False, f"{named} {explanation}", tag, typed)
    q = question
    if q.op == "seed":
        hint = f"The backward pass starts by setting {q.operand}.grad = 1."
    else:
        hint = (
            f"{q.operand}.grad after the step = what it holds now ({fmt(q.before)}) + "
            f"local derivative d{q.node}/d{q.operand} × upstream {q.node}.grad ({fmt(q.upstream)})."
        )
    return Verdict(False, f"Not quite. {hint}", None, typed)
