"""The decision boundary of a 2-D classifier as a grid of characters, with the data on top.

Every cell of the grid is one point of the plane; the model's answer there decides the cell's
character: ``·`` where it says +1, blank where it says -1. Each sample is drawn where it lies:
``+`` for a sample whose target is +1, ``o`` for -1 (``*`` when both kinds share a cell). A sample
sitting in the other class's region is misclassified, and is also drawn in reverse video, so the
picture reads the same without colour.

The grid is worked out by :func:`predict_grid` from any ``positive(x, y) -> bool``; the widget
only draws what it is given, so the (slow) model never runs on the UI thread unless the caller
chooses to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widget import Widget

__all__ = ["Bounds", "DecisionBoundary", "bounds_around", "predict_grid", "place_points"]

POSITIVE = "·"
NEGATIVE = " "
MARK_POSITIVE = "+"
MARK_NEGATIVE = "o"
MARK_BOTH = "*"


@dataclass(frozen=True)
class Bounds:
    """The rectangle of the plane the grid covers."""

    x0: float
    x1: float
    y0: float
    y1: float


def bounds_around(points: Sequence[Sequence[float]], margin: float = 0.1) -> Bounds:
    """The smallest rectangle holding every point, grown by ``margin`` of its size on each side."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    dx = (x1 - x0) or 1.0
    dy = (y1 - y0) or 1.0
    return Bounds(x0 - margin * dx, x1 + margin * dx, y0 - margin * dy, y1 + margin * dy)


def _centre(i: int, n: int, lo: float, hi: float) -> float:
    return lo + (hi - lo) * (i + 0.5) / n


def predict_grid(
    positive: Callable[[float, float], bool], bounds: Bounds, cols: int, rows: int
) -> tuple[tuple[bool, ...], ...]:
    """The model's answer at the centre of every cell; row 0 is the top (largest y)."""
    grid = []
    for r in range(rows):
        y = _centre(rows - 1 - r, rows, bounds.y0, bounds.y1)
        grid.append(tuple(positive(_centre(c, cols, bounds.x0, bounds.x1), y) for c in range(cols)))
    return tuple(grid)


def place_points(
    points: Sequence[Sequence[float]], targets: Sequence[bool], bounds: Bounds, cols: int, rows: int
) -> dict[tuple[int, int], str]:
    """(row, col) -> the mark of the samples in that cell (``+``, ``o`` or ``*`` for both)."""
    cells: dict[tuple[int, int], str] = {}
    for (x, y), target in zip(points, targets):
        c = int((x - bounds.x0) / (bounds.x1 - bounds.x0) * cols)
        r = rows - 1 - int((y - bounds.y0) / (bounds.y1 - bounds.y0) * rows)
        if not (0 <= c < cols and 0 <= r < rows):
            continue
        mark = MARK_POSITIVE if target else MARK_NEGATIVE
        before = cells.get((r, c))
        cells[(r, c)] = mark if before in (None, mark) else MARK_BOTH
    return cells


class DecisionBoundary(Widget):
    """Draws a grid from :func:`predict_grid` with the samples on top and a legend line below."""

    COMPONENT_CLASSES = {
        "boundary--positive",
        "boundary--point",
        "boundary--wrong",
        "boundary--legend",
    }

    DEFAULT_CSS = """
    DecisionBoundary {
        height: 1fr;
        width: 1fr;
    }
    DecisionBoundary > .boundary--positive {
        color: $text-muted;
    }
    DecisionBoundary > .boundary--point {
        text-style: bold;
    }
    DecisionBoundary > .boundary--wrong {
        text-style: bold reverse;
    }
    DecisionBoundary > .boundary--legend {
        color: $text-muted;
    }
    """

    class Resized(Message):
        """The widget changed size: the grid should be worked out again for `grid_shape`."""

    def on_resize(self) -> None:
        self.post_message(self.Resized())

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None):
        super().__init__(name=name, id=id, classes=classes)
        self.grid: tuple[tuple[bool, ...], ...] = ()
        self.points: Sequence[Sequence[float]] = ()
        self.targets: Sequence[bool] = ()
        self.bounds: Bounds | None = None
        self.caption = ""

    @property
    def grid_shape(self) -> tuple[int, int]:
        """(cols, rows) the grid should have to fill the widget (one row is the legend)."""
        return max(1, self.content_size.width), max(1, self.content_size.height - 1)

    def set_data(self, points: Sequence[Sequence[float]], targets: Sequence[bool]) -> None:
        """The samples to draw, and the rectangle around them."""
        self.points = [tuple(p[:2]) for p in points]
        self.targets = list(targets)
        self.bounds = bounds_around(self.points)
        self.refresh()

    def show(self, grid: tuple[tuple[bool, ...], ...], caption: str = "") -> None:
        self.grid = grid
        self.caption = caption
        self.refresh()

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="crop", end="")
        if not self.grid or self.bounds is None:
            text.append("The boundary appears after the first step.")
            return text
        rows = len(self.grid)
        cols = len(self.grid[0])
        points = place_points(self.points, self.targets, self.bounds, cols, rows)
        shade = self.get_component_rich_style("boundary--positive")
        bold = self.get_component_rich_style("boundary--point")
        wrong = self.get_component_rich_style("boundary--wrong")
        for r, row in enumerate(self.grid):
            for c, says_positive in enumerate(row):
                mark = points.get((r, c))
                if mark is None:
                    text.append(POSITIVE if says_positive else NEGATIVE, shade if says_positive else "")
                else:
                    right = mark == MARK_BOTH or (mark == MARK_POSITIVE) == says_positive
                    text.append(mark, bold if right else wrong)
            text.append("\n")
        legend = f"+ o samples, · says +1, {self.caption}".rstrip(", ")
        text.append(legend, self.get_component_rich_style("boundary--legend"))
        return text
