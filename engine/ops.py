"""Everything the tutor says about an operation, in one table.

`engine/value.py` is where an operation *runs*: its forward computation and its backward rule,
side by side, the code a learner reads. This table is what every other part of the tutor knows
about it: how the graph tree labels it, how the inspector writes its definition and its local
derivative, the rule in words and as a chain-rule line with the graph's names put in, the same
forward on plain floats (for the training screen's fast sample view and for building a graph
once), its plain-number argument if it takes one, whether a neuron can use it as an activation,
and what PyTorch calls it.

Adding an operation means: its forward and its rule in `value.py`, one `Op` here, and tests. The
expression language, the stepper, the inspector, the code-line quizzes, the training screen and
the PyTorch listing all read it from here.

In the templates ``{s}`` is the operand receiving gradient, ``{o}`` the other operand of a
two-operand op (whose second operand has its own template where the rule is not symmetric:
``rule_right``, ``local_right`` for a - b and a / b), ``{out}`` the node whose rule runs, and an op's argument appears under its own
name (``{k}`` and ``{k_1}`` = k - 1 for a power, ``{slope}`` for leaky_relu).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass

from engine.numfmt import exponent, fmt

__all__ = ["Op", "OPS", "FUNCTIONS", "ACTIVATIONS", "op_of", "label_of"]


@dataclass(frozen=True)
class Op:
    """One operation of the engine, as every layer above `value.py` sees it."""

    name: str  # what Value._op holds for a node this op made: "+", "*", "**", "tanh", ...
    syntax: str  # "infix" (a * b), "power" (x**k) or "call" (tanh(x), leaky_relu(x, 0.01))
    words: str  # the rule in words, as the inspector shows it
    rule: str  # the rule's line with names put in, mirroring value.py
    local: str  # the local derivative d out / d s, in symbols
    forward: Callable[..., float]  # the same arithmetic on plain floats: f(x), f(x, y) or f(x, arg)
    operands: int = 1  # operands that are nodes
    arg: str | None = None  # the name of the op's plain-number argument (not a node: no gradient)
    arg_default: float | None = None  # its value when a program leaves it out
    arg_range: tuple[float, float] | None = None  # the values it may take, both ends included
    local_when_shared: str | None = None  # d out / d s when s fills both slots (a * a)
    rule_right: str | None = None  # the second operand's rule, when it is not the first's (a - b)
    local_right: str | None = None  # ... and its local derivative
    domain: str = "any"  # where the forward is defined: "any" or "positive" (log)
    kink_at_zero: bool = False  # the slope jumps at 0 (relu): examples need both signs
    activation: str | None = None  # its name as a neuron's activation ("Tanh"), or None
    torch: str | None = None  # the PyTorch function a program's call becomes, or None for an operator

    def label(self, arg: float | None = None) -> str:
        """How the graph tree's op column shows a node made by this op: ``*``, ``**2``, ``tanh``."""
        if self.syntax == "power":
            return f"**{exponent(arg)}"
        if self.arg is not None and arg is not None and arg != self.arg_default:
            return f"{self.name}({fmt(arg)})"
        return self.name

    def fields(self, arg: float | None) -> dict[str, str]:
        """The template fields of the op's argument, written as the code would write them."""
        if self.arg is None or arg is None:
            return {}
        if self.syntax == "power":
            return {"k": exponent(arg), "k_1": exponent(arg - 1)}
        return {self.arg: fmt(arg)}

    def definition(self, out: str, operands: list[str], arg: float | None = None) -> str:
        """The node's forward definition with the graph's names: ``e = a * b``, ``y = x**2``,
        ``o = tanh(n)``, ``h = leaky_relu(z, 0.1)``."""
        if self.syntax == "infix":
            return f"{out} = {operands[0]} {self.name} {operands[1]}"
        if self.syntax == "power":
            return f"{out} = {operands[0]}**{exponent(arg)}"
        args = list(operands)
        if self.arg is not None and arg is not None:
            args.append(fmt(arg))
        return f"{out} = {self.name}({', '.join(args)})"

    def rule_line(self, s: str, o: str, out: str, arg: float | None = None, *, slot: int = 0) -> str:
        """The rule's line for operand ``s`` in ``slot`` (0 the first operand, 1 the second):
        ``a.grad += b.data * e.grad``, ``b.grad += -e.grad`` for the b of ``e = a - b``."""
        template = self.rule_right if slot == 1 and self.rule_right else self.rule
        return template.format(s=s, o=o, out=out, **self.fields(arg))

    def local_derivative(
        self, s: str, o: str, out: str, arg: float | None = None, *, shared=False, slot: int = 0
    ) -> str:
        """``d out / d s`` in symbols (``b``, ``1 - o²``); ``shared`` when s fills both slots."""
        if shared and self.local_when_shared:
            template = self.local_when_shared
        elif slot == 1 and self.local_right:
            template = self.local_right
        else:
            template = self.local
        return template.format(s=s, o=o, out=out, **self.fields(arg))


