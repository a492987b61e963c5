"""A backward rule written by a learner, read with :mod:`ast` and run without ``exec``.

The learner writes a rule as `engine/value.py` does::

    def _tanh_backward(out):
        (self,) = out._prev
        self.grad += (1 - out.data**2) * out.grad

:func:`read_rule` checks the text against a small whitelist and gives back a :class:`RuleCode`;
:meth:`RuleCode.run` carries it out on a real node (an engine ``Value`` or anything with
``data``/``grad``/``_prev``/``_arg``) by walking the checked tree. The arithmetic of every
right-hand side is :mod:`tutor.safe_eval`, the evaluator the quizzes and the code-line judge
share: this module adds the few statements a rule is made of, nothing else.

What a rule may contain: one ``def NAME(out):`` (``@staticmethod`` above it is allowed, as is a
docstring), and in its body, straight-line code only:

* the unpacking of the operands, ``(self,) = out._prev`` or ``self, other = out._prev``;
* ``k = out._arg`` (the plain number of ``x ** k`` or of ``leaky_relu``), or ``out._arg`` in a formula;
* ``x.grad += ...``, ``x.grad -= ...`` and ``x.grad = ...`` on an operand's gradient;
* local names: ``name = ...`` and ``name += ...`` (and ``-= *= /=``);
* in formulas: numbers, the operands' and ``out``'s ``.data`` and ``.grad``, local names,
  ``+ - * / **``, one comparison, ``x if c else y``, the engine's functions (``tanh exp log relu
  sigmoid leaky_relu``) and a few of ``math``'s, bare or as ``math.sqrt``.

Anything else (a loop, an ``if`` statement, an import, a call of anything not listed, an attribute
other than ``.data``/``.grad``/``out._prev``/``out._arg``, ``.data`` on the left) is a
:class:`RuleError` with the line and column of the part refused. Nothing in the text is executed.

Bounded: the text at most :data:`MAX_RULE_BYTES` bytes, no NUL, at most :data:`MAX_STATEMENTS`
statements, :data:`MAX_STEPS` syntax-tree nodes in all (the step budget: code without loops runs
each node once, so a rule that is read runs at most that many steps), each formula within
`safe_eval`'s node and depth limits, exponents at most `safe_eval.MAX_EXPONENT` (a tower such as
``9**9**9`` is refused as written); every number computed is finite.

Standard library and the engine's op table only; no Textual.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from engine.ops import OPS
from tutor import safe_eval
from tutor.rule_functions import ARITY as _ARITY
from tutor.rule_functions import RULE_FUNCTIONS
from tutor.safe_eval import CannotCompute, Grammar, Unreadable

__all__ = [
    "MAX_RULE_BYTES",
    "MAX_STATEMENTS",
    "MAX_STEPS",
    "RuleCode",
    "RuleError",
    "check_powers",
    "combine",
    "read_rule",
    "rule_name",
    "signature",
]

MAX_RULE_BYTES = 8 * 1024
MAX_STATEMENTS = 40
MAX_STEPS = 1500  # syntax-tree nodes in the whole rule

# what "x" of _x_backward is for each op, as value.py names the rules
_RULE_NAMES = {"+": "add", "*": "mul", "-": "sub", "/": "div", "**": "pow"}


def rule_name(op: str) -> str:
    """``_tanh_backward``, ``_mul_backward``: the name value.py gives the op's rule."""
    return f"_{_RULE_NAMES.get(op, op)}_backward"


def signature(op: str) -> str:
    """The first lines of the op's rule, as value.py writes them: what the editor starts with."""
    spec = OPS[op]
    unpack = "self, other = out._prev" if spec.operands == 2 else "(self,) = out._prev"
    lines = [f"def {rule_name(op)}(out):", f"    {unpack}"]
    if spec.arg is not None:
        lines.append(f"    {spec.arg} = out._arg")
    return "\n".join(lines) + "\n"


