"""The classic backprop mistakes, one registry, and the two the engine itself can make for real.

`MISTAKES` is the one list of mistakes the tutor can switch on: each has one key (what lesson
files, the stepper and the trainer use), one short label (legends and menus) and one line saying
what it does. Where a mistake applies:

* to the **backward pass** (the stepper and the debugger): ``overwrite``, ``no_seed``,
  ``wrong_order`` (each rule run the first time a walk down from the output reaches its node, not
  after every node that uses it: `first_reached_order`) and ``every_reach`` (each rule run every
  time the walk reaches its node: `every_reach_order`);
* to **training** (the trainer and the training screen): ``no_zero_grad``, ``overwrite``,
  ``ascend`` and ``high_lr``.

The ``=``-instead-of-``+=`` mistake is not simulated with canned numbers. Each op's backward rule
in `engine/value.py` is taken as source, every ``x.grad += ...`` in it is rewritten to
``x.grad = ...`` (exactly the typo a learner makes), and the rewritten rule is compiled once. The
engine then runs it on the same nodes like any other rule. Nothing here executes text from a
lesson or a learner: the only source compiled is the engine's own, read from its file.

The training mistakes (skipping ``zero_grad``, ``+=`` in the update, a learning rate ten times too
high) are carried out by `engine.train`.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
import types
from dataclasses import dataclass

from engine.value import Value, topological_order

__all__ = [
    "Mistake",
    "MISTAKES",
    "BACKWARD",
    "TRAINING",
    "HIGH_LR_FACTOR",
    "mistake_key",
    "overwriting_rule",
    "overwriting_source",
    "backward_overwriting",
    "backward_unseeded",
    "first_reached_order",
    "backward_first_reached",
]

HIGH_LR_FACTOR = 10


@dataclass(frozen=True)
class Mistake:
    key: str  # what lesson files, the stepper and the trainer call it
    label: str  # a few words for legends and menus
    what: str  # what it does, in one line
    backward: bool = False  # the stepper can run a backward pass with it
    training: bool = False  # the trainer can run with it


MISTAKES: dict[str, Mistake] = {
    m.key: m
    for m in (
        Mistake("no_zero_grad", "no zero_grad", "gradients pile up from step to step", training=True),
        Mistake(
            "overwrite",
            "= instead of +=",
            "a value used more than once keeps only its last share of the gradient",
            backward=True,
            training=True,
        ),
        Mistake("ascend", "+= instead of -=", "the update climbs the loss", training=True),
        Mistake(
            "high_lr",
            f"lr ×{HIGH_LR_FACTOR}",
            "the same code, a learning rate ten times too high",
            training=True,
        ),
        Mistake(
            "wrong_order",
            "wrong order",
            "each rule runs the first time the walk from the output reaches it, before every user has reported",
            backward=True,
        ),
        Mistake(
            "every_reach",
            "every time reached",
            "each rule runs every time the walk from the output reaches it, passing shares on again",
            backward=True,
        ),
        Mistake(
            "no_seed",
            "no seed",
            "the output's grad is never set to 1.0, so every grad stays 0",
            backward=True,
        ),
    )
}
BACKWARD = tuple(key for key, m in MISTAKES.items() if m.backward)
TRAINING = tuple(key for key, m in MISTAKES.items() if m.training)

# how lesson files say "no mistake"
NO_MISTAKE = "none"


def mistake_key(value: str | None, allowed: tuple[str, ...]) -> str | None:
    """The registry key for ``value`` (None for ``"none"`` or None); ValueError naming the
    choices for anything else, or for a mistake that does not apply where ``allowed`` lists."""
    if value is None or value == NO_MISTAKE:
        return None
    if value in allowed:
        return value
    choices = ", ".join(f'"{k}"' for k in (NO_MISTAKE, *allowed))
    raise ValueError(f"unknown mistake {value!r}; use one of {choices}")


class _AccumulateToAssign(ast.NodeTransformer):
    """Rewrite ``something.grad += value`` into ``something.grad = value``."""

    def visit_AugAssign(self, node):
        if (
            isinstance(node.op, ast.Add)
            and isinstance(node.target, ast.Attribute)
            and node.target.attr == "grad"
        ):
            return ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node)
        return node


@functools.cache
def overwriting_rule(rule):
    """The same backward rule, but written with ``=`` where the engine has ``+=``.

    A rule that is not the engine's (a learner's, run by the tutor's interpreter) brings its own
    twin as its ``overwriting`` attribute: it has no Python source to rewrite."""
    twin = getattr(rule, "overwriting", None)
    if twin is not None:
        return twin
    tree = ast.parse(textwrap.dedent(inspect.getsource(rule)))
    definition = tree.body[0]
    if not isinstance(definition, ast.FunctionDef):
        raise TypeError(f"not a backward rule: {rule!r}")
    definition.decorator_list = []  # @staticmethod belongs to the class, not to the rule
    definition = _AccumulateToAssign().visit(definition)
    module = ast.fix_missing_locations(ast.Module(body=[definition], type_ignores=[]))
    compiled = compile(module, f"<{rule.__name__} with = instead of +=>", "exec")
    (code,) = [c for c in compiled.co_consts if isinstance(c, types.CodeType)]
    return types.FunctionType(code, rule.__globals__, rule.__name__)


@functools.cache
def overwriting_source(rule) -> str:
    """The source a learner would have written with the bug: the engine's rule with ``=``."""
    source = textwrap.dedent(inspect.getsource(rule)).removeprefix("@staticmethod\n")
    return source.replace(".grad +=", ".grad =")


