"""Check gradients the slow, obvious way: nudge an input and watch the output move.

The derivative of f at x is the slope rise / run for a tiny run h:

* forward difference  ``(f(x + h) - f(x)) / h``     (error shrinks like h)
* central difference  ``(f(x + h) - f(x - h)) / 2h`` (error shrinks like h², so it is the default)

Backprop must agree with this for every input. When it does not, the backward pass has a bug, which
is how the `=`-instead-of-`+=` mistake shows up.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine.cancel import Cancelled
from engine.value import Value

__all__ = ["numeric_derivative", "LeafCheck", "check_gradients", "check_program"]


def numeric_derivative(f: Callable[[float], float], x: float, h: float = 1e-4, *, central=False) -> float:
    """The slope of ``f`` at ``x``, measured with a step of ``h``."""
    if central:
        return (f(x + h) - f(x - h)) / (2 * h)
    return (f(x + h) - f(x)) / h


@dataclass(frozen=True)
class LeafCheck:
    """Backprop's gradient for one input beside the measured one."""

    name: str
    value: float
    analytic: float
    numeric: float
    rel_error: float  # |analytic - numeric| / max(|analytic|, |numeric|), 0 when both are 0
    ok: bool
    note: str = ""  # why the numeric gradient could not be measured, if it could not


def _relative_error(a: float, b: float) -> float:
    scale = max(abs(a), abs(b))
    return 0.0 if scale == 0 else abs(a - b) / scale


def check_gradients(
    build: Callable[[dict[str, float]], tuple[Value, Mapping[str, Value]]],
    inputs: Mapping[str, float],
    *,
    h: float = 1e-5,
    tolerance: float = 1e-4,
    backward: Callable[[Value], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[LeafCheck]:
    """Compare backprop with central differences for every input.

    ``build(inputs)`` makes the graph and returns ``(output, {name: leaf})``. ``backward`` is how
    the analytic gradients are computed: ``Value.backward`` unless a mistake mode is being shown.
    A gradient passes when it is within ``tolerance`` of the measured one, relative to its size
    (or absolutely, for gradients smaller than 1).

    ``should_stop`` (optional, see `engine.cancel`) is asked before each input is nudged (each
    costs two more builds); when it returns True the check raises `Cancelled`.
    """
    inputs = dict(inputs)
    output, leaves = build(inputs)
    (backward or Value.backward)(output)
    results = []
    for name, x in inputs.items():
        if should_stop is not None and should_stop():
            raise Cancelled(f"the gradient check was cancelled after {len(results)} of {len(inputs)} inputs")
        analytic = leaves[name].grad

        def f(v, name=name):
            return build({**inputs, name: v})[0].data

        try:
            numeric = numeric_derivative(f, x, h, central=True)
            note = "" if math.isfinite(numeric) else "the output is not finite near this input"
        except Exception as err:  # the nudged program failed, e.g. log of a negative number
            numeric, note = math.nan, f"could not evaluate near {x}: {err}"
        if note:
            results.append(LeafCheck(name, x, analytic, numeric, math.nan, False, note))
            continue
        ok = abs(analytic - numeric) <= tolerance * max(1.0, abs(analytic), abs(numeric))
        results.append(LeafCheck(name, x, analytic, numeric, _relative_error(analytic, numeric), ok))
    return results


def check_program(
    program, *, h: float = 1e-5, tolerance: float = 1e-4, mistake: str | None = None, should_stop=None
):
    """`check_gradients` for an expression program (`engine.expr.Program`).

    ``mistake="overwrite"`` computes the analytic side with ``=`` instead of ``+=``, so the check
    shows where that bug gives wrong gradients. ``should_stop`` is passed on.
    """
    backward = None
    if mistake == "overwrite":
        from engine.mistakes import backward_overwriting as backward
    elif mistake is not None:
        raise ValueError(f"unknown mistake {mistake!r}")

    def build(values):
        graph = program.build(values)
        return graph.output, graph.inputs

    return check_gradients(
        build, program.inputs, h=h, tolerance=tolerance, backward=backward, should_stop=should_stop
    )
