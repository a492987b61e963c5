"""Fresh numbers for a review: the block's program with its leaves drawn afresh, and the answer
recomputed by the engine, so a review cannot be answered from memory.

:func:`fresh_program` draws new values for a program's inputs (the names given a plain number):
each keeps its sign and its order of magnitude and gets one significant figure (``2`` may become
``7``, ``0.5`` may become ``0.3``, ``-3`` may become ``-8``; a 0 stays 0), so the question keeps
its shape (a relu's input stays negative, a log's positive) and stays workable by hand. A draw is
refused when the program does not run with it, when its backward pass fails, when a division or
a log meets a number near 0, or when a value or gradient grows far beyond the original's; after
``MAX_DRAWS`` refusals (or ``MAX_SECONDS`` of them, or for a program over ``MAX_PROGRAM_CHARS``)
there are no fresh numbers and the block comes back as it was. The draws
come from ``random.Random(seed)``: the same seed gives the same question.

:func:`fresh_quiz` rewrites a quiz block's TOML with the new program and reads it with the quiz
reader itself, so the right answer, the known wrong answers and the diagnosis are the engine's
for the new numbers. Texts that quote the old numbers (a prompt, a hint, an explanation, the
feedback of a wrong answer) are replaced or left out. Nothing is executed: the program is
parsed by ``engine.expr`` and rewritten through Python's ``ast`` positions.

Pure logic: no Textual.
"""

from __future__ import annotations

import ast
import math
import random
import re
import time
from collections.abc import Callable
from typing import Any

from engine.expr import Program, ProgramError, parse_program
from engine.ops import op_of
from engine.value import topological_order

__all__ = [
    "MAX_DRAWS",
    "draw_leaf",
    "fresh_program",
    "fresh_quiz",
    "quotes_numbers",
    "redraw_text",
    "right_number",
]

MAX_DRAWS = 40  # tries at new leaves before giving up on fresh numbers
MAX_SECONDS = 1.0  # ... and the time all tries may take (a draw builds the graph and its backward)
MAX_PROGRAM_CHARS = 4000  # a longer program (a lesson's are a line or two) keeps its numbers
GROWTH = 100.0  # a value or gradient may be this many times the original's largest (or 100)
NEAR_ZERO = 0.05  # smallest |x| a division (x ** -k) or a log may meet
_DIGITS = (1, 2, 3, 4, 5, 6, 7, 8, 9)
_NUMBER = re.compile(r"(?<![A-Za-z_.])\d")  # a digit that is a number, not part of a name like x1


def draw_leaf(value: float, rng: random.Random) -> float:
    """A new value of the same sign and order of magnitude, one significant figure."""
    if value == 0 or not math.isfinite(value):
        return value
    scale = 10.0 ** math.floor(math.log10(abs(value)))
    return math.copysign(float(f"{rng.choice(_DIGITS) * scale:.1g}"), value)


def _literal(value: float) -> str:
    return str(int(value)) if value == int(value) and abs(value) < 1e15 else repr(value)


def _leaf_spans(text: str, names) -> dict[str, tuple[int, int]]:
    """name -> (start, end) character offsets of the number each input is assigned."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, byte_col: int) -> int:
        line = lines[lineno - 1]
        return starts[lineno - 1] + len(line.encode("utf-8")[:byte_col].decode("utf-8", "replace"))

    spans = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target = node.targets[0]
        if isinstance(target, ast.Name) and target.id in names and target.id not in spans:
            value = node.value
            spans[target.id] = (
                offset(value.lineno, value.col_offset),
                offset(value.end_lineno, value.end_col_offset),
            )
    return spans


def redraw_text(text: str, values: dict[str, float]) -> str:
    """The program text with each named input assigned its new value (the rest untouched)."""
    spans = _leaf_spans(text, values)
    out = text
    for name, (start, end) in sorted(spans.items(), key=lambda kv: -kv[1][0]):
        out = out[:start] + _literal(values[name]) + out[end:]
    return out


def _divides(node) -> bool:
    """A log, or a power with a negative exponent (a / b is a * b ** -1): 0 is out of bounds."""
    op = op_of(node)
    return op is not None and (op.name == "log" or (op.name == "**" and (node._arg or 0) < 0))


def _largest(program: Program) -> float | None:
    """The largest |data| or |grad| of the program's graph after backward; None if it fails."""
    try:
        program.check_backward()
        graph = program.build()
        graph.output.backward()
    except (ProgramError, ArithmeticError, ValueError):
        return None
    largest = 0.0
    for node in topological_order(graph.output):
        if not (math.isfinite(node.data) and math.isfinite(node.grad)):
            return None
        if _divides(node) and any(abs(child.data) < NEAR_ZERO for child in node._prev):
            return None
        largest = max(largest, abs(node.data), abs(node.grad))
    return largest


