"""Grading a backward rule a learner wrote: against the engine's rule, on random values and on a
program, with the numeric gradient check; a wrong rule gets its mistake by name.

The learner's text is read and run by :mod:`tutor.rule_code` (never executed). The engine's true
rule is written from the op table (`engine.ops`: each op's rule line, the one the inspector
shows) and run by the same interpreter, so the two are compared like for like; the classic
mistakes are that true rule run with one change (``swap``/``fixed`` of `RuleCode.run`, or its
share negated, halved or written with ``=``): whichever reproduces the learner's numbers names
the mistake, with the misconception tag the code-line judge uses for it (`tutor.misconceptions`:
one mistake, one tag).

Pure logic: standard library, the engine and the rule interpreter; no Textual.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from engine.numfmt import fmt
from engine.ops import OPS
from engine.value import Value, topological_order
from tutor.rule_code import RuleCode, RuleError, read_rule, signature

__all__ = [
    "Diagnosis",
    "LeafRow",
    "RuleVerdict",
    "Row",
    "backward_with",
    "grade_rule",
    "program_rows",
    "true_rule",
    "true_rule_text",
]

_TRIALS = 6
_SEED = 20261202  # the same draws every time: grading is reproducible


@dataclass(frozen=True)
class Diagnosis:
    """One named mistake: what the screen says, and the catalogue's tag for it."""

    name: str
    tag: str
    explain: str


def _diagnoses() -> dict[str, Diagnosis]:
    return {
        d.name: d
        for d in (
            Diagnosis(
                "forgot the upstream gradient",
                "forgot-upstream",
                "that is the local derivative alone: multiply it by out.grad, the gradient from above",
            ),
            Diagnosis(
                "= for +=",
                "overwrote-not-accumulated",
                "'=' throws away what the operand's grad already holds: add your share with '+='",
            ),
            Diagnosis(
                "the wrong operand",
                "wrong-operand",
                "one operand got the other operand's share",
            ),
            Diagnosis(
                "its own input",
                "own-input-in-mul",
                "each side of a multiply gets the OTHER side's value times out.grad",
            ),
            Diagnosis(
                "the derivative at the input",
                "wrong-operand",
                "the derivative is written with the input (self.data) where the rule needs the output (out.data)",
            ),
            Diagnosis(
                "the derivative at the output",
                "wrong-operand",
                "the derivative is written with the output (out.data) where the rule needs the input (self.data)",
            ),
            Diagnosis(
                "a flipped sign",
                "rule-wrong-sign",
                "the rule adds local derivative × upstream gradient, with no extra minus",
            ),
            Diagnosis(
                "half the gradient",
                "split-add-gradient",
                "each operand of an add gets the whole upstream gradient, not half",
            ),
            Diagnosis(
                "a wrong value",
                "wrong-operand",
                "a value in the formula is not the one the rule needs",
            ),
        )
    }


DIAGNOSES = _diagnoses()


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
        return self.yours is not None and _close(self.yours, self.right)


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


# ------------------------------------------------------------------------ the true rule


def true_rule_text(op: str) -> str:
    """The engine's rule for ``op`` in micrograd's style, each line the op table's rule line."""
    spec = OPS[op]
    if spec.syntax == "power":
        fields = {"k": "k", "k_1": "(k - 1)"}
    elif spec.arg is not None:
        fields = {spec.arg: spec.arg}
    else:
        fields = {}
    if spec.operands == 2:
        lines = [
            spec.rule.format(s="self", o="other", out="out", **fields),
            (spec.rule_right or spec.rule).format(s="other", o="self", out="out", **fields),
        ]
    else:
        lines = [spec.rule.format(s="self", o="other", out="out", **fields)]
    return signature(op) + "".join(f"    {line}\n" for line in lines)


_TRUE: dict[str, RuleCode] = {}


def true_rule(op: str) -> RuleCode:
    code = _TRUE.get(op)
    if code is None:
        code = _TRUE[op] = read_rule(true_rule_text(op), op)
    return code


