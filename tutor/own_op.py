"""An op the learner invents: its forward as a formula of ``x``, its rule as a backward rule.

The learner writes, say for softplus::

    forward:   log(1 + exp(x))
    rule:      def _softplus_backward(out):
                   (self,) = out._prev
                   self.grad += sigmoid(self.data) * out.grad

The forward is read by :mod:`tutor.safe_eval` (the one evaluator of the tutor: numbers, ``x``,
``+ - * / **``, one comparison, ``a if c else b`` and the rule functions of `tutor.rule_code`),
the rule by `tutor.rule_code.read_rule`; neither is executed. Both are bounded: the forward at
most :data:`MAX_FORWARD_CHARS` characters and `safe_eval`'s node, depth and exponent limits, the
rule as every rule is.

:class:`Reference` is the lesson's side: the op's name, its forward and its derivative (a
formula of ``x`` and ``out``, the op's output), e.g. ``sigmoid(x)``; :func:`read_reference`
refuses one whose derivative is not the slope of its forward. :func:`grade_own_op` grades the
learner's two parts: the forward against the reference's on random inputs; the rule against
the numeric derivative of *their own* forward and against the reference's rule, with the named
diagnoses of every exercise (`tutor.rule_grade.DIAGNOSES`).

:func:`custom_op` turns a read forward and rule into an `engine.custom.CustomOp`, a node the
engine, the stepper and the trainer run like any other.

Pure logic: standard library, the engine and the tutor's readers; no Textual.
"""

from __future__ import annotations

import ast
import math
import random
from dataclasses import dataclass, field

from engine.custom import CustomOp
from engine.numfmt import fmt
from engine.value import Value
from tutor import safe_eval
from tutor.rule_code import RuleCode, RuleError, check_powers, read_rule
from tutor.rule_functions import RULE_FUNCTIONS
from tutor.rule_grade import DIAGNOSES
from tutor.safe_eval import CannotCompute, Grammar, Unreadable

__all__ = [
    "MAX_FORWARD_CHARS",
    "Forward",
    "FormulaError",
    "OwnOpVerdict",
    "Reference",
    "custom_op",
    "grade_own_op",
    "op_cost",
    "read_forward",
    "read_reference",
    "rule_start",
]

MAX_FORWARD_CHARS = 300
_SEED = 20261214
_POINTS = 8  # random inputs the forward is compared on
_STEP = 1e-5  # the numeric derivative's step


class FormulaError(ValueError):
    """A forward (or derivative) formula that cannot be read; ``message`` says why, plainly."""

    def __init__(self, message: str, col: int = 1):
        super().__init__(f"column {col}: {message}")
        self.message = message
        self.col = col


def _grammar(names: tuple[str, ...]) -> Grammar:
    def resolve(node: ast.AST) -> str:
        if isinstance(node, ast.Name) and node.id in names:
            return node.id
        if isinstance(node, ast.Name) and node.id == "math":
            raise Unreadable("math is only for its functions, like math.exp(x)")
        if isinstance(node, ast.Name):
            raise Unreadable(f"unknown name {node.id!r}: the formula is of {' and '.join(names)} only")
        raise Unreadable(f"write {names[0]} itself: a formula has no attributes")

    return Grammar(
        resolve,
        functions=RULE_FUNCTIONS,
        comparisons=True,
        conditionals=True,
        refused=f"a formula is arithmetic on {' and '.join(names)}",
        arity={"leaky_relu": 2},
    )


@dataclass(frozen=True)
class Forward:
    """A checked formula of ``x`` (and, for a derivative, ``out``): call it on floats."""

    text: str
    tree: ast.expr = field(repr=False)
    grammar: Grammar = field(repr=False)

    def __call__(self, x: float, out: float | None = None) -> float:
        """Its value; CannotCompute (with a plain message) when it has none at ``x``."""
        env = {"x": float(x)}
        if out is not None:
            env["out"] = float(out)
        return safe_eval.finite(safe_eval.evaluate(self.tree, env, self.grammar))