def derivatives(op: str) -> str:
    """What the learner is given to write the rule from: the op's local derivatives with the
    rule's own names (``∂out/∂self = 1 - out²``), never the rule itself (the chain rule's
    ``× out.grad`` and the ``+=`` are theirs to write)."""
    spec = OPS[op]
    symbols = {"k": "k", "k_1": "(k - 1)"} if spec.syntax == "power" else {}
    if spec.arg is not None and spec.syntax != "power":
        symbols[spec.arg] = spec.arg

    def local(s: str, o: str, slot: int) -> str:
        template = spec.local_right if slot == 1 and spec.local_right else spec.local
        return template.format(s=s, o=o, out="out", **symbols)

    parts = [f"∂out/∂self = {local('self', 'other', 0)}"]
    if spec.operands == 2:
        parts.append(f"∂out/∂other = {local('other', 'self', 1)}")
    return "; ".join(parts)


class RuleError(Exception):
    """The rule cannot be read (or run); ``message`` says why, at 1-based ``line`` and ``col``."""

    def __init__(self, message: str, line: int = 1, col: int = 1):
        super().__init__(f"line {line}, column {col}: {message}")
        self.message = message
        self.line = line
        self.col = col


def _at(node: ast.AST | None, message: str) -> RuleError:
    line = getattr(node, "lineno", 1) or 1
    col = (getattr(node, "col_offset", 0) or 0) + 1
    return RuleError(message, line, col)


@dataclass(frozen=True)
class _Statement:
    """One checked statement: ``target op= value``; ``target`` is ("grad", name) or ("local", name)."""

    node: ast.stmt
    target: tuple[str, str]
    op: str  # "=", "+=", "-=", "*=", "/="
    value: ast.expr
    grammar: Grammar = field(repr=False)


@dataclass(frozen=True)
class RuleCode:
    """A rule that passed the whitelist, ready to run on nodes as many times as needed."""

    text: str
    name: str  # the function's name, e.g. _tanh_backward
    out: str  # its parameter's name, usually out
    operands: tuple[str, ...]  # the names the unpacking gives the operands, e.g. ("self", "other")
    unpack_line: int
    statements: tuple[_Statement, ...] = field(repr=False)
    steps: int = 0  # syntax-tree nodes in the body: the most steps one run can take

    def run(
        self, out, *, swap: Mapping[str, str] | None = None, fixed: Mapping[str, float] | None = None
    ) -> None:
        """Carry the rule out on node ``out``: its operands' ``grad`` change as the text says.

        ``swap`` reads one value in place of another (``{"out.data": "self.data"}``) and ``fixed``
        reads some at a set number (``{"out.grad": 1.0}``): how grading tries the classic
        mistakes on the engine's own rule. Raises RuleError (at the part that failed) when a
        number cannot be computed; the grads already changed stay changed, as in Python."""
        nodes = dict(zip(self.operands, out._prev))
        if len(nodes) != len(self.operands):
            raise _at(
                None, f"this node has {len(out._prev)} operand(s), the rule unpacks {len(self.operands)}"
            )
        nodes[self.out] = out
        local: dict[str, float] = {}
        swap = dict(swap or {})
        for st in self.statements:
            env = dict(local)
            for name, node in nodes.items():
                env[f"{name}.data"] = node.data
                env[f"{name}.grad"] = node.grad
            arg = out._arg
            env[f"{self.out}._arg"] = float(arg) if arg is not None else math.nan
            if fixed:
                env.update(fixed)
            kind, name = st.target
            try:
                value = safe_eval.evaluate(st.value, env, st.grammar, swap)
                old = nodes[name].grad if kind == "grad" else local.get(name, 0.0)
                new = combine(st.op, old, value)
            except CannotCompute as err:
                raise _at(err.node or st.node, err.message) from None
            if kind == "grad":
                nodes[name].grad = new
            else:
                local[name] = new

    def overwriting(self) -> RuleCode:
        """The same rule with ``=`` where it adds to a grad (``+=``): the = for += mistake, made in
        the learner's own rule (`engine.mistakes.overwriting_rule` makes it in the engine's)."""
        statements = tuple(
            replace(st, op="=") if st.op == "+=" and st.target[0] == "grad" else st for st in self.statements
        )
        return replace(self, text=self.text.replace(".grad +=", ".grad ="), statements=statements)

    def as_function(self) -> Callable[[object], None]:
        """The rule as a plain ``f(out)``, to stand in for the engine's rule of that op."""

        def rule(out):
            self.run(out)

        rule.__name__ = self.name
        rule.source = self.text  # what the debugger shows as the code that ran
        return rule