# ------------------------------------------------------------------------ random cases


@dataclass(frozen=True)
class _Case:
    xs: tuple[float, ...]
    arg: float | None
    upstream: float
    befores: tuple[float, ...]


def _signed(rng: random.Random, lo: float = 0.5, hi: float = 2.0) -> float:
    return round(rng.uniform(lo, hi) * rng.choice((-1.0, 1.0)), 2)


def _cases(op: str) -> list[_Case]:
    spec = OPS[op]
    rng = random.Random(_SEED)
    cases = []
    for trial in range(_TRIALS):
        if spec.syntax == "power":
            arg = (2.0, 3.0, -1.0, 0.5, 4.0, -2.0)[trial % 6]
            xs = (round(rng.uniform(0.5, 2.0), 2),)
        else:
            arg = None
            if spec.arg is not None:
                low, high = spec.arg_range or (0.0, 1.0)
                arg = round(rng.uniform(max(low, 0.05), min(high, 0.3)), 2)
            xs = tuple(_signed(rng) for _ in range(spec.operands))
            if spec.domain == "positive":
                xs = tuple(abs(x) for x in xs)
            elif spec.kink_at_zero:
                xs = tuple(abs(x) * (-1 if trial % 2 else 1) for x in xs)
        cases.append(_Case(xs, arg, _signed(rng), tuple(_signed(rng) for _ in xs)))
    return cases


def _apply(op: str, operands: list[Value], arg: float | None) -> Value:
    spec = OPS[op]
    if spec.syntax == "power":
        return operands[0] ** arg
    if spec.syntax == "infix":
        a, b = operands
        return {"+": a.__add__, "*": a.__mul__, "-": a.__sub__, "/": a.__truediv__}[op](b)
    method = getattr(operands[0], op)
    return method(arg) if spec.arg is not None else method()


def _build(op: str, case: _Case, befores: tuple[float, ...] | None = None) -> tuple[Value, list[Value]]:
    operands = [Value(x) for x in case.xs]
    out = _apply(op, operands, case.arg)
    out.grad = case.upstream
    for v, g in zip(operands, befores or case.befores):
        v.grad = g
    return out, operands


def _describe(op: str, case: _Case) -> str:
    names = ("a", "b") if len(case.xs) == 2 else ("x",)
    parts = [f"{n} = {fmt(x)}" for n, x in zip(names, case.xs)]
    if case.arg is not None:
        parts.append(f"{OPS[op].arg} = {fmt(case.arg)}")
    parts.append(f"out.grad = {fmt(case.upstream)}")
    return ", ".join(parts)


