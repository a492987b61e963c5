"""What the debugger says besides the step itself: predict mode's question, and the two panels.

`question_for` turns the stepper's next step into predict mode's question (graded by
`tutor.predict_diagnosis`) and the sentence that asks it. The panel functions return an
`Inspector` `Panel` (kind, title, styled body, plain text) for mistake mode's comparison and the
gradient check; the screen only decides when to show one. Every mark is a character as well as
a style (``✗ wrong``, ``✗ DISAGREE``), so a panel reads the same without colour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.text import Text

from engine.numfmt import fmt
from tutor.predict_diagnosis import TAGS, GradQuestion
from tutor.widgets.graph_tree import format_cell
from tutor.widgets.inspector import Panel, definition

if TYPE_CHECKING:
    from engine.stepper import Change, Step, Stepper

__all__ = [
    "Prediction",
    "question_for",
    "pass_summary",
    "mistake_panel",
    "checking_panel",
    "check_panel",
    "check_title",
]


def _pick_change(step: Step) -> Change:
    """The operand to ask about: one that already holds grad (reuse) first, then a named one."""
    changes = list(step.changes)
    for change in changes:
        if change.before != 0:
            return change
    for change in changes:
        if change.node._prev or change.node.label:
            return change
    return changes[0]


def question_for(stepper: Stepper) -> tuple[GradQuestion, str]:
    """Predict mode's question about the step ``stepper`` runs next, and the prompt asking it."""
    step = stepper.upcoming
    change = _pick_change(step)
    node = step.node
    operand = change.node
    others = [p for p in node._prev if p is not operand]
    question = GradQuestion(
        operand=stepper.name(operand),
        node=stepper.name(node),
        op="seed" if step.kind == "seed" else step.op,
        upstream=step.upstream,
        before=change.before,
        after=change.after,
        local=change.local,
        own_data=operand.data,
        other_data=others[0].data if len(node._prev) == 2 and others else None,
        n_operands=len(node._prev),
        slots=max(1, len(change.slots)),
    )
    s = stepper.name(operand)
    total = len(stepper.steps)
    if step.kind == "seed":
        prompt = f"Step 1 of {total} seeds the output. What will {s}.grad be after it?"
    else:
        prompt = (
            f"Step {step.index + 1} of {total} runs the rule of {definition(stepper, node)} "
            f"({stepper.name(node)}.grad = {fmt(step.upstream)}). "
            f"What will {s}.grad be after it? (now {fmt(change.before)})"
        )
    return question, prompt


@dataclass
class Prediction:
    """How one predict-mode question went: right at the first try, the mistakes named, skipped."""

    first_try: bool | None = None  # None until a readable answer came
    tags: list[str] = field(default_factory=list)
    skipped: bool = False


def _times(k: int) -> str:
    return {1: "once", 2: "twice"}.get(k, f"{k} times")


def pass_summary(predictions: Iterable[Prediction], steps: int) -> str:
    """``Predictions: 5 of 7 right first time; forgot the upstream gradient twice.``"""
    predictions = list(predictions)
    if not predictions:
        return ""
    right = sum(p.first_try is True for p in predictions)
    asked = len(predictions)
    of = f"{right} of {asked}" if asked == steps else f"{right} of the {asked} steps you predicted"
    parts = [f"Predictions: {of} right first time"]
    counts: dict[str, int] = {}
    for p in predictions:
        for tag in p.tags:
            counts[tag] = counts.get(tag, 0) + 1
    for tag, k in sorted(counts.items(), key=lambda item: -item[1]):
        parts.append(f"{TAGS.get(tag, tag)} {_times(k)}")
    skipped = sum(p.skipped for p in predictions)
    if skipped:
        parts.append(f"{skipped} skipped")
    return "; ".join(parts) + "."


def _mode(mistake: str | None) -> str:
    if mistake == YOUR_RULE:
        return "with your rule"
    return "with = instead of +=" if mistake else "as the engine is written"


YOUR_RULE = "your-rule"  # what the check panels are told when a learner's rule ran


def check_title(mistake: str | None) -> str:
    return f"Gradient check: backprop ({_mode(mistake)}, whole pass) vs nudging each input"


