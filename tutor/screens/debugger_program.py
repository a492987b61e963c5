"""What the debugger accepts: a program it can build again and again (`DebuggerProgram`).

`engine.expr.Program` is one (a lesson's or ``tutor step``'s expression program); the training
screen's `SampleProgram` (one sample's loss through the network, weights fixed) is another. Only
typing here, no Textual: a module that makes programs can name the contract without loading the
screen. Both protocols are `runtime_checkable`, so a test can ask ``isinstance(p, DebuggerProgram)``
(which checks that the members are there, not their types).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from engine.value import Value

__all__ = ["DebuggerProgram", "DebuggerGraph"]


@runtime_checkable
class DebuggerGraph(Protocol):
    """One build of a program: the value whose backward pass is stepped, and the inputs by name."""

    @property
    def output(self) -> Value: ...

    @property
    def inputs(self) -> Mapping[str, Value]: ...


@runtime_checkable
class DebuggerProgram(Protocol):
    """What the debugger accepts: `engine.expr.Program`, the training screen's `SampleProgram`.

    ``build(inputs)`` makes a fresh graph at each call, every value new except what the program
    means to share (a network's weights); ``inputs`` overrides some input values (the gradient
    check nudges each one up and down). ``inputs`` are the input names with their values, and
    ``text`` the program as written (shown where the debugger is not installed).
    """

    @property
    def text(self) -> str: ...

    @property
    def inputs(self) -> Mapping[str, float]: ...

    def build(self, inputs: Mapping[str, float] | None = None) -> DebuggerGraph: ...
