"""What every kind of quiz shares: the quiz object and its verdict, the keys every quiz block
has, example answers, misconception tags, and reading numbers and numbered answers.

Each kind's module (``numeric``, ``choice``, ``code``, ``order``, ``predict``) describes its own
keys with :mod:`tutor.schema` and subclasses :class:`Quiz` with its grading, its solution and the
line that says what shape of answer to type.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from tutor.misconceptions import Misconception, describe, known
from tutor.predict_diagnosis import UNREADABLE as NUMBER_UNREADABLE
from tutor.predict_diagnosis import parse_number
from tutor.schema import Issue, Issues, Key, Table, did_you_mean, dotted

__all__ = [
    "DEFAULT_REL_TOLERANCE",
    "DEFAULT_TOLERANCE",
    "MAX_ANSWER_CHARS",
    "Example",
    "Quiz",
    "QuizConfigError",
    "Verdict",
    "WrongAnswer",
    "quiz_table",
    "tag_key",
]

DEFAULT_TOLERANCE = 5e-5  # half of the last of four decimals, as the debugger shows numbers
DEFAULT_REL_TOLERANCE = 1e-6
MAX_ANSWER_CHARS = 2000  # for choice and order answers typed as text
VERDICTS = ("right", "wrong", "unreadable")


class QuizConfigError(Exception):
    """A quiz block that is not right. ``problems`` lists every :class:`~tutor.schema.Issue`
    found; ``keypath`` and ``message`` are the first one's (``keypath`` is a tuple of strings
    from the top of the block; an element made only of digits is a 0-based index into an array
    of tables, so ``("options", "2", "feedback")`` is the ``feedback`` key of the third
    ``[[options]]`` table)."""

    def __init__(self, problems: list[Issue]):
        self.problems = list(problems)
        first = self.problems[0]
        self.keypath = first.path
        self.message = first.message
        more = len(self.problems) - 1
        text = f"{self.dotted}: {self.message}" if self.keypath else self.message
        super().__init__(text + (f" (and {more} more problem{'s' * (more > 1)})" if more else ""))

    @property
    def dotted(self) -> str:
        return dotted(self.keypath)


# ----------------------------------------------------------------------------- the objects


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


@dataclass
class Verdict:
    """What grading says about one answer."""

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
    """A parsed ``quiz`` block; each kind is a subclass (``kind`` names it).

    Every quiz has ``options`` (choice), ``items`` and ``multiple`` too, empty where its kind has
    none, so a screen can ask any quiz for them."""

    # class attributes, not fields (each kind sets its own; the shapes are fields where used)
    kind = ""
    answer_types = (str,)  # what an example's answer may be
    options = ()
    items = ()
    multiple = False
    wrong = ()  # known wrong answers (numeric, code, predict)
    warnings = ()  # Issues that do not stop the quiz but are likely not what was meant

    prompt: str
    hints: list[str]
    max_tries: int | None
    explanation: str = ""
    examples: list[Example] = None  # filled in once the block is read
    program: str | None = None  # shown under the prompt (numeric with a program; predict)
    # the teacher's own misconceptions in effect where the block was read (lesson and course)
    misconceptions: dict[str, Misconception] = None

    def misconception(self, tag: str) -> Misconception | None:
        """What ``tag`` names for this quiz: the teacher's declaration, else the built-in one."""
        return describe(tag, self.misconceptions or {})

    @property
    def answer_help(self) -> str:
        """A short line telling the learner what shape of answer to type."""
        raise NotImplementedError

    def solution(self) -> str:
        """The right answer, written out for the learner (shown after giving up)."""
        raise NotImplementedError

    def grade(self, answer) -> Verdict:
        """Judge one answer. May raise on a bug of ours; :func:`tutor.quiz.grade` catches that."""
        raise NotImplementedError


# ----------------------------------------------------------------------------- the block's keys


def _tag_problem(tag: str) -> str | None:
    tags = known()  # the built-in catalogue and the tags the lesson (or its course) declares
    if tag in tags:
        return None
    return (
        f"unknown misconception tag {tag!r}{did_you_mean(tag, tags)}; known: {', '.join(tags)} "
        "(declare your own in the front matter's [[misconceptions]])"
    )


