"""The exercise screen's editor: a `TextArea` that carries indentation as a code editor does.

A backward rule is a ``def`` with an indented body, and a line typed at the left edge is outside
the rule. So Enter opens the new line at the indent of the line it leaves (one level more after a
line ending in ``:``), and Backspace in a line's leading spaces takes away one level (back to the
previous multiple of ``indent_width``) instead of one space. Everything else is TextArea's own.

The hooks are Textual 8.2's: ``TextArea._on_key`` turns Enter into an insert of ``"\\n"`` (so
Enter is caught before it), and Backspace is bound to ``action_delete_left``.
"""

from __future__ import annotations

from textual import events
from textual.widgets import TextArea

__all__ = ["RuleEditor", "indent_after", "with_body_indent"]


def indent_after(line: str, indent_width: int = 4) -> str:
    """The spaces a new line opens with after ``line`` (the part before the cursor): its own
    leading whitespace, one level more when it ends with ``:``."""
    stripped = line.lstrip(" \t")
    indent = line[: len(line) - len(stripped)]
    if stripped.rstrip().endswith(":"):
        indent += " " * indent_width
    return indent


def with_body_indent(text: str, indent_width: int = 4) -> str:
    """``text`` with its last line, when empty, opened at the indent the line above leads to, so
    a cursor at the end stands where the learner types the body (not at column 0, outside it)."""
    lines = text.split("\n")
    if len(lines) < 2 or lines[-1].strip(" \t"):
        return text
    return "\n".join([*lines[:-1], indent_after(lines[-2], indent_width)])


class RuleEditor(TextArea):
    """A TextArea whose Enter keeps the indent and whose Backspace removes a level of it."""

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter" and not self.read_only:
            event.stop()
            event.prevent_default()
            self._restart_blink()
            start, end = self.selection
            row, column = min(start, end)
            before = self.document[row][:column]
            self._replace_via_keyboard("\n" + indent_after(before, self.indent_width), start, end)
            return
        await super()._on_key(event)

    def action_delete_left(self) -> None:
        """In a line's leading spaces, back to the previous indent level; else one character."""
        if not self.read_only and self.selection.is_empty:
            row, column = self.cursor_location
            before = self.document[row][:column]
            if column > 0 and before.strip(" ") == "":
                width = max(self.indent_width, 1)
                target = ((column - 1) // width) * width
                self._delete_via_keyboard((row, target), (row, column))
                return
        super().action_delete_left()
