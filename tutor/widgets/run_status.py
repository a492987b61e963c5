"""The training screen's status lines: one per run (step, loss, accuracy, lr), then what is going on.

``RunStatus.show(runs, steps, state)`` draws them. Each run's line has its curve's marker and
label, and ends with ✓ once the run is done or, on a line of its own, the engine's reason when it
stopped. ``state`` is one of `STATES` (the screen knows which): the last line says it in words,
with the keys that make sense next.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

__all__ = ["RunStatus", "STATES"]

STATES = ("failed", "pausing", "running", "stepping", "finished", "paused", "ready")


class RunStatus(Static):
    """One line per run (a `tutor.training.Run`), then the state line."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines = 0

    def show(self, runs: Sequence, steps: int, state: str, failure: str = "") -> None:
        text = Text()
        for run in runs:
            text.append_text(self._run_line(run, steps))
            text.append("\n")
        text.append_text(self._state_line(state, failure, any(run.key == "bug" for run in runs)))
        # a layout pass repaints the whole screen: only ask for one when the height changes
        lines = len(text.wrap(self.app.console, max(10, self.content_size.width or 78)))
        self.update(text, layout=lines != self._lines)
        self._lines = lines

    @staticmethod
    def _run_line(run, steps: int) -> Text:
        line = Text(no_wrap=False)
        line.append(f"{run.marker} ", style="bold")
        line.append(f"{run.label:<16} ", style="bold")
        line.append(f"step {run.step:>{len(str(steps))}}/{steps}")
        if run.reports:
            last = run.reports[-1]
            line.append(f"  loss {last.loss:<9.4g}")
            if last.accuracy is not None:
                line.append(f"  accuracy {last.accuracy:>4.0%}")
            line.append(f"  lr {last.lr:.3g}")
        if run.stopped is not None:
            line.append("\n  ✗ stopped: ", style="bold reverse")
            line.append(run.stopped.reason, style="bold")
        elif run.done:
            line.append("  ✓", style="bold")
        return line

    @staticmethod
    def _state_line(state: str, failure: str, has_bug: bool) -> Text:
        if state == "failed":
            return Text(f"Training stopped on an error in the tutor: {failure}", style="bold reverse")
        if state == "pausing":
            return Text("… pausing after the current step")
        if state == "running":
            return Text("▶ training… space pauses", style="bold")
        if state == "stepping":
            return Text("… running one step")
        if state == "finished":
            hint = "b tries another bug" if has_bug else "b adds a bug run beside it"
            return Text(f"■ finished: {hint}, r resets, +/- lr")
        if state == "paused":
            return Text("❚❚ paused: space goes on, s runs one step, r resets")
        return Text("Ready: space trains, s runs one step, b adds a bug run, +/- lr")
