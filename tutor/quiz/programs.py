"""Numbers a quiz reads from an expression program run by the engine (numeric and predict).

``answer_from = "a.grad"`` (or ``"b.data * e.grad"``, or a table with its own program) is
computed by running the program with the engine, backward pass included, and evaluating the
value with :mod:`tutor.safe_eval` over the program's values: plain names read ``.data``.
"""

from __future__ import annotations

import ast
import functools

from tutor import safe_eval
from tutor.schema import Issues, Key, Table, did_you_mean, program_advice, show

__all__ = ["ANSWER_FROM", "answer_value", "program_values"]

MAX_VALUE_CHARS = 500
VALUE_EXAMPLE = '"a.grad" or "b.data * e.grad"'

ANSWER_FROM = Table(
    "answer_from",
    (
        Key("program", "str", "an expression program (text)"),
        Key("value", "str", 'what to read, e.g. "a.grad", "L" or "b.data * e.grad"', required=True),
    ),
)


class ProgramProblem(Exception):
    def __init__(self, message: str, at: tuple[int, int] | None = None):
        super().__init__(message)
        self.message = message
        self.at = at  # (line, column) inside the program's text


@functools.lru_cache(maxsize=64)
def _program_values(text: str) -> tuple[tuple[str, tuple[float, float]], ...]:
    from engine.expr import ProgramError, parse_program  # the engine's safe expression language

    try:
        graph = parse_program(text).build()
        graph.output.backward()
    except ProgramError as err:
        message = program_advice(err.message)
        raise ProgramProblem(f"the program does not run: {message}", (err.line, err.col)) from None
    return tuple((name, (v.data, v.grad)) for name, v in graph.values.items())


def program_values(text: str, path, issues: Issues) -> dict[str, tuple[float, float]] | None:
    """name -> (data, grad) of every value of the program after backward; None after reporting
    why it does not run."""
    try:
        return dict(_program_values(text))
    except ProgramProblem as err:
        # the program's own line and column, mapped to the file like a debugger program's
        issues.add(path, err.message, at=err.at)
        return None


def _grammar(values: dict[str, tuple[float, float]]) -> safe_eval.Grammar:
    def resolve(node: ast.AST) -> str:
        name = node.id if isinstance(node, ast.Name) else getattr(node.value, "id", None)
        if name is None:
            raise safe_eval.Unreadable("read a value of the program, like a.grad")
        if name not in values:
            raise safe_eval.Unreadable(
                f"the program has no value named {name!r} (it has {', '.join(values)}){did_you_mean(name, values)}"
            )
        if isinstance(node, ast.Name):
            return f"{name}.data"
        if node.attr not in ("data", "grad"):
            raise safe_eval.Unreadable(f"read .data or .grad, not .{node.attr}")
        return f"{name}.{node.attr}"

    return safe_eval.Grammar(resolve, refused="only numbers, names, .data, .grad and + - * / ** are allowed")


def evaluate_value(text: str, values: dict[str, tuple[float, float]]) -> float:
    """``a.grad``, ``L``, ``-2 * a.data`` ... over a program's values; ValueError saying why not."""
    grammar = _grammar(values)
    try:
        tree, _ = safe_eval.parse(text, grammar, max_chars=MAX_VALUE_CHARS)
    except safe_eval.Unreadable as err:
        if err.message.startswith("Python cannot read"):
            raise ValueError(f"cannot read {text!r}; write something like {VALUE_EXAMPLE}") from None
        raise ValueError(
            err.message if "value named" in err.message else f"{show(text)}: {err.message}"
        ) from None
    env = {f"{n}.{a}": v[i] for n, v in values.items() for i, a in enumerate(("data", "grad"))}
    try:
        return safe_eval.evaluate(tree, env, grammar)
    except safe_eval.CannotCompute as err:
        raise ValueError(f"{show(text)} cannot be computed: {err.message}") from None


def answer_value(table: dict, values: dict, path: list, program: str | None, what: str, issues: Issues):
    """The number an ``answer`` or ``answer_from`` key gives (``values`` is the table as read,
    ``table`` as written); None after reporting why there is none."""
    has_answer, has_from = "answer" in table, "answer_from" in table
    if has_answer and has_from:
        issues.add([*path, "answer_from"], "give either answer or answer_from, not both")
        return None
    if not has_answer and not has_from:
        issues.add(
            [*path, "answer"],
            f"missing; give {what} as answer = <number> or "
            'answer_from = { program = ..., value = "a.grad" }',
        )
        return None
    if has_answer:
        return values.get("answer")  # None: the schema said why
    spec, spec_path = table["answer_from"], [*path, "answer_from"]
    if isinstance(spec, str):
        if program is None:
            issues.add(
                spec_path,
                "a text answer_from needs the quiz's program key; "
                "or write answer_from = { program = ..., value = ... }",
            )
            return None
        text, value, program_path, value_path = program, spec, ["program"], spec_path
    elif isinstance(spec, dict):
        before = len(issues)
        read = ANSWER_FROM.read(spec, issues, tuple(spec_path))
        own = read.get("program")
        if own is None and program is None and "program" not in spec:
            issues.add([*spec_path, "program"], "missing; add program = an expression program (text)")
        if len(issues) > before:
            return None
        text = own if own is not None else program
        program_path = [*spec_path, "program"] if own is not None else ["program"]
        value, value_path = read["value"], [*spec_path, "value"]
    else:
        issues.add(spec_path, f'must be a table {{ program = ..., value = "a.grad" }}, not {show(spec)}')
        return None
    graph_values = program_values(text, program_path, issues)
    if graph_values is None:
        return None
    try:
        return evaluate_value(value, graph_values)
    except ValueError as err:
        issues.add(value_path, str(err))
        return None
