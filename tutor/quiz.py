"""Quiz questions that name the mistake: reading a ``quiz`` block, grading answers, proving examples.

A lesson's ```quiz block holds TOML; :func:`parse_quiz` turns the parsed table into a
:class:`Quiz` (or raises :class:`QuizConfigError` naming the key that is wrong and what is
allowed). :func:`grade` judges one answer and returns a :class:`Verdict`: right or wrong, the
misconception tags the answer shows (see :mod:`tutor.misconceptions`), and feedback to show.
:func:`check_examples` grades the example answers a teacher listed in the block, for ``tutor check``.

Five kinds of question (the format is documented for teachers in ``docs/quiz-format.md``):

``numeric``  a number, typed in or computed from an expression program by the engine;
             tolerance; tagged wrong answers with their own feedback.
``choice``   options, one or several right; feedback on every option.
``code``     one line of a backward rule or of a training loop, judged by :mod:`tutor.codeline`.
``order``    the steps of a training loop put in order (distractor lines allowed); a wrong order
             is run for real on a small network to show what it does.
``predict``  the debugger's predict-the-gradient step: what will this operand's grad be after
             this node's backward rule runs? Diagnosed by :mod:`tutor.predict_diagnosis`.

Learner text is never evaluated as Python. ``grade`` never raises on learner input: anything it
cannot read comes back as ``message_kind == "unreadable"`` with a plain message.

Pure logic: no Textual.
"""

from __future__ import annotations

import ast
import functools
import math
import random
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

from engine.numfmt import fmt
from tutor import codeline
from tutor.misconceptions import CATALOGUE
from tutor.predict_diagnosis import UNREADABLE as NUMBER_UNREADABLE
from tutor.predict_diagnosis import GradQuestion, close_enough, diagnose, parse_number

__all__ = [
    "KINDS",
    "ROLES",
    "QuizConfigError",
    "Quiz",
    "Example",
    "Verdict",
    "parse_quiz",
    "grade",
    "check_examples",
]

KINDS = ("numeric", "choice", "code", "order", "predict")
ROLES = ("forward", "loss", "zero_grad", "backward", "update")
DEFAULT_TOLERANCE = 5e-5  # half of the last of four decimals, as the debugger shows numbers
DEFAULT_REL_TOLERANCE = 1e-6
MAX_ANSWER_CHARS = 2000  # for choice and order answers typed as text

_COMMON = {"kind", "prompt", "hints", "max_tries", "explanation", "examples"}
_KEYS = {
    "numeric": _COMMON | {"program", "answer", "answer_from", "tolerance", "rel_tolerance", "wrong"},
    "choice": _COMMON | {"options", "multiple"},
    "code": _COMMON | {"rule", "expect", "wrong"},
    "order": _COMMON | {"steps", "distractors", "run"},
    "predict": _COMMON | {"program", "node", "operand", "wrong"},
}


# ----------------------------------------------------------------------------- errors


class QuizConfigError(Exception):
    """A quiz block that is not right: ``keypath`` names the key, ``message`` says what is allowed.

    ``keypath`` is a tuple of strings from the top of the block; an element made only of digits
    is a 0-based index into an array of tables, so ``("options", "2", "feedback")`` is the
    ``feedback`` key of the third ``[[options]]`` table.
    """

    def __init__(self, keypath: tuple[str, ...] | list[str], message: str):
        self.keypath = tuple(str(k) for k in keypath)
        self.message = message
        super().__init__(f"{self.dotted}: {message}" if self.keypath else message)

    @property
    def dotted(self) -> str:
        out = ""
        for k in self.keypath:
            out += f"[{k}]" if k.isdigit() else (f".{k}" if out else k)
        return out


def _err(path, message) -> QuizConfigError:
    return QuizConfigError(tuple(path), message)


def _type_name(value) -> str:
    return {
        bool: "true/false",
        int: "a whole number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _need(table: dict, key: str, types, path, what: str, *, required=True, default=None):
    if key not in table:
        if required:
            raise _err(path + [key], f"missing; give {what}")
        return default
    value = table[key]
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in _as_tuple(types))
    if not ok:
        raise _err(path + [key], f"must be {what}, not {_type_name(value)}")
    return value


def _as_tuple(types):
    return types if isinstance(types, tuple) else (types,)


def _no_unknown(table: dict, allowed: set[str], path, where: str):
    for key in table:
        if key not in allowed:
            raise _err(
                path + [key],
                f"unknown key {key!r} in {where}; allowed: {', '.join(sorted(allowed))}",
            )


def _tag(table: dict, path, *, required=False) -> str | None:
    tag = _need(table, "tag", str, path, "a misconception tag", required=required)
    if tag is not None and tag not in CATALOGUE:
        raise _err(path + ["tag"], f"unknown misconception tag {tag!r}; known: {', '.join(CATALOGUE)}")
    return tag


def _tables(config: dict, key: str, path, what: str, *, required=True) -> list[dict]:
    value = config.get(key)
    if value is None:
        if required:
            raise _err(path + [key], f"missing; give {what}")
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _err(path + [key], f"must be an array of tables ([[{key}]] sections): {what}")
    return value


# ----------------------------------------------------------------------------- the quiz objects


