"""``predict``: the debugger's predict-the-gradient step as a question. What will this operand's
grad be after this node's backward rule runs? Diagnosed by :mod:`tutor.predict_diagnosis`."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from engine.numfmt import fmt
from tutor.misconceptions import CATALOGUE
from tutor.predict_diagnosis import GradQuestion, close_enough, diagnose
from tutor.quiz.common import Quiz, Verdict, WrongAnswer, present, quiz_table, read_number, unreadable_number
from tutor.quiz.numeric import read_wrong_numbers, wrong_table
from tutor.quiz.precision import PRECISION_HELP, agrees
from tutor.schema import Issues, Key, did_you_mean

KIND = "predict"

TABLE = quiz_table(
    KIND,
    (
        Key("program", "str", "an expression program (text)", required=True),
        Key("node", "str", "the name of the node whose backward rule runs", required=True),
        Key("operand", "str", "the name of the operand whose grad the learner predicts", required=True),
        Key("wrong", "tables", "known wrong answers", table=wrong_table(KIND)),
    ),
    prompt_required=False,
)


class _NotAQuestion(Exception):
    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key, self.message = key, message


@dataclass
class PredictQuiz(Quiz):
    kind = KIND
    answer_types = (str, int, float)

    node: str = ""
    operand: str = ""
    wrong: list[WrongAnswer] = field(default_factory=list)

    @property
    def answer_help(self) -> str:
        return f"type a number, {PRECISION_HELP}"

    def question(self) -> tuple[GradQuestion, str]:
        """The debugger's question, from a real run of the program, and the chain-rule line."""
        return _question(self.program, self.node, self.operand)

    def solution(self) -> str:
        q, line = self.question()
        return f"{q.operand}.grad = {fmt(q.after)} after {q.node}'s step: {line}"

    def grade(self, answer) -> Verdict:
        value = read_number(answer)
        if value is None:
            return unreadable_number()
        q, line = self.question()
        typed = answer if isinstance(answer, str) else repr(answer)
        verdict = diagnose(q, typed)
        if verdict.correct:
            return Verdict(True, [], f"Right. The engine's step: {line}", "right")
        for w in self.wrong:
            if agrees(answer, w.value):
                return Verdict(False, present(w.tag), w.feedback, "wrong")
        if verdict.tag and verdict.tag != "unreadable":
            tag = verdict.tag if verdict.tag in CATALOGUE else None
            return Verdict(False, present(tag), verdict.message, "wrong")
        return Verdict(False, [], verdict.message, "wrong")


@functools.lru_cache(maxsize=64)
def _question(program: str, node_name: str, operand_name: str) -> tuple[GradQuestion, str]:
    from engine.expr import ProgramError, parse_program
    from engine.stepper import Stepper

    try:
        graph = parse_program(program).build()
    except ProgramError as err:
        raise _NotAQuestion("program", f"the program does not run: {err}") from None
    values = graph.values
    for key, name in (("node", node_name), ("operand", operand_name)):
        if name not in values:
            raise _NotAQuestion(
                key,
                f"the program has no value named {name!r} (it has {', '.join(values)}){did_you_mean(name, values)}",
            )
    node, operand = values[node_name], values[operand_name]
    if not node._prev:
        raise _NotAQuestion("node", f"{node_name} is an input: it has no backward rule to run")
    if not any(child is operand for child in node._prev):
        raise _NotAQuestion("operand", f"{operand_name} is not an operand of {node_name}")
    stepper = Stepper(graph.output)
    index = stepper.step_index(node)
    if index is None:
        raise _NotAQuestion("node", f"{node_name} is not on the way to the output")
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


def build(config: dict, values: dict, common: dict, issues: Issues) -> PredictQuiz:
    quiz = PredictQuiz(**common)
    if not all(k in values for k in ("program", "node", "operand")):
        return quiz
    quiz.program, quiz.node, quiz.operand = values["program"], values["node"], values["operand"]
    try:
        q, _ = quiz.question()
    except _NotAQuestion as err:
        issues.add([err.key], err.message)
        return quiz
    if not quiz.prompt:
        quiz.prompt = (
            f"{quiz.node}'s backward rule is about to run. What will {quiz.operand}.grad be right after it?"
        )
    quiz.wrong = read_wrong_numbers(config, values, quiz.program, lambda v: close_enough(v, q.after), issues)
    return quiz