def combine(op: str, old: float, value: float) -> float:
    """``old op= value`` (``=``, ``+=``, ``-=``, ``*=``, ``/=``) as a finite float: the one meaning of
    an assignment, for a rule's statements and the code-line judge's line alike."""
    try:
        if op == "=":
            new = value
        elif op == "+=":
            new = old + value
        elif op == "-=":
            new = old - value
        elif op == "*=":
            new = old * value
        else:
            new = old / value
    except ZeroDivisionError:
        raise CannotCompute("it divides by zero") from None
    return safe_eval.finite(new)


_AUG = {ast.Add: "+=", ast.Sub: "-=", ast.Mult: "*=", ast.Div: "/="}


def _indent_advice(msg: str) -> str:
    """Python's word for a line indented wrongly, said as what to do (every body line of a rule
    starts at the same 4 spaces, one level more only after a line ending in ':')."""
    if "unexpected indent" in msg:
        return "this line is indented more than the line above: start it where that line starts"
    if "unindent" in msg:
        return "this line's indent matches no line above: start it where the line above starts"
    if "expected an indented block" in msg:
        return "the line after one ending in ':' is indented one level more (4 spaces)"
    return f"the indent is wrong here ({msg})"


def read_rule(text: str, op: str | None = None) -> RuleCode:
    """Read ``text`` as one backward rule (for ``op``, a key of the op table, when given: then
    the unpacking must give as many operands as the op has). Raises RuleError."""
    if not isinstance(text, str):
        raise RuleError("write the rule as text")
    size = len(text.encode("utf-8", "replace"))
    if size > MAX_RULE_BYTES:
        raise RuleError(f"the rule is {size:,} bytes long; at most {MAX_RULE_BYTES:,} are read")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise RuleError("the text contains a NUL character; delete it", line, 1)
    try:
        tree = ast.parse(text, mode="exec")
    except IndentationError as err:
        raise RuleError(_indent_advice(err.msg), err.lineno or 1, err.offset or 1) from None
    except SyntaxError as err:
        raise RuleError(f"Python cannot read it ({err.msg})", err.lineno or 1, err.offset or 1) from None
    except (ValueError, RecursionError, MemoryError):
        raise RuleError("Python cannot read it") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_STEPS:
        raise RuleError(
            f"the rule is too long ({count:,} parts; at most {MAX_STEPS:,}): a rule is a few lines"
        )
    defs = [s for s in tree.body if not _is_docstring(s)]
    if not defs:
        raise RuleError("write the rule as a function: def _name_backward(out):")
    if len(defs) > 1 or not isinstance(defs[0], ast.FunctionDef):
        first = next((s for s in defs if not isinstance(s, ast.FunctionDef)), defs[-1])
        if isinstance(defs[0], ast.FunctionDef) and not isinstance(first, ast.FunctionDef):
            # the usual slip: a line typed at the left edge, after the rule, instead of in it
            raise _at(first, "this line is outside the rule: indent it under the def line (4 spaces or Tab)")
        raise _at(first, f"only one def is allowed here, not {_what(first)}")
    fn = defs[0]
    _check_signature(fn)
    spec = OPS.get(op) if op is not None else None
    return _read_body(text, fn, spec, count)


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _what(node: ast.AST) -> str:
    words = {
        ast.Import: "an import",
        ast.ImportFrom: "an import",
        ast.For: "a loop",
        ast.AsyncFor: "a loop",
        ast.While: "a loop",
        ast.If: "an if statement (write a formula with 'x if c else y')",
        ast.With: "a with statement",
        ast.Try: "a try statement",
        ast.ClassDef: "a class",
        ast.FunctionDef: "a def inside the rule",
        ast.AsyncFunctionDef: "an async def",
        ast.Return: "return (the rule only changes .grad; it returns nothing)",
        ast.Delete: "del",
        ast.Global: "global",
        ast.Nonlocal: "nonlocal",
        ast.Raise: "raise",
        ast.Assert: "assert",
        ast.Pass: "pass",
        ast.Expr: "a formula on its own (write what it changes: x.grad += ...)",
        ast.Lambda: "lambda",
    }
    return words.get(type(node), type(node).__name__)


