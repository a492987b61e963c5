"""The training screen's drill-down: from a row of the predictions into the debugger.

`SampleDrillDown` is a mixin of `tutor.screens.train.TrainScreen` (as `BlockOpening` is of the
lesson screen). Enter on a sample's row, or ``d``, pauses the training and opens the debugger on
that sample's loss graph with the weights of the last step shown: real `Value`s built by the
engine (`tutor.training.SampleProgram`), and the learner's own rule where their op is the
activation (`Training.rules`). A sample whose loss is 0 asks nothing of the weights; a toast says
so and names one whose loss is not.
"""

from __future__ import annotations

from tutor.widgets.prediction_list import PredictionList

__all__ = ["SampleDrillDown"]


class SampleDrillDown:
    """Opening the debugger on one sample, for a screen with ``training``, ``main``, ``table``
    and ``_then`` (run an action once the training has paused)."""

    def on_prediction_list_selected(self, event: PredictionList.Selected) -> None:
        event.stop()
        self.open_debugger(event.index)

    def action_debug(self) -> None:
        self.open_debugger(self.table.cursor)

    def open_debugger(self, index: int) -> None:
        """Pause, then open the debugger on sample ``index``'s loss graph with the current weights."""
        self._then(lambda: self._open_debugger(index))

    def _open_debugger(self, index: int) -> None:
        from tutor.screens.debugger import DebuggerScreen

        program = self.training.sample_program(index)
        step = self.main.snapshot.step
        when = f"after step {step}" if step else "initial weights"
        rules = dict(self.training.rules)
        self.app.push_screen(DebuggerScreen(program, title=f"sample {index}, {when}", rules=rules))
        if program.build().output.data == 0.0:
            # e.g. max-margin on a sample already beyond the margin: a whole pass of zeros
            self.notify(
                f"Sample {index}'s loss is 0, so every weight's gradient from it is 0 too: "
                f"it asks nothing of the weights. {self._where_gradients_flow(index)}",
                title="Nothing to push back",
                timeout=10,
                markup=False,
            )

    def _where_gradients_flow(self, index: int) -> str:
        other = self.training.sample_with_a_loss(index)
        if other is not None:
            return f"To watch gradients flow, go back (q) and open sample {other}: its loss is not 0."
        return (
            "Every sample's loss is 0 with these weights, so no sample pushes anything back: "
            "reset (r) and open one before training to watch gradients flow."
        )