@dataclass(frozen=True)
class Example:
    """An answer listed in the block with the verdict (and tags) it must get."""

    answer: Any
    verdict: str  # "right" | "wrong" | "unreadable"
    tags: tuple[str, ...] | None  # None: tags not checked; () : must hit no tag


@dataclass(frozen=True)
class WrongAnswer:
    """A teacher's known wrong answer: a number (numeric, predict) or a line (code)."""

    value: Any
    tag: str | None
    feedback: str


@dataclass(frozen=True)
class Option:
    text: str
    correct: bool
    feedback: str
    tag: str | None  # a wrong option: hit when chosen; a right option: hit when missed


@dataclass(frozen=True)
class Item:
    """One line of an order question: a real step (with its role) or a distractor."""

    text: str
    role: str | None  # one of ROLES, or None for a distractor
    feedback: str = ""
    tag: str | None = None


@dataclass
class Verdict:
    """What :func:`grade` says about one answer."""

    correct: bool
    tags: list[str]
    feedback: str
    message_kind: str  # "right" | "wrong" | "unreadable"

    @property
    def counts(self) -> bool:
        """Whether the answer counts as a try (an unreadable one does not)."""
        return self.message_kind != "unreadable"


@dataclass
class Quiz:
    """A parsed ``quiz`` block. Fields after ``examples`` are used by some kinds only."""

    kind: str
    prompt: str
    hints: list[str]
    max_tries: int | None
    examples: list[Example]
    explanation: str = ""
    program: str | None = None  # shown under the prompt (numeric with a program; predict)
    # numeric
    answer: float | None = None
    tolerance: float = DEFAULT_TOLERANCE
    rel_tolerance: float = DEFAULT_REL_TOLERANCE
    wrong: list[WrongAnswer] = field(default_factory=list)
    # choice
    options: list[Option] = field(default_factory=list)
    multiple: bool = False
    # code
    rule: str | None = None
    expect: str | None = None
    # order
    steps: list[Item] = field(default_factory=list)  # the right order
    items: list[Item] = field(default_factory=list)  # every line, in the order they are shown
    run: bool = True
    # predict
    node: str | None = None
    operand: str | None = None

    # -- what screens need ---------------------------------------------------------------

    @property
    def answer_help(self) -> str:
        """A short line telling the learner what shape of answer to type."""
        if self.kind in ("numeric", "predict"):
            return "type a number, like -4 or 0.5"
        if self.kind == "choice":
            return "pick the options that are right" if self.multiple else "pick one option"
        if self.kind == "code":
            return f"type one line of {codeline.RULES[self.rule].description}"
        return "put the steps in order; leave out lines that do not belong"

    def solution(self) -> str:
        """The right answer, written out for the learner (shown after giving up)."""
        if self.kind == "numeric":
            return f"The answer is {fmt(self.answer)}."
        if self.kind == "choice":
            right = [f"{i}. {o.text}" for i, o in enumerate(self.options, 1) if o.correct]
            head = "The right options are:" if len(right) > 1 else "The right option is:"
            return head + "\n" + "\n".join(right)
        if self.kind == "code":
            return f"One right line: {self.expect}"
        if self.kind == "order":
            return "The loop in order:\n" + "\n".join(f"{i}. {s.text}" for i, s in enumerate(self.steps, 1))
        q, line = _predict_question(self)
        return f"{q.operand}.grad = {fmt(q.after)} after {q.node}'s step: {line}"


# ----------------------------------------------------------------------------- parsing


