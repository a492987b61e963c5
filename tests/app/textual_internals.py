"""The few places the app tests read Textual's internals, in one module.

Textual gives no public way to read the characters a screen has drawn (only an SVG export), to
reach the driver of an app under ``run_test`` or to ask which Python threads are inside a given
function; the tests need all three to check what a learner sees and that work really stopped.
A Textual upgrade that moves any of them breaks this file alone.
"""

from __future__ import annotations

import sys

__all__ = ["Terminal", "driver_of", "rendered_lines", "threads_in"]


def rendered_lines(app) -> list[str]:
    """The text of every row of the terminal, as the compositor last drew the screen."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def driver_of(app):
    """The app's terminal driver (the headless one under ``run_test``)."""
    return app._driver


def threads_in(function_name: str, filename: str) -> list[int]:
    """The threads whose stack is inside that function right now (``filename`` ends its path)."""
    found = []
    for ident, frame in sys._current_frames().items():
        while frame is not None:
            code = frame.f_code
            if code.co_name == function_name and code.co_filename.endswith(filename):
                found.append(ident)
                break
            frame = frame.f_back
    return found


class Terminal:
    """What a real terminal shows: the compositor's updates (whole frames and the partial ones
    Textual sends between them) applied to a grid of cells as they are sent, so lines a partial
    update left behind stay, as they would on the learner's screen. ``rendered_lines`` instead
    draws the screen afresh, where stale lines cannot show. Textual sends nothing under
    ``run_test``; this taps the app's ``_display``, where each update passes."""

    def __init__(self, app) -> None:
        width, _height = app.size
        # the terminal starts with the screen as drawn now
        self.rows = [list(line.ljust(width)[:width]) for line in rendered_lines(app)]
        self.app = app
        display = app._display

        def tapped(screen, renderable):
            # the compositor passes None when a refresh found nothing changed: nothing is sent
            if renderable is not None:
                self.apply(renderable)
            return display(screen, renderable)

        app._display = tapped

    def apply(self, update) -> None:
        from rich.cells import cell_len
        from rich.segment import ControlType

        console = self.app.console
        x = y = 0
        for segment in update.__rich_console__(console, console.options):
            if segment.control:
                for code in segment.control:
                    if code[0] == ControlType.CURSOR_MOVE_TO:
                        x, y = code[1], code[2]
                continue
            for ch in segment.text:
                if ch == "\n":
                    x, y = 0, y + 1
                    continue
                if 0 <= y < len(self.rows) and 0 <= x < len(self.rows[y]):
                    self.rows[y][x] = ch
                    for extra in range(1, cell_len(ch)):
                        if x + extra < len(self.rows[y]):
                            self.rows[y][x + extra] = ""
                x += cell_len(ch)

    def lines(self) -> list[str]:
        return ["".join(row) for row in self.rows]


def footer_keys(screen) -> list[tuple[object, str, bool]]:
    """The key widgets a `Footer` on ``screen`` has mounted, each as (widget, action, drawn
    disabled): `FooterKey` lives in a private module and marks a disabled key with a CSS class."""
    from textual.widgets._footer import FooterKey

    return [(key, key.action, key.has_class("-disabled")) for key in screen.query(FooterKey)]