def mistake_panel(
    names: Sequence[str],
    right: Sequence[float],
    wrong: Sequence[float],
    mistake: str = "overwrite",
    order: Sequence[str] = (),
) -> Panel:
    """Each input's grad as the engine computes it beside its grad with the mistake: ``=``
    instead of ``+=``, or (``wrong_order``, ``every_reach``) each rule run in ``order``: first
    reached first, or every time reached."""
    width = max([len(name) for name in names] + [4])
    body = Text()
    columns = {"overwrite": ("with +=", "with ="), "every_reach": ("right", "every reach")}.get(
        mistake, ("right", "wrong order")
    )
    cell_width = 10 if mistake == "overwrite" else 11  # (= mode: as its snapshot has it)
    header = f"{'leaf':<{width}}  {columns[0]:>{cell_width}}  {columns[1]:>{cell_width}}"
    body.append(header + "\n", style="bold underline")
    plain = [header]
    bad = 0
    for name, good_grad, bad_grad in zip(names, right, wrong):
        ok = good_grad == bad_grad
        bad += not ok
        row = f"{name:<{width}}  {format_cell(good_grad)}  {format_cell(bad_grad)}" + (
            "" if ok else "  ✗ wrong"
        )
        body.append(row + "\n", style="" if ok else "bold reverse")
        plain.append(row)
    if mistake in ("wrong_order", "every_reach"):
        return _wrong_order_panel(body, plain, names, bad, order, mistake)
    if not names:
        summary = "This graph has no named inputs to compare; the tree shows every grad."
    elif bad:
        summary = (
            f"{bad} of {len(names)} input grads go wrong: each = keeps only the last share of a "
            "value used more than once. r then n steps through the buggy pass; m turns it off."
        )
    else:
        summary = (
            "Every input grad is still right: no value here is used twice, so nothing needs "
            "accumulating. Try a program that reuses a value (b = a + a). m turns it off."
        )
    body.append(summary)
    plain.append(summary)
    title = "Mistake mode: the same graph, every rule with = instead of +="
    return Panel("mistake", title, body, "\n".join(plain))


def _wrong_order_panel(
    body: Text, plain: list[str], names: Sequence[str], bad: int, order, mistake: str = "wrong_order"
) -> Panel:
    ran = ", ".join(order)
    if not names:
        summary = "This graph has no named inputs to compare; the tree shows every grad."
    elif mistake == "every_reach" and bad:
        summary = (
            f"{bad} of {len(names)} input grads go wrong. Every rule ran each time the walk from the "
            f"output reached its node ({ran}): a value reached twice passed its gradient on twice, "
            "shares already sent included. r then n steps through it; m moves on."
        )
    elif mistake == "every_reach":
        summary = (
            f"Every input grad is still right ({ran}): no value here is reached twice. Try a value "
            "used twice (y = x * x; s = y * y; L = y + s). m moves on."
        )
    elif bad:
        summary = (
            f"{bad} of {len(names)} input grads go wrong. The rules ran in the order the walk from "
            f"the output first reached them ({ran}): a value used twice passed on its gradient "
            "before its second user had reported. r then n steps through it; m turns it off."
        )
    else:
        summary = (
            f"Every input grad is still right in this order ({ran}): no value here is reached "
            "before all its users have run. Try a value used twice (y = x * x; s = y * y; L = y + s). "
            "m turns it off."
        )
    body.append(summary)
    plain.append(summary)
    title = (
        "Mistake mode: the same rules, run every time the walk reaches them"
        if mistake == "every_reach"
        else "Mistake mode: the same rules, run in a wrong order (first reached, first run)"
    )
    return Panel("mistake", title, body, "\n".join(plain))


def checking_panel(count: int, mistake: str | None) -> Panel:
    """What the inspector says while a check's worker runs."""
    inputs = f"{count} input{'s' if count != 1 else ''}" if count else "the inputs"
    line = (
        f"Checking… nudging each of {inputs} up and down and rebuilding the graph twice. "
        "The other keys work meanwhile; g or escape stops the check."
    )
    return Panel("checking", check_title(mistake), Text(line), line)


def check_panel(checks: Sequence, mistake: str | None) -> Panel:
    """Every input's backprop gradient beside the measured slope (`engine.gradcheck` results)."""
    width = max([len(c.name) for c in checks] + [4])
    head = f"{'leaf':<{width}} {'value':>10} {'backprop':>10} {'numeric':>10} {'rel.err':>8}"
    body = Text()
    body.append(head + "\n", style="bold underline")
    plain = [head]
    bad = 0
    for c in checks:
        rel = "   n/a  " if c.rel_error != c.rel_error else f"{c.rel_error:8.1e}"
        row = (
            f"{c.name:<{width}} {format_cell(c.value)} {format_cell(c.analytic)} "
            f"{format_cell(c.numeric)} {rel}"
        )
        row += "  ok" if c.ok else "  ✗ DISAGREE"
        bad += not c.ok
        body.append(row + "\n", style="" if c.ok else "bold reverse")
        if c.note:
            body.append(f"   {c.note}\n")
        plain.append(row)
    if not checks:
        summary = "This program has no inputs to nudge, so there is nothing to check."
    elif bad:
        summary = (
            f"{bad} of {len(checks)} gradients disagree with the measured slope: "
            f"backprop {_mode(mistake)} is wrong."
        )
    else:
        summary = f"All {len(checks)} gradients match the measured slope (f(x+h) - f(x-h)) / 2h."
    body.append(summary)
    plain.append(summary)
    return Panel("check", check_title(mistake), body, "\n".join(plain))
