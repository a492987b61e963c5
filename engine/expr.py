"""Expression programs: the little language lessons use to describe a computation graph.

A program is a few lines of arithmetic, for example the worked example from the seeds::

    a = 2; b = -3; c = 10   # inputs: names given a plain number
    e = a * b               # each later line computes a new named node
    d = e + c
    f = -2
    L = d * f
    L                       # optional: a line holding just a name picks the output

What a program may contain:

* ``name = expression`` lines; ``;`` separates several on one line; ``#`` starts a comment.
* numbers (``2``, ``-3.0``, ``1e-3``), names assigned on an earlier line, ``+ - * / **``,
  unary ``-`` and ``+``, parentheses, and the engine's functions (``tanh exp log relu
  leaky_relu sigmoid``, every call op of `engine.ops`), called either as functions, ``tanh(x)``,
  or as methods, ``x.tanh()`` / ``(a*b + c).tanh()``. A function that takes a plain number
  besides its operand gets it second: ``leaky_relu(x, 0.1)`` or ``x.leaky_relu(0.1)`` (left out,
  its default: 0.01).
* A name given a plain number (``a = 2``, ``b = -3``) is an **input**: a leaf of the graph whose
  value the caller can change. Every other name labels the node its expression computes.
* The exponent of ``**`` must be a plain number (``x ** 2``, ``x ** -1``, ``x ** 0.5``).
* The output is the name on a line of its own, or the caller's ``output=``, or else the last name
  assigned.

The text is parsed with :mod:`ast` and only the constructs above are accepted; nothing is ever
passed to ``eval`` or ``exec``. Parsing turns the program into a short list of steps, and
:meth:`Program.build` runs those steps with the engine's own :class:`~engine.value.Value`
operators, so the graph is exactly the one micrograd-style Python would build (``a - b`` is
``a + (-b)``, ``-b`` is ``b * -1``, ``a / b`` is ``a * b**-1``). Numbers combined only with
numbers are worked out once while parsing, as Python itself would (``a * (1/2)`` multiplies by 0.5).

Every problem, from a typo to ``log(-1)`` at build time, is a :class:`ProgramError` carrying a
plain message and the 1-based line and column of the offending part of the text.

Limits (each reported as a ProgramError): the text at most ``MAX_PROGRAM_CHARS`` characters; at
most ``MAX_PARTS`` parts (numbers, name uses, operators, calls); expressions at most ``MAX_DEPTH``
levels deep; exponents between ``-MAX_EXPONENT`` and ``MAX_EXPONENT``; names ASCII, at most
``MAX_NAME_CHARS`` characters.
"""

from __future__ import annotations

import ast
import math
import numbers
import operator
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.ops import FUNCTIONS, OPS, label_of
from engine.value import Value, topological_order

__all__ = [
    "ProgramError",
    "Program",
    "Graph",
    "parse_program",
    "run_program",
    "FUNCTIONS",
    "MAX_PROGRAM_CHARS",
    "MAX_PARTS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_NAME_CHARS",
]

MAX_PROGRAM_CHARS = 20_000  # characters of program text
MAX_PARTS = 10_000  # numbers, name uses, operators and calls, over the whole program
MAX_DEPTH = 200  # how deeply one expression may nest (a + b + c + ... counts one level per +)
MAX_EXPONENT = int(OPS["**"].arg_range[1])  # largest |k| in x ** k
MAX_NAME_CHARS = 40

_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what Python's tokenizer counts as the end of a line
_BAD_CHAR = re.compile("[\0\ud800-\udfff]")  # NUL, and lone surrogates (not encodable as UTF-8)
_FUNCTION_LIST = ", ".join(FUNCTIONS)
_METHOD_LIST = ", ".join(f".{f}()" for f in FUNCTIONS)


class ProgramError(Exception):
    """A problem with an expression program, at a 1-based line and column of its text."""

    def __init__(self, message: str, line: int = 1, col: int = 1):
        super().__init__(message, line, col)
        self.message = message
        self.line = line
        self.col = col

    def __str__(self):
        return f"line {self.line}, col {self.col}: {self.message}"