def _check_signature(fn: ast.FunctionDef) -> None:
    for deco in fn.decorator_list:
        if not (isinstance(deco, ast.Name) and deco.id == "staticmethod"):
            raise _at(deco, "only @staticmethod may decorate the rule")
    a = fn.args
    extra = a.posonlyargs or a.kwonlyargs or a.vararg or a.kwarg or a.defaults or a.kw_defaults
    if extra or len(a.args) != 1:
        raise _at(fn, f"the rule takes exactly one parameter, the node it made: def {fn.name}(out):")
    if a.args[0].annotation is not None or fn.returns is not None:
        raise _at(fn, "leave out annotations: def name(out):")


def _read_body(text: str, fn: ast.FunctionDef, spec, count: int) -> RuleCode:
    out = fn.args.args[0].arg
    body = [s for i, s in enumerate(fn.body) if not (i == 0 and _is_docstring(s))]
    if len(body) > MAX_STATEMENTS:
        raise _at(body[MAX_STATEMENTS], f"the rule has more than {MAX_STATEMENTS} statements")
    operands: tuple[str, ...] | None = None
    unpack_line = fn.lineno
    locals_: set[str] = set()
    statements: list[_Statement] = []
    for stmt in body:
        if _is_unpacking(stmt, out):
            if operands is not None:
                raise _at(stmt, f"{out}._prev is unpacked once, at the top")
            operands = _unpacked_names(stmt, out, spec)
            unpack_line = stmt.lineno
            continue
        if isinstance(stmt, ast.Assign):
            if len(stmt.targets) != 1:
                raise _at(stmt, "assign to one thing only (no a = b = ...)")
            target, op, value = stmt.targets[0], "=", stmt.value
        elif isinstance(stmt, ast.AugAssign):
            op = _AUG.get(type(stmt.op))
            if op is None:
                raise _at(stmt, "use =, +=, -=, *= or /=")
            target, value = stmt.target, stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            raise _at(stmt, "leave out annotations: name = ...")
        else:
            raise _at(stmt, f"{_what(stmt)} is not allowed in a rule")
        names = operands or ()
        kind_name = _target(target, op, out, names, locals_)
        grammar = _grammar(out, names, frozenset(locals_))
        try:
            check_powers(value)
            safe_eval.check(value, grammar)
        except Unreadable as err:
            raise _at(err.node or value, err.message) from None
        if kind_name[0] == "local":
            if op != "=" and kind_name[1] not in locals_:
                raise _at(target, f"{kind_name[1]} has no value yet; give it one with = first")
            locals_.add(kind_name[1])
        statements.append(_Statement(stmt, kind_name, op, value, grammar))
    if operands is None:
        raise _at(fn, f"unpack the operands first, e.g. {_example_unpack(spec)}")
    if not any(st.target[0] == "grad" for st in statements):
        raise _at(fn, "the rule never changes a gradient: add a line like self.grad += ... * out.grad")
    return RuleCode(text, fn.name, out, operands, unpack_line, tuple(statements), count)


def _example_unpack(spec) -> str:
    return "self, other = out._prev" if spec is not None and spec.operands == 2 else "(self,) = out._prev"


def _is_unpacking(stmt: ast.stmt, out: str) -> bool:
    return (
        isinstance(stmt, ast.Assign)
        and isinstance(stmt.value, ast.Attribute)
        and isinstance(stmt.value.value, ast.Name)
        and stmt.value.value.id == out
        and stmt.value.attr == "_prev"
    )