def parse_quiz(config: dict) -> Quiz:
    """Build a :class:`Quiz` from the parsed TOML of a ```quiz block.

    Raises :class:`QuizConfigError` for a missing or unknown key, a value of the wrong type, or a
    block that cannot work (a program that does not run, an expected line the judge cannot read,
    a wrong answer equal to the right one, an example that is not a possible answer).
    """
    if not isinstance(config, dict):
        raise _err([], "a quiz block must be a TOML table of keys")
    kind = _need(config, "kind", str, [], "the kind of question: " + ", ".join(KINDS))
    if kind not in KINDS:
        raise _err(["kind"], f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    _no_unknown(config, _KEYS[kind], [], f"a {kind} quiz")
    prompt = _need(config, "prompt", str, [], "the question, as text", required=kind != "predict")
    if prompt is not None and not prompt.strip():
        raise _err(["prompt"], "the question is empty")
    hints = _need(
        config, "hints", list, [], "a list of hint texts, shown one at a time", required=False, default=[]
    )
    for i, h in enumerate(hints):
        if not isinstance(h, str) or not h.strip():
            raise _err(["hints", str(i)], "each hint must be a non-empty text")
    max_tries = _need(config, "max_tries", int, [], "a whole number of tries (1 or more)", required=False)
    if max_tries is not None and max_tries < 1:
        raise _err(["max_tries"], "must be 1 or more")
    explanation = _need(
        config, "explanation", str, [], "text shown once the question is answered", required=False, default=""
    )

    quiz = Quiz(
        kind=kind,
        prompt=(prompt or "").strip(),
        hints=list(hints),
        max_tries=max_tries,
        examples=[],
        explanation=explanation.strip(),
    )
    {
        "numeric": _parse_numeric,
        "choice": _parse_choice,
        "code": _parse_code,
        "order": _parse_order,
        "predict": _parse_predict,
    }[kind](config, quiz)
    quiz.examples = _parse_examples(config, quiz)
    return quiz


def _number(table, key, path, what, *, required=True, default=None):
    value = _need(table, key, (int, float), path, what, required=required, default=default)
    if value is not None and not math.isfinite(value):
        raise _err(path + [key], "must be a finite number")
    return value


def _parse_numeric(config: dict, quiz: Quiz) -> None:
    quiz.program = _need(config, "program", str, [], "an expression program (text)", required=False)
    if quiz.program is not None:
        _run_program(quiz.program, ["program"])
    quiz.answer = _answer_value(config, [], quiz.program, "the right answer")
    quiz.tolerance = _number(
        config,
        "tolerance",
        [],
        "a number (how far off an answer may be)",
        required=False,
        default=DEFAULT_TOLERANCE,
    )
    quiz.rel_tolerance = _number(
        config,
        "rel_tolerance",
        [],
        "a number (a fraction of the answer)",
        required=False,
        default=DEFAULT_REL_TOLERANCE,
    )
    for key in ("tolerance", "rel_tolerance"):
        if getattr(quiz, key) < 0:
            raise _err([key], "must not be negative")
    quiz.wrong = _parse_wrong_numbers(config, quiz, lambda v: _numbers_close(v, quiz.answer, quiz))


def _answer_value(table: dict, path, program: str | None, what: str) -> float:
    has_answer, has_from = "answer" in table, "answer_from" in table
    if has_answer and has_from:
        raise _err(path + ["answer_from"], "give either answer or answer_from, not both")
    if not has_answer and not has_from:
        raise _err(
            path + ["answer"],
            f'missing; give {what} as answer = <number> or answer_from = {{ program = ..., value = "a.grad" }}',
        )
    if has_answer:
        return float(_number(table, "answer", path, "a number"))
    spec = table["answer_from"]
    spec_path = path + ["answer_from"]
    if isinstance(spec, str):
        if program is None:
            raise _err(
                spec_path,
                "a text answer_from needs the quiz's program key; "
                "or write answer_from = { program = ..., value = ... }",
            )
        spec_program, value, program_path, value_path = program, spec, ["program"], spec_path
    elif isinstance(spec, dict):
        _no_unknown(spec, {"program", "value"}, spec_path, "answer_from")
        own = _need(spec, "program", str, spec_path, "an expression program (text)", required=program is None)
        spec_program = own if own is not None else program
        program_path = spec_path + ["program"] if own is not None else ["program"]
        value = _need(spec, "value", str, spec_path, 'what to read, e.g. "a.grad", "L" or "b.data * e.grad"')
        value_path = spec_path + ["value"]
    else:
        raise _err(
            spec_path, f'must be a table {{ program = ..., value = "a.grad" }}, not {_type_name(spec)}'
        )
    graph_values = _run_program(spec_program, program_path)
    try:
        return _evaluate_value(value, graph_values)
    except ValueError as err:
        raise _err(value_path, str(err)) from None


def _parse_wrong_numbers(config: dict, quiz: Quiz, equals_right) -> list[WrongAnswer]:
    out = []
    for i, table in enumerate(_tables(config, "wrong", [], "known wrong answers", required=False)):
        path = ["wrong", str(i)]
        _no_unknown(table, {"answer", "answer_from", "tag", "feedback"}, path, "a [[wrong]] answer")
        value = _answer_value(table, path, quiz.program, "the wrong answer")
        tag = _tag(table, path)
        feedback = _need(table, "feedback", str, path, "what to tell a learner who gives this answer")
        if equals_right(value):
            raise _err(
                path + ["answer"],
                f"this wrong answer ({fmt(value)}) is the right answer, within the tolerance",
            )
        out.append(WrongAnswer(value, tag, feedback.strip()))
    return out


def _parse_choice(config: dict, quiz: Quiz) -> None:
    tables = _tables(config, "options", [], "the options, each with text, correct and feedback")
    if len(tables) < 2:
        raise _err(["options"], "give at least two [[options]]")
    if len(tables) > 9:
        raise _err(["options"], "give at most nine [[options]], so each has one key to press")
    for i, table in enumerate(tables):
        path = ["options", str(i)]
        _no_unknown(table, {"text", "correct", "feedback", "tag"}, path, "an [[options]] table")
        text = _need(table, "text", str, path, "the option's text")
        correct = _need(table, "correct", bool, path, "true or false", required=False, default=False)
        feedback = _need(table, "feedback", str, path, "what to say when this option is chosen")
        quiz.options.append(Option(text.strip(), correct, feedback.strip(), _tag(table, path)))
    n_right = sum(o.correct for o in quiz.options)
    if n_right == 0:
        raise _err(["options"], "no option has correct = true")
    multiple = _need(config, "multiple", bool, [], "true or false", required=False)
    if multiple is False and n_right > 1:
        raise _err(["multiple"], f"multiple = false, but {n_right} options have correct = true")
    quiz.multiple = n_right > 1 if multiple is None else multiple


def _parse_code(config: dict, quiz: Quiz) -> None:
    rule_name = _need(
        config, "rule", str, [], "the rule or loop the line belongs to: " + ", ".join(codeline.RULES)
    )
    if rule_name not in codeline.RULES:
        raise _err(["rule"], f"unknown rule {rule_name!r}; choose one of {', '.join(codeline.RULES)}")
    rule = codeline.RULES[rule_name]
    expect = _need(config, "expect", str, [], "the right line, e.g. 'self.grad += other.data * out.grad'")
    expected = _read_teacher_line(expect, rule, ["expect"])
    quiz.rule, quiz.expect = rule_name, expected.text
    for i, table in enumerate(_tables(config, "wrong", [], "known wrong lines", required=False)):
        path = ["wrong", str(i)]
        _no_unknown(table, {"answer", "tag", "feedback"}, path, "a [[wrong]] line")
        text = _need(table, "answer", str, path, "the wrong line")
        line = _read_teacher_line(text, rule, path + ["answer"])
        if codeline.same_effect(line, expected, rule):
            raise _err(path + ["answer"], "this wrong line does the same as the expected line")
        quiz.wrong.append(
            WrongAnswer(
                line,
                _tag(table, path),
                _need(table, "feedback", str, path, "what to tell the learner").strip(),
            )
        )


def _read_teacher_line(text: str, rule: codeline.Rule, path) -> codeline.Line:
    try:
        line = codeline.read_line(text, rule)
    except codeline.UnreadableLine as err:
        raise _err(path, f"the judge cannot read this line: {err.message}") from None
    verdict = codeline.judge_line(text, line, rule)
    if not verdict.correct:  # e.g. divides by zero on some values
        raise _err(path, f"the judge cannot use this line: {verdict.message}")
    return line


def _parse_order(config: dict, quiz: Quiz) -> None:
    for i, table in enumerate(
        _tables(config, "steps", [], "the loop's steps in the right order, each with text and role")
    ):
        path = ["steps", str(i)]
        _no_unknown(table, {"text", "role"}, path, "a [[steps]] table")
        text = _need(table, "text", str, path, "the line as the learner sees it")
        role = _need(table, "role", str, path, "what the step does: " + ", ".join(ROLES))
        if role not in ROLES:
            raise _err(path + ["role"], f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
        quiz.steps.append(Item(text.strip(), role))
    roles = [s.role for s in quiz.steps]
    for role in ("forward", "loss", "backward", "update"):
        if role not in roles:
            raise _err(["steps"], f"the loop has no step with role = {role!r}")
    if not _order_problems(list(range(len(quiz.steps))), quiz.steps) == []:
        raise _err(
            ["steps"], "the steps are not in a right order (forward, loss, zero_grad, backward, update)"
        )
    distractors = []
    for i, table in enumerate(_tables(config, "distractors", [], "lines that do not belong", required=False)):
        path = ["distractors", str(i)]
        _no_unknown(table, {"text", "feedback", "tag"}, path, "a [[distractors]] table")
        text = _need(table, "text", str, path, "the line as the learner sees it")
        feedback = _need(table, "feedback", str, path, "why this line does not belong")
        distractors.append(Item(text.strip(), None, feedback.strip(), _tag(table, path)))
    texts = [it.text for it in quiz.steps + distractors]
    for i, text in enumerate(texts):
        if texts.index(text) != i:
            raise _err(["steps"], f"two lines have the same text {text!r}; make each line different")
    if len(texts) > 9:
        raise _err(["steps"], "give at most nine lines in all (steps and distractors)")
    quiz.items = _shuffled(quiz.steps + distractors)
    quiz.run = _need(config, "run", bool, [], "true or false", required=False, default=True)


def _shuffled(items: list[Item]) -> list[Item]:
    """The lines in a scrambled order that is the same every time (seeded by their text)."""
    rng = random.Random(zlib.crc32("\n".join(i.text for i in items).encode()))
    out = list(items)
    rng.shuffle(out)
    if out == items and len(out) > 1:
        out = out[1:] + out[:1]
    return out


def _parse_predict(config: dict, quiz: Quiz) -> None:
    quiz.program = _need(config, "program", str, [], "an expression program (text)")
    quiz.node = _need(config, "node", str, [], "the name of the node whose backward rule runs")
    quiz.operand = _need(
        config, "operand", str, [], "the name of the operand whose grad the learner predicts"
    )
    q, _ = _predict_question(quiz)  # raises QuizConfigError for a node or operand that does not fit
    if not quiz.prompt:
        quiz.prompt = (
            f"{quiz.node}'s backward rule is about to run. What will {quiz.operand}.grad be right after it?"
        )
    quiz.wrong = _parse_wrong_numbers(config, quiz, lambda v: close_enough(v, q.after))


def _parse_examples(config: dict, quiz: Quiz) -> list[Example]:
    out = []
    for i, table in enumerate(_tables(config, "examples", [], "example answers", required=False)):
        path = ["examples", str(i)]
        _no_unknown(table, {"answer", "verdict", "tag", "tags"}, path, "an [[examples]] table")
        if "answer" not in table:
            raise _err(path + ["answer"], "missing; give the example answer")
        answer = table["answer"]
        allowed = {
            "numeric": (str, int, float),
            "predict": (str, int, float),
            "code": (str,),
            "choice": (str, int, list),
            "order": (str, list),
        }[quiz.kind]
        if isinstance(answer, bool) or not isinstance(answer, allowed):
            raise _err(path + ["answer"], f"a {quiz.kind} answer cannot be {_type_name(answer)}")
        verdict = _need(table, "verdict", str, path, '"right", "wrong" or "unreadable"')
        if verdict not in ("right", "wrong", "unreadable"):
            raise _err(path + ["verdict"], f'must be "right", "wrong" or "unreadable", not {verdict!r}')
        tags = None
        if "tag" in table and "tags" in table:
            raise _err(path + ["tags"], "give tag or tags, not both")
        if "tag" in table:
            tags = (_tag(table, path, required=True),)
        elif "tags" in table:
            raw = _need(table, "tags", list, path, "a list of misconception tags")
            for j, t in enumerate(raw):
                if not isinstance(t, str) or t not in CATALOGUE:
                    raise _err(path + ["tags", str(j)], f"unknown misconception tag {t!r}")
            tags = tuple(raw)
        if tags and verdict != "wrong":
            raise _err(path + ["tag"], "only a wrong answer can hit a misconception tag")
        out.append(Example(answer, verdict, tags))
    return out


# ----------------------------------------------------------------------------- programs


def _run_program(text: str, path) -> dict[str, tuple[float, float]]:
    """Run an expression program with the engine, backward included: name -> (data, grad)."""
    try:
        return dict(_program_values(text))
    except QuizConfigError as err:
        raise _err(path, err.message) from None


@functools.lru_cache(maxsize=64)
def _program_values(text: str) -> tuple[tuple[str, tuple[float, float]], ...]:
    try:
        from engine.expr import ProgramError, parse_program  # the engine's safe expression language
    except ImportError:  # pragma: no cover - only while the engine is being written
        raise QuizConfigError((), "the engine's expression language (engine.expr) is not available") from None
    try:
        graph = parse_program(text).build()
        graph.output.backward()
    except ProgramError as err:
        raise QuizConfigError((), f"the program does not run: {err}") from None
    return tuple((name, (v.data, v.grad)) for name, v in graph.values.items())


_REF = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _evaluate_value(text: str, values: dict[str, tuple[float, float]]) -> float:
    """Evaluate ``a.grad``, ``L``, ``-2 * a.data`` ... over a program's values.

    A small whitelist over :mod:`ast` (numbers, names, .data/.grad, + - * / **, unary -), never eval.
    """
    if len(text) > 500:
        raise ValueError('the value is too long; write something like "a.grad"')
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ValueError(
            f'cannot read {text!r}; write something like "a.grad" or "b.data * e.grad"'
        ) from None

    def ev(node) -> float:
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, (int, float))
            and not isinstance(node.value, bool)
        ):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in values:
                raise ValueError(f"the program has no value named {node.id!r}")
            return values[node.id][0]
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id not in values:
                raise ValueError(f"the program has no value named {node.value.id!r}")
            if node.attr not in ("data", "grad"):
                raise ValueError(f"read .data or .grad, not .{node.attr}")
            return values[node.value.id][0 if node.attr == "data" else 1]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and isinstance(
            node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
        ):
            a, b = ev(node.left), ev(node.right)
            try:
                if isinstance(node.op, ast.Pow):
                    if abs(b) > 64:
                        raise ValueError("an exponent above 64 is not allowed here")
                    r = a**b
                else:
                    r = {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}.get(type(node.op))
                    if r is None:
                        r = a / b
            except (ZeroDivisionError, OverflowError):
                raise ValueError(f"{text!r} divides by zero or overflows") from None
            if isinstance(r, complex) or not math.isfinite(r):
                raise ValueError(f"{text!r} does not give a finite number")
            return r
        raise ValueError(f"{text!r}: only numbers, names, .data, .grad and + - * / ** are allowed")

    return ev(tree.body)


