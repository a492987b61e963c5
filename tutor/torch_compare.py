"""Run an expression program in PyTorch as well as in the engine, and compare every number.

Lesson 13's ```pytorch blocks use this. Three things happen, none of them executing lesson text:

* :func:`torch_listing` writes the program as the PyTorch code a learner would type: inputs
  become float64 leaf tensors that ask for gradients, ``tanh(x)`` becomes ``torch.tanh(x)``,
  and the output's ``backward()`` comes last. It is shown, never run.
* :func:`run_in_torch` evaluates that same code itself: it walks the program's syntax tree (which
  :func:`engine.expr.parse_program` has already restricted to numbers, names, ``+ - * / **``,
  unary minus and the five functions) and applies each operation to ``torch`` tensors. So the
  numbers are PyTorch's own, for the code on screen.
* :func:`compare` puts the engine's value and gradient of every named node beside PyTorch's.

PyTorch is optional, and the app never imports it: :func:`compare_in_subprocess` runs the
PyTorch side in a child Python (``python -m tutor.torch_compare``, the program text on stdin, the
numbers back as JSON). Importing PyTorch holds the interpreter for a second or more, which would
freeze the screen, and a child can be stopped when the learner leaves and cannot take the tutor
down with it. The functions that compute take ``torch`` as an argument, so tests can pass a
stand-in. This module imports neither ``torch`` nor Textual.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import math
import subprocess
import sys
import warnings
from dataclasses import dataclass

from engine.expr import Program
from engine.ops import FUNCTIONS, OPS

__all__ = [
    "INSTALL_COMMAND",
    "LEAF_NOTE",
    "Comparison",
    "Row",
    "TorchUnavailable",
    "compare",
    "compare_in_subprocess",
    "engine_listing",
    "import_torch",
    "install_hint",
    "run_in_engine",
    "run_in_torch",
    "TIMEOUT",
    "torch_installed",
    "torch_listing",
]

INSTALL_COMMAND = "pip install torch"
LEAF_NOTE = "leaf(x) is torch.tensor(x, dtype=torch.float64, requires_grad=True)"
# Numbers from two libraries agree when they differ by no more than this, relative to their size:
# a few units in the last place of a float64 (tanh, exp and division are not always rounded alike).
TOLERANCE = 1e-12


class TorchUnavailable(Exception):
    """PyTorch cannot be used here; ``str()`` says why in plain words."""


def torch_installed() -> bool:
    """Whether ``import torch`` can find a module (cheap: it does not import it)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def install_hint() -> str:
    """How to install PyTorch for the Python that runs the tutor."""
    return (
        f"PyTorch is not installed for this Python ({sys.executable}). To add it: "
        f"{sys.executable} -m {INSTALL_COMMAND} (the CPU-only build is enough)."
    )