# ------------------------------------------------------------------ float forwards
# The same arithmetic as value.py, on floats (tests/engine/test_ops.py checks they agree bit for
# bit with Value on every op).


def _power(x: float, k: float) -> float:
    return x**k


def _relu(x: float) -> float:
    return x if x > 0 else 0.0


def _leaky_relu(x: float, slope: float) -> float:
    return x if x > 0 else slope * x


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


# ------------------------------------------------------------------ the table

OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op(
            "+",
            "infix",
            "add: each operand gets the upstream gradient unchanged (local derivative 1)",
            "{s}.grad += {out}.grad",
            "1",
            operator.add,
            operands=2,
            local_when_shared="2",
        ),
        Op(
            "*",
            "infix",
            "multiply: each operand gets the OTHER operand's value × the upstream gradient",
            "{s}.grad += {o}.data * {out}.grad",
            "{o}",
            operator.mul,
            operands=2,
            local_when_shared="2·{s}",
        ),
        Op(
            "-",
            "infix",
            "subtract: the first operand gets the upstream gradient unchanged, the second gets it "
            "with its sign flipped (local derivatives 1 and -1)",
            "{s}.grad += {out}.grad",
            "1",
            operator.sub,
            operands=2,
            local_when_shared="0",
            rule_right="{s}.grad += -{out}.grad",
            local_right="-1",
        ),
        Op(
            "/",
            "infix",
            "divide: the numerator gets 1 / the denominator × the upstream gradient, the "
            "denominator gets -numerator / denominator² × it",
            "{s}.grad += (1 / {o}.data) * {out}.grad",
            "1/{o}",
            operator.truediv,
            operands=2,
            local_when_shared="0",
            rule_right="{s}.grad += (-{o}.data / {s}.data**2) * {out}.grad",
            local_right="-{o}/{s}²",
        ),
        Op(
            "**",
            "power",
            "power: x**k passes k · x**(k-1) × the upstream gradient",
            "{s}.grad += {k} * {s}.data**{k_1} * {out}.grad",
            "{k}·{s}**{k_1}",
            _power,
            arg="k",
            arg_range=(-1000.0, 1000.0),
        ),
        Op(
            "tanh",
            "call",
            "tanh: passes (1 - out²) × the upstream gradient, out being tanh's output",
            "{s}.grad += (1 - {out}.data**2) * {out}.grad",
            "1 - {out}²   ({out} = tanh({s}))",
            math.tanh,
            activation="Tanh",
            torch="torch.tanh",
        ),
        Op(
            "exp",
            "call",
            "exp: passes out × the upstream gradient (e**x is its own derivative)",
            "{s}.grad += {out}.data * {out}.grad",
            "{out}   ({out} = e**{s})",
            math.exp,
            torch="torch.exp",
        ),
        Op(
            "log",
            "call",
            "log: passes (1 / x) × the upstream gradient",
            "{s}.grad += (1 / {s}.data) * {out}.grad",
            "1/{s}",
            math.log,
            domain="positive",
            torch="torch.log",
        ),
        Op(
            "relu",
            "call",
            "relu: passes the upstream gradient where the output is positive, 0 elsewhere",
            "{s}.grad += ({out}.data > 0) * {out}.grad",
            "1 if {out} > 0 else 0",
            _relu,
            kink_at_zero=True,
            activation="ReLU",
            torch="torch.relu",
        ),
        Op(
            "leaky_relu",
            "call",
            "leaky_relu: passes the upstream gradient where the input is positive, slope × it elsewhere",
            "{s}.grad += (1 if {s}.data > 0 else {slope}) * {out}.grad",
            "1 if {s} > 0 else {slope}",
            _leaky_relu,
            arg="slope",
            arg_default=0.01,
            arg_range=(0.0, 1.0),
            kink_at_zero=True,
            activation="LeakyReLU",
            torch="torch.nn.functional.leaky_relu",
        ),
        Op(
            "sigmoid",
            "call",
            "sigmoid: passes out · (1 - out) × the upstream gradient",
            "{s}.grad += {out}.data * (1 - {out}.data) * {out}.grad",
            "{out}·(1 - {out})",
            _sigmoid,
            activation="Sigmoid",
            torch="torch.sigmoid",
        ),
    )
}

# what an expression program may call, as tanh(x) or x.tanh()
FUNCTIONS = tuple(name for name, op in OPS.items() if op.syntax == "call")
# what a neuron may put its weighted sum through, besides "linear" (nothing)
ACTIVATIONS = tuple(name for name, op in OPS.items() if op.activation)


def op_of(node) -> Op | None:
    """The Op that made ``node`` (None for a leaf)."""
    return OPS.get(node._op) if node._op else None


def label_of(node) -> str:
    """The tree's op column for ``node``: ``*``, ``**2``, ``leaky_relu(0.1)``; "" for a leaf."""
    op = op_of(node)
    return op.label(node._arg) if op is not None else node._op
