"""The screen a program that cannot be stepped opens instead of the debugger: why, and how back.

`DebuggerScreen` puts it on top of itself when the program does not build (``log(0)``, an
overflow, a builder that raises); leaving it leaves the debugger too, with False (not finished).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

__all__ = ["CannotRunScreen", "why_it_cannot_run"]


def why_it_cannot_run(error: Exception) -> str:
    """One sentence for the learner, with the program's line when the error knows it."""
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    line = getattr(error, "line", None)
    where = f" (line {line})" if line else ""
    return f"This program cannot be run{where}: {message}"


class CannotRunScreen(Screen[bool]):
    """Says why the program cannot be stepped; q or escape go back (the result is False)."""

    DEFAULT_CSS = """
    CannotRunScreen #debugger-error {
        padding: 1 2;
    }
    """

    BINDINGS = [
        Binding(
            "q,escape",
            "go_back",
            "Close",
            id="debugger.close",
            tooltip="Go back: this program cannot be stepped",
        ),
    ]

    def __init__(self, reason: str, *, sub_title: str = "") -> None:
        super().__init__()
        self.reason = reason
        self.title = "Debugger"
        self.sub_title = sub_title

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(f"{self.reason}\n\nPress q to go back.", style="bold"), id="debugger-error")
        yield Footer()

    def action_go_back(self) -> None:
        self.dismiss(False)
