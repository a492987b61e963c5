"""The PyTorch screen: one expression program in this course's engine and in PyTorch, side by side.

``PytorchScreen(program, title=...)`` shows the program written both ways (``Value`` leaves on the
left, float64 ``requires_grad`` tensors on the right), then runs both and lists every named node's
value and gradient from each, with a ✓ where they agree. All the computing is
:mod:`tutor.torch_compare`: the engine's numbers are shown at once, PyTorch's come from a child
Python started by a thread worker (importing PyTorch takes a second or two), which is killed if the
learner leaves first.

Without PyTorch the screen says how to install it and ``r`` tries again once it is. Either way the
part counts as done when the learner leaves (q/escape): the lesson must be finishable on a
machine that will never have PyTorch.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from engine.numfmt import fmt
from tutor import torch_compare
from tutor.torch_compare import LEAF_NOTE, Comparison, TorchUnavailable

__all__ = ["PytorchScreen", "format_number"]


TABLE_DIGITS = 12  # the engine's number rule with more figures: enough to see two engines agree


def format_number(x: float | None) -> str:
    """The engine's number rule at 12 significant figures, narrow enough for 80 columns."""
    return "None" if x is None else fmt(x, TABLE_DIGITS)


def _code(lines: list[str]) -> Syntax:
    return Syntax("\n".join(lines), "python", theme="ansi_dark", background_color="default", word_wrap=True)


class PytorchScreen(Screen[bool]):
    """The comparison; dismissed with True (the part is done) once anything was shown."""

    CSS_PATH = "../pytorch.tcss"

    BINDINGS = [
        Binding(
            "r",
            "run",
            "Run again",
            id="pytorch.run",
            tooltip="Import PyTorch and compare again (after installing it, say)",
        ),
        Binding("q,escape", "leave", "Back", id="pytorch.back", tooltip="Back to the lesson"),
    ]

    HELP_NOTES = (
        "The left column is the program with this course's engine, the right the same program in "
        "PyTorch. The table lists each named node's value and gradient from both; ✓ means they agree. "
        "PyTorch is optional: without it the screen says how to install it, and the part still counts."
    )

    def __init__(
        self, program, *, title: str = "", caption: str = "", on_shown: Callable[[], None] | None = None
    ) -> None:
        """``caption`` (the block's) replaces the generic subtitle; ``on_shown()`` hears the first
        time an outcome is on screen (the part counts as done from then on)."""
        super().__init__()
        self._on_shown = on_shown
        self.program = program
        self.title = title or "PyTorch"
        self.sub_title = caption or "the same computation in PyTorch"
        self.comparison: Comparison | None = None
        self.problem: str | None = None  # why PyTorch could not run, in words
        self.waiting = False  # for PyTorch's numbers (not `loading`: Textual's own attribute)
        self._engine = torch_compare.run_in_engine(program)
        self._child: subprocess.Popen | None = None
        self._left = False  # set when the learner leaves; a child started after that is killed

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="pytorch-body"):
            with Horizontal(id="pytorch-code"):
                with Vertical(classes="listing"):
                    yield Static(Text("This engine", style="bold"), classes="listing-title")
                    yield Static(_code(torch_compare.engine_listing(self.program)))
                with Vertical(classes="listing"):
                    yield Static(Text("PyTorch", style="bold"), classes="listing-title")
                    yield Static(_code(torch_compare.torch_listing(self.program)))
            yield Static(Text(LEAF_NOTE, style="italic"), id="pytorch-note")
            yield Static(id="pytorch-table")
        yield Static(id="pytorch-status")  # below the scrolling part: the verdict is always in view
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#pytorch-body", VerticalScroll).focus()  # arrows and PgUp/PgDn scroll it
        self.action_run()

    # ------------------------------------------------------------------ running

    def action_run(self) -> None:
        if self.waiting:
            return
        self.waiting = True
        self.problem = None
        self._show()
        self.run_worker(
            self._compare_in_thread, thread=True, exclusive=True, group="pytorch", exit_on_error=False
        )

    def _compare_in_thread(self) -> None:
        try:
            comparison = torch_compare.compare_in_subprocess(self.program, started=self._started)
        except TorchUnavailable as err:
            self.app.call_from_thread(self._finished, None, str(err))
        except Exception as err:  # never a traceback on the learner's screen
            self.app.call_from_thread(
                self._finished, None, f"PyTorch could not run this program ({type(err).__name__}: {err})."
            )
        else:
            self.app.call_from_thread(self._finished, comparison, None)

    def _started(self, child: subprocess.Popen) -> None:
        self._child = child
        if self._left:  # the learner left before the child was running
            self._stop_child()

    def _stop_child(self) -> None:
        child, self._child = self._child, None
        if child is not None and child.poll() is None:
            child.kill()

    def _finished(self, comparison: Comparison | None, problem: str | None) -> None:
        self._child = None
        if self._left or not self.is_attached:  # the learner left while PyTorch was starting
            return
        self.waiting = False
        first = not self.shown
        self.comparison = comparison
        self.problem = problem
        self._show()
        if first and self._on_shown is not None:
            self._on_shown()

    # ------------------------------------------------------------------ what is shown

    @property
    def shown(self) -> bool:
        """Whether the learner has seen the outcome: the comparison, or why there is none."""
        return self.comparison is not None or self.problem is not None

    def _show(self) -> None:
        self.query_one("#pytorch-table", Static).update(self._table())
        status = Text()
        if self.waiting:
            status.append("Starting PyTorch… importing it takes a few seconds.", style="bold")
        elif self.comparison is not None:
            mark = "✓ " if self.comparison.agrees else "✗ "
            status.append(mark + self.comparison.summary(), style="bold")
        elif self.problem is not None:
            status.append("✗ No PyTorch numbers. ", style="bold")
            status.append(self.problem)
            status.append("\nThe engine's are above; this part counts as done either way. r tries again.")
        self.query_one("#pytorch-status", Static).update(status)

    def _table(self) -> Table:
        table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
        table.add_column("node", no_wrap=True)
        table.add_column("value", justify="right", no_wrap=True, overflow="ellipsis")
        table.add_column("PyTorch", justify="right", no_wrap=True, overflow="ellipsis")
        table.add_column("grad", justify="right", no_wrap=True, overflow="ellipsis")
        table.add_column("PyTorch", justify="right", no_wrap=True, overflow="ellipsis")
        table.add_column("same", no_wrap=True)
        rows = {row.name: row for row in self.comparison.rows} if self.comparison else {}
        waiting = "…" if self.waiting else "—"
        for name, (value, grad) in self._engine.items():
            row = rows.get(name)
            if row is None:
                table.add_row(name, format_number(value), waiting, format_number(grad), waiting, "")
                continue
            table.add_row(
                name,
                format_number(value),
                format_number(row.torch_value),
                format_number(grad),
                format_number(row.torch_grad),
                Text("✓" if row.agrees else "✗ differs", style="bold"),
            )
        return table

    # ------------------------------------------------------------------ leaving

    def action_leave(self) -> None:
        self._left = True
        self._stop_child()
        self.dismiss(self.shown)

    def on_unmount(self) -> None:
        self._left = True
        self._stop_child()  # the app is closing with PyTorch still starting
