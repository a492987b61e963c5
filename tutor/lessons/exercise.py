"""The ```exercise block: the learner writes one op's backward rule.

::

    ```exercise
    op = "tanh"                       # any op of the engine's op table (engine.ops.OPS)
    program = "x = 0.5; o = tanh(x)"  # a program that uses the op: the rule is run on it
    caption = "Write tanh's rule"     # optional
    hints = ["...", "..."]            # optional, shown one at a time
    [[examples]]                      # optional: rules with what grading must say of them
    rule = "def _tanh_backward(out): ..."
    right = true                      # or: tags = ["forgot-upstream"]
    ```

The table is described once here (`tutor.schema`), like every block kind; `tutor check` grades
each example with `tutor.rule_grade` as it grades a quiz's examples. Nothing is executed.

Pure logic: no Textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.ops import OPS
from tutor.schema import Issues, Key, Table, did_you_mean, program_advice

__all__ = [
    "EXERCISE",
    "Exercise",
    "RuleExample",
    "check_exercise_examples",
    "exercise_for",
    "read_exercise",
]

MAX_HINTS = 10


def _hints(value: list) -> str | None:
    if len(value) > MAX_HINTS:
        return f"at most {MAX_HINTS} hints"
    if not all(isinstance(h, str) and h.strip() for h in value):
        return 'each hint must be a string that is not empty, e.g. ["Which value does the rule need?"]'
    return None


def _tags(value: list) -> str | None:
    if not all(isinstance(t, str) for t in value):
        return 'must be a list of misconception tags, e.g. ["forgot-upstream"]'
    from tutor.misconceptions import known

    names = known()
    for tag in value:
        if tag not in names:
            return f"unknown misconception tag {tag!r}{did_you_mean(tag, names)}"
    return None


EXAMPLE = Table(
    "an example",
    (
        Key("rule", "str", "a string holding a backward rule (def _name_backward(out): ...)", required=True),
        Key("right", "bool", "true when grading must call the rule right", default=False),
        Key("tags", "list", 'a list of misconception tags, e.g. ["forgot-upstream"]', check=_tags),
    ),
)

EXERCISE = Table(
    "an exercise block",
    (
        Key(
            "op",
            "str",
            'the name of an op of the engine, e.g. "tanh"',
            required=True,
            choices=tuple(OPS),
        ),
        Key("program", "str", "a string holding an expression program that uses the op", required=True),
        Key("output", "str", "a string: the name of the node whose gradient is computed"),
        Key("caption", "str", "a string shown above the editor", default=""),
        Key(
            "hints", "list", 'a list of strings, shown one at a time, e.g. ["Which value ...?"]', check=_hints
        ),
        Key("examples", "tables", "rules, each with right = true or its tags", table=EXAMPLE),
    ),
    missing="the exercise block has no '{key}' key; add {example}",
    wrong="'{key}' must be {what}, not {got}",
)


@dataclass(frozen=True)
class RuleExample:
    rule: str
    right: bool
    tags: tuple[str, ...]
    forward: str = ""  # an own op's example: the forward formula written with the rule


@dataclass(frozen=True)
class Exercise:
    """A checked exercise: the op, the program to run the rule on, hints and examples."""

    op: str  # an op of the engine's table; for an own op, the new op's name
    program: object | None  # engine.expr.Program; None for an own op
    caption: str = ""
    hints: tuple[str, ...] = ()
    examples: tuple[RuleExample, ...] = field(default=())
    own: object | None = None  # tutor.own_op.Reference when the learner invents the op
    train: object | None = None  # engine.train.Task trained with the learner's own op (own op only)

    @property
    def is_own(self) -> bool:
        """True when the learner writes a new op end to end (its forward and its rule)."""
        return self.own is not None

    @property
    def start(self) -> str:
        """What the editor holds at first: the rule's signature and its unpacking line."""
        if self.is_own:
            from tutor.own_op import rule_start

            return rule_start(self.op)
        from tutor.rule_code import signature

        return signature(self.op)