def import_torch():
    """Import PyTorch, or raise :class:`TorchUnavailable` saying what to do."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "Failed to initialize NumPy": not for the learner
            import torch
    except ModuleNotFoundError as err:
        if err.name not in (None, "torch"):  # torch is there but one of its own imports is missing
            raise TorchUnavailable(
                f"PyTorch is installed but cannot start: {err}. Reinstall it with `{INSTALL_COMMAND}`."
            ) from err
        raise TorchUnavailable(install_hint()) from err
    except Exception as err:  # a broken install (missing shared library, wrong platform, ...)
        raise TorchUnavailable(
            f"PyTorch is installed but cannot start ({type(err).__name__}: {err}). "
            f"Reinstall it with `{INSTALL_COMMAND}`."
        ) from err
    return torch


# ------------------------------------------------------------------ the program as code


def _statements(program: Program) -> list[ast.stmt]:
    # the text has passed parse_program, so it parses and holds only what the engine accepts
    return ast.parse(program.text).body


def _tensor_method(op) -> bool:
    """Whether PyTorch tensors have the op as a method of the same name (``x.tanh()``)."""
    return op.torch == f"torch.{op.name}"


def _dotted(path: str) -> ast.expr:
    parts = path.split(".")
    node: ast.expr = ast.Name(parts[0], ast.Load())
    for part in parts[1:]:
        node = ast.Attribute(value=node, attr=part, ctx=ast.Load())
    return node


class _ToTorch(ast.NodeTransformer):
    """``tanh(x)`` -> ``torch.tanh(x)`` (each op's PyTorch name, from the op table); a method
    stays a method where tensors have it (``x.tanh()``), else becomes the function
    (``x.leaky_relu(0.1)`` -> ``torch.nn.functional.leaky_relu(x, 0.1)``)."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Name) and func.id in FUNCTIONS:
            node.func = _dotted(OPS[func.id].torch)
        elif (
            isinstance(func, ast.Attribute) and func.attr in FUNCTIONS and not _tensor_method(OPS[func.attr])
        ):
            node = ast.Call(func=_dotted(OPS[func.attr].torch), args=[func.value, *node.args], keywords=[])
        return node


def _listing(program: Program, leaf: str, torch: bool) -> list[str]:
    lines = []
    for stmt in _statements(program):
        if not isinstance(stmt, ast.Assign):
            continue  # a line naming the output: the listing ends with output.backward()
        name = stmt.targets[0].id
        if name in program.inputs:
            lines.append(f"{name} = {leaf}({program.inputs[name]!r})")
            continue
        value = _ToTorch().visit(stmt.value) if torch else stmt.value
        lines.append(f"{name} = {ast.unparse(value)}")
    lines.append(f"{program.output}.backward()")
    return lines


def engine_listing(program: Program) -> list[str]:
    """The program as Python using this course's engine (``Value`` for each input)."""
    return _listing(program, "Value", torch=False)


def torch_listing(program: Program) -> list[str]:
    """The program as PyTorch code; ``leaf(x)`` stands for
    ``torch.tensor(x, dtype=torch.float64, requires_grad=True)``."""
    return _listing(program, "leaf", torch=True)


# ------------------------------------------------------------------ running it


@dataclass(frozen=True)
class Row:
    """One named node: its value and gradient in each library. A gradient PyTorch leaves at
    ``None`` (a node the output does not depend on) counts as 0, as the engine has it."""

    name: str
    is_input: bool
    value: float
    grad: float
    torch_value: float
    torch_grad: float | None

    @property
    def difference(self) -> float:
        """The larger of the value's and the gradient's difference, relative to their size."""
        torch_grad = 0.0 if self.torch_grad is None else self.torch_grad
        return max(_relative(self.value, self.torch_value), _relative(self.grad, torch_grad))

    @property
    def agrees(self) -> bool:
        return self.difference <= TOLERANCE


@dataclass(frozen=True)
class Comparison:
    rows: tuple[Row, ...]
    output: str
    torch_version: str

    @property
    def agrees(self) -> bool:
        return all(row.agrees for row in self.rows)

    @property
    def largest_difference(self) -> float:
        return max((row.difference for row in self.rows), default=0.0)

    def summary(self) -> str:
        count = 2 * len(self.rows)
        if self.agrees:
            largest = self.largest_difference
            how = (
                "exactly"
                if largest == 0
                else f"to the last digit or so of a float64 (largest relative difference {largest:.0e})"
            )
            return f"All {count} numbers agree {how}: the engine and PyTorch {self.torch_version} compute the same."
        wrong = [row.name for row in self.rows if not row.agrees]
        return (
            f"{len(wrong)} of {len(self.rows)} nodes differ by more than rounding ({', '.join(wrong)}). "
            "Rounding alone (the engine divides as a * b**-1, PyTorch as a / b) stays in the last digits "
            "unless nearly equal numbers are subtracted; anything larger is a bug worth reporting."
        )


def _relative(a: float, b: float) -> float:
    if a == b:
        return 0.0
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.inf
    return abs(a - b) / max(1.0, abs(a), abs(b))


def run_in_engine(program: Program) -> dict[str, tuple[float, float]]:
    """name -> (value, gradient) with the engine, after the output's backward()."""
    graph = program.build()
    graph.output.backward()
    return {name: (node.data, node.grad) for name, node in graph.values.items()}


_BINARY = {
    ast.Add: lambda x, y: x + y,
    ast.Sub: lambda x, y: x - y,
    ast.Mult: lambda x, y: x * y,
    ast.Div: lambda x, y: x / y,
}


def run_in_torch(program: Program, torch) -> dict[str, tuple[float, float | None]]:
    """name -> (value, gradient or None) with PyTorch, for the code :func:`torch_listing` shows.

    The syntax tree is walked here, one whitelisted node at a time; nothing is passed to ``eval``.
    """
    tensors: dict[str, object] = {}

    def leaf(x: float):
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    def evaluate(node: ast.expr):
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return tensors[node.id]
        if isinstance(node, ast.UnaryOp):
            x = evaluate(node.operand)
            return -x if isinstance(node.op, ast.USub) else x
        if isinstance(node, ast.BinOp):
            x, y = evaluate(node.left), evaluate(node.right)
            if isinstance(node.op, ast.Pow):
                return x**y
            return _BINARY[type(node.op)](x, y)
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):  # x.tanh(), x.leaky_relu(0.1)
                x, name, extra = evaluate(node.func.value), node.func.attr, node.args
            else:  # tanh(x), leaky_relu(x, 0.1)
                x, name, extra = evaluate(node.args[0]), node.func.id, node.args[1:]
            if name not in FUNCTIONS:
                raise ValueError(f"not an operation of the engine: {name}")
            if not isinstance(x, torch.Tensor):
                x = torch.tensor(x, dtype=torch.float64)
            function = torch
            for part in OPS[name].torch.split(".")[1:]:
                function = getattr(function, part)
            return function(x, *(evaluate(a) for a in extra))
        raise ValueError(f"not part of an expression program: {type(node).__name__}")

    for stmt in _statements(program):
        if not isinstance(stmt, ast.Assign):
            continue
        name = stmt.targets[0].id
        if name in program.inputs:
            tensors[name] = leaf(program.inputs[name])
            continue
        tensor = evaluate(stmt.value)
        if tensor.requires_grad:
            tensor.retain_grad()  # PyTorch keeps only the leaves' gradients unless asked
        tensors[name] = tensor
    tensors[program.output].backward()
    result = {}
    for name, tensor in tensors.items():
        grad = tensor.grad
        result[name] = (float(tensor.item()), None if grad is None else float(grad.item()))
    return result


