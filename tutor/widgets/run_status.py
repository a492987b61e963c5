"""The training screen's status lines: one per run (step, loss, accuracy, lr), then what is going on.

``RunStatus.show(runs, steps, state)`` draws them. Each run's line has its curve's marker and
label, and ends with ■ end once the run has taken every step (not a mark of success: the line
says ✗ diverged below it when the loss blew up instead) or, on a line of its own, the engine's
reason when it stopped. A bug run that ends no worse than the run without the bug gets a line
saying that is luck. ``state`` is one of `STATES` (the screen knows which): the last line says it in words,
with the keys that make sense next.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

__all__ = ["RunStatus", "STATES"]

STATES = ("failed", "pausing", "running", "stepping", "finished", "paused", "ready")


DIVERGED = 1000.0  # a last loss this many times the first one (or not finite): the run blew up


def diverged(run) -> bool:
    """The run's loss grew by orders of magnitude (a learning rate too large, say)."""
    if len(run.reports) < 2:
        return False
    first, last = run.reports[0].loss, run.reports[-1].loss
    return not math.isfinite(last) or last > DIVERGED * max(abs(first), 1e-12)


def lucky_bug(runs: Sequence) -> str:
    """A line for a finished bug run that ended with a loss no higher than the run without it:
    the learner must not read that as the bug helping."""
    by_key = {run.key: run for run in runs}
    main, bug = by_key.get("main"), by_key.get("bug")
    if main is None or bug is None or not (main.done and bug.done) or not (main.reports and bug.reports):
        return ""
    buggy, fine = (bug, main) if main.trainer.task.mistake is None else (main, bug)
    mistake = buggy.trainer.task.mistake
    if mistake in (None, "high_lr") or buggy.stopped is not None or fine.stopped is not None:
        return ""
    if buggy.reports[-1].loss > fine.reports[-1].loss:
        return ""
    return (
        f"◆ {buggy.label} is the buggy run, and it ended no worse here: luck of this task, not a "
        "better method. Its numbers do not make the bug right."
    )


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
        luck = lucky_bug(runs)
        if luck:
            text.append("\n")
            text.append(luck, style="bold")
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
            # "ran to the end", not a mark of success: a run can end at accuracy 0%
            line.append("  ■ end", style="bold")
            if diverged(run):
                line.append("\n  ✗ diverged: the loss grew instead of shrinking", style="bold")
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