@dataclass
class Graph:
    """One evaluation of a program: the engine's nodes, found by the names the program gave them."""

    output: Value
    values: dict[str, Value]  # every assigned name -> its node (node.label == name), in program order
    inputs: dict[str, Value]  # the leaves (names assigned a plain number), in program order


@dataclass(frozen=True)
class Program:
    """A checked program, ready to be built into a graph as many times as needed."""

    text: str
    names: tuple[str, ...]  # assigned names, in order
    inputs: dict[str, float] = field(hash=False)  # input names -> their values in the text, in order
    output: str
    _code: _Code = field(repr=False, compare=False, hash=False)

    def line_of(self, name: str) -> int:
        """The line where ``name`` is assigned."""
        where = self._code.where.get(name)
        if where is None:
            raise ProgramError(f"unknown name {name!r}; the program assigns {', '.join(self.names)}")
        return where[0]

    def build(self, inputs: Mapping[str, float] | None = None) -> Graph:
        """Evaluate the program with fresh ``Value`` nodes.

        ``inputs`` overrides the values of some inputs (names assigned a plain number). An unknown
        name, a computed name, a value that is not a finite number, or a failing operation (log of
        a negative number, division by zero, overflow) raises ProgramError.
        """
        code = self._code
        given = self._given(inputs) if inputs else {}
        regs = list(code.regs)
        leaves = {}
        for name, reg, default in code.leaves:
            leaf = Value(given.get(name, default), label=name)
            regs[reg] = leaf
            leaves[name] = leaf
        isfinite = math.isfinite
        for fn, dest, a, b, label, where, kind in code.steps:
            try:
                out = fn(regs[a]) if b is None else fn(regs[a], regs[b])
                finite = isfinite(out.data)
            except (ArithmeticError, ValueError) as exc:
                x, y = _data(regs[a]), None if b is None else _data(regs[b])
                raise self._error(_explain(kind, exc, x, y), where) from exc
            except Exception as exc:  # not expected from Value's operations; still never a traceback
                raise self._error(f"could not compute {kind}: {exc}", where) from exc
            if not finite:
                raise self._error(_overflow(kind), where)
            if label:
                out.label = label
            regs[dest] = out
        values = {name: regs[reg] for name, reg in code.named}
        return Graph(output=values[self.output], values=values, inputs=leaves)

    def check_backward(self) -> None:
        """Build the graph and run its backward pass once, as the debugger will.

        Some graphs evaluate but cannot be differentiated where they stand: ``x ** 0.5`` at
        ``x = 0`` needs ``0 ** -0.5``. Such a rule raises ProgramError naming the operation, at the
        line of the first name whose expression contains it."""
        graph = self.build()
        order = topological_order(graph.output)
        graph.output.grad = 1.0
        for node in reversed(order):
            try:
                node._backward()
            except (ArithmeticError, ValueError) as exc:
                operands = ", ".join(f"{_fmt(child.data)}" for child in node._prev)
                message = (f"the backward pass cannot be computed: the rule of {label_of(node) or 'an operation'} "
                           f"fails at {operands} ({exc}); the derivative is not finite there, so choose "
                           f"other input values")
                raise ProgramError(message, *self._line_of_node(graph, node)) from exc

    def _line_of_node(self, graph: Graph, node: Value) -> tuple[int, int]:
        for name, value in graph.values.items():
            if value is node or node in topological_order(value):
                return self._code.where[name]
        return 1, 1

    # ------------------------------------------------------------------ helpers

    def _given(self, inputs) -> dict[str, float]:
        if type(inputs) is not dict and not isinstance(inputs, Mapping):
            raise ProgramError(f"inputs must be a dict of name -> number, not {type(inputs).__name__}")
        given = {}
        for name, value in inputs.items():
            if type(value) is float and name in self.inputs and math.isfinite(value):  # the usual case
                given[name] = value
                continue
            known = ", ".join(self.inputs) or "(none)"
            if name not in self.inputs:
                if name in self._code.where:
                    line, col = self._code.where[name]
                    raise ProgramError(f"{name} is computed by the program, not an input; "
                                       f"the inputs are {known}", line, col)
                raise ProgramError(f"unknown input {name!r}; the inputs are {known}")
            line, col = self._code.where[name]
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ProgramError(f"input {name} must be a number, not {type(value).__name__}", line, col)
            try:
                number = float(value)
            except (OverflowError, ValueError, TypeError):
                number = math.inf
            if not math.isfinite(number):
                raise ProgramError(f"input {name} must be a finite number, not {value!r}", line, col)
            given[name] = number
        return given

    def _error(self, message: str, where: tuple[int, int]) -> ProgramError:
        line, byte_col = where
        return ProgramError(message, line, _char_col(_split_lines(self.text), line, byte_col))


