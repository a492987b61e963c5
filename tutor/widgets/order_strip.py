"""The backward order as a strip: which rules have run (✓), which just ran (▶), which are to come,
and why the next one is next.

The tree runs top to bottom, but the pass does not: this strip shows the order the `Stepper` runs
the rules in (reversed topological order, or a mistake mode's wrong order), so a learner sees it.
A line of order and a line or two of why:

* ``order  ✓ seed L  ✓ L  ▶ s  · y``: the steps, windowed around the current one at narrow widths;
* why the next rule is next, from the graph's users: ``next y: its users L and s have run, so
  y.grad is complete`` and, for a node still to come whose users have not all run, ``y waits: s
  uses it and has not run yet``. In the wrong-order mode the same words say what goes wrong:
  ``y runs now, but s uses it and has not run yet``.

Plain `rich.text.Text` (never markup); every mark is a character, so it reads the same without
colour. `OrderStrip.text` keeps the plain text shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from engine.stepper import Stepper
    from engine.value import Value

__all__ = ["OrderStrip", "order_line", "why_line"]

DONE = "✓"
CURRENT = "▶"
TO_COME = "·"
_LEAD = "order "


def _users(stepper: Stepper) -> dict[int, list[Value]]:
    """id(value) -> the distinct nodes that use it as an operand, in backward order."""
    users: dict[int, list[Value]] = {}
    for node in reversed(stepper.nodes):
        for child in dict.fromkeys(node._prev):  # a + a: one user, once
            users.setdefault(id(child), []).append(node)
    return users


def _names(stepper: Stepper, nodes: list[Value]) -> str:
    names = [stepper.name(n) for n in nodes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _tokens(stepper: Stepper) -> list[tuple[str, str]]:
    """(mark, name) per step: the seed first, then each rule in the order this pass runs them."""
    out = []
    for step in stepper.steps:
        name = stepper.name(step.node)
        label = f"seed {name}" if step.kind == "seed" else name
        if step.index < stepper.position - 1:
            out.append((DONE, label))
        elif step.index == stepper.position - 1:
            out.append((CURRENT, label))
        else:
            out.append((TO_COME, label))
    return out


def order_line(stepper: Stepper, width: int) -> Text:
    """The steps with their marks, cut to ``width`` cells around the current step."""
    tokens = [f"{mark} {label}" for mark, label in _tokens(stepper)]
    current = max(0, stepper.position - 1)
    start = 0
    text = _LEAD + "  ".join(tokens)
    while len(text) > width and start < current - 1:
        start += 1  # drop done steps from the left, keep the one before the current
        text = _LEAD + f"… {start} ✓  " + "  ".join(tokens[start:])
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(_LEAD, style="bold")
    if start:
        line.append(f"… {start} ✓  ", style="dim")
    for i, token in enumerate(tokens[start:], start=start):
        if i > start:
            line.append("  ")
        style = "bold reverse" if i == current and stepper.position else ("dim" if i < current else "")
        line.append(token, style=style)
    line.truncate(width, overflow="ellipsis")
    return line


def why_line(stepper: Stepper, users: dict[int, list[Value]] | None = None) -> str:
    """Why the next rule is next (or, in a wrong order, what is wrong with running it now)."""
    users = _users(stepper) if users is None else users
    upcoming = stepper.upcoming
    if upcoming is None:
        if stepper.mistake == "wrong_order":
            return "Pass complete, in a wrong order: some rules ran before all their users had."
        if stepper.mistake == "every_reach":
            return "Pass complete, in a wrong order: rules reached twice passed their shares on twice."
        return "Pass complete: every rule ran after all the nodes that use its node."
    if upcoming.kind == "seed":
        return f"Next the seed: {stepper.name(stepper.root)} is the output, nothing uses it, so it starts."

    def has_run(node: Value) -> bool:
        index = stepper.step_index(node)
        return index is not None and index < stepper.position

    node = upcoming.node
    name = stepper.name(node)
    if stepper.mistake == "every_reach":
        before = sum(step.node is node for step in stepper.steps[1 : upcoming.index])
        if before:
            return (
                f"{name} runs again (it ran {'once' if before == 1 else f'{before} times'} already): the "
                f"walk reached it once more, and its rule passes on all of {name}.grad again, the "
                "shares it sent before included."
            )
    waiting_on = [u for u in users.get(id(node), []) if not has_run(u)]
    if waiting_on:
        why = (
            f"{name} runs now, but {_names(stepper, waiting_on)} "
            f"{'uses' if len(waiting_on) == 1 else 'use'} it and "
            f"{'has' if len(waiting_on) == 1 else 'have'} not run yet: {name}.grad is not complete."
        )
        return why
    mine = users.get(id(node), [])
    if mine:
        why = (
            f"Next {name}: {'its user' if len(mine) == 1 else 'its users'} {_names(stepper, mine)} "
            f"{'has' if len(mine) == 1 else 'have'} run, so {name}.grad is complete."
        )
    else:
        why = f"Next {name}."
    for step in stepper.steps[upcoming.index + 1 :]:
        later = [u for u in users.get(id(step.node), []) if not has_run(u)]
        if later:
            other = stepper.name(step.node)
            verb = "uses" if len(later) == 1 else "use"
            aux = "has" if len(later) == 1 else "have"
            why += f" {other} waits: {_names(stepper, later)} {verb} it and {aux} not run yet."
            break
    return why


class OrderStrip(Static):
    """Shows a stepper's backward order and why the next rule is next; `show` after each move."""

    DEFAULT_CSS = """
    OrderStrip {
        height: auto;
        max-height: 4;
        padding: 0 1;
        color: $text;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = ""
        self._stepper: Stepper | None = None
        self._users: dict[int, list[Value]] = {}

    def show(self, stepper: Stepper) -> None:
        if stepper is not self._stepper:
            self._stepper = stepper
            self._users = _users(stepper)
        self._draw()

    def show_forward(self, stepper: Stepper, computed: int) -> None:
        """The forward order instead: the op nodes inputs-up, ``computed`` of them worked out."""
        self._stepper = None  # the next `show` draws the backward order again
        ops = [node for node in stepper.nodes if node._prev]
        tokens = []
        for i, node in enumerate(ops):
            mark = DONE if i < computed - 1 else CURRENT if i == computed - 1 else TO_COME
            tokens.append(f"{mark} {stepper.name(node)}")
        width = max(20, self.size.width - 2 if self.size.width else 78)
        start = 0
        while len("forward " + "  ".join(tokens[start:])) > width and start < computed - 2:
            start += 1
        order = Text("forward ", style="bold", no_wrap=True, overflow="ellipsis")
        order.append(("… " if start else "") + "  ".join(tokens[start:]))
        order.truncate(width, overflow="ellipsis")
        if computed < len(ops):
            node = ops[computed]
            known = _names(stepper, list(dict.fromkeys(node._prev)))
            why = f"Next {stepper.name(node)}: its operands {known} are known, so it can be computed."
        else:
            why = "Forward pass done: every node has its data. The backward pass runs the other way."
        self.text = f"{order.plain}\n{why}"
        self.update(Text("\n").join([order, Text(why, style="italic")]))

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        stepper = self._stepper
        if stepper is None:
            return
        width = max(20, self.size.width - 2 if self.size.width else 78)
        order = order_line(stepper, width)
        why = Text(why_line(stepper, self._users), style="italic")
        self.text = f"{order.plain}\n{why.plain}"
        self.update(Text("\n").join([order, why]))
