"""Arithmetic written by a teacher or a learner, read and computed without ``eval``.

Two parts of the tutor compute a small formula over named numbers: a quiz's ``answer_from``
(``"b.data * e.grad"`` over a program's values) and the code-line judge (the right-hand side of
``self.grad += other.data * out.grad`` over random draws). Both use this module.

:func:`check` walks a tree from :mod:`ast` and allows only numbers, the names a
:class:`Grammar` resolves, ``+ - * / **``, a leading ``-``/``+``, and, where the grammar allows
them, one comparison (``a > 0``), ``x if c else y`` and the grammar's functions (``tanh(x)``).
:func:`evaluate` computes such a tree on plain floats. Nothing is ever executed: the tree is
only read.

Bounded: the text at most ``max_chars`` characters, the tree at most :data:`MAX_NODES` nodes and
:data:`MAX_DEPTH` levels deep, an exponent at most :data:`MAX_EXPONENT` in size; every result is
a finite float (no complex numbers, no overflow). Problems are :class:`Unreadable` (the text is
not such a formula) or :class:`CannotCompute` (it is, but not on these numbers), each with a plain
``message``.

Standard library only.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_NODES",
    "CannotCompute",
    "Grammar",
    "Unreadable",
    "check",
    "evaluate",
    "parse",
]

MAX_NODES = 120  # syntax-tree nodes in one formula
MAX_DEPTH = 40  # how deeply it may nest
MAX_EXPONENT = 64  # |k| in a ** k


class Unreadable(Exception):
    """The text is not a formula this module reads; ``message`` says why, plainly. ``node`` is the
    innermost part of the tree it is about, when known (for a line and column)."""

    def __init__(self, message: str, node: ast.AST | None = None):
        super().__init__(message)
        self.message = message
        self.node = node


class CannotCompute(Exception):
    """A readable formula that cannot be computed on these numbers (division by zero, ...);
    ``node`` as for Unreadable."""

    def __init__(self, message: str, node: ast.AST | None = None):
        super().__init__(message)
        self.message = message
        self.node = node


# A resolver turns a name (``ast.Name``) or a name's attribute (``ast.Attribute`` of an
# ``ast.Name``) into the key of the value it reads, or raises Unreadable saying why not.
Resolver = Callable[[ast.AST], str]


@dataclass(frozen=True)
class Grammar:
    """What a formula may contain besides numbers, names and + - * / **.

    ``functions`` maps callable names to float functions (``math.tanh`` may also be written
    ``math.tanh``), of one number unless ``arity`` says how many (``leaky_relu``: 2);
    ``refused`` is the sentence given for anything else."""

    resolve: Resolver
    functions: dict[str, Callable[..., float]] = field(default_factory=dict)
    comparisons: bool = False
    conditionals: bool = False
    refused: str = "only numbers, names and + - * / ** are allowed"
    arity: dict[str, int] = field(default_factory=dict)


_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_COMPARE = (ast.Gt, ast.Lt, ast.GtE, ast.LtE)
_NAMES = {
    ast.Subscript: "indexing",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.Lambda: "lambda",
    ast.JoinedStr: "an f-string",
    ast.NamedExpr: "the := operator",
    ast.BoolOp: "and/or",
    ast.Starred: "*",
    ast.ListComp: "a comprehension",
    ast.GeneratorExp: "a generator",
    ast.Await: "await",
    ast.Call: "a call",
    ast.Compare: "a comparison",
    ast.IfExp: "x if c else y",
}


def parse(text: str, grammar: Grammar, *, max_chars: int = 500) -> tuple[ast.expr, frozenset[str]]:
    """Read ``text`` as one formula: its checked tree and the keys it reads."""
    if not isinstance(text, str):
        raise Unreadable("write the formula as text")
    if len(text) > max_chars:
        raise Unreadable(f"it is {len(text):,} characters long; at most {max_chars} are read")
    if "\x00" in text:
        raise Unreadable("it contains a NUL character")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise Unreadable(f"Python cannot read it ({err.msg})") from None
    except (ValueError, RecursionError, MemoryError):
        raise Unreadable("Python cannot read it") from None
    return tree.body, check(tree.body, grammar)


def check(node: ast.AST, grammar: Grammar) -> frozenset[str]:
    """Check a tree against ``grammar``; the keys it reads. Raises Unreadable."""
    if sum(1 for _ in ast.walk(node)) > MAX_NODES:
        raise Unreadable("it is too long and nested to read")
    refs: set[str] = set()
    _check(node, grammar, refs, 0)
    return frozenset(refs)


def _check(node: ast.AST, g: Grammar, refs: set[str], depth: int) -> None:
    try:
        _check_part(node, g, refs, depth)
    except Unreadable as err:
        if err.node is None:  # the innermost part that was refused: where the message points
            err.node = node
        raise


def _check_part(node: ast.AST, g: Grammar, refs: set[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise Unreadable(f"it nests more than {MAX_DEPTH} levels deep")
    depth += 1
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise Unreadable("only numbers can be written as constants (no text, no True/False)")
        if not math.isfinite(float(node.value)):
            raise Unreadable("a number is too large")
        return
    if isinstance(node, (ast.Name, ast.Attribute)):
        if isinstance(node, ast.Attribute) and _function_name(node, g) is not None:
            raise Unreadable(f"{_function_name(node, g)} must be called, like {_function_name(node, g)}(x)")
        refs.add(g.resolve(node))
        return
    if isinstance(node, ast.BinOp):
        if not isinstance(node.op, _BINOPS):
            raise Unreadable("only + - * / and ** are allowed")
        _check(node.left, g, refs, depth)
        _check(node.right, g, refs, depth)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise Unreadable("only a leading - or + is allowed")
        _check(node.operand, g, refs, depth)
        return
    if isinstance(node, ast.Compare) and g.comparisons:
        if len(node.ops) != 1 or not isinstance(node.ops[0], _COMPARE):
            raise Unreadable("only one comparison with > < >= <= is allowed")
        _check(node.left, g, refs, depth)
        _check(node.comparators[0], g, refs, depth)
        return
    if isinstance(node, ast.IfExp) and g.conditionals:
        for part in (node.test, node.body, node.orelse):
            _check(part, g, refs, depth)
        return
    if isinstance(node, ast.Call) and g.functions:
        name = _function_name(node.func, g)
        if name is None:
            names = list(g.functions)
            raise Unreadable(
                f"only {', '.join(names[:-1])} and {names[-1]} can be called"
                if len(names) > 1
                else f"only {names[0]} can be called"
            )
        wanted = g.arity.get(name, 1)
        if node.keywords or len(node.args) != wanted or any(isinstance(a, ast.Starred) for a in node.args):
            raise Unreadable(
                f"{name} takes exactly one number"
                if wanted == 1
                else f"{name} takes exactly {wanted} numbers"
            )
        for arg in node.args:
            _check(arg, g, refs, depth)
        return
    raise Unreadable(f"{_NAMES.get(type(node), type(node).__name__)} is not allowed: {g.refused}")


def _function_name(func: ast.AST, g: Grammar) -> str | None:
    if isinstance(func, ast.Name) and func.id in g.functions:
        return func.id
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "math"
        and func.attr in g.functions
    ):
        return func.attr
    return None


def evaluate(
    node: ast.AST, env: dict[str, float], grammar: Grammar, swap: dict[str, str] | None = None
) -> float:
    """Compute a tree that :func:`check` passed, on ``env`` (the keys the grammar resolves to);
    ``swap`` reads one key in place of another. Raises CannotCompute."""
    return _eval(node, env, grammar, swap or {})


def _eval(node: ast.AST, env: dict[str, float], g: Grammar, swap: dict[str, str]) -> float:
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, (ast.Name, ast.Attribute)):
        key = g.resolve(node)
        return env[swap.get(key, key)]
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, env, g, swap)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, env, g, swap), _eval(node.right, env, g, swap)
        try:
            if isinstance(node.op, ast.Add):
                r = a + b
            elif isinstance(node.op, ast.Sub):
                r = a - b
            elif isinstance(node.op, ast.Mult):
                r = a * b
            elif isinstance(node.op, ast.Div):
                r = a / b
            else:
                if abs(b) > MAX_EXPONENT:
                    raise CannotCompute(f"an exponent of {b:g} is too large (at most {MAX_EXPONENT})", node)
                if a < 0 and not float(b).is_integer():
                    raise CannotCompute("a negative number to a fractional power", node)
                r = a**b
        except ZeroDivisionError:
            raise CannotCompute("it divides by zero", node) from None
        except OverflowError:
            raise CannotCompute("a number grows too large", node) from None
        try:
            return finite(r)
        except CannotCompute as err:
            err.node = node
            raise
    if isinstance(node, ast.Compare):
        a, b = _eval(node.left, env, g, swap), _eval(node.comparators[0], env, g, swap)
        op = node.ops[0]
        if isinstance(op, ast.Gt):
            return 1.0 if a > b else 0.0
        if isinstance(op, ast.Lt):
            return 1.0 if a < b else 0.0
        if isinstance(op, ast.GtE):
            return 1.0 if a >= b else 0.0
        return 1.0 if a <= b else 0.0
    if isinstance(node, ast.IfExp):
        if _eval(node.test, env, g, swap) != 0.0:
            return _eval(node.body, env, g, swap)
        return _eval(node.orelse, env, g, swap)
    if isinstance(node, ast.Call):
        xs = [_eval(arg, env, g, swap) for arg in node.args]
        try:
            return finite(g.functions[_function_name(node.func, g)](*xs))
        except OverflowError:
            raise CannotCompute("a number grows too large", node) from None
        except ValueError:
            at = ", ".join(f"{x:g}" for x in xs)
            raise CannotCompute(f"{_function_name(node.func, g)} cannot be computed at {at}", node) from None
    raise CannotCompute("cannot compute this")  # unreachable after check()


def finite(x) -> float:
    """``x`` as a float, or CannotCompute when it is complex, infinite or not a number."""
    if isinstance(x, complex) or not math.isfinite(x):
        raise CannotCompute("a number grows too large")
    return float(x)
