"""The step inspector: what the backward step that just ran did, in words, symbols and numbers.

For the step the `Stepper` applied last it shows

* ``step k of N`` and the node whose rule ran, written as its forward definition (``e = a * b``);
* the op's rule in words (from the engine) and in symbols (the local derivatives);
* the chain-rule line for each operand with the engine's numbers, e.g.
  ``a.grad += b.data * e.grad   0.0 + (-3.0)(-2.0) = 6.0``;
* the source of the ``_backward`` that ran, read from the engine (`Step.source`).

Everything is plain `rich.text.Text` or a `rich.syntax.Syntax` block, so it reads the same
without colour. `Inspector.text` keeps the plain text of what is shown, for tests and screen
readers.

The same area shows the mistake-mode comparison and the gradient check as *panels* (`Panel`; their
text is built by `tutor.screens.debugger_panels`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.syntax import Syntax
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from engine.mistakes import MISTAKES
from engine.numfmt import fmt
from engine.ops import op_of

if TYPE_CHECKING:
    from engine.stepper import Step, Stepper

__all__ = ["Inspector", "Panel", "definition", "local_derivatives"]


def definition(stepper: Stepper, node) -> str:
    """The forward definition of ``node``: ``e = a * b``, ``o = tanh(n)``, ``y = x**2``."""
    op = op_of(node)
    if op is None and node._prev:  # an op of the learner's own (`engine.custom`): not in the table
        return f"{stepper.name(node)} = {node._op}({', '.join(stepper.name(p) for p in node._prev)})"
    if op is None:
        return f"{stepper.name(node)} = {fmt(node.data)}"
    return op.definition(stepper.name(node), [stepper.name(p) for p in node._prev], node._arg)


def local_derivatives(stepper: Stepper, step: Step) -> str:
    """The op's rule in symbols, with the graph's names: ``∂e/∂a = b   ∂e/∂b = a``."""
    name = stepper.name
    node = step.node
    n = name(node)
    if step.kind == "seed":
        return f"∂{n}/∂{n} = 1"
    op = op_of(node)
    operands = [name(p) for p in node._prev]
    if op is None:  # an op of the learner's own: its local derivative is whatever their rule says
        return "   ".join(f"∂{n}/∂{s}: as your rule computes it" for s in dict.fromkeys(operands))
    parts = []
    for slot, s in enumerate(operands):
        if s in operands[:slot]:
            continue  # a + a: one line for the operand, with both slots' shares
        o = operands[1 - slot] if len(operands) == 2 else n
        shared = operands.count(s) > 1
        parts.append(f"∂{n}/∂{s} = {op.local_derivative(s, o, n, node._arg, shared=shared, slot=slot)}")
    return "   ".join(parts)


@functools.lru_cache(maxsize=1)
def _python_lexer():
    from pygments.lexers.python import PythonLexer

    return PythonLexer()


@functools.lru_cache(maxsize=128)
def highlighted_source(source: str) -> Text:
    """The code as a highlighted `Text`, made once per distinct source (lexing is the slow part)."""
    syntax = Syntax(source, _python_lexer(), theme="ansi_dark", background_color="default")
    text = syntax.highlight(source)
    text.rstrip()
    text.no_wrap = False
    text.overflow = "fold"
    return text


@dataclass(frozen=True)
class Panel:
    """What the inspector shows instead of a step: a title, a styled body and its plain text."""

    kind: str  # "mistake", "checking", "check": `Inspector.panel` while it is shown
    title: str
    body: Text
    plain: str


class Inspector(ScrollView, can_focus=True, inherit_bindings=False):
    """Shows one step (or a panel) and keeps its plain text in `text`.

    A line-API `ScrollView`: new content repaints this widget's lines only. The text is wrapped
    once per width; Textual keeps the scroll offset, the mouse wheel scrolls it, and the keys
    below move it at once (no animation, which over SSH would be a stream of frames). There is
    no scroll bar: while lines are hidden below, the last row says how many, and how to see them.

    | Key(s) | Description |
    | :- | :- |
    | down / up | Scroll a line. |
    | pagedown, space / pageup | Scroll a page. |
    | home | Back to the top. |
    """

    DEFAULT_CSS = """
    Inspector {
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 0;
    }
    """

    BINDINGS = [
        Binding(
            "down",
            "scroll_lines(1)",
            "Scroll down",
            show=False,
            id="inspector.down",
            tooltip="Scroll the inspector down a line",
        ),
        Binding(
            "up",
            "scroll_lines(-1)",
            "Scroll up",
            show=False,
            id="inspector.up",
            tooltip="Scroll the inspector up a line",
        ),
        Binding(
            "pagedown,space",
            "scroll_pages(1)",
            "Page down",
            show=False,
            id="inspector.pagedown",
            tooltip="Scroll the inspector down a page",
        ),
        Binding(
            "pageup",
            "scroll_pages(-1)",
            "Page up",
            show=False,
            id="inspector.pageup",
            tooltip="Scroll the inspector up a page",
        ),
        Binding(
            "home",
            "scroll_top",
            "Top",
            show=False,
            id="inspector.home",
            tooltip="Back to the top of the inspector",
        ),
    ]

    def __init__(self, *, name=None, id=None, classes=None):
        super().__init__(name=name, id=id, classes=classes)
        self.text = ""
        self.panel: str | None = None  # the `Panel.kind` while a panel is shown
        self._parts: list[Text] = []
        self._lines: list[Strip] = []
        self._wrapped_at = -1  # the width `_lines` were wrapped to

    def _show(self, parts: list[Text], plain: list[str]) -> None:
        self.text = "\n".join(plain)
        self._parts = parts
        self._wrapped_at = -1
        self._wrap(self.size.width)
        self.scroll_to(y=0, animate=False, force=True)  # new content starts at its top
        self.refresh()

    def _wrap(self, width: int) -> None:
        """Wrap the content to ``width`` cells (once per width) and size the scrolling to it."""
        if width == self._wrapped_at or width <= 0:
            return
        self._wrapped_at = width
        console = self.app.console
        lines: list[Strip] = []
        for part in self._parts:
            for line in part.wrap(console, width):
                lines.append(Strip(list(line.render(console)), line.cell_len).adjust_cell_length(width))
        self._lines = lines
        # Only this widget's lines change: its height is the layout's, never the text's, so the
        # new size is set without the layout pass assigning `virtual_size` would ask for.
        self.set_reactive(Inspector.virtual_size, Size(width, len(lines)))

    @property
    def allow_vertical_scroll(self) -> bool:
        """Textual's hook: scroll while text is hidden below or above (there is no scroll bar)."""
        return self.max_scroll_y > 0 and not self.disabled

    def on_resize(self, event: events.Resize) -> None:
        self._wrap(self.size.width)

    def render_line(self, y: int) -> Strip:
        """The line API's hook: row ``y`` of the widget, ``scroll_offset`` lines down the text."""
        width, height = self.size
        self._wrap(width)
        style = self.rich_style
        top = self.scroll_offset.y
        hidden = len(self._lines) - top - height
        if hidden > 0 and y == height - 1:
            more = Text(
                f"▼ {hidden + 1} more lines: tab here then ↓, or z for the inspector alone",
                style="reverse",
            )
            more.truncate(width)
            strip = Strip(list(more.render(self.app.console)))
            return strip.adjust_cell_length(width).apply_style(style)
        index = top + y
        if 0 <= index < len(self._lines):
            return self._lines[index].apply_style(style)
        return Strip.blank(width, style)

    def action_scroll_lines(self, lines: int) -> None:
        self.scroll_to(y=self.scroll_offset.y + lines, animate=False)

    def action_scroll_pages(self, pages: int) -> None:
        self.action_scroll_lines(pages * max(1, self.size.height - 2))

    def action_scroll_top(self) -> None:
        self.scroll_to(y=0, animate=False)

    # ----------------------------------------------------------------- the step view

    def show_step(self, stepper: Stepper, *, predict: bool = False, note: str = "") -> None:
        """Describe ``stepper.current`` (or, before the first step, what comes next)."""
        self.panel = None
        parts: list[Text] = []
        plain: list[str] = []

        def line(text: str, style: str = "") -> None:
            parts.append(Text(text, style=style, no_wrap=False))
            plain.append(text)

        total = len(stepper.steps)
        step = stepper.current
        mistake = f" · mistake mode: {MISTAKES[stepper.mistake].label}" if stepper.mistake else ""
        mode = " · predict on" if predict else ""
        if note:
            line(note, "bold")
        if step is None:
            line(f"Step 0 of {total}: forward pass done{mistake}{mode}", "bold")
            line(
                "Every node shows its data (computed forward from the inputs); every grad is 0. "
                "The backward pass has not started."
            )
            line(
                "Marks: ▶ the node whose rule ran · ◆ operands it sent gradient to · "
                "← a grad that just changed · ↺2 a value used twice · ↑ its operands are shown above."
            )
            upcoming = stepper.upcoming
            if upcoming is not None:
                line(
                    f"Next, step 1: seed {stepper.name(upcoming.node)}.grad = 1 "
                    f"(∂{stepper.name(upcoming.node)}/∂{stepper.name(upcoming.node)} = 1). Press n "
                    "(f: watch the forward pass first; c: change the numbers).",
                )
            self._show(parts, plain)
            return

        n = stepper.name(step.node)
        if step.kind == "seed":
            head = f"Step {step.index + 1} of {total}: seed the output, {n}.grad = 1"
        else:
            head = (
                f"Step {step.index + 1} of {total}: the rule of {definition(stepper, step.node)}"
                f" ran, upstream {n}.grad = {fmt(step.upstream)}"
            )
        if stepper.done:
            head += " · pass complete"
        line(head + mistake + mode, "bold")
        line(step.rule_text)
        line(local_derivatives(stepper, step), "italic")
        for change in step.changes:
            marker = "◆ " if change.node is not step.node else "▶ "
            line(marker + change.line)
        if stepper.done:
            line("Every grad is now final. q leaves; r starts the pass again.", "bold")
        else:
            upcoming = stepper.upcoming
            targets = ", ".join(stepper.name(c.node) for c in upcoming.changes)
            line(
                f"Next: the rule of {stepper.name(upcoming.node)} ({upcoming.op}) sends gradient to {targets}."
            )
        source = step.source.rstrip("\n")
        where = "the engine's Value.backward" if step.kind == "seed" else "engine/value.py"
        if getattr(step, "overridden", False):
            where = "your rule, in place of the engine's"
        if stepper.mistake == "overwrite" and step.kind != "seed":
            where += ", with = in place of +="
        line(f"The code that ran ({where}):", "dim")
        parts.append(highlighted_source(source).copy())
        plain.append(source)
        self._show(parts, plain)

    def show_forward(self, stepper: Stepper, computed: int, *, note: str = "") -> None:
        """The forward pass, ``computed`` op nodes in: which node was just worked out, from what."""
        self.panel = None
        ops = [node for node in stepper.nodes if node._prev]
        parts: list[Text] = []
        plain: list[str] = []

        def line(text: str, style: str = "") -> None:
            parts.append(Text(text, style=style))
            plain.append(text)

        if note:
            line(note, "bold")
        total = len(ops)
        if computed == 0:
            line(f"Forward pass: 0 of {total} nodes computed", "bold")
            line(
                "Only the inputs have data (? marks a node not computed yet). The forward pass "
                "works each node out from its operands, from the inputs up. n computes the next."
            )
        else:
            node = ops[computed - 1]
            name = stepper.name(node)
            line(f"Forward pass: node {computed} of {total}, {name} = {fmt(node.data)}", "bold")
            operands = ", ".join(f"{stepper.name(p)} = {fmt(p.data)}" for p in dict.fromkeys(node._prev))
            line(f"{definition(stepper, node)}, with {operands}: {name}.data = {fmt(node.data)}")
            if computed == total:
                line(
                    f"Every node has its data; {stepper.name(stepper.root)} is the output. "
                    "n starts the backward pass, which runs the other way: from the output down.",
                    "bold",
                )
            else:
                line(f"Next: {stepper.name(ops[computed])}, whose operands are all known now. n computes it.")
        line("p goes back a node; f leaves the forward pass with every node computed.", "dim")
        self._show(parts, plain)

    # ----------------------------------------------------------------- panels

    def show_panel(self, panel: Panel) -> None:
        self.panel = panel.kind
        self._show([Text(panel.title, style="bold"), panel.body], [panel.title, panel.plain])
