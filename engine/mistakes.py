"""Classic backprop bugs, switched on for real so a learner can see what they do.

The `=`-instead-of-`+=` bug is not simulated with canned numbers. Each op's backward rule in
`engine/value.py` is taken as source, every ``x.grad += ...`` in it is rewritten to
``x.grad = ...`` (exactly the typo a learner makes), and the rewritten rule is compiled once.
The engine then runs it on the same nodes like any other rule.

Nothing here executes text from a lesson or a learner: the only source compiled is the engine's
own, read from its file.

The other classic bugs belong to the training loop (`engine.train`): skipping ``zero_grad``, and
updating with ``+=`` instead of ``-=``.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
import types

from engine.value import Value, topological_order

__all__ = ["overwriting_rule", "overwriting_source", "backward_overwriting", "backward_unseeded"]


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


@functools.lru_cache(maxsize=None)
def overwriting_rule(rule):
    """The same backward rule, but written with ``=`` where the engine has ``+=``."""
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


@functools.lru_cache(maxsize=None)
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