def _data(x):
    return x.data if isinstance(x, Value) else x


class _Code:
    """What parsing produced: registers, leaves and steps for `Program.build`."""

    __slots__ = ("regs", "leaves", "steps", "named", "where")

    def __init__(self, regs, leaves, steps, named, where):
        self.regs = regs  # tuple: a raw number for a constant, None for a slot a step fills in
        self.leaves = leaves  # ((name, register, default value), ...)
        self.steps = steps  # ((fn, dest, a, b, label, (line, byte col), kind), ...)
        self.named = named  # ((name, register), ...) in assignment order
        self.where = where  # name -> (line, col) of its assignment, col in characters


def parse_program(text: str, *, output: str | None = None) -> Program:
    """Check a program and prepare it for building; any problem raises ProgramError."""
    if not isinstance(text, str):
        raise ProgramError(f"the program must be text (str), not {type(text).__name__}")
    if len(text) > MAX_PROGRAM_CHARS:
        line, col = _position_of_index(text, MAX_PROGRAM_CHARS)
        raise ProgramError(f"the program is too long ({len(text):,} characters; the limit is "
                           f"{MAX_PROGRAM_CHARS:,})", line, col)
    bad = _BAD_CHAR.search(text)
    if bad:
        ch = bad.group()
        line, col = _position_of_index(text, bad.start())
        what = "a NUL character (\\0)" if ch == "\0" else f"an invalid character (U+{ord(ch):04X})"
        raise ProgramError(f"the program contains {what}; remove it", line, col)
    if output is not None and not isinstance(output, str):
        raise ProgramError(f"the output must be a name (str), not {type(output).__name__}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings about Python code we reject anyway
            tree = ast.parse(text, mode="exec")
    except SyntaxError as exc:
        raise _syntax_error(exc) from None
    except (RecursionError, MemoryError):
        raise ProgramError(f"an expression is nested too deeply (more than {MAX_DEPTH} levels); "
                           f"break it into named steps") from None
    except (ValueError, OverflowError) as exc:  # not seen on 3.11 for str input; kept as a net
        raise ProgramError(f"syntax error: {exc}") from None
    return _Compiler(text).program(tree, output)


def run_program(text: str, output: str | None = None) -> Graph:
    """Parse and build in one call."""
    return parse_program(text, output=output).build()


# ---------------------------------------------------------------------- positions in the text


def _split_lines(text: str) -> list[str]:
    return _LINE_BREAK.split(text)


def _char_col(lines: list[str], line: int, byte_col: int) -> int:
    """1-based character column from ast's 0-based UTF-8 byte offset."""
    if not 1 <= line <= len(lines):
        return byte_col + 1
    raw = lines[line - 1]
    if raw.isascii():
        return byte_col + 1
    return len(raw.encode("utf-8")[:byte_col].decode("utf-8", "replace")) + 1


def _position_of_index(text: str, index: int) -> tuple[int, int]:
    line, start = 1, 0
    for brk in _LINE_BREAK.finditer(text, 0, index):
        line, start = line + 1, brk.end()
    return line, index - start + 1


def _syntax_error(exc: SyntaxError) -> ProgramError:
    message = exc.msg or "invalid syntax"
    # Python's hints ("Perhaps you forgot a comma?", "Maybe you meant '=='...") suggest Python
    # constructs this language does not have
    message = re.sub(r"\.\s+(Perhaps|Maybe|Did you)\b.*\Z", "", message, flags=re.S)
    if "integer string conversion" in message:
        message = "a number with too many digits (overflow)"
    line = exc.lineno or 1
    col = exc.offset if exc.offset and exc.offset > 0 else 1
    return ProgramError(f"syntax error: {message}", line, col)


# ---------------------------------------------------------------------- what is not supported

_STATEMENTS = {
    "Import": "import", "ImportFrom": "import", "FunctionDef": "function definitions (def)",
    "AsyncFunctionDef": "function definitions (def)", "ClassDef": "classes", "Return": "return",
    "Delete": "del", "AugAssign": "augmented assignment (+=, -=, ...); assign a new name instead",
    "AnnAssign": "type annotations", "For": "loops (for)", "AsyncFor": "loops (for)",
    "While": "loops (while)", "If": "if statements", "With": "with statements",
    "AsyncWith": "with statements", "Match": "match statements", "Raise": "raise",
    "Try": "try statements", "TryStar": "try statements", "Assert": "assert",
    "Global": "global", "Nonlocal": "nonlocal", "Pass": "pass", "Break": "break",
    "Continue": "continue", "TypeAlias": "type aliases",
}
_EXPRESSIONS = {
    "BoolOp": "and / or", "NamedExpr": "the walrus operator (:=)", "Lambda": "lambda",
    "IfExp": "conditional expressions (a if b else c)", "Dict": "dictionaries", "Set": "sets",
    "List": "lists", "Tuple": "tuples (several values separated by commas)",
    "ListComp": "comprehensions", "SetComp": "comprehensions", "DictComp": "comprehensions",
    "GeneratorExp": "comprehensions", "Await": "await", "Yield": "yield", "YieldFrom": "yield",
    "Compare": "comparison (<, ==, ...); programs only compute numbers",
    "JoinedStr": "f-strings", "FormattedValue": "f-strings", "Subscript": "indexing (a[...])",
    "Slice": "slices", "Starred": "unpacking with *", "Attribute": "attribute access",
    "Call": f"function calls other than {_FUNCTION_LIST}",
}
_BINARY = {
    ast.Add: ("+", operator.add), ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul), ast.Div: ("/", operator.truediv),
}
_BINARY_UNSUPPORTED = {
    "FloorDiv": "floor division (//)", "Mod": "remainder (%)", "MatMult": "matrix multiplication (@)",
    "LShift": "bit shifts (<<, >>)", "RShift": "bit shifts (<<, >>)", "BitOr": "bitwise operators (|, &, ^)",
    "BitAnd": "bitwise operators (|, &, ^)", "BitXor": "bitwise operators (|, &, ^)",
}


