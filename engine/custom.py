"""An op that is not in the op table: a forward on floats and a backward rule, given as functions.

`engine.value` has one method per op of `engine.ops`; a learner who invents an op (softplus,
say) needs a node of the same shape without a new method. :class:`CustomOp` makes it::

    softplus = CustomOp("softplus", lambda x: math.log(1 + math.exp(x)), rule)
    y = softplus(x)          # a Value: y._op == "softplus", y._prev == (x,), y._backward() runs rule

``rule`` is a plain ``f(out)`` in the engine's own form (``(self,) = out._prev`` ...), so
``backward()``, the stepper and the gradient check treat the node like any other. A CustomOp is
also an activation for `engine.nn` (``MLP(2, [8, 1], activation=softplus)``) and for
`engine.train.Trainer` (``Trainer(task, activation=softplus)``).

`engine.replay` knows only the op table's ops, so a graph with a custom op is rebuilt every step
(the trainer falls back to ``build_once=False`` by itself).

Pure Python: the forward and the rule are whatever callables the caller gives (the tutor gives
its whitelisted interpreters of a learner's text, `tutor.own_op`); nothing here reads text.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from engine.ops import OPS
from engine.value import Value

__all__ = ["CustomOp"]


@dataclass(frozen=True)
class CustomOp:
    """A one-operand op made of a float ``forward`` and a backward ``rule`` (``f(out)``)."""

    name: str
    forward: Callable[[float], float]
    rule: Callable[[Value], None]
    display: str = ""  # how a layer's repr names it, e.g. "Softplus"; from name when empty
    cost: int = 1  # how many built-in values' time one node takes (forward and rule); `engine.cost`

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"an op's name is one word made of letters, digits and _, not {self.name!r}")
        if self.name in OPS or self.name == "linear":
            raise ValueError(f"{self.name!r} is already an op of the engine; give the new op another name")
        if not isinstance(self.cost, int) or self.cost < 1:
            raise ValueError(f"an op's cost is a whole number of values, at least 1, not {self.cost!r}")

    def __call__(self, x: Value) -> Value:
        """The node ``name(x)``: its data the forward of x.data, its rule the given one."""
        if not isinstance(x, Value):
            x = Value(x)
        data = float(self.forward(x.data))
        if not math.isfinite(data):
            raise OverflowError(f"{self.name}({x.data}) is not a finite number")
        return Value(data, (x,), self.name, _grad_fn=self.rule)

    @property
    def activation(self) -> str:
        """The name a neuron's repr gives it: ``Softplus`` for softplus."""
        return self.display or self.name.capitalize()