def _predict_question(quiz: Quiz) -> tuple[GradQuestion, str]:
    """The debugger's question for this quiz, from a real run of the program, and the chain-rule line."""
    return _predict_cached(quiz.program, quiz.node, quiz.operand)


@functools.lru_cache(maxsize=64)
def _predict_cached(program: str, node_name: str, operand_name: str) -> tuple[GradQuestion, str]:
    try:
        from engine.expr import ProgramError, parse_program
        from engine.stepper import Stepper
    except ImportError:  # pragma: no cover - only while the engine is being written
        raise _err(["program"], "the engine's expression language (engine.expr) is not available") from None
    try:
        graph = parse_program(program).build()
    except ProgramError as err:
        raise _err(["program"], f"the program does not run: {err}") from None
    values = graph.values
    if node_name not in values:
        raise _err(["node"], f"the program has no value named {node_name!r}; it has {', '.join(values)}")
    if operand_name not in values:
        raise _err(
            ["operand"], f"the program has no value named {operand_name!r}; it has {', '.join(values)}"
        )
    node, operand = values[node_name], values[operand_name]
    if not node._prev:
        raise _err(["node"], f"{node_name} is an input: it has no backward rule to run")
    if not any(child is operand for child in node._prev):
        raise _err(["operand"], f"{operand_name} is not an operand of {node_name}")
    stepper = Stepper(graph.output)
    index = stepper.step_index(node)
    if index is None:
        raise _err(["node"], f"{node_name} is not on the way to the output")
    step = stepper.steps[index]
    change = next(c for c in step.changes if c.node is operand)
    others = [c for c in node._prev if c is not operand]
    question = GradQuestion(
        operand=operand_name,
        node=node_name,
        op=step.op,
        upstream=step.upstream,
        before=change.before,
        after=change.after,
        local=change.local,
        own_data=operand.data,
        other_data=others[0].data if len(others) == 1 else None,
        n_operands=len(node._prev),
        slots=len(change.slots),
    )
    return question, change.line