def read_forward(text: str, *, names: tuple[str, ...] = ("x",)) -> Forward:
    """Read ``text`` as a formula of ``names`` (``x``; ``x`` and ``out`` for a derivative)."""
    if not isinstance(text, str):
        raise FormulaError("write the formula as text")
    if len(text) > MAX_FORWARD_CHARS:
        raise FormulaError(f"it is {len(text):,} characters long; at most {MAX_FORWARD_CHARS} are read")
    if not text.strip():
        raise FormulaError("write the formula, e.g. log(1 + exp(x))")
    grammar = _grammar(names)
    try:
        tree, _ = safe_eval.parse(text, grammar, max_chars=MAX_FORWARD_CHARS)
        check_powers(tree)
    except Unreadable as err:
        col = (getattr(err.node, "col_offset", 0) or 0) + 1
        raise FormulaError(err.message, col) from None
    if names == ("x",) and "x" not in {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}:
        raise FormulaError("the formula never uses x: an op's output depends on its input")
    return Forward(text.strip(), tree, grammar)


def _slope(f: Forward, x: float) -> float:
    return (f(x + _STEP) - f(x - _STEP)) / (2 * _STEP)


def _points() -> list[float]:
    rng = random.Random(_SEED)
    return [round(rng.uniform(-3.0, 3.0), 2) for _ in range(_POINTS)]


def _agree(a: float, b: float, tol: float = 1e-7) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


@dataclass(frozen=True)
class Reference:
    """The lesson's op: its name, forward and derivative, and the true rule made from them."""

    name: str
    forward: Forward
    derivative: Forward
    rule: RuleCode = field(repr=False)

    @property
    def rule_text(self) -> str:
        return self.rule.text


def rule_start(name: str) -> str:
    """What the rule's editor starts with: the rule's first lines, as for an op of the engine."""
    return f"def _{name}_backward(out):\n    (self,) = out._prev\n"


def _as_rule(name: str, derivative: Forward) -> RuleCode:
    """The true rule: ``self.grad += (derivative, x as self.data, out as out.data) * out.grad``."""

    class _Names(ast.NodeTransformer):
        def visit_Name(self, node):
            if node.id in ("x", "out"):
                who = "self" if node.id == "x" else "out"
                return ast.copy_location(ast.Attribute(ast.Name(who, ast.Load()), "data", ast.Load()), node)
            return node

    import copy

    body = ast.unparse(_Names().visit(copy.deepcopy(derivative.tree)))
    return read_rule(f"{rule_start(name)}    self.grad += ({body}) * out.grad\n")


def read_reference(name: str, forward: str, derivative: str) -> Reference:
    """The lesson's op, checked: FormulaError (with which part: ``forward:`` or ``derivative:``)
    when a formula cannot be read, or the derivative is not its forward's slope."""
    try:
        CustomOp(name, float, lambda out: None)  # the name's own checks
    except ValueError as err:
        raise FormulaError(f"name: {err}") from None
    try:
        f = read_forward(forward)
    except FormulaError as err:
        raise FormulaError(f"forward: {err.message}", err.col) from None
    try:
        d = read_forward(derivative, names=("x", "out"))
    except FormulaError as err:
        raise FormulaError(f"derivative: {err.message}", err.col) from None
    for x in _points():
        try:
            slope, given = _slope(f, x), d(x, f(x))
        except CannotCompute as err:
            raise FormulaError(f"at x = {fmt(x)}: {err.message}") from None
        if not _agree(slope, given, 1e-4):
            raise FormulaError(
                f"derivative: at x = {fmt(x)} it is {fmt(given)}, but the forward's slope there is "
                f"{fmt(slope)}; fix the derivative (or the forward)"
            )
    return Reference(name, f, d, _as_rule(name, d))


def op_cost(forward: Forward, rule: RuleCode | None) -> int:
    """How many built-in values' time one node of the op takes (`engine.cost`'s budget counts it).

    The forward and the rule are walked by the interpreter, node by node of their syntax:
    ``benchmarks/bench_own_op.py`` measured about 0.2 µs a syntax node (softplus: 43
    nodes, 8-10 µs a node more than tanh's, with a value at 0.7 µs); half a value a syntax node
    keeps the estimate above what was measured."""
    nodes = sum(1 for _ in ast.walk(forward.tree))
    if rule is not None:
        nodes += sum(1 for _ in ast.walk(ast.parse(rule.text)))
    return 1 + nodes // 2