def backward_overwriting(root: Value) -> None:
    """``root.backward()`` as it runs when every rule says ``=`` instead of ``+=``.

    A value used twice keeps only the last contribution: with ``b = a + a``, ``a.grad`` ends at 1.
    """
    order = topological_order(root)
    root.grad = 1.0
    for node in reversed(order):
        if node._grad_fn is not None:
            overwriting_rule(node._grad_fn)(node)


def backward_unseeded(root: Value) -> None:
    """``root.backward()`` without its first line, ``self.grad = 1.0``: every grad stays 0."""
    for node in reversed(topological_order(root)):
        node._backward()


def first_reached_order(root: Value) -> list[Value]:
    """The nodes with a rule, in the order a walk down from ``root`` first reaches them (depth
    first, first operand first): the tempting wrong order of the ``topological-order`` lesson.

    A value used twice (``y`` in ``L = y + s; s = y * y``) is reached through its first user
    before the other has sent it its share, so its rule passes on a gradient that is not complete
    yet: ``x.grad`` comes out 4 instead of 36. Written with an explicit stack, so a long chain
    does not hit the recursion limit.
    """
    order: list[Value] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node._grad_fn is not None:
            order.append(node)
        stack.extend(reversed(node._prev))  # the first operand is walked first
    return order


# A walk that runs a rule every time it reaches a node visits it once per path from the output,
# which grows exponentially with reuse: past this many visits the mode is refused for the graph.
MAX_REACHES = 10_000


class TooManyReaches(ValueError):
    """The graph has too many paths from the output for the every-time-reached walk."""


def every_reach_order(root: Value, limit: int = MAX_REACHES) -> list[Value]:
    """The nodes with a rule, once for every time a walk down from ``root`` reaches them (depth
    first, first operand first, every operand slot followed): the other tempting wrong order of
    the ``topological-order`` lesson. In ``L = y + s; s = y * y; y = x * x`` the walk reaches
    ``y`` from ``L`` and twice from ``s``, so ``y``'s rule passes on whatever ``y.grad`` holds
    three times: ``x.grad`` comes out 4 + 36 + 36 = 76 instead of 36. Raises `TooManyReaches`
    past ``limit`` visits."""
    order: list[Value] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node._grad_fn is not None:
            order.append(node)
            if len(order) > limit:
                raise TooManyReaches(
                    f"this graph is reached by more than {limit:,} paths from its output, too many "
                    "to run a rule for each; try the mode on a smaller graph"
                )
        stack.extend(reversed(node._prev))  # the first operand is walked first
    return order


def backward_first_reached(root: Value) -> None:
    """``root.backward()`` as it runs when each rule runs the first time the walk reaches it."""
    root.grad = 1.0
    for node in first_reached_order(root):
        node._backward()
