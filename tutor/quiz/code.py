"""``code``: one line of a backward rule or of a training loop, judged by :mod:`tutor.codeline`."""

from __future__ import annotations

from dataclasses import dataclass, field

from tutor import codeline
from tutor.quiz.common import Quiz, Verdict, WrongAnswer, present, quiz_table, tag_key
from tutor.schema import Issues, Key, Table

KIND = "code"

WRONG = Table(
    "a [[wrong]] line",
    (
        Key("answer", "str", "the wrong line", required=True),
        tag_key(),
        Key("feedback", "str", "what to tell the learner", required=True),
    ),
)

TABLE = quiz_table(
    KIND,
    (
        Key(
            "rule",
            "str",
            "the rule or loop the line belongs to",
            required=True,
            choices=tuple(codeline.RULES),
        ),
        Key("expect", "str", "the right line, e.g. 'self.grad += other.data * out.grad'", required=True),
        Key("wrong", "tables", "known wrong lines", table=WRONG),
    ),
)


@dataclass
class CodeQuiz(Quiz):
    kind = KIND

    rule: str = ""
    expect: str = ""
    wrong: list[WrongAnswer] = field(default_factory=list)

    @property
    def answer_help(self) -> str:
        return f"type one line of {codeline.RULES[self.rule].description}"

    def solution(self) -> str:
        return f"One right line: {self.expect}"

    def grade(self, answer) -> Verdict:
        rule = codeline.RULES[self.rule]
        if not isinstance(answer, str):
            return Verdict(False, [], "Type the line as text.", "unreadable")
        verdict = codeline.judge_line(answer, self.expect, rule)
        if verdict.kind == "wrong":
            try:
                line = codeline.read_line(answer, rule)
            except codeline.UnreadableLine:  # pragma: no cover - judge_line read it already
                line = None
            for w in self.wrong:
                if line is not None and codeline.same_effect(line, w.value, rule):
                    return Verdict(False, present(w.tag), w.feedback, "wrong")
        return Verdict(verdict.correct, verdict.tags, verdict.message, verdict.kind)


def _teacher_line(text: str, rule: codeline.Rule, path, issues: Issues) -> codeline.Line | None:
    try:
        line = codeline.read_line(text, rule)
    except codeline.UnreadableLine as err:
        issues.add(path, f"the judge cannot read this line: {err.message}")
        return None
    verdict = codeline.judge_line(text, line, rule)
    if not verdict.correct:  # e.g. divides by zero on some values
        issues.add(path, f"the judge cannot use this line: {verdict.message}")
        return None
    return line


def _check_truth(expected: codeline.Line, rule: codeline.Rule, issues: Issues) -> None:
    """The engine knows each rule (its op table): an ``expect`` that does something else would
    teach a wrong rule and mark the right line wrong."""
    truths = [codeline.read_line(t, rule) for t in rule.truths]
    if not truths or any(codeline.same_effect(expected, t, rule) for t in truths):
        return
    same_target = [t for t in truths if t.target == expected.target]
    if same_target:
        verdict = codeline.judge_line(expected.text, same_target[0], rule)
        why = verdict.message.rstrip(".")
        why = why[0].lower() + why[1:]
        why = why.replace("your line", "this line").replace("you used", "it uses")
    else:
        why = f"it changes {expected.target}, which the rule does not"
    issues.add(
        ["expect"],
        f"this is not a right line of {rule.description}: {why}; "
        f"the engine's rule is {' or '.join(repr(t.text) for t in truths)}",
    )


def build(config: dict, values: dict, common: dict, issues: Issues) -> CodeQuiz:
    quiz = CodeQuiz(**common)
    if "rule" not in values or "expect" not in values:
        return quiz
    rule = codeline.RULES[values["rule"]]
    expected = _teacher_line(values["expect"], rule, ["expect"], issues)
    if expected is None:
        return quiz
    quiz.rule, quiz.expect = values["rule"], expected.text
    _check_truth(expected, rule, issues)
    for i, table in enumerate(values.get("wrong") or []):
        path = ["wrong", str(i)]
        if "answer" not in table:
            continue
        line = _teacher_line(table["answer"], rule, [*path, "answer"], issues)
        if line is None:
            continue
        if codeline.same_effect(line, expected, rule):
            issues.add([*path, "answer"], "this wrong line does the same as the expected line")
        elif "feedback" in table:
            quiz.wrong.append(WrongAnswer(line, table.get("tag"), table["feedback"].strip()))
    return quiz