# ----------------------------------------------------------------------------- grading


def grade(quiz: Quiz, answer) -> Verdict:
    """Judge one answer. Never raises on learner input."""
    try:
        return _GRADERS[quiz.kind](quiz, answer)
    except QuizConfigError:
        raise
    except Exception as err:  # a bug of ours must not crash the screen; say so plainly
        return Verdict(
            False,
            [],
            f"The grader could not judge that answer ({type(err).__name__}); "
            "please report it. Try writing it another way.",
            "unreadable",
        )


def _read_number(answer) -> float | None:
    if isinstance(answer, bool):
        return None
    if isinstance(answer, (int, float)):
        return float(answer) if math.isfinite(answer) else None
    return parse_number(answer) if isinstance(answer, str) else None


def _numbers_close(value: float, target: float, quiz: Quiz) -> bool:
    diff = abs(value - target)
    return diff <= quiz.tolerance * (1 + 1e-9) or diff <= quiz.rel_tolerance * max(abs(value), abs(target))


def _unreadable_number() -> Verdict:
    return Verdict(False, [], NUMBER_UNREADABLE[0].upper() + NUMBER_UNREADABLE[1:] + ".", "unreadable")


def _tags(*tags) -> list[str]:
    return [t for t in tags if t]


def _grade_numeric(quiz: Quiz, answer) -> Verdict:
    value = _read_number(answer)
    if value is None:
        return _unreadable_number()
    if _numbers_close(value, quiz.answer, quiz):
        return Verdict(True, [], f"Right: the answer is {fmt(quiz.answer)}.", "right")
    for w in quiz.wrong:
        if _numbers_close(value, w.value, quiz):
            return Verdict(False, _tags(w.tag), w.feedback, "wrong")
    if quiz.answer != 0 and _numbers_close(-value, quiz.answer, quiz):
        return Verdict(False, [], "Not quite: the size is right, but check the sign.", "wrong")
    return Verdict(False, [], "Not quite.", "wrong")


