"""The few places the app tests read Textual's internals, in one module.

Textual gives no public way to read the characters a screen has drawn (only an SVG export), to
reach the driver of an app under ``run_test`` or to ask which Python threads are inside a given
function; the tests need all three to check what a learner sees and that work really stopped.
A Textual upgrade that moves any of them breaks this file alone.
"""

from __future__ import annotations

import sys

__all__ = ["driver_of", "rendered_lines", "threads_in"]


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
