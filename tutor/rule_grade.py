"""Grading a backward rule a learner wrote: against the engine's rule, on random values and on a
program, with the numeric gradient check; a wrong rule gets its mistake by name.

The learner's text is read and run by :mod:`tutor.rule_code` (never executed). The engine's true
rule and the random cases live in :mod:`tutor.rule_cases`, the named mistakes (`DIAGNOSES`) in
:mod:`tutor.rule_diagnosis`; this module compares the two rules case by case and on the
exercise's program, and writes the verdict the exercise screen draws.

Pure logic: standard library, the engine and the rule interpreter; no Textual.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from engine.numfmt import fmt
from engine.value import Value, topological_order
from tutor.rule_cases import close, describe_case, draw_cases, grads_after, true_rule, true_rule_text
from tutor.rule_code import RuleCode, RuleError, read_rule
from tutor.rule_diagnosis import DIAGNOSES, Diagnosis, diagnose

__all__ = [
    "DIAGNOSES",
    "Diagnosis",
    "LeafRow",
    "RuleVerdict",
    "Row",
    "backward_with",
    "check_program",
    "grade_rule",
    "program_rows",
    "true_rule",
    "true_rule_text",
]


@dataclass(frozen=True)
class Row:
    """One operand in one random case: what the learner's rule left in its grad, and the right value."""

    case: str  # the case's numbers, e.g. "x = 0.83, out.grad = -1.2"
    operand: str  # "self" or "other"
    before: float
    yours: float | None  # None when the learner's rule failed on this case
    right: float

    @property
    def ok(self) -> bool:
        return self.yours is not None and close(self.yours, self.right)


@dataclass(frozen=True)
class LeafRow:
    """One input of the exercise's program: its grad with the learner's rule, the engine's, the measured."""

    name: str
    yours: float | None
    right: float
    numeric: float
    ok: bool


@dataclass
class RuleVerdict:
    correct: bool
    kind: str  # "right" | "wrong" | "unreadable"
    message: str
    tags: list[str] = field(default_factory=list)
    diagnoses: list[str] = field(default_factory=list)  # names of DIAGNOSES, per operand as found
    rows: list[Row] = field(default_factory=list)
    leaves: list[LeafRow] = field(default_factory=list)
    line: int = 0  # where the message points, for "unreadable" (and a failed run)
    col: int = 0
    code: RuleCode | None = None

    def table_text(self, limit: int = 6) -> str:
        """The values as plain lines: ``case  operand  yours  right``."""
        lines = []
        for row in self.rows[:limit]:
            mark = "ok" if row.ok else "✗"
            yours = "failed" if row.yours is None else fmt(row.yours)
            lines.append(f"{row.case}: {row.operand}.grad {yours} (right {fmt(row.right)}) {mark}")
        return "\n".join(lines)


# ------------------------------------------------------------------------ grading


def grade_rule(text: str, op: str, program=None) -> RuleVerdict:
    """Grade the learner's rule ``text`` for ``op`` (a key of the op table): on random cases,
    then (when given) on ``program`` (an `engine.expr.Program`) against the engine and the
    numeric gradient check. Never raises on learner text."""
    try:
        code = read_rule(text, op)
    except RuleError as err:
        return RuleVerdict(
            False,
            "unreadable",
            f"line {err.line}, column {err.col}: {err.message}",
            line=err.line,
            col=err.col,
        )
    cases = draw_cases(op)
    truth = true_rule(op)
    rows: list[Row] = []
    yours_all: list[list[float] | None] = []
    failure: RuleError | None = None
    for case in cases:
        right = grads_after(truth.run, op, case)
        try:
            yours = grads_after(code.run, op, case)
        except RuleError as err:
            yours, failure = None, failure or err
        yours_all.append(yours)
        for j, name in enumerate(code.operands):
            rows.append(
                Row(
                    describe_case(op, case),
                    name,
                    case.befores[j],
                    None if yours is None else yours[j],
                    right[j],
                )
            )
    verdict = RuleVerdict(False, "wrong", "", rows=rows, code=code)
    if failure is not None:
        verdict.message = (
            f"line {failure.line}, column {failure.col}: your rule cannot be computed: {failure.message}"
        )
        verdict.line, verdict.col = failure.line, failure.col
        return verdict
    if program is not None:
        verdict.leaves = program_rows(program, op, code)
    if all(r.ok for r in rows) and all(leaf.ok for leaf in verdict.leaves):
        verdict.correct, verdict.kind = True, "right"
        verdict.message = "Right: your rule gives the engine's gradients on every case"
        if verdict.leaves:
            verdict.message += " and on the program, and the gradient check agrees"
        verdict.message += "."
        return verdict
    notes = []
    for j, name in enumerate(code.operands):
        if all(r.ok for r in rows if r.operand == name):
            continue
        found = diagnose(op, code, truth, cases, j)
        for d in found:
            tag = DIAGNOSES[d].tag
            verdict.diagnoses.append(d)
            if tag not in verdict.tags:
                verdict.tags.append(tag)
        bad = next(r for r in rows if r.operand == name and not r.ok)
        named = " and ".join(found) if found else "no classic mistake I know"
        why = "; ".join(DIAGNOSES[d].explain for d in found)
        notes.append(
            f"{name}.grad: {named}"
            + (f" ({why})" if why else "")
            + f". With {bad.case}, {name}.grad = {fmt(bad.before)} before: yours gives {fmt(bad.yours)}, "
            f"the rule {fmt(bad.right)}"
        )
    if not notes:  # right on the random cases, wrong on the program
        wrong = [leaf.name for leaf in verdict.leaves if not leaf.ok]
        notes.append(f"right on single nodes but the program's {', '.join(wrong)} come out wrong")
    verdict.message = "Not yet. " + ". ".join(notes) + "."
    return verdict


# ------------------------------------------------------------------------ on a program


def backward_with(root: Value, rules: Mapping[str, Callable[[Value], None]]) -> None:
    """``root.backward()`` with ``rules[op]`` in place of the engine's rule for the ops it names."""
    order = topological_order(root)
    root.grad = 1.0
    for node in reversed(order):
        rule = rules.get(node._op)
        if rule is not None:
            rule(node)
        else:
            node._backward()


def check_program(program, *, mistake=None, should_stop=None, rules=None):
    """`engine.gradcheck.check_program`, with ``rules`` (op -> rule) in place of the engine's."""
    from engine import gradcheck

    if not rules:
        return gradcheck.check_program(program, mistake=mistake, should_stop=should_stop)

    def build(values):
        graph = program.build(values)
        return graph.output, graph.inputs

    return gradcheck.check_gradients(
        build, program.inputs, backward=lambda root: backward_with(root, rules), should_stop=should_stop
    )


def program_rows(program, op: str, code: RuleCode) -> list[LeafRow]:
    """Each input of ``program`` with the learner's rule for ``op``, the engine's, and the numeric check."""
    from engine.gradcheck import check_gradients

    graph = program.build()
    graph.output.backward()
    right = {name: leaf.grad for name, leaf in graph.inputs.items()}
    rule = code.as_function()

    def build(values):
        g = program.build(values)
        return g.output, g.inputs

    try:
        checks = check_gradients(build, program.inputs, backward=lambda root: backward_with(root, {op: rule}))
    except RuleError:
        return [LeafRow(name, None, right[name], math.nan, False) for name in right]
    return [
        LeafRow(c.name, c.analytic, right[c.name], c.numeric, c.ok and close(c.analytic, right[c.name]))
        for c in checks
    ]