def _grade_predict(quiz: Quiz, answer) -> Verdict:
    value = _read_number(answer)
    if value is None:
        return _unreadable_number()
    q, line = _predict_question(quiz)
    verdict = diagnose(q, _fmt_exact(value))
    if verdict.correct:
        return Verdict(True, [], f"Right. The engine's step: {line}", "right")
    for w in quiz.wrong:
        if close_enough(value, w.value):
            return Verdict(False, _tags(w.tag), w.feedback, "wrong")
    if verdict.tag and verdict.tag != "unreadable":
        tag = verdict.tag if verdict.tag in CATALOGUE else None
        return Verdict(False, _tags(tag), verdict.message, "wrong")
    if q.op == "tanh" and q.own_data is not None:
        on_input = q.before + (1 - q.own_data**2) * q.upstream
        if close_enough(value, on_input) and not close_enough(on_input, q.after):
            return Verdict(
                False,
                ["tanh-on-input"],
                f"Not quite. That is 1 - x² with x = {q.operand}.data, the input. tanh's "
                f"derivative is 1 - out², with out = {q.node}.data, the output.",
                "wrong",
            )
    return Verdict(False, [], verdict.message, "wrong")


def _fmt_exact(x: float) -> str:
    return repr(float(x))


def _parse_indices(answer, n: int, noun: str) -> list[int] | str:
    """1-based numbers from a list or from text like "1,3" / "2 4"; or a message saying what is wrong."""
    if isinstance(answer, bool):
        return f"enter {noun} numbers, like 2 or 1,3"
    if isinstance(answer, int):
        numbers = [answer]
    elif isinstance(answer, str):
        if len(answer) > MAX_ANSWER_CHARS:
            return f"that answer is {len(answer):,} characters long; enter {noun} numbers, like 1,3"
        parts = [p for p in re.split(r"[\s,;]+", answer.strip()) if p]
        if not parts or not all(p.isascii() and p.isdigit() and len(p) <= 3 for p in parts):
            return f"enter {noun} numbers, like 2 or 1,3"
        numbers = [int(p) for p in parts]
    elif isinstance(answer, (list, tuple)) and all(
        isinstance(a, int) and not isinstance(a, bool) for a in answer
    ):
        numbers = list(answer)
    else:
        return f"enter {noun} numbers, like 2 or 1,3"
    for k in numbers:
        if not 1 <= k <= n:
            return f"there is no {noun} {k}: they are numbered 1 to {n}"
    if len(set(numbers)) != len(numbers):
        return "each number may appear only once"
    return numbers