def compare(program: Program, torch) -> Comparison:
    """Both runs side by side, in this process. Raises :class:`TorchUnavailable` if PyTorch fails
    while computing."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = run_in_torch(program, torch)
    except Exception as err:  # torch's own errors have no common base class
        raise TorchUnavailable(f"PyTorch stopped with {type(err).__name__}: {err}") from err
    return _comparison(program, theirs, _version(torch))


def _version(torch) -> str:
    return str(getattr(torch, "__version__", "")).split("+")[0]


def _comparison(program: Program, theirs: dict, version: str) -> Comparison:
    """One row per name in program order: the engine's numbers beside ``theirs``."""
    rows = tuple(
        Row(
            name=name,
            is_input=name in program.inputs,
            value=value,
            grad=grad,
            torch_value=theirs[name][0],
            torch_grad=theirs[name][1],
        )
        for name, (value, grad) in run_in_engine(program).items()
    )
    return Comparison(rows=rows, output=program.output, torch_version=version)


# ------------------------------------------------------------------ PyTorch in a child process

TIMEOUT = 180.0  # seconds for the child to import PyTorch and answer (a cold first import is slow)


def compare_in_subprocess(program: Program, *, timeout: float = TIMEOUT, started=None) -> Comparison:
    """:func:`compare`, with PyTorch run by a child Python. ``started(process)`` is called with the
    child's ``Popen`` as soon as it runs, so the caller can kill it (the screen does when the
    learner leaves). Raises :class:`TorchUnavailable` saying why when there is no answer."""
    request = json.dumps({"program": program.text, "output": program.output})
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "tutor.torch_compare"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    except OSError as err:
        raise TorchUnavailable(f"could not start Python to run PyTorch ({err})") from err
    if started is not None:
        started(child)
    try:
        out, err = child.communicate(request, timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise TorchUnavailable(f"PyTorch did not answer within {timeout:.0f} s; try again with r") from None
    reply = _last_json_line(out)
    if reply is None:
        if child.returncode and child.returncode < 0:
            raise TorchUnavailable("the PyTorch run was stopped")
        last = (err or "").strip().splitlines()[-1:] or [f"exit status {child.returncode}"]
        raise TorchUnavailable(f"PyTorch stopped without an answer ({last[0]})")
    if "error" in reply:
        raise TorchUnavailable(str(reply["error"]))
    theirs = {name: (value, grad) for name, value, grad in reply["results"]}
    return _comparison(program, theirs, str(reply.get("version", "")))


def _last_json_line(out: str) -> dict | None:
    for line in reversed((out or "").splitlines()):
        try:
            reply = json.loads(line)
        except ValueError:
            continue
        if isinstance(reply, dict):
            return reply
    return None


def _child(stdin=sys.stdin, stdout=sys.stdout) -> int:
    """The child's side: read the request, run PyTorch, write one JSON line."""
    from engine.expr import ProgramError, parse_program

    try:
        request = json.loads(stdin.read())
        program = parse_program(str(request["program"]), output=request.get("output"))
        torch = import_torch()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = run_in_torch(program, torch)
        reply = {
            "version": _version(torch),
            "results": [[name, value, grad] for name, (value, grad) in results.items()],
        }
    except TorchUnavailable as err:
        reply = {"error": str(err)}
    except ProgramError as err:
        reply = {"error": f"the program does not parse: {err}"}
    except Exception as err:  # torch's own errors have no common base class
        reply = {"error": f"PyTorch stopped with {type(err).__name__}: {err}"}
    stdout.write(json.dumps(reply) + "\n")
    stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child())
