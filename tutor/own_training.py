"""A learner's own op (`tutor.own_op`) run where the tutor runs the engine's: the debugger, training.

`OwnOpProgram` is the small graph the own-op screen opens in the debugger, ``x * w`` through the
learner's op and times ``w`` again (the shape of the op exercises' `default_program`: ``w`` used
twice, so = for += shows too). It is a `tutor.screens.debugger_program.DebuggerProgram` of its
own rather than an `engine.expr.Program`: the expression language knows only the op table's
functions, and a learner's op is no text to parse, it is an `engine.custom.CustomOp` (their
forward and their rule, both run by the tutor's interpreters). The debugger's "change the
numbers" then edits its inputs (``x = 0.6; w = 1.5``), as for a training sample.

`OwnTraining` is a `tutor.training.Training` whose every run is ``Trainer(task, activation=op)``:
the learner's forward computes each hidden neuron, their rule sends its gradient back, and the
snapshots (predictions, the decision boundary) run their forward on floats. The debugger opened
on a sample runs their rule as "your rule".

Pure logic: no Textual.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.custom import CustomOp
from engine.expr import Graph
from engine.numfmt import fmt
from engine.train import Task
from engine.value import Value
from tutor.training import Training

__all__ = ["OwnOpProgram", "OwnTraining"]

INPUTS = {"x": 0.6, "w": 1.5}  # as `tutor.lessons.exercise.default_program` starts


class OwnOpProgram:
    """``z = x * w; y = op(z); L = y * w`` with the learner's op: what the debugger steps."""

    names = ("x", "w", "z", "y", "L")
    output = "L"

    def __init__(self, op: CustomOp, inputs: Mapping[str, float] | None = None) -> None:
        self.op = op
        self.inputs = dict(INPUTS)
        for name, value in (inputs or {}).items():
            self._check(name)
            self.inputs[name] = float(value)

    def _check(self, name: str) -> None:
        if name not in INPUTS:
            raise KeyError(f"{name} is not an input of this program; its inputs are x and w")

    @property
    def text(self) -> str:
        x, w = (fmt(self.inputs[k]) for k in ("x", "w"))
        return f"x = {x}\nw = {w}\nz = x * w\ny = {self.op.name}(z)   # your op\nL = y * w"

    def build(self, inputs: Mapping[str, float] | None = None) -> Graph:
        """A fresh graph; ``inputs`` overrides x or w. The op's forward failing (no value there)
        raises OverflowError with the op's name and the number, as the engine's ops do."""
        values = dict(self.inputs)
        for name, value in (inputs or {}).items():
            self._check(name)
            values[name] = float(value)
        x, w = Value(values["x"], label="x"), Value(values["w"], label="w")
        z = x * w
        z.label = "z"
        y = self.op(z)
        y.label = "y"
        loss = y * w
        loss.label = "L"
        return Graph(output=loss, values={"x": x, "w": w, "z": z, "y": y, "L": loss}, inputs={"x": x, "w": w})


class OwnTraining(Training):
    """The training screen's runs with the learner's op in place of the task's activation."""

    def __init__(self, task: Task, op: CustomOp) -> None:
        self.activation = op
        self.activation_name = f"your {op.name}"
        self.rules = {op.name: op.rule}  # the debugger on a sample: their rule, named as theirs
        super().__init__(task)
