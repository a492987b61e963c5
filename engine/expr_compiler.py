"""The compiler of expression programs: a checked syntax tree becomes registers and steps.

`engine.expr.parse_program` parses the text with :mod:`ast` and hands the tree to `Compiler`,
which accepts only the constructs the language allows (see `engine.expr`), reports everything
else as a `ProgramError` at its line and column, works out numbers combined only with numbers,
and emits the steps `Program.build` runs with the engine's own operators.
"""

from __future__ import annotations

import ast
import math
import operator

from engine.expr import (
    _BINARY,
    _BINARY_UNSUPPORTED,
    _EXPRESSIONS,
    _METHOD_LIST,
    _NAME_RE,
    _STATEMENTS,
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_NAME_CHARS,
    MAX_PARTS,
    Program,
    ProgramError,
    _char_col,
    _Code,
    _constant_problem,
    _explain,
    _fmt,
    _overflow,
    _split_lines,
    _unsupported,
)
from engine.ops import FUNCTIONS, OPS
from engine.value import Value

__all__ = ["Compiler"]


# ---------------------------------------------------------------------- the compiler


class Compiler:
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
            raise self.error_at(
                f"the program is too large (more than {MAX_PARTS:,} numbers, names, operators and calls)",
                node,
            )

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
                    raise self.error_at(
                        f"the output is already named on line {output_line[1].lineno}; name it only once",
                        stmt,
                    )
                output_line = (self.check_name(stmt.value, store=False), stmt)
            elif isinstance(stmt, ast.Expr):
                self.expression(stmt.value)  # report what is wrong inside it first, if anything
                raise self.error_at(
                    "this line computes a value but does not name it; write name = expression", stmt
                )
            else:
                what = _STATEMENTS.get(type(stmt).__name__, f"this kind of statement ({type(stmt).__name__})")
                raise self.error_at(_unsupported(what), stmt)

        if not self.named:
            raise ProgramError("the program has no assignments", 1, 1)
        if output_line is not None and output_line[0] not in self.reg_of:
            raise self.error_at(
                f"the output {output_line[0]!r} is not assigned in the program", output_line[1]
            )
        if output is not None:
            if output not in self.reg_of:
                raise ProgramError(
                    f"the output {output!r} is not assigned in the program; "
                    f"it assigns {', '.join(n for n, _ in self.named)}"
                )
        elif output_line is not None:
            output = output_line[0]
        else:
            output = self.named[-1][0]

        where = {name: (line, _char_col(self.lines, line, col)) for name, (line, col) in self.where.items()}
        code = _Code(
            tuple(self.regs),
            tuple(self.leaves),
            tuple(tuple(s) for s in self.steps),
            tuple(self.named),
            where,
        )
        return Program(
            text=self.text,
            names=tuple(n for n, _ in self.named),
            inputs=dict(self.inputs),
            output=output,
            _code=code,
        )

    def assign(self, stmt: ast.Assign) -> None:
        if len(stmt.targets) > 1:
            raise self.error_at(
                _unsupported("assigning one value to several names (a = b = ...)"), stmt.targets[1]
            )
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
                    f"itself ({name} = {value!r}), otherwise use a name in the expression",
                    stmt.value,
                )
            reg = value
            if reg in self.name_of:
                raise self.error_at(
                    f"{name} is just another name for {self.name_of[reg]}; use {self.name_of[reg]} directly",
                    stmt.value,
                )
            step = self.steps[-1]  # the step that made this register was the last one emitted
            assert step[1] == reg, "the result of an expression is its last step"
            step[4] = name
        self.reg_of[name] = reg
        self.name_of[reg] = name
        self.named.append((name, reg))
        self.where[name] = (target.lineno, target.col_offset)

    def check_name(self, node: ast.Name, *, store: bool) -> str:
        """The name as written, after the checks that make it a usable label."""
        written = self.lines_b[node.lineno - 1][node.col_offset : node.end_col_offset].decode(
            "utf-8", "replace"
        )
        name = node.id
        if not written.isascii() or written != name:
            raise self.error_at(
                f"names may use only the ASCII letters A-Z and a-z, digits and _ "
                f"({written!r} is not allowed)",
                node,
            )
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
                raise self.error_at(
                    f"the name {name[:12]}... is too long ({len(name)} characters; "
                    f"the limit is {MAX_NAME_CHARS})",
                    node,
                )
            if name in self.reg_of:
                line = self.where[name][0]
                raise self.error_at(
                    f"{name} is already assigned on line {line}; each name can be "
                    f"assigned only once, so use a new name",
                    node,
                )
        return name

    def literal_number(self, node: ast.expr):
        """The number if node is a plain number or a plain number with a sign, else None."""
        sign = 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            sign = -1 if isinstance(node.op, ast.USub) else 1
            node = node.operand
        if (
            isinstance(node, ast.Constant)
            and not isinstance(node.value, bool)
            and isinstance(node.value, (int, float))
        ):
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
                raise self.error_at(
                    "overflow: this number is too large for a float (above about 1.8e308)", node
                )
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
                count = (
                    2
                    if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Pow)
                    else 0
                    if isinstance(node, (ast.Constant, ast.Name))
                    else 1
                )
                args = results[len(results) - count :]
                del results[len(results) - count :]
                results.append(self.combine(node, args))
                continue
            self.count(node)
            if depth > MAX_DEPTH:
                raise self.error_at(
                    f"this expression is nested too deeply (more than {MAX_DEPTH} levels); "
                    f"break it into named steps",
                    node,
                )
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
                if isinstance(node.op, ast.BitXor):  # ^ is a power in maths and spreadsheets
                    raise self.error(
                        "^ is not a power here (in Python it is bitwise xor): write ** as in x**2", line, col
                    )
                raise self.error(
                    _unsupported(_BINARY_UNSUPPORTED.get(type(node.op).__name__, "this operator")), line, col
                )
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
                        raise self.error_at(
                            f"{func.id} takes x and, if you like, its {op.arg}: "
                            f"{func.id}(x) or {func.id}(x, {op.arg_default})",
                            node,
                        )
                    raise self.error_at(f"{func.id} takes exactly one argument, e.g. {func.id}(x)", node)
                return [node.args[0]]
            if isinstance(func, ast.Attribute):
                module = func.value
                if (
                    isinstance(module, ast.Name)
                    and module.id in ("math", "torch", "np", "numpy")
                    and module.id not in self.reg_of
                ):
                    if func.attr in FUNCTIONS:
                        message = (
                            f"write {func.attr}(...) without {module.id}.: a program calls the engine's own"
                        )
                    else:
                        message = (
                            f"{module.id}.{func.attr} is not one of a program's functions "
                            f"({', '.join(FUNCTIONS)}); write those without {module.id}., like exp(x)"
                        )
                    raise self.error_at(message, node)
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
                raise self.error_at(
                    f"unknown name {name!r}; names must be assigned before they are used", node
                )
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
                    raise self.error(
                        f".{op.name}() takes at most one number, its {op.arg}: .{op.name}({op.arg_default})",
                        *at,
                    )
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
            raise self.error_at(
                f"the {op.arg} of {op.name} must be a plain number such as {op.arg_default} "
                f"(not a name or an expression)",
                node,
            )
        if not low <= value <= high:
            raise self.error_at(
                f"the {op.arg} of {op.name} must lie between {_fmt(low)} and {_fmt(high)}, not {_fmt(value)}",
                node,
            )
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
            raise self.error_at(
                "the exponent of ** must be a plain number such as 2, 0.5 or -1 "
                "(not a name or an expression)",
                node.right,
            )
        if abs(k) > MAX_EXPONENT:
            raise self.error_at(
                f"the exponent {_fmt(k)} is too large; exponents must lie between "
                f"-{MAX_EXPONENT} and {MAX_EXPONENT}",
                node.right,
            )
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
