"""Shown instead of the app while the terminal is smaller than the app can draw in."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

__all__ = ["MIN_HEIGHT", "MIN_WIDTH", "TooSmallScreen", "too_small_message"]

# Below this the footer and a lesson card no longer fit together; 80×24 is the design size.
MIN_WIDTH = 60
MIN_HEIGHT = 20


def too_small_message(width: int, height: int) -> str:
    return (
        f"tutor needs a terminal of at least {MIN_WIDTH}×{MIN_HEIGHT};\n"
        f"this one is {width}×{height}.\nMake the window larger (ctrl+q quits)."
    )


class TooSmallScreen(Screen):
    """A plain message; the app removes it as soon as the terminal is large enough again."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__()
        self.terminal_size = (width, height)

    def compose(self) -> ComposeResult:
        yield Static(Text(too_small_message(*self.terminal_size)), id="too-small")

    def show_size(self, width: int, height: int) -> None:
        self.terminal_size = (width, height)
        self.query_one("#too-small", Static).update(Text(too_small_message(width, height)))