def _uses(program, op: str) -> bool:
    from engine.value import topological_order

    return any(node._op == op for node in topological_order(program.build().output))


def read_exercise(config: dict, issues: Issues) -> Exercise | None:
    values = EXERCISE.read(config, issues)
    if values is None or "op" not in values or "program" not in values:
        return None
    from engine.expr import ProgramError, parse_program

    output = values.get("output")
    try:
        program = (
            parse_program(values["program"], output=output) if output else parse_program(values["program"])
        )
        program.check_backward()
    except ProgramError as err:
        issues.add(["program"], f"in the program: {program_advice(err.message)}", at=(err.line, err.col))
        return None
    op = values["op"]
    if not _uses(program, op):
        issues.add(
            ["program"], f"the program never uses {op}: the learner's rule would not run; use it in a line"
        )
        return None
    examples = tuple(
        RuleExample(ex["rule"], ex.get("right", False), tuple(ex.get("tags") or ()))
        for ex in values.get("examples") or ()
        if ex is not None and "rule" in ex
    )
    for i, ex in enumerate(values.get("examples") or ()):
        if ex and ex.get("right") and ex.get("tags"):
            issues.add(["examples", str(i), "tags"], "a right rule has no misconception tags; remove tags")
    if issues:
        return None
    return Exercise(op, program, values.get("caption", ""), tuple(values.get("hints") or ()), examples)


def check_exercise_examples(exercise: Exercise) -> list[tuple[int, str]]:
    """Grade every example as the screen would; (index, message) for each that comes out otherwise."""
    from tutor.rule_grade import grade_rule

    found = []
    for i, ex in enumerate(exercise.examples):
        verdict = grade_rule(ex.rule, exercise.op, exercise.program)
        if ex.right and not verdict.correct:
            found.append((i, f"this rule is meant to be right, but grading says: {verdict.message}"))
        elif not ex.right and verdict.correct:
            found.append((i, "this rule is graded right; add right = true, or make it wrong"))
        elif not ex.right and verdict.kind == "unreadable":
            found.append((i, f"this rule cannot be read: {verdict.message}"))
        elif not ex.right and set(verdict.tags) != set(ex.tags):
            got = ", ".join(f'"{t}"' for t in verdict.tags) or "no tags"
            want = ", ".join(f'"{t}"' for t in ex.tags) or "no tags"
            found.append((i, f"grading gives {got}, the example expects {want}"))
    return found


_ALIASES = {"add": "+", "mul": "*", "sub": "-", "div": "/", "pow": "**"}


def default_program(op: str) -> str:
    """A small program that runs ``op`` once, its input used twice (so = for += shows too)."""
    if OPS[op].syntax == "call":
        return f"x = 0.6\nw = 1.5\nz = x * w\ny = {op}(z)\nL = y * w"
    if OPS[op].syntax == "power":
        return "x = 0.6\nw = 1.5\nz = x * w\ny = z ** 3\nL = y * w"
    return f"x = 0.6\nw = 1.5\ny = x {op} w\nL = y * w"


def exercise_for(name: str, catalog=None) -> Exercise:
    """The exercise for op ``name`` (``tanh``, ``*`` or ``mul``): the course's first exercise
    for it, else one on `default_program`. ValueError naming the ops for anything else."""
    op = _ALIASES.get(name, name)
    if op not in OPS:
        names = ", ".join(OPS)
        raise ValueError(
            f"unknown op {name!r}{did_you_mean(name, [*OPS, *_ALIASES])}; the engine has {names}"
        )
    for lesson in getattr(catalog, "lessons", None) or ():
        for block in lesson.blocks:
            found = block.exercise if block.kind == "exercise" else None
            if found is not None and found.op == op:
                return found
    from engine.expr import parse_program

    return Exercise(op, parse_program(default_program(op)), f"the backward rule of {op}")