def _unsupported(what: str) -> str:
    return f"not supported: {what}"


def _constant_problem(value) -> str | None:
    """Why a literal is not a number this language accepts, or None if it is one."""
    if isinstance(value, bool):
        return _unsupported("True and False (use numbers)")
    if isinstance(value, (int, float)):
        return None
    if isinstance(value, str):
        return _unsupported("strings")
    if isinstance(value, bytes):
        return _unsupported("bytes (strings)")
    if isinstance(value, complex):
        return _unsupported("complex numbers")
    if value is None:
        return _unsupported("None")
    if value is Ellipsis:
        return _unsupported("... (Ellipsis)")
    return _unsupported(f"the constant {value!r}")


def _overflow(kind: str) -> str:
    return f"overflow: {kind} gives a number too large for a float (above about 1.8e308)"


def _fmt(x) -> str:
    return f"{x:.6g}" if isinstance(x, float) else str(x)


def _explain(kind: str, exc: BaseException, x, y) -> str:
    """A plain message for an operation that failed on the numbers x (and y)."""
    if isinstance(exc, ZeroDivisionError):
        if kind == "/":
            return "division by zero: the right-hand side of / is 0"
        return f"division by zero: 0 raised to the negative power {_fmt(y)}"
    if isinstance(exc, OverflowError):
        return _overflow(kind)
    if kind == "log":
        return f"log of a non-positive number ({_fmt(x)}); log is only defined above 0"
    if kind == "**":
        return (f"a negative number ({_fmt(x)}) raised to the fractional power {_fmt(y)} "
                f"has no real value")
    return f"could not compute {kind}: {exc}"


