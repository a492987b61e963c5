"""``choice``: options, one or several right; feedback on every option."""

from __future__ import annotations

from dataclasses import dataclass, field

from tutor.quiz.common import Quiz, Verdict, parse_indices, quiz_table, tag_key, unreadable
from tutor.schema import Issues, Key, Table

KIND = "choice"
MAX_OPTIONS = 9  # one key to press for each

OPTIONS = Table(
    "an [[options]] table",
    (
        Key("text", "str", "the option's text", required=True),
        Key("correct", "bool", "true or false", default=False),
        Key("feedback", "str", "what to say when this option is chosen", required=True),
        tag_key(),
    ),
)

TABLE = quiz_table(
    KIND,
    (
        Key(
            "options",
            "tables",
            "the options, each with text, correct and feedback",
            required=True,
            example="[[options]] tables, each with text, correct and feedback",
            table=OPTIONS,
        ),
        Key("multiple", "bool", "true or false"),
    ),
)


@dataclass(frozen=True)
class Option:
    text: str
    correct: bool
    feedback: str
    tag: str | None  # a wrong option: hit when chosen; a right option: hit when missed


@dataclass
class ChoiceQuiz(Quiz):
    kind = KIND
    answer_types = (str, int, list)

    options: list[Option] = field(default_factory=list)
    multiple: bool = False

    @property
    def answer_help(self) -> str:
        return "pick the options that are right" if self.multiple else "pick one option"

    def solution(self) -> str:
        right = [f"{i}. {o.text}" for i, o in enumerate(self.options, 1) if o.correct]
        head = "The right options are:" if len(right) > 1 else "The right option is:"
        return head + "\n" + "\n".join(right)

    def grade(self, answer) -> Verdict:
        picked = parse_indices(answer, len(self.options), "option")
        if isinstance(picked, str):
            return unreadable(picked)
        if not picked:
            return Verdict(False, [], "Pick at least one option.", "unreadable")
        if not self.multiple and len(picked) > 1:
            return Verdict(False, [], "Pick one option only.", "unreadable")
        chosen = set(picked)
        right = {i for i, o in enumerate(self.options, 1) if o.correct}
        lines, tags = [], []
        for k in sorted(chosen):
            o = self.options[k - 1]
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
            tag = self.options[k - 1].tag
            if tag and tag not in tags:
                tags.append(tag)
        return Verdict(False, tags, "Not quite.\n" + "\n".join(x for x in lines if x), "wrong")


def build(config: dict, values: dict, common: dict, issues: Issues) -> ChoiceQuiz:
    quiz = ChoiceQuiz(**common)
    tables = values.get("options")
    if tables is None:
        return quiz
    if len(tables) < 2:
        issues.add(["options"], "give at least two [[options]]")
    if len(tables) > MAX_OPTIONS:
        issues.add(["options"], "give at most nine [[options]], so each has one key to press")
    if issues.under(["options"]):
        return quiz
    quiz.options = [
        Option(t["text"].strip(), t["correct"], t["feedback"].strip(), t.get("tag")) for t in tables
    ]
    first: dict[str, int] = {}
    for i, option in enumerate(quiz.options):
        same = " ".join(option.text.split()).casefold()
        if same in first:
            issues.add(
                ["options", str(i), "text"],
                f"option {i + 1} has the same text as option {first[same] + 1}; the learner could not "
                "tell them apart: make each option's text different",
            )
        first.setdefault(same, i)
    n_right = sum(o.correct for o in quiz.options)
    if n_right == 0:
        issues.add(["options"], "no option has correct = true")
    multiple = values.get("multiple")
    if multiple is False and n_right > 1:
        issues.add(["multiple"], f"multiple = false, but {n_right} options have correct = true")
    quiz.multiple = n_right > 1 if multiple is None else multiple
    return quiz