def _grade_choice(quiz: Quiz, answer) -> Verdict:
    picked = _parse_indices(answer, len(quiz.options), "option")
    if isinstance(picked, str):
        return Verdict(False, [], picked[0].upper() + picked[1:] + ".", "unreadable")
    if not picked:
        return Verdict(False, [], "Pick at least one option.", "unreadable")
    if not quiz.multiple and len(picked) > 1:
        return Verdict(False, [], "Pick one option only.", "unreadable")
    chosen = set(picked)
    right = {i for i, o in enumerate(quiz.options, 1) if o.correct}
    lines, tags = [], []
    for k in sorted(chosen):
        o = quiz.options[k - 1]
        lines.append(f"{k}. {o.feedback}")
        if not o.correct and o.tag:
            tags.append(o.tag)
    missed = right - chosen
    if chosen == right:
        return Verdict(True, [], "Right.\n" + "\n".join(lines), "right")
    if missed and not (chosen - right):
        lines.append("Some right options are still missing." if len(right) > 1 else "")
    elif missed and len(right) > 1:
        lines.append("Some right options are missing too.")
    for k in sorted(missed):
        tag = quiz.options[k - 1].tag
        if tag and tag not in tags:
            tags.append(tag)
    return Verdict(False, tags, "Not quite.\n" + "\n".join(x for x in lines if x), "wrong")


def _grade_code(quiz: Quiz, answer) -> Verdict:
    rule = codeline.RULES[quiz.rule]
    if not isinstance(answer, str):
        return Verdict(False, [], "Type the line as text.", "unreadable")
    verdict = codeline.judge_line(answer, quiz.expect, rule)
    if verdict.kind == "wrong":
        try:
            line = codeline.read_line(answer, rule)
        except codeline.UnreadableLine:  # pragma: no cover - judge_line read it already
            line = None
        for w in quiz.wrong:
            if line is not None and codeline.same_effect(line, w.value, rule):
                return Verdict(False, _tags(w.tag), w.feedback, "wrong")
    return Verdict(verdict.correct, verdict.tags, verdict.message, verdict.kind)


# -- order ------------------------------------------------------------------------------------


def _parse_order_answer(quiz: Quiz, answer) -> list[int] | str:
    """Indices into quiz.items, from texts, roles, 1-based numbers, or text like "3,1,2"."""
    n = len(quiz.items)
    if isinstance(answer, str):
        if len(answer) > MAX_ANSWER_CHARS:
            return f"that answer is {len(answer):,} characters long; enter step numbers like 3,1,2"
        if re.fullmatch(r"[\s\d,;]*", answer):
            numbers = _parse_indices(answer, n, "line")
            return numbers if isinstance(numbers, str) else [k - 1 for k in numbers]
        answer = [line for line in answer.splitlines() if line.strip()]
    if not isinstance(answer, (list, tuple)):
        return "enter the lines in order, or their numbers like 3,1,2"
    out = []
    for part in answer:
        if isinstance(part, int) and not isinstance(part, bool):
            if not 1 <= part <= n:
                return f"there is no line {part}: they are numbered 1 to {n}"
            out.append(part - 1)
            continue
        if not isinstance(part, str):
            return "enter the lines in order, or their numbers like 3,1,2"
        text = part.strip()
        index = next((i for i, it in enumerate(quiz.items) if it.text == text), None)
        if index is None:
            by_role = [i for i, it in enumerate(quiz.items) if it.role == text]
            if len(by_role) == 1:
                index = by_role[0]
        if index is None and text.isascii() and text.isdigit() and 1 <= int(text) <= n:
            index = int(text) - 1
        if index is None:
            shown = text if len(text) <= 40 else text[:40] + "…"
            return f"{shown!r} is not one of the lines"
        out.append(index)
    if len(set(out)) != len(out):
        return "each line may appear only once"
    return out


def _order_problems(order: list[int], items: list[Item]) -> list[tuple[str | None, str]]:
    """(tag, message) for each way the roles in ``order`` break the training loop."""
    roles = [items[i].role for i in order if items[i].role]
    first = {}
    last = {}
    for pos, role in enumerate(roles):
        first.setdefault(role, pos)
        last[role] = pos
    problems = []
    if "forward" in first and "loss" in first and first["loss"] < last["forward"]:
        problems.append((None, "the loss is computed from the predictions, so the forward pass comes first"))
    if "loss" in first and "backward" in first and first["backward"] < last["loss"]:
        problems.append((None, "backward starts from the loss, so the loss must be computed before it"))
    if "backward" in first and "update" in first and first["update"] < last["backward"]:
        problems.append(
            (
                "update-before-backward",
                "the update comes before backward, so it uses gradients that are zero or left over "
                "from the step before",
            )
        )
    if "zero_grad" in first and "backward" in first and "update" in first:
        for pos, role in enumerate(roles):
            if role == "zero_grad" and first["backward"] < pos < first["update"]:
                problems.append(
                    (
                        "zero-grad-after-backward",
                        "zero_grad between backward and the update wipes the fresh gradients "
                        "before they are used",
                    )
                )
                break
    return problems


