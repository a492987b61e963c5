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
                message = (
                    f"the backward pass cannot be computed: the rule of {label_of(node) or 'an operation'} "
                    f"fails at {operands} ({exc}); the derivative is not finite there, so choose "
                    f"other input values"
                )
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
                    raise ProgramError(
                        f"{name} is computed by the program, not an input; the inputs are {known}", line, col
                    )
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
        raise ProgramError(
            f"the program is too long ({len(text):,} characters; the limit is {MAX_PROGRAM_CHARS:,})",
            line,
            col,
        )
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
        raise ProgramError(
            f"an expression is nested too deeply (more than {MAX_DEPTH} levels); break it into named steps"
        ) from None
    except (ValueError, OverflowError) as exc:  # not seen on 3.11 for str input; kept as a net
        raise ProgramError(f"syntax error: {exc}") from None
    from engine.expr_compiler import Compiler  # it builds this module's Program and errors

    return Compiler(text).program(tree, output)


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
    "Import": "import",
    "ImportFrom": "import",
    "FunctionDef": "function definitions (def)",
    "AsyncFunctionDef": "function definitions (def)",
    "ClassDef": "classes",
    "Return": "return",
    "Delete": "del",
    "AugAssign": "augmented assignment (+=, -=, ...); assign a new name instead",
    "AnnAssign": "type annotations",
    "For": "loops (for)",
    "AsyncFor": "loops (for)",
    "While": "loops (while)",
    "If": "if statements",
    "With": "with statements",
    "AsyncWith": "with statements",
    "Match": "match statements",
    "Raise": "raise",
    "Try": "try statements",
    "TryStar": "try statements",
    "Assert": "assert",
    "Global": "global",
    "Nonlocal": "nonlocal",
    "Pass": "pass",
    "Break": "break",
    "Continue": "continue",
    "TypeAlias": "type aliases",
}
_EXPRESSIONS = {
    "BoolOp": "and / or",
    "NamedExpr": "the walrus operator (:=)",
    "Lambda": "lambda",
    "IfExp": "conditional expressions (a if b else c)",
    "Dict": "dictionaries",
    "Set": "sets",
    "List": "lists",
    "Tuple": "tuples (several values separated by commas)",
    "ListComp": "comprehensions",
    "SetComp": "comprehensions",
    "DictComp": "comprehensions",
    "GeneratorExp": "comprehensions",
    "Await": "await",
    "Yield": "yield",
    "YieldFrom": "yield",
    "Compare": "comparison (<, ==, ...); programs only compute numbers",
    "JoinedStr": "f-strings",
    "FormattedValue": "f-strings",
    "Subscript": "indexing (a[...])",
    "Slice": "slices",
    "Starred": "unpacking with *",
    "Attribute": "attribute access",
    "Call": f"function calls other than {_FUNCTION_LIST}",
}
_BINARY = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv),
}
_BINARY_UNSUPPORTED = {
    "FloorDiv": "floor division (//)",
    "Mod": "remainder (%)",
    "MatMult": "matrix multiplication (@)",
    "LShift": "bit shifts (<<, >>)",
    "RShift": "bit shifts (<<, >>)",
    "BitOr": "bitwise operators (|, &, ^)",
    "BitAnd": "bitwise operators (|, &, ^)",
    "BitXor": "bitwise operators (|, &, ^)",
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
        return f"a negative number ({_fmt(x)}) raised to the fractional power {_fmt(y)} has no real value"
    return f"could not compute {kind}: {exc}"
