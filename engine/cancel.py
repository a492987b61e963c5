"""Stopping long engine work from outside, without the engine knowing who asks.

Work that can take seconds (a training step near the budget of `engine.cost`, a gradient check
that rebuilds a big graph twice per input) takes an optional ``should_stop``: any callable
returning True once the caller wants it to stop (a UI passes its worker's "cancelled" flag). The
work calls it every so often (between samples, every `CHECK_EVERY` nodes of a walk, between
inputs) and raises `Cancelled` when it says so, leaving what it changes as it found it.

Without ``should_stop`` nothing is checked and the work runs exactly as before.
"""

from __future__ import annotations

__all__ = ["Cancelled", "CHECK_EVERY"]

# Nodes a graph walk or a backward pass handles between two calls of should_stop: a few
# milliseconds of work, so a cancelled step stops well within a second.
CHECK_EVERY = 4096


class Cancelled(Exception):
    """``should_stop()`` said stop, so the work was abandoned part way."""

    def __init__(self, what: str = "the work was cancelled"):
        super().__init__(what)
