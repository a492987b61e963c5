"""Classic backprop bugs, switched on for real so a learner can see what they do.

The `=`-instead-of-`+=` bug is not simulated with canned numbers. Each op's backward rule in
`engine/value.py` is taken as source, every ``x.grad += ...`` in it is rewritten to
``x.grad = ...`` (exactly the typo a learner makes), and the rewritten rule is compiled once and
bound to the same operands as the original. The engine then runs that rule like any other.

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
def _overwriting_code(code: types.CodeType) -> types.CodeType:
    """The code object of ``code``'s rule with ``+=`` on grads turned into ``=``."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(code)))
    rule = tree.body[0]
    if not isinstance(rule, ast.FunctionDef):
        raise TypeError(f"not a backward rule: {code.co_name}")
    rule = _AccumulateToAssign().visit(rule)
    # Compile the rule inside a function whose parameters are the rule's free variables, so the
    # compiler gives the rewritten rule the same closure shape as the original.
    maker = ast.FunctionDef(
        name="_make_rule",
        args=ast.arguments(
            posonlyargs=[],
            args=[ast.arg(arg=name) for name in code.co_freevars],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[],
        ),
        body=[rule, ast.Return(value=ast.Name(id=rule.name, ctx=ast.Load()))],
        decorator_list=[],
        returns=None,
        type_params=[],
    )
    module = ast.fix_missing_locations(ast.Module(body=[maker], type_ignores=[]))
    compiled = compile(module, f"<{code.co_name} with = instead of +=>", "exec")
    (maker_code,) = [c for c in compiled.co_consts if isinstance(c, types.CodeType)]
    (rule_code,) = [c for c in maker_code.co_consts if isinstance(c, types.CodeType)]
    return rule_code


def overwriting_rule(rule):
    """The same backward rule, but written with ``=`` where the engine has ``+=``."""
    code = _overwriting_code(rule.__code__)
    cells = dict(zip(rule.__code__.co_freevars, rule.__closure__ or ()))
    closure = tuple(cells[name] for name in code.co_freevars)
    return types.FunctionType(code, rule.__globals__, rule.__name__, None, closure)


@functools.lru_cache(maxsize=None)
def overwriting_source(code: types.CodeType) -> str:
    """The source a learner would have written with the bug: the engine's rule with ``=``."""
    source = textwrap.dedent(inspect.getsource(code))
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