def _after(run: Callable[[Value], None], op: str, case: _Case, befores=None) -> list[float]:
    out, operands = _build(op, case, befores)
    run(out)
    return [v.grad for v in operands]


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-9)


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
    cases = _cases(op)
    truth = true_rule(op)
    rows: list[Row] = []
    yours_all: list[list[float] | None] = []
    failure: RuleError | None = None
    for case in cases:
        right = _after(truth.run, op, case)
        try:
            yours = _after(code.run, op, case)
        except RuleError as err:
            yours, failure = None, failure or err
        yours_all.append(yours)
        for j, name in enumerate(code.operands):
            rows.append(
                Row(_describe(op, case), name, case.befores[j], None if yours is None else yours[j], right[j])
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
        found = _diagnose(op, code, truth, cases, j)
        for d in found:
            tag = _tag(op, d)
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


def _tag(op: str, name: str) -> str:
    """The catalogue's tag for a mistake in ``op``'s rule: tanh's taken at its input has its own."""
    if op == "tanh" and name == "the derivative at the input":
        return "tanh-on-input"
    return DIAGNOSES[name].tag


def _diagnose(op: str, code: RuleCode, truth: RuleCode, cases: list[_Case], slot: int) -> list[str]:
    """The names of the mistakes that, made in the true rule, give the learner's numbers in ``slot``."""
    # does the learner add into the grad, or replace it? Run again with other grads before.
    yours, moved = [], []
    for case in cases:
        shifted = tuple(b + 1.75 for b in case.befores)
        yours.append(_after(code.run, op, case)[slot])
        moved.append(_after(code.run, op, case, shifted)[slot])
    overwrites = all(_close(a, b) for a, b in zip(yours, moved))
    got = yours if overwrites else [y - c.befores[slot] for y, c in zip(yours, cases)]
    spec = OPS[op]

    def share(swap=None, fixed=None) -> list[float]:
        out = []
        for case in cases:
            after = _after(lambda n: truth.run(n, swap=swap, fixed=fixed), op, case)
            out.append(after[slot] - case.befores[slot])
        return out

    def same(xs) -> bool:
        return all(_close(a, b) for a, b in zip(got, xs))

    refs = {"self.data", "other.data", "out.data", "out.grad", "self.grad", "other.grad"}
    reads = set()
    for st in truth.statements:
        reads |= {r for r in refs if r in _reads(st)}
    singles: list[tuple[list[str], list[float]]] = [([], share())]
    if op == "*":
        singles.append(
            (["its own input"], share(swap={"other.data": "self.data", "self.data": "other.data"}))
        )
    at_input = {"out.data": "self.data"}
    at_output = {"self.data": "out.data"}
    if "out.data" in reads and spec.operands == 1:
        singles.append((["the derivative at the input"], share(swap=at_input)))
    if "self.data" in reads and spec.operands == 1:
        singles.append((["the derivative at the output"], share(swap=at_output)))
    if "out.grad" in reads:
        singles.append((["forgot the upstream gradient"], share(fixed={"out.grad": 1.0})))
        for names, swap in (
            ("the derivative at the input", at_input),
            ("the derivative at the output", at_output),
        ):
            if [names] in [n for n, _ in singles]:
                singles.append(
                    ([names, "forgot the upstream gradient"], share(swap=swap, fixed={"out.grad": 1.0}))
                )
    tried = list(singles)
    for names, xs in singles:  # each, and each with its sign flipped (or halved, for an add)
        tried.append(([*names, "a flipped sign"], [-x for x in xs]))
        if op == "+":
            tried.append(([*names, "half the gradient"], [x / 2 for x in xs]))
    if spec.operands == 2:  # last: a flipped sign of a - b is also the other operand's share
        swapped = []
        for case in cases:
            after = _after(truth.run, op, case)
            swapped.append(after[1 - slot] - case.befores[1 - slot])
        tried.append((["the wrong operand"], swapped))
    for names, xs in tried:
        if same(xs):
            return (["= for +="] if overwrites else []) + names
    if overwrites:
        return ["= for +=", *_generic(op, truth, cases, slot, got, reads)]
    return _generic(op, truth, cases, slot, got, reads)


def _reads(st) -> set[str]:
    import ast

    found = set()
    for node in ast.walk(st.value):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            found.add(f"{node.value.id}.{node.attr}")
    return found


def _generic(op: str, truth: RuleCode, cases, slot: int, got, reads) -> list[str]:
    """One value swapped for another anywhere in the rule: 'a wrong value', or nothing known."""
    names = (
        ["self.data", "other.data", "out.data", "out.grad"]
        if OPS[op].operands == 2
        else [
            "self.data",
            "out.data",
            "out.grad",
        ]
    )
    for ref in sorted(reads):
        for alt in names:
            if alt == ref:
                continue
            xs = []
            try:
                for case in cases:
                    after = _after(lambda n, r=ref, a=alt: truth.run(n, swap={r: a}), op, case)
                    xs.append(after[slot] - case.befores[slot])
            except RuleError:
                continue
            if all(_close(a, b) for a, b in zip(got, xs)):
                return ["a wrong value"]
    return []


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
        LeafRow(c.name, c.analytic, right[c.name], c.numeric, c.ok and _close(c.analytic, right[c.name]))
        for c in checks
    ]
