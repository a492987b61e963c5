"""The settings a line of code is judged in: a backward rule (add, mul, pow and each one-operand
op of the engine's op table) or a step of the training loop (update, zero_grad).

A :class:`Rule` says which names a line may read (objects with ``.data``/``.grad``, plain
scalars), how to draw one consistent set of random values for them, and which misconception tag
each classic slip of that rule shows. :mod:`tutor.codeline` judges lines in these settings.

Standard library and the engine's op table only; no Textual.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.ops import OPS

__all__ = ["RULES", "Rule"]


# ----------------------------------------------------------------------------- the rules


def _signed(rng: random.Random, lo: float = 0.5, hi: float = 2.5) -> float:
    """A number away from 0, of random sign, so that no mistake can hide behind a 0 or a 1."""
    return rng.uniform(lo, hi) * rng.choice((-1.0, 1.0))


def _binary(op: Callable[[float, float], float]):
    def sample(rng: random.Random, trial: int) -> dict[str, float]:
        env = {
            "self.data": _signed(rng),
            "other.data": _signed(rng),
            "self.grad": _signed(rng),
            "other.grad": _signed(rng),
            "out.grad": _signed(rng),
        }
        env["out.data"] = op(env["self.data"], env["other.data"])
        return env

    return sample


def _pow_sample(rng: random.Random, trial: int) -> dict[str, float]:
    k = (2.0, 3.0, -1.0, 0.5, 4.0, -2.0)[trial % 6]
    x = rng.uniform(0.5, 2.0)
    return {
        "self.data": x,
        "self.grad": _signed(rng),
        "out.grad": _signed(rng),
        "out.data": x**k,
        "k": k,
        "other": k,
    }


def _update_sample(rng: random.Random, trial: int) -> dict[str, float]:
    return {"p.data": _signed(rng), "p.grad": _signed(rng), "lr": rng.uniform(0.05, 0.4)}


def _zero_sample(rng: random.Random, trial: int) -> dict[str, float]:
    return {"p.data": _signed(rng), "p.grad": _signed(rng)}


@dataclass(frozen=True)
class Rule:
    """The setting a line belongs to: which names exist and how to draw consistent values.

    ``objects`` have ``.data`` and ``.grad``; ``scalars`` are plain numbers. ``sample`` draws one
    consistent set of values (``out.data`` really is ``tanh(self.data)`` for the tanh rule).
    ``swap_tags`` names the misconception behind using one value where another belongs.
    """

    name: str
    description: str
    objects: tuple[str, ...]
    scalars: tuple[str, ...]
    sample: Callable[[random.Random, int], dict[str, float]]
    swap_tags: dict[tuple[str, str], str] = field(default_factory=dict)
    sign_tag: str = "rule-wrong-sign"
    overwrite_tag: str | None = "overwrote-not-accumulated"
    split_tag: str | None = None
    scale_name: str | None = None  # a factor whose absence is its own mistake (lr)
    scale_tag: str | None = None
    # right lines of the rule, from the engine's op table: an `expect` must do what one does
    truths: tuple[str, ...] = ()

    @property
    def refs(self) -> tuple[str, ...]:
        names = [f"{o}.{a}" for o in self.objects for a in ("data", "grad")]
        return tuple(names) + self.scalars

    def names_text(self) -> str:
        parts = [f"{o}.data, {o}.grad" for o in self.objects] + list(self.scalars)
        return ", ".join(parts)


_MUL_SWAPS = {
    ("other.data", "self.data"): "own-input-in-mul",
    ("self.data", "other.data"): "own-input-in-mul",
}
_TANH_SWAPS = {("out.data", "self.data"): "derivative-at-input", ("t", "self.data"): "derivative-at-input"}


def _op_rule(op) -> Rule:
    """The code-line setting of one single-operand op of the engine's op table: its operand
    drawn where the op is defined (both signs for a kink at 0), its argument drawn too."""
    scalars = ("t",) if op.name == "tanh" else ()  # learners often write t for tanh's output
    if op.arg is not None:
        scalars += (op.arg,)
    low, high = op.arg_range or (0.0, 0.0)

    def sample(rng: random.Random, trial: int) -> dict[str, float]:
        x = rng.uniform(0.3, 1.8)
        if op.domain != "positive":
            negative = trial % 2 if op.kink_at_zero else rng.random() < 0.5
            x = -x if negative else x
        env = {"self.data": x, "self.grad": _signed(rng), "out.grad": _signed(rng)}
        if op.arg is not None:
            arg = rng.uniform(max(low, 0.01), min(high, 0.3))
            env[op.arg] = arg
            env["out.data"] = op.forward(x, arg)
        else:
            env["out.data"] = op.forward(x)
        if op.name == "tanh":
            env["t"] = env["out.data"]
        return env

    fields = {op.arg: op.arg} if op.arg else {}
    truth = op.rule.format(s="self", o="other", out="out", **fields)
    described = f"{op.name}(self, {op.arg})" if op.arg else f"{op.name}(self)"
    note = " (t is out.data)" if op.name == "tanh" else ""
    return Rule(
        op.name,
        f"the backward rule of out = {described}{note}",
        ("self", "out"),
        scalars,
        sample,
        swap_tags=_TANH_SWAPS if op.name == "tanh" else {},
        truths=(truth,),
    )


def _both_operands(op) -> tuple[str, ...]:
    """The rule's line for each operand of a two-operand op, as the op table writes it."""
    return tuple(op.rule.format(s=s, o=o, out="out") for s, o in (("self", "other"), ("other", "self")))


RULES: dict[str, Rule] = {
    r.name: r
    for r in [
        Rule(
            "add",
            "the backward rule of out = self + other",
            ("self", "other", "out"),
            (),
            _binary(lambda a, b: a + b),
            split_tag="split-add-gradient",
            truths=_both_operands(OPS["+"]),
        ),
        Rule(
            "mul",
            "the backward rule of out = self * other",
            ("self", "other", "out"),
            (),
            _binary(lambda a, b: a * b),
            swap_tags=_MUL_SWAPS,
            truths=_both_operands(OPS["*"]),
        ),
        Rule(
            "pow",
            "the backward rule of out = self ** k (k a number; micrograd calls it other)",
            ("self", "out"),
            ("k", "other"),
            _pow_sample,
            truths=(OPS["**"].rule.format(s="self", out="out", k="k", k_1="(k - 1)"),),
        ),
        *[_op_rule(op) for op in OPS.values() if op.operands == 1 and op.syntax == "call"],
        Rule(
            "update",
            "the update of one parameter p with learning rate lr",
            ("p",),
            ("lr",),
            _update_sample,
            sign_tag="update-wrong-sign",
            overwrite_tag=None,
            scale_name="lr",
            scale_tag="forgot-learning-rate",
            truths=("p.data -= lr * p.grad",),
        ),
        Rule(
            "zero_grad",
            "resetting one parameter p before backward",
            ("p",),
            (),
            _zero_sample,
            overwrite_tag=None,
            truths=("p.grad = 0.0",),
        ),
    ]
}
