"""The decision boundary of a 2-D classifier as a grid of characters, with the data on top.

Every cell of the grid is one point of the plane; the model's answer there decides the cell's
character: ``·`` where it says +1, blank where it says -1. Each sample is drawn where it lies:
``+`` for a sample whose target is +1, ``o`` for -1 (``*`` when both kinds share a cell). A sample
sitting in the other class's region is misclassified, and is also drawn in reverse video, so the
picture reads the same without colour.

The grid is worked out by :func:`predict_grid` from any ``positive(x, y) -> bool``. A model can
take seconds for a grid (a wide deep network: milliseconds a cell), so `DecisionBoundary.show_model`
works it out in a thread worker and draws it when it is ready; the latest model asked for wins,
and the widget works the grid out again at its new size when it is resized, and not at all while
it is hidden (it catches up when shown). `DecisionBoundary.show` draws a ready-made grid, and
`show_model_now` works one out on the calling thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.widget import Widget
from textual.worker import Worker, WorkerState, get_current_worker

__all__ = ["Bounds", "DecisionBoundary", "bounds_around", "predict_grid", "place_points"]

POSITIVE = "·"
NEGATIVE = " "
MARK_POSITIVE = "+"
MARK_NEGATIVE = "o"
MARK_BOTH = "*"

# the grid's shape before the widget has been laid out at a usable size
DEFAULT_SHAPE = (38, 14)

Positive = Callable[[float, float], bool]


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

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None):
        super().__init__(name=name, id=id, classes=classes)
        self.grid: tuple[tuple[bool, ...], ...] = ()
        self.points: Sequence[Sequence[float]] = ()
        self.targets: Sequence[bool] = ()
        self.bounds: Bounds | None = None
        self.caption = ""
        self._model: tuple[Positive, str] | None = None  # the latest model asked for, and its caption
        self._working: Worker | None = None  # the worker on it (a result from any other is stale)
        self._working_shape: tuple[int, int] | None = None
        self._owed = False  # the latest model's grid is still to be worked out
        self._paced = False  # ... and it may wait its turn (see show_model)
        self._rest_until = 0.0  # a paced grid starts no sooner: as long again as the last one took
        self._rest_timer = None
        self._started = 0.0  # when the grid in hand was started
        self._shown = False  # on screen (Show and Hide events)
        # called between cells by the thread working a grid out: the training screen's hands the
        # interpreter to the UI while it has a key or a redraw in hand (`Orders.give_way`)
        self.give_way: Callable[[], None] | None = None

    @property
    def grid_shape(self) -> tuple[int, int]:
        """(cols, rows) the grid should have to fill the widget (one row is the legend)."""
        size = self.content_size
        if size.width <= 1 or size.height <= 2:
            return (len(self.grid[0]), len(self.grid)) if self.grid else DEFAULT_SHAPE
        return size.width, size.height - 1

    def set_data(self, points: Sequence[Sequence[float]], targets: Sequence[bool]) -> None:
        """The samples to draw, and the rectangle around them."""
        self.points = [tuple(p[:2]) for p in points]
        self.targets = list(targets)
        self.bounds = bounds_around(self.points)
        self.refresh()

    def show(self, grid: tuple[tuple[bool, ...], ...], caption: str = "") -> None:
        """Draw this grid (a grid being worked out for an earlier model is dropped)."""
        if self._working is not None:
            self._working.cancel()
            self._working = None
        self.grid = grid
        self.caption = caption
        self.refresh()

    def show_model_now(self, positive: Positive, caption: str = "") -> None:
        """Work out the grid of ``positive`` right here, on the calling thread, and draw it."""
        self._model, self._owed = (positive, caption), False
        cols, rows = self.grid_shape
        self.show(predict_grid(positive, self.bounds, cols, rows), caption)

    def show_model(self, positive: Positive, caption: str = "", *, after_current: bool = False) -> None:
        """Work out the grid of ``positive`` in a thread worker and draw it once it is ready.

        The grid being worked out for an older model is abandoned, unless ``after_current``: then
        it is finished and drawn first (a model slower than the pace of the requests is still
        drawn now and then), and the latest of the models asked for meanwhile follows it once
        the widget has rested as long as that grid took, so that a slow model's grids take at
        most half the time of a thread (the UI and a training thread need the rest).
        """
        self._model, self._owed, self._paced = (positive, caption), True, after_current
        if not (after_current and self._working is not None):
            self._work_on_latest()

    def _work_on_latest(self) -> None:
        if self._model is None or not self._owed or not self._shown or self.bounds is None:
            return  # (hidden: it catches up when shown)
        resting = self._rest_until - time.monotonic()
        if self._paced and resting > 0:
            if self._rest_timer is None:
                self._rest_timer = self.set_timer(max(resting, 0.01), self._rested)
            return
        self._owed = False
        self._started = time.monotonic()
        positive, caption = self._model
        self._working_shape = self.grid_shape
        self._working = self._work_out(positive, caption, self._working_shape)

    @work(thread=True, exclusive=True, group="boundary", exit_on_error=False)
    def _work_out(self, positive: Positive, caption: str, shape: tuple[int, int]):
        worker = get_current_worker()
        app = self.app
        give_way = self.give_way or (lambda: None)

        def checked(x: float, y: float) -> bool:
            give_way()
            # asked between cells: a newer model, or a learner leaving, does not wait for the rest
            if worker.is_cancelled or app.return_code is not None:
                raise _Abandoned
            return positive(x, y)

        try:
            return predict_grid(checked, self.bounds, *shape), caption
        except _Abandoned:
            return None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._working or not event.worker.is_finished:
            return
        self._working = None
        self._rest_until = time.monotonic() + (time.monotonic() - self._started)
        if event.state == WorkerState.SUCCESS and event.worker.result is not None:
            grid, caption = event.worker.result
            self.grid, self.caption = grid, caption
            self.refresh()
        self._work_on_latest()

    def _rested(self) -> None:
        self._rest_timer = None
        if self._working is None:
            self._work_on_latest()

    def on_show(self) -> None:
        self._shown = True
        self._catch_up()

    def on_hide(self) -> None:
        self._shown = False

    def on_resize(self) -> None:
        self._catch_up()

    def _catch_up(self) -> None:
        shape = self.grid_shape
        drawn = (len(self.grid[0]), len(self.grid)) if self.grid else None
        working = self._working_shape if self._working is not None else None
        if self._model is not None and shape not in (drawn, working) and self.content_size.width > 1:
            self._owed, self._paced = True, False  # drawn for another size: the latest model again
            self._work_on_latest()  # (exclusive: a worker on the old size is cancelled)
        elif self._working is None:
            self._work_on_latest()

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="crop", end="")
        if not self.grid or self.bounds is None:
            text.append(
                "Working out the boundary…" if self._model else "The boundary appears after the first step."
            )
            return text
        rows = len(self.grid)
        cols = len(self.grid[0])
        points = place_points(self.points, self.targets, self.bounds, cols, rows)
        shade = self.get_component_rich_style("boundary--positive")
        bold = self.get_component_rich_style("boundary--point")
        wrong = self.get_component_rich_style("boundary--wrong")
        # one span per run of cells drawn alike, not one per cell: a grid of 800 cells in a few
        # dozen spans, which is what Textual's rendering of the pane costs
        run, run_style = [], None
        for r, row in enumerate(self.grid):
            for c, says_positive in enumerate(row):
                mark = points.get((r, c))
                if mark is None:
                    char, style = (POSITIVE, shade) if says_positive else (NEGATIVE, "")
                else:
                    right = mark == MARK_BOTH or (mark == MARK_POSITIVE) == says_positive
                    char, style = mark, bold if right else wrong
                if style is not run_style and run:
                    text.append("".join(run), run_style)
                    run = []
                run_style = style
                run.append(char)
            if run_style != "" and run:  # the line's end is unstyled, as its blank cells are
                text.append("".join(run), run_style)
                run = []
            run_style = ""
            run.append("\n")
        if run:
            text.append("".join(run), run_style)
        legend = f"+ o samples, · says +1, {self.caption}".rstrip(", ")
        text.append(legend, self.get_component_rich_style("boundary--legend"))
        return text


class _Abandoned(Exception):
    """A grid being worked out is no longer wanted."""
