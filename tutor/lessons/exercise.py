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

Its other form asks for a *new* op, written end to end (the forward and the rule)::

    ```exercise
    new_op = "softplus"               # a new name, not an op of the engine
    forward = "log(1 + exp(x))"       # the lesson's forward: a formula of x
    derivative = "sigmoid(x)"         # its slope: a formula of x and out (the op's output)
    [train]                           # optional: a train block's keys, trained with the
    steps = 60                        #   learner's op as every hidden layer's activation
    [train.model] ...
    [[examples]]
    forward = "log(1 + exp(x))"
    rule = "def _softplus_backward(out): ..."
    right = true
    ```

The table is described once here (`tutor.schema`), like every block kind; `tutor check` grades
each example with `tutor.rule_grade` (an own op's with `tutor.own_op.grade_own_op`) as it grades
a quiz's examples. Nothing is executed.

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


def _new_name(value: str) -> str | None:
    from engine.custom import CustomOp

    try:
        CustomOp(value, float, lambda out: None)  # the engine's own checks of a name
    except ValueError as err:
        return str(err)
    return None


EXAMPLE = Table(
    "an example",
    (
        Key("rule", "str", "a string holding a backward rule (def _name_backward(out): ...)", required=True),
        Key(
            "forward",
            "str",
            'an own op\'s example only: the forward written with the rule, e.g. "log(1 + exp(x))"',
        ),
        Key("right", "bool", "true when grading must call the rule right", default=False),
        Key("tags", "list", 'a list of misconception tags, e.g. ["forgot-upstream"]', check=_tags),
    ),
)

EXERCISE = Table(
    "an exercise block",
    (
        Key("op", "str", 'the name of an op of the engine, e.g. "tanh"', choices=tuple(OPS)),
        Key("program", "str", "with op: a string holding an expression program that uses the op"),
        Key("output", "str", "with op: a string, the name of the node whose gradient is computed"),
        Key(
            "new_op",
            "str",
            'instead of op: the name of a new op the learner writes end to end, e.g. "softplus"',
            check=_new_name,
        ),
        Key("forward", "str", 'with new_op: its forward, a formula of x, e.g. "log(1 + exp(x))"'),
        Key(
            "derivative",
            "str",
            'with new_op: its derivative, a formula of x and out (its output), e.g. "sigmoid(x)"',
        ),
        Key(
            "train",
            "table",
            "with new_op: a [train] table of a train block's keys, without [train.model]'s activation "
            "(the learner's op is every hidden layer's activation)",
        ),
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


_OP_ONLY = ("program", "output")
_OWN_ONLY = ("forward", "derivative", "train")


def read_exercise(config: dict, issues: Issues) -> Exercise | None:
    values = EXERCISE.read(config, issues)
    if values is None:
        return None
    raw = config if isinstance(config, dict) else {}
    if "op" in raw and "new_op" in raw:
        issues.add(
            ["new_op"],
            "op and new_op are the two forms of an exercise: keep op (an op of the engine, with its "
            "program) or new_op (a new op the learner writes end to end), not both",
        )
        return None
    if "op" not in raw and "new_op" not in raw:
        if not any(len(i.path) == 1 and i.message.startswith("unknown key") for i in issues):
            issues.add(
                [],
                "the exercise block has no 'op' or 'new_op' key; add op = \"tanh\" (an op of the "
                'engine, with a program) or new_op = "softplus" (a new op, with forward and derivative)',
            )
        return None
    own = "new_op" in raw
    for key in _OP_ONLY if own else _OWN_ONLY:
        if key in raw:
            form = "op's (an op of the engine)" if own else "new_op's (a new op)"
            issues.add([key], f"{key} belongs to the {form} form of the exercise; remove it")
    examples = _examples(values, issues, own)
    if own:
        return _read_own(values, raw, issues, examples)
    if "op" not in values:
        return None
    if "program" not in raw:
        issues.add(
            ["program"],
            "the exercise block has no 'program' key; add program = a string holding an expression "
            "program that uses the op",
        )
        return None
    if "program" not in values:
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
    if issues:
        return None
    return Exercise(op, program, values.get("caption", ""), tuple(values.get("hints") or ()), examples)


def _examples(values: dict, issues: Issues, own: bool) -> tuple[RuleExample, ...]:
    found = []
    for i, ex in enumerate(values.get("examples") or ()):
        if ex is None or "rule" not in ex:
            continue
        if ex.get("right") and ex.get("tags"):
            issues.add(["examples", str(i), "tags"], "a right rule has no misconception tags; remove tags")
        if own and "forward" not in ex:
            issues.add(
                ["examples", str(i)],
                "an own op's example gives the forward written with its rule: add forward = "
                '"log(1 + exp(x))" or the forward it means',
            )
        elif not own and "forward" in ex:
            issues.add(["examples", str(i), "forward"], "forward is for a new_op's example; remove it")
        found.append(
            RuleExample(
                ex["rule"], ex.get("right", False), tuple(ex.get("tags") or ()), ex.get("forward", "")
            )
        )
    return tuple(found)


def _read_own(values: dict, raw: dict, issues: Issues, examples) -> Exercise | None:
    """The new_op form: the reference op (its forward and derivative checked) and its task."""
    for key in ("forward", "derivative"):
        if key not in raw:
            example = 'forward = "log(1 + exp(x))"' if key == "forward" else 'derivative = "sigmoid(x)"'
            issues.add([key], f"the exercise block has no '{key}' key; add {example}")
    name = values.get("new_op")
    reference = None
    if name is not None and "forward" in values and "derivative" in values:
        from tutor.own_op import FormulaError, read_reference

        try:
            reference = read_reference(name, values["forward"], values["derivative"])
        except FormulaError as err:
            issues.add(*_reference_issue(err))
    task = None
    if isinstance(raw.get("train"), dict):
        task = _read_train(raw["train"], issues, _cost(reference))
    if issues or reference is None or ("train" in raw and task is None):
        return None
    caption, hints = values.get("caption", ""), tuple(values.get("hints") or ())
    return Exercise(name, None, caption, hints, examples, own=reference, train=task)


def _reference_issue(err) -> tuple[list[str], str]:
    """Where read_reference's FormulaError belongs (forward, derivative or new_op) and its words."""
    text = err.message
    for key, prefix in (("forward", "forward: "), ("derivative", "derivative: "), ("new_op", "name: ")):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            if err.col > 1:
                text = f"column {err.col}: {text}"
            if key != "new_op" and "fix the" not in text:
                text += (
                    "; write a formula of x"
                    + (" and out" if key == "derivative" else "")
                    + " with numbers, + - * / **, and functions like exp, log, tanh, sigmoid"
                )
            return [key], text
    return ["forward"], f"{text}; the forward and its derivative must have a value for every x from -3 to 3"


def _cost(reference) -> int:
    """What a node of the lesson's own op costs in the budget (1 while the op cannot be read).
    The learner's op is weighed again, by its own text, when the screen builds its Trainer."""
    if reference is None:
        return 1
    from tutor.own_op import op_cost

    return op_cost(reference.forward, reference.rule)


def _read_train(config: dict, issues: Issues, activation_cost: int):
    """The [train] table, read by the train block's reader; its issues at train.<key>."""
    from tutor.lessons.train import read_task_issues

    config = dict(config)
    model = config.get("model")
    if isinstance(model, dict):
        model = dict(model)
        if "activation" in model:
            issues.add(
                ["train", "model", "activation"],
                "the learner's op is the activation of every hidden layer here; remove activation",
            )
            del model["activation"]
        if model.get("linear_output", True) is not True:
            issues.add(
                ["train", "model", "linear_output"],
                "the output stays a plain score here (only the hidden layers use the learner's op); "
                "remove linear_output",
            )
        model["linear_output"] = True
        config["model"] = model
    found = Issues()
    task = read_task_issues(config, found, activation_cost=activation_cost)
    for issue in found:
        issues.add(("train", *issue.path), issue.message, issue.at)
    return task


def check_exercise_examples(exercise: Exercise) -> list[tuple[int, str, str]]:
    """Grade every example as the screen would; (index, key, message) for each that comes out
    otherwise (key: the example's key the message is put at)."""
    if exercise.is_own:
        return _check_own_examples(exercise)
    from tutor.rule_grade import grade_rule

    found = []
    for i, ex in enumerate(exercise.examples):
        verdict = grade_rule(ex.rule, exercise.op, exercise.program)
        problem = _disagreement(
            ex, verdict.correct, verdict.kind == "unreadable", verdict.message, verdict.tags
        )
        if problem:
            found.append((i, "rule", problem))
    return found


def _check_own_examples(exercise: Exercise) -> list[tuple[int, str, str]]:
    from tutor.own_op import grade_own_op

    found = []
    for i, ex in enumerate(exercise.examples):
        verdict = grade_own_op(exercise.own, ex.forward, ex.rule)
        unreadable = verdict.forward is None or verdict.rule is None
        problem = _disagreement(ex, verdict.correct, unreadable, verdict.message, verdict.tags)
        if problem:
            key = "forward" if verdict.forward is None or (ex.right and not verdict.forward_ok) else "rule"
            found.append((i, key, problem))
    return found


def _disagreement(ex: RuleExample, correct: bool, unreadable: bool, message: str, tags) -> str | None:
    if ex.right and not correct:
        return f"this rule is meant to be right, but grading says: {message}"
    if not ex.right and correct:
        return "this rule is graded right; add right = true, or make it wrong"
    if not ex.right and unreadable:
        return f"this rule cannot be read: {message}"
    from tutor.misconceptions import current

    if not ex.right and set(tags) != {current(t) for t in ex.tags}:  # an old name counts as today's
        got = ", ".join(f'"{t}"' for t in tags) or "no tags"
        want = ", ".join(f'"{t}"' for t in ex.tags) or "no tags"
        return f"grading gives {got}, the example expects {want}"
    return None


_ALIASES = {"add": "+", "mul": "*", "sub": "-", "div": "/", "pow": "**"}


def default_program(op: str) -> str:
    """A small program that runs ``op`` once, its input used twice (so = for += shows too)."""
    if OPS[op].syntax == "call":
        return f"x = 0.6\nw = 1.5\nz = x * w\ny = {op}(z)\nL = y * w"
    if OPS[op].syntax == "power":
        return "x = 0.6\nw = 1.5\nz = x * w\ny = z ** 3\nL = y * w"
    return f"x = 0.6\nw = 1.5\ny = x {op} w\nL = y * w"


def _own_exercises(catalog) -> dict[str, Exercise]:
    """The course's own-op exercises by their new op's name (the first of each name)."""
    found: dict[str, Exercise] = {}
    for lesson in getattr(catalog, "lessons", None) or ():
        for block in lesson.blocks:
            exercise = block.exercise if block.kind == "exercise" else None
            if exercise is not None and exercise.is_own:
                found.setdefault(exercise.op, exercise)
    return found


def exercise_for(name: str, catalog=None) -> Exercise:
    """The exercise for op ``name`` (``tanh``, ``*`` or ``mul``): the course's first exercise
    for it, else one on `default_program`; or the course's own-op exercise of that new name
    (``softplus``). ValueError naming the ops (and the course's new ones) for anything else."""
    op = _ALIASES.get(name, name)
    if op not in OPS:
        own = _own_exercises(catalog)
        if name in own:
            return own[name]
        names = ", ".join(OPS)
        course = f"; the course's new ones: {', '.join(own)}" if own else ""
        raise ValueError(
            f"unknown op {name!r}{did_you_mean(name, [*OPS, *_ALIASES, *own])}; the engine has {names}{course}"
        )
    for lesson in getattr(catalog, "lessons", None) or ():
        for block in lesson.blocks:
            found = block.exercise if block.kind == "exercise" else None
            if found is not None and found.op == op and not found.is_own:
                return found
    from engine.expr import parse_program

    return Exercise(op, parse_program(default_program(op)), f"the backward rule of {op}")