def custom_op(name: str, forward: Forward, rule: RuleCode | None) -> CustomOp:
    """The engine node of the op: the forward computed by the evaluator, the rule interpreted.

    Where either cannot compute (``log(1 + exp(x))`` at x = 800: a number grows too large) the
    node raises OverflowError naming the op, as a built-in op's overflow does, so a training run
    stops with that message instead of failing. The rule carries its = for += twin
    (``overwriting``), so the mistake runs of the debugger and the trainer make that mistake in
    the learner's rule too (`engine.mistakes.overwriting_rule`)."""
    run = rule.as_function() if rule is not None else (lambda out: None)

    def value(x: float) -> float:
        try:
            return forward(x)
        except CannotCompute as err:
            raise OverflowError(f"{name}({fmt(x)}): {err}") from None

    def refusing(run):
        def backward(out) -> None:
            try:
                run(out)
            except CannotCompute as err:
                raise OverflowError(f"{name}'s rule at {name}({fmt(out._prev[0].data)}): {err}") from None

        backward.__name__ = getattr(run, "__name__", f"_{name}_backward")
        backward.source = getattr(run, "source", "")  # what the debugger shows as the code that ran
        return backward

    backward = refusing(run)
    if rule is not None:
        backward.overwriting = refusing(rule.overwriting().as_function())
    return CustomOp(name, value, backward, cost=op_cost(forward, rule))


# ------------------------------------------------------------------------ grading


@dataclass
class OwnOpVerdict:
    correct: bool
    forward_ok: bool
    rule_ok: bool
    message: str  # the whole verdict, forward first
    forward_message: str = ""
    rule_message: str = ""
    diagnoses: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    line: int = 0  # where a rule's problem is, in the rule's text (0: none)
    forward: Forward | None = None
    rule: RuleCode | None = None

    def op(self, name: str) -> CustomOp | None:
        """The learner's op as an engine node maker, once both parts can be read."""
        if self.forward is None or self.rule is None:
            return None
        return custom_op(name, self.forward, self.rule)


def _grade_forward(ref: Reference, text: str) -> tuple[Forward | None, bool, str]:
    try:
        yours = read_forward(text)
    except FormulaError as err:
        return None, False, f"Your forward, column {err.col}: {err.message}."
    for x in _points():
        right = ref.forward(x)
        try:
            got = yours(x)
        except CannotCompute as err:
            return yours, False, f"Your forward cannot be computed at x = {fmt(x)}: {err.message}."
        if not _agree(got, right):
            return (
                yours,
                False,
                (
                    f"Your forward is not {ref.name}: at x = {fmt(x)} it gives {fmt(got)}, {ref.name} is {fmt(right)}."
                ),
            )
    return yours, True, f"Your forward is {ref.name}."


def _after(rule, forward: Forward, x: float, upstream: float, before: float, **run) -> float:
    """self.grad after ``rule`` runs once on the node ``name(x)`` built with ``forward``."""
    v = Value(x)
    v.grad = before
    out = Value(forward(x), (v,), "own")
    out.grad = upstream
    rule(out, **run)
    return v.grad


def _cases() -> list[tuple[float, float, float]]:
    rng = random.Random(_SEED + 1)
    signed = lambda: round(rng.uniform(0.5, 2.0) * rng.choice((-1.0, 1.0)), 2)  # noqa: E731
    return [(round(rng.uniform(-2.5, 2.5), 2), signed(), signed()) for _ in range(6)]


