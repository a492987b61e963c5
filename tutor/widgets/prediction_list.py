"""A scrolling table of a model's predictions, one line per sample, with a row cursor.

`Predictions` is the whole pane: a caption (the step, how many samples are right), a header and
the `PredictionList`. ``set_samples`` gives it the inputs and targets once; ``show`` each new set
of outputs. `PredictionList` draws only the visible lines, each from a ready-made `Text`: a
DataTable redrew every cell of every visible row on each update, ~0.2 s a time on the moons data,
all of it holding the GIL the training thread needs. `table_heads` and `table_rows` make those
lines: the fixed part of each row (index, input, target) once, the output and its mark per update.

| Key | Does |
| --- | --- |
| up / down, page up / page down, home / end | move the cursor |
| enter (or a click on the cursor row) | posts `PredictionList.Selected` with the row's index |
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

__all__ = ["Predictions", "PredictionList", "table_heads", "table_rows", "format_output"]


def table_heads(xs: Sequence[Sequence[float]], targets: Sequence[float], bce: bool) -> tuple[str, list[str]]:
    """The header line, and the fixed start of each row: index, input, target."""
    inputs = [" ".join(f"{c:+.2f}" for c in x) for x in xs]
    n = len(str(len(inputs) - 1))
    heads = []
    for i, (x, y) in enumerate(zip(inputs, targets)):
        target = f"{y:g}" if bce else f"{y:+g}"
        heads.append(f"{i:>{n}}  {x}  {target:>2}  ")
    header = f"{'#':>{n}}  {'input':<{len(inputs[0])}}  {'y':>2}  {'out':>7}"
    return header, heads


def format_output(out: float) -> str:
    return f"{out:+.3f}" if abs(out) < 100 else f"{out:+.0e}"


def table_rows(heads: Sequence[str], outputs: Sequence[float], right: Sequence[bool]) -> list[Text]:
    """Each row: its fixed start, the model's output, and ✓ where it classifies the sample right."""
    rows = []
    for head, out, ok in zip(heads, outputs, right):
        row = Text(head, no_wrap=True, end="")
        row.append(f"{format_output(out):>7}  ")
        row.append("✓" if ok else "✗", style="" if ok else "bold")
        rows.append(row)
    return rows


class PredictionList(ScrollView, can_focus=True):
    """One line per sample with a row cursor; Enter (or a click on the cursor row) selects it."""

    DEFAULT_CSS = """
    PredictionList {
        height: 1fr;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    PredictionList > .prediction-list--cursor {
        text-style: reverse;
    }
    PredictionList:focus > .prediction-list--cursor {
        text-style: bold reverse;
    }
    """

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "move(-1000000)", "First", show=False),
        Binding("end", "move(1000000)", "Last", show=False),
        Binding("enter", "select", "Debug sample", show=False),
    ]

    COMPONENT_CLASSES = {"prediction-list--cursor"}

    cursor = reactive(0, always_update=True)

    class Selected(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Text] = []

    def set_rows(self, rows: list[Text]) -> None:
        self.rows = rows
        width = max((r.cell_len for r in rows), default=0)
        self.virtual_size = Size(width, len(rows))
        self.refresh()

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if not 0 <= index < len(self.rows):
            return Strip.blank(width, base)
        strip = Strip(list(self.rows[index].render(self.app.console)))
        strip = strip.crop(int(self.scroll_offset.x), int(self.scroll_offset.x) + width)
        strip = strip.adjust_cell_length(width).apply_style(base)
        if index == self.cursor:
            strip = strip.apply_style(self.get_component_rich_style("prediction-list--cursor"))
        return strip

    def watch_cursor(self, old: int, new: int) -> None:
        if self.rows and not 0 <= new < len(self.rows):
            self.cursor = max(0, min(new, len(self.rows) - 1))
            return
        top = int(self.scroll_offset.y)
        height = max(1, self.scrollable_content_region.height)
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + height:
            self.scroll_to(y=new - height + 1, animate=False)
        self.refresh()

    def action_move(self, by: int) -> None:
        self.cursor = max(0, min(self.cursor + by, len(self.rows) - 1))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.scrollable_content_region.height - 1))

    def action_select(self) -> None:
        if self.rows:
            self.post_message(self.Selected(self.cursor))

    def on_click(self, event) -> None:
        index = int(self.scroll_offset.y) + event.y
        if not 0 <= index < len(self.rows):
            return
        if index == self.cursor or event.chain > 1:
            self.post_message(self.Selected(index))
        self.cursor = index


class Predictions(Vertical):
    """The caption, the header and the `PredictionList` (``#table``) of the predictions pane."""

    DEFAULT_CSS = """
    Predictions {
        height: 1fr;
    }
    Predictions > #table-caption {
        height: 1;
        padding: 0 1;
        text-style: bold;
    }
    Predictions > #table-header {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._heads: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static(id="table-caption")
        yield Static(id="table-header")
        yield PredictionList(id="table")

    def set_samples(self, xs: Sequence[Sequence[float]], targets: Sequence[float], bce: bool) -> None:
        header, self._heads = table_heads(xs, targets, bce)
        self.query_one("#table-header", Static).update(Text(header, style="bold underline"), layout=False)

    def show(self, step: int, outputs: Sequence[float], right: Sequence[bool]) -> None:
        """The outputs after ``step``, each marked ✓ where ``right``."""
        self.query_one(PredictionList).set_rows(table_rows(self._heads, outputs, right))
        caption = f"step {step}: {sum(right)}/{len(right)} right · ⏎ debugger"
        self.query_one("#table-caption", Static).update(
            Text(caption, no_wrap=True, overflow="ellipsis"), layout=False
        )