def _unpacked_names(stmt: ast.Assign, out: str, spec) -> tuple[str, ...]:
    if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], (ast.Tuple, ast.List)):
        raise _at(stmt, f"unpack {out}._prev into names: {_example_unpack(spec)}")
    elts = stmt.targets[0].elts
    if not elts or not all(isinstance(e, ast.Name) for e in elts):
        raise _at(stmt, f"unpack {out}._prev into plain names: {_example_unpack(spec)}")
    names = tuple(e.id for e in elts)
    if len(set(names)) != len(names) or out in names:
        raise _at(stmt, "give each operand its own name")
    if len(names) > 2:
        raise _at(stmt, "a node has one or two operands")
    if spec is not None and len(names) != spec.operands:
        raise _at(
            stmt,
            f"{spec.name} has {spec.operands} operand{'s' if spec.operands > 1 else ''}: {_example_unpack(spec)}",
        )
    return names


def _target(target: ast.AST, op: str, out: str, operands: tuple[str, ...], locals_: set[str]):
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
        who = target.value.id
        if who in operands:
            if target.attr == "grad":
                if op not in ("=", "+=", "-="):
                    raise _at(target, "change a gradient with +=, -= or =")
                return ("grad", who)
            if target.attr == "data":
                raise _at(target, f"a rule changes gradients only: {who}.data is the forward's value")
            raise _at(target, f"{who} has only .data and .grad")
        if who == out:
            raise _at(target, f"a rule changes its operands' gradients, not {out}'s")
        if not operands:
            raise _at(target, f"unpack {out}._prev first, so that {who} is an operand")
        raise _at(target, f"unknown name {who!r}: the operands are {', '.join(operands)}")
    if isinstance(target, ast.Name):
        if target.id in operands or target.id == out:
            raise _at(target, f"{target.id} is a node: change {target.id}.grad, not {target.id} itself")
        if target.id in RULE_FUNCTIONS or target.id == "math":
            raise _at(target, f"{target.id} is a function's name; pick another name")
        return ("local", target.id)
    raise _at(target, "assign to an operand's .grad or to a plain name")


def check_powers(value: ast.AST) -> None:
    """Refuse a written exponent that is out of bounds, or a tower of powers, before anything runs."""
    for node in ast.walk(value):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            right = node.right
            if isinstance(right, ast.UnaryOp) and isinstance(right.op, (ast.USub, ast.UAdd)):
                right = right.operand
            if isinstance(right, ast.BinOp) and isinstance(right.op, ast.Pow):
                raise Unreadable("a power of a power (like 9**9**9) is not allowed; use brackets", node)
            if (
                isinstance(right, ast.Constant)
                and isinstance(right.value, (int, float))
                and not isinstance(right.value, bool)
                and abs(right.value) > safe_eval.MAX_EXPONENT
            ):
                raise Unreadable(f"an exponent of at most {safe_eval.MAX_EXPONENT} is allowed", right)


def _grammar(out: str, operands: tuple[str, ...], locals_: frozenset[str]) -> Grammar:
    nodes = (*operands, out)

    def resolve(node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            if node.id in locals_:
                return node.id
            if node.id in nodes:
                raise Unreadable(f"say which number of {node.id} you mean: {node.id}.data or {node.id}.grad")
            if node.id in ("self", "other") and not operands:
                raise Unreadable(f"unpack {out}._prev first, so that {node.id} is an operand")
            if node.id == "math":
                raise Unreadable("math is only for its functions, like math.exp(x)")
            known = ", ".join([f"{n}.data, {n}.grad" for n in nodes] + sorted(locals_))
            raise Unreadable(f"unknown name {node.id!r}: here you can use {known}")
        base = node.value
        if isinstance(base, ast.Name) and base.id in nodes:
            if node.attr in ("data", "grad"):
                return f"{base.id}.{node.attr}"
            if base.id == out and node.attr == "_arg":
                return f"{out}._arg"
            raise Unreadable(f"{base.id} has only .data and .grad here, not .{node.attr}")
        if isinstance(base, ast.Name) and base.id == "math":
            raise Unreadable(f"math.{node.attr} is not one of the functions a rule may call")
        if isinstance(base, ast.Name):
            raise Unreadable(f"unknown name {base.id!r}")
        raise Unreadable("only .data and .grad of the rule's nodes can be read")

    return Grammar(
        resolve,
        functions=RULE_FUNCTIONS,
        comparisons=True,
        conditionals=True,
        refused="a rule is arithmetic on its nodes' .data and .grad",
        arity=_ARITY,
    )
