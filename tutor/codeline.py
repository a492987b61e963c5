"""Judging one line of code that a learner typed: a line of a backward rule or of a training loop.

The line is never executed. It is parsed with :mod:`ast`, and its right-hand side is checked and
computed by :mod:`tutor.safe_eval` (the evaluator the quizzes share) with this judge's grammar:
numbers, the rule's own names with ``.data``/``.grad``, ``+ - * / **``, unary ``-``, comparisons,
``x if c else y`` and the functions ``tanh exp log``. It is evaluated on random values. Two lines are the same answer when they change the same
variable in the same way for every random draw, so ``self.grad += out.grad * other.data`` and
``self.grad = self.grad + other.data * out.grad`` are both right.

When a line is wrong, the judge tries the classic mistakes on the expected line (``=`` for ``+=``,
a flipped sign, no ``out.grad``, one value swapped for another, half of an add's gradient, no
learning rate) and reports the ones that reproduce the learner's numbers, as catalogue tags.

Standard library only; no Textual.
"""

from __future__ import annotations

import ast
import math
import random
from dataclasses import dataclass, field

from engine.numfmt import fmt
from tutor import safe_eval
from tutor.coderules import RULES, Rule
from tutor.rule_code import combine
from tutor.safe_eval import CannotCompute, Grammar

__all__ = [
    "MAX_LINE_CHARS",
    "RULES",
    "Rule",
    "Line",
    "LineVerdict",
    "UnreadableLine",
    "read_line",
    "judge_line",
    "same_effect",
]

MAX_LINE_CHARS = 300  # a line of a backward rule or training loop is far shorter than this
_MAX_NODES = safe_eval.MAX_NODES  # syntax-tree nodes in one line
_TRIALS = 6  # random draws a line is evaluated on


class UnreadableLine(Exception):
    """The learner's text is not a line this judge can read; ``message`` says why, plainly."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# ----------------------------------------------------------------------------- reading a line


@dataclass(frozen=True)
class Line:
    """A line that passed the whitelist: ``target op= value``."""

    text: str
    target: str  # e.g. "self.grad"
    op: str  # "=", "+=", "-=", "*=", "/="
    value: ast.expr
    refs: frozenset[str]  # every name or name.attr the right-hand side reads
    grammar: Grammar = field(repr=False, compare=False, default=None)  # how to compute ``value``


_AUG = {ast.Add: "+=", ast.Sub: "-=", ast.Mult: "*=", ast.Div: "/="}


def read_line(text: str, rule: Rule) -> Line:
    """Parse ``text`` as one assignment in ``rule``'s setting, or raise :class:`UnreadableLine`."""
    if not isinstance(text, str):
        raise UnreadableLine("type the line as text")
    if len(text) > MAX_LINE_CHARS:
        raise UnreadableLine(
            f"that is {len(text):,} characters; a line of a rule is far shorter (at most {MAX_LINE_CHARS})"
        )
    source = text.strip()
    if not source:
        raise UnreadableLine("the line is empty: type one line of code")
    if "\x00" in source:
        raise UnreadableLine("the line contains a NUL character")
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as err:
        raise UnreadableLine(f"Python cannot read it ({err.msg})") from None
    except (ValueError, RecursionError, MemoryError):
        raise UnreadableLine("Python cannot read it") from None
    if len(tree.body) != 1:
        raise UnreadableLine("type exactly one line: one assignment")
    stmt = tree.body[0]
    if sum(1 for _ in ast.walk(stmt)) > _MAX_NODES:
        raise UnreadableLine("the line is too long and nested to be one line of a rule")
    if isinstance(stmt, ast.Assign):
        if len(stmt.targets) != 1:
            raise UnreadableLine("assign to one thing only (no a = b = ...)")
        target_node, op, value = stmt.targets[0], "=", stmt.value
    elif isinstance(stmt, ast.AugAssign):
        op = _AUG.get(type(stmt.op))
        if op is None:
            raise UnreadableLine("use =, +=, -=, *= or /=")
        target_node, value = stmt.target, stmt.value
    elif isinstance(stmt, ast.Expr):
        _check(stmt.value, rule)  # say first what is not allowed in it, if anything
        raise UnreadableLine(
            "that is only an expression; write the whole line, with what it changes, e.g. 'self.grad += ...'"
        )
    else:
        raise UnreadableLine("it is not an assignment like 'self.grad += ...'")
    target = _target_name(target_node, rule)
    refs = _check(value, rule)
    return Line(text=source, target=target, op=op, value=value, refs=refs, grammar=_grammar(rule))


def _target_name(node: ast.AST, rule: Rule) -> str:
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in rule.objects
        and node.attr in ("data", "grad")
    ):
        return f"{node.value.id}.{node.attr}"
    raise UnreadableLine(f"the line must change one of {rule.names_text()}")


