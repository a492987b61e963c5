"""``numeric``: a number, typed in or computed from an expression program by the engine; a
tolerance; tagged wrong answers with their own feedback."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.numfmt import fmt
from tutor.quiz.common import (
    DEFAULT_REL_TOLERANCE,
    DEFAULT_TOLERANCE,
    Quiz,
    Verdict,
    WrongAnswer,
    present,
    quiz_table,
    read_number,
    tag_key,
    unreadable_number,
)
from tutor.quiz.precision import PRECISION_HELP, agrees
from tutor.quiz.programs import answer_value, program_values
from tutor.schema import Issue, Issues, Key, Table

KIND = "numeric"


def _not_negative(value: float) -> str | None:
    return "must not be negative" if value < 0 else None


def wrong_table(what: str) -> Table:
    """The [[wrong]] tables of numeric and predict questions: known wrong numbers."""
    return Table(
        "a [[wrong]] answer",
        (
            Key("answer", "number", "a number"),
            Key("answer_from", "any", 'a text like "a.data * e.grad", or a table { program, value }'),
            tag_key(),
            Key("feedback", "str", "what to tell a learner who gives this answer", required=True),
        ),
    )


TABLE = quiz_table(
    KIND,
    (
        Key("program", "str", "an expression program (text)"),
        Key("answer", "number", "a number"),
        Key("answer_from", "any", 'a text like "a.grad", or a table { program = ..., value = ... }'),
        Key(
            "tolerance",
            "number",
            "a number (how far off an answer may be)",
            default=DEFAULT_TOLERANCE,
            check=_not_negative,
        ),
        Key(
            "rel_tolerance",
            "number",
            "a number (a fraction of the answer)",
            default=DEFAULT_REL_TOLERANCE,
            check=_not_negative,
        ),
        Key("wrong", "tables", "known wrong answers", table=wrong_table("numeric")),
    ),
)


@dataclass
class NumericQuiz(Quiz):
    kind = KIND
    answer_types = (str, int, float)

    answer: float = 0.0
    tolerance: float = DEFAULT_TOLERANCE
    rel_tolerance: float = DEFAULT_REL_TOLERANCE
    wrong: list[WrongAnswer] = field(default_factory=list)
    own_tolerance: bool = False  # the block sets tolerance or rel_tolerance: it grades by them

    @property
    def answer_help(self) -> str:
        return "type a number, like -4 or 0.5" if self.own_tolerance else f"type a number, {PRECISION_HELP}"

    def solution(self) -> str:
        return f"The answer is {fmt(self.answer)}."

    def close(self, value: float, target: float) -> bool:
        diff = abs(value - target)
        return diff <= self.tolerance * (1 + 1e-9) or diff <= self.rel_tolerance * max(
            abs(value), abs(target)
        )

    def _agrees(self, answer, value: float, target: float) -> bool:
        """The block's own tolerance if it sets one, else the precision the learner typed."""
        return self.close(value, target) if self.own_tolerance else agrees(answer, target)

    def grade(self, answer) -> Verdict:
        value = read_number(answer)
        if value is None:
            return unreadable_number()
        if self._agrees(answer, value, self.answer):
            return Verdict(True, [], f"Right: the answer is {fmt(self.answer)}.", "right")
        for w in self.wrong:
            if self._agrees(answer, value, w.value):
                return Verdict(False, present(w.tag), w.feedback, "wrong")
        if self.answer != 0 and self._agrees(answer, value, -self.answer):
            return Verdict(False, [], "Not quite: the size is right, but check the sign.", "wrong")
        return Verdict(False, [], "Not quite.", "wrong")


def read_wrong_numbers(
    config: dict, values: dict, program, equals_right, issues: Issues
) -> list[WrongAnswer]:
    """The [[wrong]] answers (numeric, predict): each a number or an answer_from, with feedback."""
    out = []
    raw = config.get("wrong") if isinstance(config.get("wrong"), list) else []
    for i, (table, read) in enumerate(zip(raw, values.get("wrong") or [])):
        path = ["wrong", str(i)]
        value = answer_value(table, read, path, program, "the wrong answer", issues)
        if value is None or "feedback" not in read:
            continue
        if equals_right is not None and equals_right(value):
            issues.add(
                [*path, "answer"],
                f"this wrong answer ({fmt(value)}) is the right answer, within the tolerance",
            )
            continue
        out.append(WrongAnswer(value, read.get("tag"), read["feedback"].strip()))
    return out


def _check_tolerance(quiz: NumericQuiz, values: dict, issues: Issues) -> None:
    """A tolerance that takes 0 (or any number) for the answer makes every guess right."""
    if quiz.rel_tolerance >= 1:
        issues.add(
            ["rel_tolerance"],
            f"{fmt(quiz.rel_tolerance)} accepts any number of the answer's sign (and 0); "
            "a fraction like 0.01 (1%) is what it is for",
        )
    elif "tolerance" in values and quiz.tolerance >= max(abs(quiz.answer), 1.0 if not quiz.answer else 0.0):
        # for a non-zero answer: 0 is right; for 0: so is every number up to 1 in size
        low, high = quiz.answer - quiz.tolerance, quiz.answer + quiz.tolerance
        issues.add(
            ["tolerance"],
            f"{fmt(quiz.tolerance)} makes every answer from {fmt(low)} to {fmt(high)} right"
            f"{', 0 included,' if quiz.answer else ''} for the answer {fmt(quiz.answer)}; make it far "
            "smaller than the answer, like 0.001 for three decimals",
        )


def _literal_against_program(answer: float, program: str, close) -> list[Issue]:
    """A literal ``answer`` beside a program: a warning when it is none of the program's values
    (a slip in hand arithmetic; answer_from lets the engine compute it)."""
    values = program_values(program, ["program"], Issues())
    if not values:
        return []
    if any(close(number, answer) for pair in values.values() for number in pair):
        return []
    shown = ", ".join(f"{n}.data = {fmt(d)}, {n}.grad = {fmt(g)}" for n, (d, g) in list(values.items())[:6])
    more = ", ..." if len(values) > 6 else ""
    return [
        Issue(
            ("answer",),
            f"{fmt(answer)} is none of the program's values ({shown}{more}); if the answer is one "
            'of them, write answer_from = "a.grad" (its name) so the engine computes it',
        )
    ]


def build(config: dict, values: dict, common: dict, issues: Issues) -> NumericQuiz:
    program = values.get("program")
    if program is not None:
        program_values(program, ["program"], issues)
    quiz = NumericQuiz(
        **common,
        program=program,
        tolerance=values.get("tolerance", DEFAULT_TOLERANCE),
        rel_tolerance=values.get("rel_tolerance", DEFAULT_REL_TOLERANCE),
        own_tolerance="tolerance" in config or "rel_tolerance" in config,
    )
    answer = answer_value(config, values, [], program, "the right answer", issues)
    if answer is not None:
        quiz.answer = float(answer)
        _check_tolerance(quiz, values, issues)
        if program is not None and "answer" in config:
            quiz.warnings = _literal_against_program(quiz.answer, program, quiz.close)
    equals_right = (lambda v: quiz.close(v, quiz.answer)) if answer is not None else None
    quiz.wrong = read_wrong_numbers(config, values, program, equals_right, issues)
    return quiz