def fresh_program(
    text: str,
    seed,
    *,
    output: str | None = None,
    accept: Callable[[str], Any] | None = None,
) -> tuple[str, Any] | None:
    """New leaves for the program ``text``: (the new text, what ``accept`` made of it, or the
    parsed Program when there is no ``accept``); None when no draw works (or there is no leaf).

    ``accept(new_text)`` may refuse a draw by returning None (a quiz whose wrong answer now
    equals the right one, say)."""
    if not isinstance(text, str) or len(text) > MAX_PROGRAM_CHARS:
        return None
    try:
        program = parse_program(text, output=output)
    except ProgramError:
        return None
    leaves = {name: float(v) for name, v in program.inputs.items()}
    base = _largest(program)
    if not leaves or base is None:
        return None
    bound = GROWTH * max(base, 1.0)
    rng = random.Random(str(seed))
    deadline = time.monotonic() + MAX_SECONDS
    for _ in range(MAX_DRAWS):
        if time.monotonic() > deadline:
            break
        values = {name: draw_leaf(v, rng) for name, v in leaves.items()}
        if values == leaves:
            continue
        new_text = redraw_text(text, values)
        try:
            new_program = parse_program(new_text, output=output)
        except ProgramError:
            continue
        largest = _largest(new_program)
        if largest is None or largest > bound:
            continue
        made = new_program if accept is None else accept(new_text)
        if made is not None:
            return new_text, made
    return None


# ----------------------------------------------------------------------------- quizzes


def quotes_numbers(text) -> bool:
    """Whether a text quotes a number (which the new leaves may have made wrong)."""
    return isinstance(text, str) and bool(_NUMBER.search(text))


def _value_name(spec) -> str | None:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, dict) and isinstance(spec.get("value"), str):
        return spec["value"]
    return None


def _fresh_wrong(wrong: list) -> list:
    """The [[wrong]] answers the engine can recompute on the new numbers (answer_from on the
    quiz's own program), with feedback that quotes old numbers replaced by what the answer is."""
    out = []
    for table in wrong:
        if not isinstance(table, dict):
            continue
        spec = table.get("answer_from")
        if spec is None or (isinstance(spec, dict) and "program" in spec):
            continue  # a literal number (or another program's) belongs to the old numbers
        table = dict(table)
        if quotes_numbers(table.get("feedback")):
            table["feedback"] = f"That answer is {_value_name(spec)} for these numbers."
        out.append(table)
    return out


def _fresh_config(config: dict, new_text: str) -> dict:
    kind = config.get("kind")
    new = {k: v for k, v in config.items() if k not in ("examples", "wrong")}
    spec = config.get("answer_from")
    if isinstance(spec, dict) and "program" in spec:
        new["answer_from"] = {**spec, "program": new_text}
    else:
        new["program"] = new_text
    new["wrong"] = _fresh_wrong(config.get("wrong") or [])
    if not new["wrong"]:
        del new["wrong"]
    new["hints"] = [h for h in config.get("hints") or [] if not quotes_numbers(h)]
    if quotes_numbers(new.get("explanation")):
        del new["explanation"]
    if quotes_numbers(new.get("prompt")):
        if kind == "predict":
            del new["prompt"]  # the reader words it from node and operand
        else:
            what = _value_name(spec) or "the answer"
            new["prompt"] = f"The same question with new numbers: in this program, what is {what}?"
    return new


def _program_of(config: dict) -> str | None:
    """The program a quiz's answer is computed from; None when the answer is a plain number."""
    if config.get("kind") == "predict":
        return config.get("program")
    if config.get("kind") != "numeric" or "answer_from" not in config:
        return None
    spec = config["answer_from"]
    if isinstance(spec, dict) and isinstance(spec.get("program"), str):
        return spec["program"]
    return config.get("program") if isinstance(config.get("program"), str) else None


def fresh_quiz(config: dict, old_answer: float | None, seed, misconceptions=None):
    """(the quiz block ``config`` read again with new leaves, its new program text), or None when
    it has nothing to redraw (choice, order, code, a plain-number answer) or no draw works.

    ``old_answer`` is the right answer on the old numbers: a draw giving another is preferred."""
    from tutor.misconceptions import declared
    from tutor.quiz import read_quiz

    text = _program_of(config)
    if text is None:
        return None

    def reader(differ: bool):
        def accept(new_text: str):
            with declared(misconceptions or {}):
                quiz, problems = read_quiz(_fresh_config(config, new_text))
            if problems or quiz is None:
                return None
            answer = right_number(quiz)
            if answer is None:
                return None
            if differ and old_answer is not None and math.isclose(answer, old_answer, abs_tol=1e-12):
                return None
            return quiz

        return accept

    # new numbers with a new answer if a draw gives one; else new numbers all the same (a relu
    # that is off answers 0 whatever its inputs)
    made = fresh_program(text, seed, accept=reader(True)) or fresh_program(text, seed, accept=reader(False))
    return None if made is None else (made[1], made[0])


def right_number(quiz) -> float | None:
    """The number a numeric or predict quiz wants (None for other kinds)."""
    if quiz.kind == "predict":
        return quiz.question()[0].after
    return quiz.answer if quiz.kind == "numeric" else None