# ---------------------------------------------------------------------- the compiler


class _Compiler:
    """Turns a checked ast into registers and steps. Walks with its own stack, never recursion."""

    def __init__(self, text: str):
        self.text = text
        self.lines = _split_lines(text)
        self.lines_b = [line.encode("utf-8") for line in self.lines]
        self.regs: list = []
        self.steps: list[list] = []
        self.leaves: list[tuple] = []
        self.named: list[tuple[str, int]] = []
        self.reg_of: dict[str, int] = {}  # name -> register
        self.name_of: dict[int, str] = {}  # register -> name
        self.where: dict[str, tuple[int, int]] = {}  # name -> (line, byte col)
        self.inputs: dict[str, float] = {}
        self.parts = 0  # numbers, names (assigned or used), operators and calls so far

    def count(self, node: ast.expr) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise self.error_at(f"the program is too large (more than {MAX_PARTS:,} numbers, names, "
                                f"operators and calls)", node)

    # ---- errors

    def error(self, message: str, line: int, byte_col: int) -> ProgramError:
        return ProgramError(message, line, _char_col(self.lines, line, byte_col))

    def error_at(self, message: str, node: ast.AST) -> ProgramError:
        return self.error(message, node.lineno, node.col_offset)

    # ---- the whole program

    def program(self, tree: ast.Module, output: str | None) -> Program:
        output_line = None  # (name, node)
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign):
                self.assign(stmt)
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Name):
                if output_line is not None:
                    raise self.error_at(f"the output is already named on line {output_line[1].lineno}; "
                                        f"name it only once", stmt)
                output_line = (self.check_name(stmt.value, store=False), stmt)
            elif isinstance(stmt, ast.Expr):
                self.expression(stmt.value)  # report what is wrong inside it first, if anything
                raise self.error_at("this line computes a value but does not name it; "
                                    "write name = expression", stmt)
            else:
                what = _STATEMENTS.get(type(stmt).__name__, f"this kind of statement ({type(stmt).__name__})")
                raise self.error_at(_unsupported(what), stmt)

        if not self.named:
            raise ProgramError("the program has no assignments", 1, 1)
        if output_line is not None and output_line[0] not in self.reg_of:
            raise self.error_at(f"the output {output_line[0]!r} is not assigned in the program", output_line[1])
        if output is not None:
            if output not in self.reg_of:
                raise ProgramError(f"the output {output!r} is not assigned in the program; "
                                   f"it assigns {', '.join(n for n, _ in self.named)}")
        elif output_line is not None:
            output = output_line[0]
        else:
            output = self.named[-1][0]

        where = {name: (line, _char_col(self.lines, line, col)) for name, (line, col) in self.where.items()}
        code = _Code(tuple(self.regs), tuple(self.leaves), tuple(tuple(s) for s in self.steps),
                     tuple(self.named), where)
        return Program(text=self.text, names=tuple(n for n, _ in self.named), inputs=dict(self.inputs),
                       output=output, _code=code)

    def assign(self, stmt: ast.Assign) -> None:
        if len(stmt.targets) > 1:
            raise self.error_at(_unsupported("assigning one value to several names (a = b = ...)"),
                                stmt.targets[1])
        target = stmt.targets[0]
        if not isinstance(target, ast.Name):
            if isinstance(target, (ast.Tuple, ast.List, ast.Starred)):
                what = "assigning several names at once (a, b = ...)"
            else:
                what = _EXPRESSIONS.get(type(target).__name__, "assigning to anything but a name")
            raise self.error_at(_unsupported(what), target)
        self.count(target)
        name = self.check_name(target, store=True)

        number = self.literal_number(stmt.value)
        if number is not None:  # an input: a leaf holding a number
            self.count(stmt.value)
            reg = self.new_reg(None)
            self.leaves.append((name, reg, float(number)))
            self.inputs[name] = float(number)
        else:
            kind, value = self.expression(stmt.value)
            if kind == "c":
                raise self.error_at(
                    f"{name} is computed from numbers only; to make it an input write the number "
                    f"itself ({name} = {value!r}), otherwise use a name in the expression", stmt.value)
            reg = value
            if reg in self.name_of:
                raise self.error_at(f"{name} is just another name for {self.name_of[reg]}; "
                                    f"use {self.name_of[reg]} directly", stmt.value)
            step = self.steps[-1]  # the step that made this register was the last one emitted
            assert step[1] == reg, "the result of an expression is its last step"
            step[4] = name
        self.reg_of[name] = reg
        self.name_of[reg] = name
        self.named.append((name, reg))
        self.where[name] = (target.lineno, target.col_offset)

    def check_name(self, node: ast.Name, *, store: bool) -> str:
        """The name as written, after the checks that make it a usable label."""
        written = self.lines_b[node.lineno - 1][node.col_offset:node.end_col_offset].decode("utf-8", "replace")
        name = node.id
        if not written.isascii() or written != name:
            raise self.error_at(f"names may use only the ASCII letters A-Z and a-z, digits and _ "
                                f"({written!r} is not allowed)", node)
        if name.startswith("_"):
            raise self.error_at(f"names starting with _ are reserved ({name!r}); pick another name", node)
        if name in FUNCTIONS:
            if store:
                raise self.error_at(f"{name} is the name of a function; pick another name", node)
            raise self.error_at(f"{name} is a function; call it, e.g. {name}(x)", node)
        if not _NAME_RE.match(name):  # unreachable for ast-parsed ASCII names; kept as a guard
            raise self.error_at(f"{name!r} is not a valid name", node)
        if store:
            if len(name) > MAX_NAME_CHARS:
                raise self.error_at(f"the name {name[:12]}... is too long ({len(name)} characters; "
                                    f"the limit is {MAX_NAME_CHARS})", node)
            if name in self.reg_of:
                line = self.where[name][0]
                raise self.error_at(f"{name} is already assigned on line {line}; each name can be "
                                    f"assigned only once, so use a new name", node)
        return name

    def literal_number(self, node: ast.expr):
        """The number if node is a plain number or a plain number with a sign, else None."""
        sign = 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            sign = -1 if isinstance(node.op, ast.USub) else 1
            node = node.operand
        if isinstance(node, ast.Constant) and not isinstance(node.value, bool) \
                and isinstance(node.value, (int, float)):
            return sign * self.number(node)
        return None

    def number(self, node: ast.Constant):
        """A numeric literal, as an int (when small and whole) or a finite float."""
        value = node.value
        if isinstance(value, int):
            try:
                as_float = float(value)
            except OverflowError:
                as_float = math.inf
            if not math.isfinite(as_float):
                raise self.error_at("overflow: this number is too large for a float (above about 1.8e308)", node)
            return value if abs(value) <= 2**53 else as_float
        if not math.isfinite(value):
            raise self.error_at("overflow: this number is too large for a float (above about 1.8e308)", node)
        return value

    # ---- expressions

    def expression(self, root: ast.expr) -> tuple[str, object]:
        """Compile one expression. Returns ("c", number) or ("r", register)."""
        results: list[tuple[str, object]] = []
        stack: list[tuple[ast.expr, int, bool]] = [(root, 1, False)]
        while stack:
            node, depth, children_done = stack.pop()
            if children_done:
                count = 2 if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Pow) else \
                    0 if isinstance(node, (ast.Constant, ast.Name)) else 1
                args = results[len(results) - count:]
                del results[len(results) - count:]
                results.append(self.combine(node, args))
                continue
            self.count(node)
            if depth > MAX_DEPTH:
                raise self.error_at(f"this expression is nested too deeply (more than {MAX_DEPTH} levels); "
                                    f"break it into named steps", node)
            stack.append((node, depth, True))
            for child in reversed(self.children(node)):
                stack.append((child, depth + 1, False))
        return results[0]

    def children(self, node: ast.expr) -> list[ast.expr]:
        """Check the node's own form; return the sub-expressions to compile first, in order."""
        if isinstance(node, ast.Constant):
            problem = _constant_problem(node.value)
            if problem:
                raise self.error_at(problem, node)
            return []
        if isinstance(node, ast.Name):
            return []
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                self.exponent(node)
                return [node.left]
            if type(node.op) not in _BINARY:
                line, col = self.operator_position(node)
                raise self.error(_unsupported(_BINARY_UNSUPPORTED.get(type(node.op).__name__, "this operator")),
                                 line, col)
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                raise self.error_at(_unsupported("not"), node)
            if isinstance(node.op, ast.Invert):
                raise self.error_at(_unsupported("bitwise not (~)"), node)
            return [node.operand]
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FUNCTIONS:
                op = OPS[func.id]
                most = 2 if op.arg else 1
                if not 1 <= len(node.args) <= most or node.keywords:
                    if op.arg:
                        raise self.error_at(f"{func.id} takes x and, if you like, its {op.arg}: "
                                            f"{func.id}(x) or {func.id}(x, {op.arg_default})", node)
                    raise self.error_at(f"{func.id} takes exactly one argument, e.g. {func.id}(x)", node)
                return [node.args[0]]
            if isinstance(func, ast.Attribute):
                return [func.value]  # the method name is checked after the object, in text order
            raise self.error_at(_unsupported(_EXPRESSIONS["Call"]), node)
        if isinstance(node, ast.Attribute):
            hint = f"; to call the method write .{node.attr}()" if node.attr in FUNCTIONS else ""
            raise self.error(_unsupported("attribute access") + hint, *self.attribute_position(node))
        what = _EXPRESSIONS.get(type(node).__name__, f"this kind of expression ({type(node).__name__})")
        raise self.error_at(_unsupported(what), node)

    def combine(self, node: ast.expr, args: list[tuple[str, object]]) -> tuple[str, object]:
        """Compile node once its sub-expressions are compiled (their results are args)."""
        if isinstance(node, ast.Constant):
            return ("c", self.number(node))
        if isinstance(node, ast.Name):
            name = self.check_name(node, store=False)
            if name not in self.reg_of:
                raise self.error_at(f"unknown name {name!r}; names must be assigned before they are used", node)
            return ("r", self.reg_of[name])
        if isinstance(node, ast.UnaryOp):
            (x,) = args
            if isinstance(node.op, ast.UAdd):
                return x
            return self.apply(operator.neg, "-", x, None, (node.lineno, node.col_offset))
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                k = self.exponent(node)
                return self.apply(operator.pow, "**", args[0], ("c", k), self.operator_position(node))
            kind, fn = _BINARY[type(node.op)]
            left, right = args
            where = self.operator_position(node)
            if kind == "/" and right[0] == "c" and right[1] == 0:
                raise self.error(_explain("/", ZeroDivisionError(), None, 0), *where)
            return self.apply(fn, kind, left, right, where)
        # a call: tanh(x) or x.tanh(), leaky_relu(x, 0.1) or x.leaky_relu(0.1)
        func = node.func
        if isinstance(func, ast.Attribute):
            at = self.attribute_position(func)
            if func.attr not in FUNCTIONS:
                raise self.error(_unsupported(f"method calls other than {_METHOD_LIST}"), *at)
            op = OPS[func.attr]
            if node.keywords or len(node.args) > (1 if op.arg else 0):
                if op.arg:
                    raise self.error(f".{op.name}() takes at most one number, its {op.arg}: "
                                     f".{op.name}({op.arg_default})", *at)
                raise self.error(f".{op.name}() takes no arguments", *at)
            extra = node.args
        else:
            op, at = OPS[func.id], (node.lineno, node.col_offset)
            extra = node.args[1:]
        arg = self.op_argument(op, extra[0]) if extra else None
        return self.apply(getattr(Value, op.name), op.name, args[0], arg, at)

    def op_argument(self, op, node: ast.expr) -> tuple[str, float]:
        """The plain number an op takes besides its operand (leaky_relu's slope), checked."""
        value = self.literal_number(node)
        low, high = op.arg_range
        if value is None:
            raise self.error_at(f"the {op.arg} of {op.name} must be a plain number such as {op.arg_default} "
                                f"(not a name or an expression)", node)
        if not low <= value <= high:
            raise self.error_at(f"the {op.arg} of {op.name} must lie between {_fmt(low)} and {_fmt(high)}, "
                                f"not {_fmt(value)}", node)
        self.count(node)
        return ("c", value)

    def apply(self, fn, kind: str, x, y, where: tuple[int, int]) -> tuple[str, object]:
        """Emit a step, or work the operation out now when every operand is a number."""
        if x[0] == "c" and (y is None or y[0] == "c"):
            return ("c", self.fold(fn, kind, x[1], None if y is None else y[1], where))
        a = self.reg_for(x)
        b = None if y is None else self.reg_for(y)
        dest = self.new_reg(None)
        self.steps.append([fn, dest, a, b, "", where, kind])
        return ("r", dest)

    def fold(self, fn, kind: str, x, y, where: tuple[int, int]) -> float:
        """Numbers with numbers, in floats as Python would; functions and ** through Value itself."""
        try:
            if kind == "**" or kind in FUNCTIONS:
                result = fn(Value(x)).data if y is None else fn(Value(x), y).data
            elif y is None:
                result = float(fn(x))
            else:
                result = float(fn(float(x), float(y)))
        except (ArithmeticError, ValueError) as exc:
            raise self.error(_explain(kind, exc, x, y), *where) from None
        if not math.isfinite(result):
            raise self.error(_overflow(kind), *where)
        return result

    def exponent(self, node: ast.BinOp):
        k = self.literal_number(node.right)
        if k is None:
            raise self.error_at("the exponent of ** must be a plain number such as 2, 0.5 or -1 "
                                "(not a name or an expression)", node.right)
        if abs(k) > MAX_EXPONENT:
            raise self.error_at(f"the exponent {_fmt(k)} is too large; exponents must lie between "
                                f"-{MAX_EXPONENT} and {MAX_EXPONENT}", node.right)
        return k

    def reg_for(self, operand: tuple[str, object]) -> int:
        return self.new_reg(operand[1]) if operand[0] == "c" else operand[1]

    def new_reg(self, content) -> int:
        self.regs.append(content)
        return len(self.regs) - 1

    # ---- finding the operator in the text

    def operator_position(self, node: ast.BinOp) -> tuple[int, int]:
        """Where the operator of a binary expression is written (ast only knows where it starts)."""
        line, col = node.left.end_lineno, node.left.end_col_offset
        stop = (node.right.lineno, node.right.col_offset)
        while line <= len(self.lines_b) and (line, col) < stop:
            raw = self.lines_b[line - 1]
            while col < len(raw) and (line, col) < stop:
                ch = raw[col]
                if ch in b" \t\x0c)\\":
                    col += 1
                elif ch == ord("#"):
                    break  # the rest of the line is a comment
                else:
                    return line, col
            line, col = line + 1, 0
        return node.lineno, node.col_offset

    def attribute_position(self, node: ast.Attribute) -> tuple[int, int]:
        """Where the attribute's name is written (after the dot)."""
        col = node.end_col_offset - len(node.attr.encode("utf-8"))
        if node.end_lineno == node.lineno and col < node.col_offset:
            return node.lineno, node.col_offset
        return node.end_lineno, max(col, 0)
