"""The training screen's keys (`tutor.screens.train.TrainScreen.BINDINGS`), each with the words its
footer entry and tooltip give it: kept apart from the screen so that its module stays readable.
"""

from __future__ import annotations

from textual.binding import Binding

__all__ = ["TRAIN_BINDINGS"]

TRAIN_BINDINGS = [
    Binding(
        "space",
        "toggle_run",
        "Run/Pause",
        id="train.run",
        tooltip="Start training, or pause it after the current step",
    ),
    Binding(
        "s",
        "step",
        "Step",
        id="train.step",
        tooltip="Run exactly one training step (forward, zero_grad, backward, update)",
    ),
    Binding(
        "plus,equals_sign",
        "lr(1)",
        "lr",
        id="train.lr_up",
        key_display="+/-",
        tooltip="+ raises the learning rate, - lowers it (the run starts again from the initial weights)",
    ),
    Binding(
        "minus",
        "lr(-1)",
        "lr down",
        id="train.lr_down",
        key_display="-",
        show=False,  # the footer shows "+/- lr" on the key above
        tooltip="Lower the learning rate (the run starts again from the initial weights)",
    ),
    Binding(
        "r",
        "reset",
        "Reset",
        id="train.reset",
        tooltip="Back to the initial weights and step 0; drops the bug run",
    ),
    Binding(
        "b",
        "bug",
        "Bug run",
        id="train.bug",
        tooltip="Rerun from the same initial weights with a classic bug, curve beside the correct one",
    ),
    Binding(
        "v",
        "swap_view",
        "Boundary",
        id="train.view",
        tooltip="Swap the predictions table and the decision boundary (2-D data)",
    ),
    Binding(
        "z",
        "cycle_layout",
        "Layout",
        id="train.layout",
        show=False,
        tooltip="Both panes, the plot alone, or the table / boundary alone",
    ),
    Binding(
        "d",
        "debug",
        "Debug",
        id="train.debug",
        show=False,
        tooltip="Open the debugger on the selected sample's graph with the current weights",
    ),
    Binding("q,escape", "leave", "Close", id="train.close", tooltip="Stop training and leave"),
]