def _diagnose(ref: Reference, code: RuleCode) -> list[str]:
    """The named mistakes that, made in the reference's rule, give the learner's numbers."""
    cases = _cases()
    f = ref.forward
    got = [_after(code.run, f, x, up, b) for x, up, b in cases]
    moved = [_after(code.run, f, x, up, b + 1.75) for x, up, b in cases]
    overwrites = all(_agree(a, m) for a, m in zip(got, moved))
    shares = got if overwrites else [g - b for g, (_, _, b) in zip(got, cases)]

    def share(**run) -> list[float] | None:
        try:
            return [_after(ref.rule.run, f, x, up, b, **run) - b for x, up, b in cases]
        except RuleError:
            return None

    at_input, at_output = {"out.data": "self.data"}, {"self.data": "out.data"}
    forgot = {"fixed": {"out.grad": 1.0}}
    singles = [
        ([], share()),
        (["forgot the upstream gradient"], share(**forgot)),
        (["the derivative at the input"], share(swap=at_input)),
        (["the derivative at the output"], share(swap=at_output)),
        (["the derivative at the input", "forgot the upstream gradient"], share(swap=at_input, **forgot)),
        (["the derivative at the output", "forgot the upstream gradient"], share(swap=at_output, **forgot)),
    ]
    tried = []
    for names, xs in singles:
        if xs is None:
            continue
        tried.append((names, xs))
        tried.append(([*names, "a flipped sign"], [-s for s in xs]))
    for names, xs in tried:
        if all(_agree(a, b) for a, b in zip(shares, xs)) and (names or overwrites):
            return (["= for +="] if overwrites else []) + names
    return ["= for +="] if overwrites else []


def _grade_rule(
    ref: Reference, text: str, yours: Forward | None
) -> tuple[RuleCode | None, bool, str, list[str], int]:
    try:
        code = read_rule(text)
    except RuleError as err:
        return None, False, f"Your rule, line {err.line}, column {err.col}: {err.message}.", [], err.line
    if len(code.operands) != 1:
        return (
            code,
            False,
            f"Your rule: {ref.name} has one operand: (self,) = out._prev.",
            [],
            code.unpack_line,
        )
    # 1. against the numeric derivative of the learner's own forward (upstream 1, grad 0 before)
    own_note = ""
    if yours is not None:
        for x in _points():
            try:
                slope = _slope(yours, x)
                got = _after(code.run, yours, x, 1.0, 0.0)
            except CannotCompute:
                continue  # their forward has no slope here: the comparison below still runs
            except RuleError as err:
                return (
                    code,
                    False,
                    f"Your rule, line {err.line}: it cannot be computed: {err.message}.",
                    [],
                    err.line,
                )
            if not _agree(got, slope, 1e-4):
                own_note = (
                    f" The gradient check on your own forward disagrees too: at x = {fmt(x)} your rule "
                    f"gives {fmt(got)}, the slope of your forward is {fmt(slope)}."
                )
                break
    # 2. against the reference rule on random cases
    for x, up, before in _cases():
        try:
            got = _after(code.run, ref.forward, x, up, before)
        except RuleError as err:
            return (
                code,
                False,
                f"Your rule, line {err.line}: it cannot be computed: {err.message}.",
                [],
                err.line,
            )
        right = _after(ref.rule.run, ref.forward, x, up, before)
        if not _agree(got, right):
            found = _diagnose(ref, code)
            named = " and ".join(found) if found else "no classic mistake I know"
            why = "; ".join(DIAGNOSES[d].explain for d in found)
            message = (
                f"Your rule: {named}" + (f" ({why})" if why else "") + f". With x = {fmt(x)}, "
                f"out.grad = {fmt(up)}, self.grad = {fmt(before)} before: yours gives {fmt(got)}, "
                f"the rule {fmt(right)}.{own_note}"
            )
            return code, False, message, found, 0
    if own_note:  # right for the op, but not for the forward they wrote
        return code, True, f"Your rule is {ref.name}'s rule.{own_note} Fix the forward.", [], 0
    return (
        code,
        True,
        f"Your rule is {ref.name}'s rule, and the gradient check on your forward agrees.",
        [],
        0,
    )


def grade_own_op(ref: Reference, forward_text: str, rule_text: str) -> OwnOpVerdict:
    """Grade both parts. Never raises on learner text; nothing is executed."""
    forward, forward_ok, forward_message = _grade_forward(ref, forward_text)
    rule, rule_ok, rule_message, found, line = _grade_rule(ref, rule_text, forward)
    tags: list[str] = []
    for d in found:
        if DIAGNOSES[d].tag not in tags:
            tags.append(DIAGNOSES[d].tag)
    correct = forward_ok and rule_ok
    head = "Right: both parts are right." if correct else "Not yet."
    return OwnOpVerdict(
        correct,
        forward_ok,
        rule_ok,
        f"{head} {forward_message} {rule_message}",
        forward_message,
        rule_message,
        found,
        tags,
        line,
        forward,
        rule,
    )