def tag_key(required: bool = False) -> Key:
    return Key("tag", "str", "a misconception tag", required=required, check=_tag_problem)


def _max_tries(value: int) -> str | None:
    return None if value >= 1 else f"must be 1 or more, not {value}"


EXAMPLES = Table(
    "an [[examples]] table",
    (
        Key("answer", "any", "the example answer", required=True, example="answer = the example answer"),
        Key("verdict", "str", '"right", "wrong" or "unreadable"', required=True, choices=VERDICTS),
        tag_key(),
        Key("tags", "list", "a list of misconception tags"),
    ),
)

COMMON_KEYS = (
    Key("kind", "str", "the kind of question"),
    Key("prompt", "str", "the question, as text", required=True),
    Key("hints", "list", "a list of hint texts, shown one at a time", default=[]),
    Key("max_tries", "int", "a whole number of tries (1 or more)", check=_max_tries),
    Key("explanation", "str", "text shown once the question is answered", default=""),
    Key("examples", "tables", "example answers, each with answer and verdict", table=EXAMPLES),
)


def quiz_table(kind: str, keys: tuple[Key, ...], *, prompt_required: bool = True) -> Table:
    """A kind's whole table: the keys every quiz has, then the kind's own."""
    common = tuple(
        Key(k.name, k.type, k.what, required=False, table=k.table)
        if (k.name == "prompt" and not prompt_required)
        else k
        for k in COMMON_KEYS
    )
    return Table(f"a {kind} quiz", common + keys)


def read_common(values: dict, issues: Issues) -> dict:
    """The arguments every Quiz takes, from the checked values (hints checked one by one)."""
    prompt = values.get("prompt")
    if prompt is not None and not prompt.strip():
        issues.add(["prompt"], "the question is empty")
    hints = values.get("hints", [])
    for i, h in enumerate(hints):
        if not isinstance(h, str) or not h.strip():
            issues.add(["hints", i], "each hint must be a non-empty text")
    return dict(
        prompt=(prompt or "").strip(),
        hints=list(hints),
        max_tries=values.get("max_tries"),
        explanation=values.get("explanation", "").strip(),
    )


def read_examples(values: dict, answer_types: tuple[type, ...], kind: str, issues: Issues) -> list[Example]:
    out = []
    for i, table in enumerate(values.get("examples") or []):
        path = ["examples", str(i)]
        if "answer" in table:
            answer = table["answer"]
            if isinstance(answer, bool) or not isinstance(answer, answer_types):
                issues.add([*path, "answer"], f"a {kind} answer cannot be {_type_name(answer)}")
        tags = None
        if "tag" in table and "tags" in table:
            issues.add([*path, "tags"], "give tag or tags, not both")
        elif "tag" in table:
            tags = (table["tag"],)
        elif "tags" in table:
            tags = tuple(table["tags"])
            for j, t in enumerate(tags):
                if not isinstance(t, str) or t not in known():
                    issues.add(
                        [*path, "tags", j], f"unknown misconception tag {t!r}{did_you_mean(t, known())}"
                    )
        if tags and table.get("verdict") not in (None, "wrong"):
            issues.add([*path, "tag"], "only a wrong answer can hit a misconception tag")
        if "answer" in table and "verdict" in table:
            out.append(Example(table["answer"], table["verdict"], tags))
    return out


def _type_name(value) -> str:
    return {
        bool: "true/false",
        int: "a whole number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


# ----------------------------------------------------------------------------- reading answers


def read_number(answer) -> float | None:
    if isinstance(answer, bool):
        return None
    if isinstance(answer, (int, float)):
        return float(answer) if math.isfinite(answer) else None
    return parse_number(answer) if isinstance(answer, str) else None


def unreadable_number() -> Verdict:
    return Verdict(False, [], NUMBER_UNREADABLE[0].upper() + NUMBER_UNREADABLE[1:] + ".", "unreadable")


def unreadable(message: str) -> Verdict:
    return Verdict(False, [], message[0].upper() + message[1:] + ".", "unreadable")


def present(*tags) -> list[str]:
    return [t for t in tags if t]


def parse_indices(answer, n: int, noun: str) -> list[int] | str:
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