def _grade_order(quiz: Quiz, answer) -> Verdict:
    order = _parse_order_answer(quiz, answer)
    if isinstance(order, str):
        return Verdict(False, [], order[0].upper() + order[1:] + ".", "unreadable")
    if not order:
        return Verdict(False, [], "Choose the lines of the loop, in order.", "unreadable")
    tags: list[str] = []
    notes: list[str] = []
    for i in order:
        item = quiz.items[i]
        if item.role is None:
            notes.append(f"'{item.text}' does not belong in the loop: {item.feedback.rstrip('.')}")
            if item.tag:
                tags.append(item.tag)
    used = {quiz.items[i].text for i in order}
    missing = [s for s in quiz.steps if s.text not in used]
    if any(s.role == "zero_grad" for s in missing):
        tags.append("forgot-zero-grad")
        notes.append("there is no zero_grad: the gradients of every step pile up on the ones before")
    others = [s for s in missing if s.role != "zero_grad"]
    if others:
        notes.append("the loop also needs " + ", ".join(f"'{s.text}'" for s in others))
    problems = _order_problems(order, quiz.items)
    for tag, note in problems:
        if tag:
            tags.append(tag)
        notes.append(note)
    if not notes:
        chosen_roles = [quiz.items[i].role for i in order]
        message = "Right: forward, loss, backward, update, with zero_grad before backward."
        if chosen_roles != [s.role for s in quiz.steps]:
            message = (
                "Right. Your order differs from the usual one but does the same: zero_grad anywhere "
                "outside backward → update works, because the gradients start at 0."
            )
        return Verdict(True, [], message, "right")
    feedback = "Not quite: " + "; ".join(notes) + "."
    if quiz.run and not others and not any(quiz.items[i].role is None for i in order) and tags:
        summary = _run_summary(tuple(quiz.items[i].role for i in order), tuple(s.role for s in quiz.steps))
        if summary:
            feedback += "\n\n" + summary
    return Verdict(False, list(dict.fromkeys(tags)), feedback, "wrong")


RUN_STEPS = 30
RUN_LR = 0.05
RUN_SEED = 1


@functools.lru_cache(maxsize=32)
def _run_roles(roles: tuple[str, ...]) -> tuple[list[float], float, str | None]:
    """Train MLP(3, [4, 4, 1]) on the seeds' four samples doing ``roles`` in that order each step.

    Returns the loss after each step, the size of the gradient at the end, and a reason if the
    loss stopped being finite. This is a real run of the engine, nothing is canned.
    """
    from engine.data import seeds
    from engine.losses import sse
    from engine.nn import MLP

    model, data = MLP(3, [4, 4, 1], seed=RUN_SEED), seeds()
    params = model.parameters()
    losses: list[float] = []
    predictions = loss = None
    for step in range(1, RUN_STEPS + 1):
        for role in roles:
            if role == "forward":
                predictions = [model(x) for x in data.xs]
            elif role == "loss":
                loss = sse(predictions, data.ys)
            elif role == "zero_grad":
                for p in params:
                    p.grad = 0.0
            elif role == "backward":
                loss.backward()
            elif role == "update":
                for p in params:
                    p.data -= RUN_LR * p.grad
        losses.append(loss.data)
        if not math.isfinite(loss.data):
            return losses, math.nan, f"the loss became {loss.data} at step {step}"
    norm = math.sqrt(sum(p.grad**2 for p in params))
    return losses, norm, None


def _run_summary(roles: tuple[str, ...], right: tuple[str, ...]) -> str:
    try:
        mine, mine_norm, stopped = _run_roles(roles)
        good, good_norm, _ = _run_roles(right)
    except Exception:  # the engine is not there or cannot run this: say nothing rather than crash
        return ""
    head = (
        f"What this order does, for real (MLP(3, [4, 4, 1]) on the seeds' four samples, "
        f"lr {RUN_LR}, {RUN_STEPS} steps):"
    )
    if stopped:
        yours = f"  your order:  {stopped}"
    else:
        yours = (
            f"  your order:  loss {fmt(mine[0])} → {fmt(mine[-1])}, gradient size at the end {fmt(mine_norm)}"
        )
    ours = f"  right order: loss {fmt(good[0])} → {fmt(good[-1])}, gradient size at the end {fmt(good_norm)}"
    lines = [head, yours, ours]
    if not stopped and all(x == mine[0] for x in mine):
        lines.append("The loss never moves: the updates never see a gradient.")
    elif not stopped and mine_norm > 5 * max(good_norm, 1e-12):
        lines.append(
            "The gradients pile up: they stay large where the loss is flat, so they no longer "
            "say which way is downhill."
        )
    elif not stopped and roles.index("update") < roles.index("backward") and mine[-1] < mine[0]:
        lines.append(
            "It still learns here, one step late: each update uses the gradient of the "
            "weights as they were a step before, not as they are now."
        )
    return "\n".join(lines)


_GRADERS = {
    "numeric": _grade_numeric,
    "choice": _grade_choice,
    "code": _grade_code,
    "order": _grade_order,
    "predict": _grade_predict,
}


# ----------------------------------------------------------------------------- examples


def check_examples(quiz: Quiz) -> list[tuple[int, str]]:
    """Grade every example the block lists; (0-based example index, what came out differently)."""
    problems = []
    for i, ex in enumerate(quiz.examples):
        v = grade(quiz, ex.answer)
        got = "right" if v.correct else v.message_kind
        shown = (
            repr(ex.answer)
            if not isinstance(ex.answer, str) or len(ex.answer) < 60
            else repr(ex.answer[:57] + "...")
        )
        if got != ex.verdict:
            problems.append(
                (
                    i,
                    f"example {shown} should be {ex.verdict} but the grader says {got}"
                    + (f" ({', '.join(v.tags)})" if v.tags else ""),
                )
            )
            continue
        if ex.tags is not None:
            missing = [t for t in ex.tags if t not in v.tags]
            if missing or (ex.tags == () and v.tags):
                want = ", ".join(ex.tags) or "no tag"
                have = ", ".join(v.tags) or "no tag"
                problems.append((i, f"example {shown} should hit {want} but the grader found {have}"))
    return problems