def _unknown(name: str, rule: Rule) -> UnreadableLine:
    return UnreadableLine(f"unknown name {name!r}: in {rule.description} you can use {rule.names_text()}")


def _log(x: float) -> float:
    if x <= 0:
        raise CannotCompute("it takes the log of a number that is not positive")
    return math.log(x)


_FUNCTIONS = {"tanh": math.tanh, "exp": math.exp, "log": _log, "float": float}


_GRAMMARS: dict[int, tuple[Rule, Grammar]] = {}


def _grammar(rule: Rule) -> Grammar:
    """What a line of ``rule`` may read: its scalars, and .data/.grad of its objects (made once
    per rule; a Rule holds dicts, so it cannot be a cache key itself)."""
    known = _GRAMMARS.get(id(rule))
    if known is not None and known[0] is rule:
        return known[1]

    def resolve(node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            if node.id in rule.scalars:
                return node.id
            if node.id in rule.objects:
                raise UnreadableLine(
                    f"say which number of {node.id} you mean: {node.id}.data or {node.id}.grad"
                )
            raise _unknown(node.id, rule)
        if isinstance(node.value, ast.Name) and node.value.id in rule.objects:
            if node.attr in ("data", "grad"):
                return f"{node.value.id}.{node.attr}"
            raise UnreadableLine(f"{node.value.id} has only .data and .grad, not .{node.attr}")
        if isinstance(node.value, ast.Name) and node.value.id != "math":
            raise _unknown(node.value.id, rule)
        raise UnreadableLine("only .data and .grad of the rule's values can be read")

    grammar = Grammar(
        resolve,
        functions=_FUNCTIONS,
        comparisons=True,
        conditionals=True,
        refused="write one line of arithmetic on the rule's values",
    )
    _GRAMMARS[id(rule)] = (rule, grammar)
    return grammar


def _check(node: ast.AST, rule: Rule) -> frozenset[str]:
    """The refs the right-hand side reads, after the shared safe evaluator's whitelist."""
    try:
        return safe_eval.check(node, _grammar(rule))
    except safe_eval.Unreadable as err:  # UnreadableLine is one too; keep the judge's own type
        raise UnreadableLine(err.message) from None


# ----------------------------------------------------------------------------- evaluating


def _effect(line: Line, env: dict[str, float], swap: dict[str, str] | None = None) -> float:
    """The new value of the line's target after the line runs on ``env``."""
    value = safe_eval.evaluate(line.value, env, line.grammar, swap)
    return combine(line.op, env[line.target], value)  # what a rule's statement does, too


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _samples(rule: Rule) -> list[dict[str, float]]:
    rng = random.Random(20240606)  # the same draws every time: judging is reproducible
    return [rule.sample(rng, trial) for trial in range(_TRIALS)]


def same_effect(a: Line, b: Line, rule: Rule) -> bool:
    """True when the two lines change the same target to the same value on every draw."""
    if a.target != b.target:
        return False
    try:
        return all(_close(_effect(a, env), _effect(b, env)) for env in _samples(rule))
    except CannotCompute:
        return False


# ----------------------------------------------------------------------------- judging


@dataclass
class LineVerdict:
    correct: bool
    tags: list[str]
    message: str
    kind: str  # "right" | "wrong" | "unreadable"


def judge_line(answer: str, expect: Line | str, rule: Rule | str) -> LineVerdict:
    """Judge the learner's ``answer`` against the expected line in ``rule``'s setting.

    Never raises on learner text: unreadable lines come back with kind "unreadable" and a message.
    """
    if isinstance(rule, str):
        rule = RULES[rule]
    if isinstance(expect, str):
        expect = read_line(expect, rule)
    try:
        line = read_line(answer, rule)
    except UnreadableLine as err:
        return LineVerdict(False, [], f"Not a line I can read: {err.message}.", "unreadable")

    if line.target != expect.target:
        return LineVerdict(
            False,
            [],
            f"This line changes {line.target}, but this step of {rule.description} "
            f"must change {expect.target}.",
            "wrong",
        )
    samples = _samples(rule)
    try:
        learner = [_effect(line, env) for env in samples]
    except CannotCompute as err:
        return LineVerdict(False, [], f"That line cannot be computed: {err}.", "wrong")
    wanted = [_effect(expect, env) for env in samples]
    if all(_close(a, b) for a, b in zip(learner, wanted)):
        return LineVerdict(True, [], "Right: that line does what the rule needs.", "right")
    return _diagnose(line, expect, rule, samples, learner, wanted)


def _depends_on_old(line: Line, samples: list[dict[str, float]]) -> bool | None:
    """True if the line adds to the old target, False if it ignores it, None if neither."""
    additive = ignores = True
    for env in samples:
        moved = dict(env)
        moved[line.target] = env[line.target] + 1.75
        a, b = _effect(line, env), _effect(line, moved)
        if not _close(b - a, 1.75):
            additive = False
        if not _close(a, b):
            ignores = False
    if additive:
        return True
    if ignores:
        return False
    return None


def _diagnose(line, expect, rule, samples, learner, wanted) -> LineVerdict:
    expect_adds = _depends_on_old(expect, samples)
    try:
        line_adds = _depends_on_old(line, samples)
    except CannotCompute:
        line_adds = None
    tags: list[str] = []
    notes: list[str] = []

    if expect_adds and line_adds is False:
        # '=' where the rule adds: compare what it writes with the share it should have added
        got = learner
        if rule.overwrite_tag:
            tags.append(rule.overwrite_tag)
            notes.append(
                f"'=' replaces whatever {expect.target} already holds; a value used twice "
                f"loses the earlier share. Add with '+='"
            )
        else:
            notes.append(
                f"'=' throws away the old {expect.target} and keeps only the step; "
                f"nudge it instead ({expect.op})"
            )
    elif expect_adds:
        got = [a - env[line.target] for a, env in zip(learner, samples)]
    else:
        got = learner  # compare new values directly (e.g. zero_grad)

    share = _share(expect, samples, {}, {}) if expect_adds else wanted
    if all(_close(g, s) for g, s in zip(got, share)):
        return LineVerdict(False, tags, _join(notes), "wrong")

    found = _match_mistake(line, expect, rule, samples, got, expect_adds)
    if found:
        tag, note = found
        if tag:
            tags.append(tag)
        notes.append(note)
        return LineVerdict(False, tags, _join(notes), "wrong")

    # nothing reproduces it numerically: say what the structure shows, and a counter-example
    if "out.grad" in expect.refs and "out.grad" not in line.refs:
        tags.append("forgot-upstream")
        notes.append("there is no out.grad in your line: the chain rule multiplies by the upstream gradient")
    i = next((i for i, (g, s) in enumerate(zip(got, share)) if not _close(g, s)), 0)
    env = samples[i]
    used = line.refs | expect.refs | ({expect.target} if not expect_adds else set())
    shown = ", ".join(f"{k} = {fmt(env[k])}" for k in rule.refs if k in used)
    if expect_adds:
        notes.append(
            f"with {shown} your line adds {fmt(got[i])} to {expect.target}; the rule adds {fmt(share[i])}"
        )
    else:
        notes.append(
            f"with {shown} your line leaves {expect.target} = {fmt(learner[i])}; "
            f"it should become {fmt(wanted[i])}"
        )
    return LineVerdict(False, tags, _join(notes), "wrong")


def _share(line: Line, samples, swap: dict[str, str], fixed: dict[str, float]) -> list[float]:
    """What ``line`` adds to its target on each draw (with values swapped or fixed)."""
    out = []
    for env in samples:
        env2 = {**env, **fixed}
        env2[line.target] = env[line.target]
        out.append(_effect(line, env2, swap) - env[line.target])
    return out


def _match_mistake(line, expect, rule, samples, got, expect_adds):
    """The first classic mistake applied to the expected line that gives the learner's numbers."""

    def matches(candidate: list[float]) -> bool:
        return all(_close(g, c) for g, c in zip(got, candidate))

    def share(swap=None, fixed=None) -> list[float]:
        if expect_adds:
            return _share(expect, samples, swap or {}, fixed or {})
        return [_effect(expect, {**env, **(fixed or {})}, swap or {}) for env in samples]

    try:
        base = share()
        if matches([-x for x in base]):
            return rule.sign_tag, "the sign is flipped" + (
                ": the gradient points uphill, so the update must go against it"
                if rule.sign_tag == "update-wrong-sign"
                else ": the rule adds local derivative × upstream gradient, with no extra minus"
            )
        if (
            "out.grad" in expect.refs
            and "out.grad" not in line.refs
            and matches(share(fixed={"out.grad": 1.0}))
        ):
            return "forgot-upstream", (
                "that is the local derivative alone: multiply it by out.grad, the gradient "
                "arriving from above"
            )
        if (
            rule.scale_name
            and rule.scale_name in expect.refs
            and rule.scale_name not in line.refs
            and matches(share(fixed={rule.scale_name: 1.0}))
        ):
            return rule.scale_tag, f"the step needs the learning rate {rule.scale_name} in it"
        if rule.split_tag and matches([x / 2 for x in base]):
            return rule.split_tag, "each operand of an add gets the whole upstream gradient, not half"
        for ref in sorted(expect.refs):
            for alt in rule.refs:
                if alt == ref:
                    continue
                try:
                    cand = share(swap={ref: alt})
                except CannotCompute:
                    continue
                if matches(cand):
                    tag = rule.swap_tags.get((ref, alt), "wrong-operand")
                    return tag, f"you used {alt} where the rule needs {ref}"
    except CannotCompute:
        return None
    return None


def _join(notes: list[str]) -> str:
    if not notes:
        return "Not quite."
    text = "; ".join(notes)
    return text[0].upper() + text[1:] + "."
