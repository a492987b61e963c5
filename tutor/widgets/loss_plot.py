"""The loss curve(s) of a training run, drawn with plotext through textual-plotext.

A `LossPlot` holds one `Curve` per run (the correct run, and a run with a bug in it to compare)
and draws them all on one set of axes. Each curve has its own marker character (``•``, ``x``), so
the curves stay apart with NO_COLOR too; the legend (marker and name of each curve) is the
widget's title line, where it never covers the start of a curve as plotext's own legend would.

Points are added as the runs report them; nothing is drawn until `redraw` is called, so the
caller decides how often the (not free) plotext rendering happens. What was handed to plotext in
the last redraw is kept in ``drawn`` (label -> steps, losses), for tests and benchmarks to read.

When a loss climbs far above where the first curve started (a diverging run), the y axis switches
to a log scale, or every other curve would flatten into the floor; the title says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from textual_plotext import PlotextPlot

__all__ = ["Curve", "LossPlot", "LOG_SCALE_RATIO", "MAX_DRAWN_POINTS"]

# Switch to a log y axis once some loss is this many times the first curve's first loss.
LOG_SCALE_RATIO = 20.0
# Longer curves are thinned (every k-th point, and always the last) before plotting.
MAX_DRAWN_POINTS = 1000


@dataclass
class Curve:
    label: str
    marker: str
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)


def _thin(steps: list[int], losses: list[float]) -> tuple[list[int], list[float]]:
    n = len(steps)
    if n <= MAX_DRAWN_POINTS:
        return list(steps), list(losses)
    k = -(-n // MAX_DRAWN_POINTS)
    keep = list(range(0, n, k))
    if keep[-1] != n - 1:
        keep.append(n - 1)
    return [steps[i] for i in keep], [losses[i] for i in keep]


def _ticks(last: int) -> list[int]:
    """A few round step numbers from 1 to ``last`` for the x axis."""
    if last <= 1:
        return [1]
    for size in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000):
        if last / size <= 5:
            break
    ticks = [1] + list(range(size, last + 1, size))
    if ticks[-1] != last and last - ticks[-1] > size / 2:
        ticks.append(last)
    return sorted(set(ticks))


class LossPlot(PlotextPlot):
    """Loss per step for one or more runs, with a legend."""

    def __init__(
        self,
        steps: int = 100,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.steps = steps
        self.curves: dict[str, Curve] = {}
        self.drawn: dict[str, tuple[list[int], list[float]]] = {}
        self.log_scale = False
        self._version = 0  # counts redraws: the cached picture is stale when it moves on
        self._picture = None  # (version, size, theme) and what plotext built for them
        self._changes = 0  # counts changes to the curves: a redraw with none since the last is skipped
        self._drawn_changes = -1

    # ------------------------------------------------------------------ data

    def add_curve(self, key: str, label: str, marker: str) -> Curve:
        """Start (or restart, empty) the curve ``key``; the order of adding is the drawing order."""
        self.curves.pop(key, None)
        curve = self.curves[key] = Curve(label, marker)
        self._changes += 1
        return curve

    def remove_curve(self, key: str) -> None:
        if self.curves.pop(key, None) is not None:
            self._changes += 1

    def add_point(self, key: str, step: int, loss: float) -> None:
        curve = self.curves[key]
        curve.steps.append(step)
        curve.losses.append(loss)
        self._changes += 1

    # ------------------------------------------------------------------ drawing

    def _wants_log_scale(self) -> bool:
        """Log scale once some loss has climbed far above where the first curve started."""
        curves = [c for c in self.curves.values() if c.losses]
        if not curves:
            return False
        every = [x for c in curves for x in c.losses]
        if min(every) <= 0:
            return False
        return max(every) > LOG_SCALE_RATIO * curves[0].losses[0]

    def redraw(self) -> None:
        """Hand the current curves to plotext and repaint (nothing to do if no curve has changed
        since the last redraw: a pane swapped, a status line changed)."""
        if self._drawn_changes == self._changes:
            return
        self._drawn_changes = self._changes
        plt = self.plt
        plt.clear_data()
        self.drawn = {}
        self.log_scale = self._wants_log_scale()
        plt.xlim(1, max(self.steps, 2))
        plt.xticks(_ticks(self.steps))
        plt.xlabel("step")
        lowest, highest = math.inf, -math.inf
        for curve in self.curves.values():
            if not curve.losses:
                continue
            steps, losses = _thin(curve.steps, curve.losses)
            # plotext cannot label an axis that reaches 1e30 and more (its tick labels are written
            # out in full), so a log scale is drawn as log10 of the loss on a plain axis, with the
            # ticks labelled as powers of ten
            ys = [math.log10(x) for x in losses] if self.log_scale else losses
            plt.plot(steps, ys, marker=curve.marker)
            self.drawn[curve.label] = (steps, losses)
            lowest, highest = min(lowest, *ys), max(highest, *ys)
        if not self.drawn:
            plt.ylim(0, 1)
            plt.yticks([0, 1], ["", ""])
        elif self.log_scale:
            ticks = _round_ticks(lowest, highest, whole=True)
            plt.ylim(ticks[0], ticks[-1])
            plt.yticks(ticks, ["1" if e == 0 else f"1e{e:g}" for e in ticks])
        else:
            ticks = _round_ticks(min(0.0, lowest), highest)
            plt.ylim(ticks[0], ticks[-1])
            plt.yticks(ticks, [f"{t:.6g}" for t in ticks])
        self.border_title = self.legend()
        self._version += 1
        self.refresh()

    def render(self):
        # plotext rebuilds the whole picture on every render, even when only the screen around
        # the plot was laid out again (a pane swapped): keep the last one until something changes
        key = (self._version, self.size, self.app.theme, self.theme)
        if self._picture is None or self._picture[0] != key:
            self._picture = (key, super().render())
        return self._picture[1]

    def legend(self) -> str:
        """The title line: what the y axis is, then each curve's marker and name."""
        keys = [f"{c.marker} {c.label}" for c in self.curves.values()]
        return "  ".join(["loss (log)" if self.log_scale else "loss", *keys])


def _round_ticks(low: float, high: float, *, whole: bool = False) -> list[float]:
    """At most six round numbers (1, 2, 2.5 or 5 times a power of ten apart) from a tick at or
    below ``low`` to one at or above ``high``; ``whole`` keeps the spacing a whole number."""
    if high <= low:
        high = low + 1.0
    power = 10.0 ** math.floor(math.log10((high - low) / 5))
    steps = [m * power for m in (1, 2, 2.5, 5, 10, 20, 25, 50)]
    if whole:  # log10 ticks: only whole powers of ten
        steps = [st for st in steps if st >= 1 and float(st).is_integer()] or [1.0]
    for step in steps:
        if math.ceil(high / step) - math.floor(low / step) <= 5:
            break
    first, last = math.floor(low / step), math.ceil(high / step)
    return [k * step for k in range(first, last + 1)]
