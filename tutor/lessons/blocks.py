"""The front matter and each kind of interactive block: described once, checked, read.

Each kind has one declarative description (a :class:`tutor.schema.Table`): the front matter
and the ```debugger and ```pytorch blocks here, ```train in :mod:`tutor.lessons.train`, each
kind of ```quiz in its module of :mod:`tutor.quiz`. Checking a block reports every problem it
has at once, each at the ``path:line:col`` of the Markdown file where it is; a block that checks
out keeps what it was read into (``block.program``, ``block.task``, ``block.quiz``).

Nothing from a lesson is executed: TOML is read with ``tomllib``, programs with ``engine.expr``
(an ``ast`` whitelist), quizzes and training tasks by their own readers.
"""

from __future__ import annotations

import re
import tomllib

from tutor.lessons import toml_text
from tutor.lessons.model import Block, Lesson, Problem, ProgramBlock
from tutor.lessons.positions import key_position, locate, toml_error
from tutor.schema import Issue, Issues, Key, Table, did_you_mean, program_advice, show

__all__ = [
    "DEBUGGER",
    "FRONT_MATTER",
    "PYTORCH",
    "block_result",
    "cannot_open",
    "check_block",
    "check_blocks",
    "read_front",
]

_ID_RE = re.compile(r"[a-z0-9-]+\Z")
_ID_WHAT = 'a string of lowercase letters, digits and dashes, e.g. "backprop-by-hand"'


def _lesson_id(value: str) -> str | None:
    if _ID_RE.match(value):
        return None
    return f'id {show(value)} may hold only lowercase letters, digits and dashes, e.g. "backprop-by-hand"'


def _not_empty(key: str, what: str):
    return lambda value: None if value.strip() else f"'{key}' must not be empty; it should be {what}"


def _lesson_ids(value: list) -> str | None:
    bad = [p for p in value if not isinstance(p, str) or not _ID_RE.match(p)]
    if bad:
        return f"'prerequisites' must be a list of lesson ids, e.g. [\"derivative\"] or []; {bad[0]!r} is not a lesson id"
    return None


def _text(key: str, what: str) -> Key:
    return Key(key, "str", what, required=True, check=_not_empty(key, what))


FRONT_MATTER = Table(
    "the front matter",
    (
        Key("id", "str", _ID_WHAT, required=True, check=_lesson_id),
        _text("title", 'a string, e.g. "Backprop by hand"'),
        _text("section", 'a string, e.g. "Foundations"'),
        Key("order", "int", "a whole number, e.g. 30 (lessons are listed by it)", required=True),
        _text("summary", "a string of one sentence"),
        Key(
            "prerequisites",
            "list",
            'a list of lesson ids, e.g. ["derivative"] or []',
            required=True,
            check=_lesson_ids,
        ),
        Key(
            "misconceptions",
            "tables",
            "the lesson's own misconception tags, each with tag, title, explanation and see",
        ),
    ),
    unknown="unknown front-matter key '{key}'{hint}",
    missing="the front matter has no '{key}' key; add {example}",
    wrong="'{key}' must be {what}, not {got}",
)


def _program_table(kind: str, output: str, caption: str, *extra: Key) -> Table:
    return Table(
        f"a {kind} block",
        (
            Key("program", "str", "a string holding an expression program", required=True),
            Key("output", "str", f"a string: the name of the node {output}"),
            *extra,
            Key("caption", "str", f"a string shown above {caption}", default=""),
        ),
        missing=f"the {kind} block has no '{{key}}' key; add {{example}}",
        wrong="'{key}' must be {what}, not {got}",
    )


DEBUGGER = _program_table(
    "debugger",
    "whose gradient is computed",
    "the debugger",
    Key("predict", "bool", "true or false", default=False),
)
PYTORCH = _program_table("pytorch", "whose backward() runs", "the comparison")


def read_front(front: dict, issues: Issues) -> dict:
    """The front matter's good values."""
    return FRONT_MATTER.read(front, issues)


# ------------------------------------------------------------------------ one block


def _read_program_block(kind: str, table: Table):
    def read(config: dict, issues: Issues) -> ProgramBlock | None:
        values = table.read(config, issues)
        if "program" not in values:
            return None
        from engine.expr import ProgramError, parse_program  # not at start-up: the list needs none

        text, output = values["program"], values.get("output")
        try:
            program = parse_program(text)
            if output is not None and output not in program.names:
                issues.add(
                    ["output"],
                    f"output {output!r} is not a name the program assigns (it assigns: "
                    f"{', '.join(program.names)}){did_you_mean(output, program.names)}",
                )
                return None
            if output is not None:
                program = parse_program(text, output=output)
            program.check_backward()  # evaluates it, and finds a rule that cannot be computed
        except ProgramError as err:
            issues.add(["program"], f"in the program: {program_advice(err.message)}", at=(err.line, err.col))
            return None
        if issues:
            return None
        predict = values.get("predict", False)
        return ProgramBlock(program, values.get("caption", ""), output, predict)

    return read


# What a train block shows the learner, beside the task itself (read by tutor.lessons.train):
# not the engine's business, so read here and kept out of the task's table.
TRAIN_CARD = Table(
    "a train block",
    (
        Key("caption", "str", "a line of text shown on the card and as the screen's subtitle", default=""),
        Key(
            "hide_mistake",
            "bool",
            "true or false: name the run's bug only once the learner has answered",
            default=False,
        ),
        Key(
            "reveal_after",
            "str",
            "the id of the lesson's block whose completion names the hidden bug",
            check=lambda v: (
                None if _ID_RE.match(v) else f"{v!r} is not a block id (lowercase letters, digits, dashes)"
            ),
        ),
    ),
)


def _read_train(config: dict, issues: Issues):
    from tutor.lessons.train import read_task_issues

    if not isinstance(config, dict):
        return read_task_issues(config, issues)
    card = {k: v for k, v in config.items() if k in TRAIN_CARD.by_name}
    TRAIN_CARD.read(card, issues)
    if "reveal_after" in card and not card.get("hide_mistake"):
        issues.add(
            ["reveal_after"], "reveal_after only matters with hide_mistake = true: add that, or remove it"
        )
    return read_task_issues({k: v for k, v in config.items() if k not in TRAIN_CARD.by_name}, issues)


def hidden_mistake(block: Block) -> bool:
    """Whether a train block asks for its bug to stay hidden until the learner has answered."""
    return (
        block.kind == "train" and isinstance(block.config, dict) and block.config.get("hide_mistake") is True
    )


def reveal_block(lesson: Lesson, block: Block) -> Block | None:
    """The block whose completion names a hidden bug: the one ``reveal_after`` names, else the
    first quiz after the train block; None when there is none."""
    wanted = block.config.get("reveal_after") if isinstance(block.config, dict) else None
    for other in lesson.blocks:
        if wanted is not None and other.id == wanted and other is not block:
            return other
        if wanted is None and other.index > block.index and other.kind == "quiz":
            return other
    return None


def _check_reveals(lesson: Lesson, where: str) -> list[Problem]:
    found = []
    for block in lesson.blocks:
        if not hidden_mistake(block) or reveal_block(lesson, block) is not None:
            continue
        wanted = block.config.get("reveal_after")
        if wanted is None:
            message = (
                "hide_mistake = true needs a question to reveal the bug after: add a quiz after this "
                'block, or name the block with reveal_after = "<its id>"'
            )
        else:
            ids = [b.id for b in lesson.blocks if b.interactive and b is not block]
            message = f"reveal_after {wanted!r} is not the id of another block of this lesson{did_you_mean(wanted, ids)}"
        found.append(Problem(where, block.line, 1, message))
    return found


def _read_quiz(config: dict, issues: Issues):
    from tutor.quiz import read_quiz

    quiz, found = read_quiz(config)
    issues.extend(found)
    return quiz


def _read_exercise(config: dict, issues: Issues):
    from tutor.lessons.exercise import read_exercise

    return read_exercise(config, issues)


_READERS = {
    "exercise": _read_exercise,
    "debugger": _read_program_block("debugger", DEBUGGER),
    "pytorch": _read_program_block("pytorch", PYTORCH),
    "train": _read_train,
    "quiz": _read_quiz,
}
_NAMED = ("train", "quiz", "exercise")  # their messages say "quiz block, options[1].text: ..."


def check_block(
    block: Block, where: str, *, grade_examples: bool = False, config: dict | None = None
) -> list[Problem]:
    """Check one interactive block: its TOML (``block.text``, or ``config`` when given) and its
    contents. Sets ``block.config``, ``block.result`` (None when it has a problem) and
    ``block.problems``; returns the problems."""
    problems: list[Problem] = []
    if config is None:
        try:
            config = toml_text.loads(block.text)
        except toml_text.TomlRefused as err:
            line = block.line + err.line
            problems.append(
                Problem(where, line, err.col, f"the {block.kind} block is refused: {err.message}")
            )
            block.result, block.problems = None, problems
            return problems
        except tomllib.TOMLDecodeError as err:
            line, col, msg = toml_error(err, block.line + 1, block.text)
            problems.append(Problem(where, line, col, f"the {block.kind} block is not valid TOML: {msg}"))
            block.result, block.problems = None, problems
            return problems
    block.config = config
    issues = Issues()
    try:
        result = _READERS[block.kind](_without_id(block, block.config, issues), issues)
        if result is not None and block.kind == "quiz" and grade_examples:
            from tutor.quiz import check_examples

            for index, message in check_examples(result):
                issues.add(["examples", str(index)], message)
        if result is not None and block.kind == "exercise" and grade_examples:
            from tutor.lessons.exercise import check_exercise_examples

            for index, key, message in check_exercise_examples(result):
                issues.add(["examples", str(index), key], message)
    except Exception as err:  # a bug in a reader must not stop the app or `tutor check`
        issues.add(
            [],
            f"the {block.kind} block could not be checked ({type(err).__name__}: {err}); please report this",
        )
        result = None
    for issue in issues:
        line, col = _position(block, issue)
        problems.append(Problem(where, line, col, _message(block.kind, issue)))
    problems.sort(key=lambda p: (p.line, p.col))
    block.warnings = []
    for issue in getattr(result, "warnings", None) or ():  # works, but likely not what was meant
        line, col = _position(block, issue)
        block.warnings.append(Problem(where, line, col, _message(block.kind, issue), "warning"))
    block.result = None if problems else result
    block.problems = problems
    if block.kind == "debugger" and isinstance(block.config, dict):
        block.config.setdefault("predict", False)
    return problems


def _without_id(block: Block, config, issues: Issues):
    """The block's keys for its reader: all but ``id``, which names the block (read from its
    lines by :mod:`tutor.lessons.ids`; here only proved to be the id that was read)."""
    if not isinstance(config, dict) or "id" not in config:
        return config
    from tutor.lessons.ids import explicit_id

    if explicit_id(block.text) is None:  # a bad id that was read is reported where it was read
        issues.add(
            ["id"],
            "the block's id must be a line of its own, before any [table], holding a string of "
            'lowercase letters, digits and dashes, e.g. id = "chain-rule-quiz"',
        )
    return {key: value for key, value in config.items() if key != "id"}


def block_result(block: Block):
    """What the block was read into, checking it first if it is not yet (or its config was
    replaced since); None when it has a problem (``block.problems`` says which)."""
    if not block.checked:
        check_block(block, "", config=block.config or None)
    return block.parsed


def cannot_open(lesson: Lesson, block: Block) -> str:
    """What a learner is told when a block cannot open: its first problem, and what to run."""
    first = block.problems[0].message if block.problems else "it has a problem"
    what = {
        "debugger": "the program",
        "pytorch": "the program",
        "train": "the training task",
        "exercise": "the exercise",
    }.get(block.kind, f"the {block.kind}")
    verb = "does not parse" if block.kind in ("debugger", "pytorch") else "is not valid"
    return (
        f"{lesson.path}: {what} in part {block.index + 1} {verb} ({first}). "
        "Run `tutor check` on the file to see where."
    )


def _message(kind: str, issue: Issue) -> str:
    if kind in _NAMED:
        return (
            f"{kind} block, {issue.dotted}: {issue.message}"
            if issue.path
            else f"{kind} block: {issue.message}"
        )
    return issue.message


def _position(block: Block, issue: Issue) -> tuple[int, int]:
    if issue.at is not None and issue.path == ("program",):
        return _program_position(block, *issue.at)
    return key_position(block.text, block.line + 1, issue.path, (block.line, 1))


def _program_position(block: Block, line: int, col: int) -> tuple[int, int]:
    """Where line/col of a block's program string lies in the Markdown file."""
    first = block.line + 1
    loc = locate(block.text, ("program",))
    if loc is None:
        return block.line, 1
    key_line, _ = loc
    raw = block.text.split("\n")[key_line - 1]
    value_at = raw.index("=") + 1
    while value_at < len(raw) and raw[value_at] in " \t":
        value_at += 1
    rest = raw[value_at:]
    if rest.startswith(('"""', "'''")):
        after = rest[3:]
        if not after.strip():  # TOML drops the newline right after the opening quotes
            return first + key_line - 1 + line, col
        if line == 1:
            return first + key_line - 1, value_at + 3 + col
        return first + key_line - 1 + line - 1, col
    # a one-line string: the program starts just after the quote
    return first + key_line - 1, value_at + 1 + col


# ------------------------------------------------------------------------ a lesson's blocks


MAX_BLOCKS = 100  # interactive blocks in one lesson (the course's largest has a dozen)
MAX_BLOCK_CHARS = 200_000  # characters of TOML across them


def check_blocks(lesson: Lesson, *, grade_examples: bool = False) -> list[Problem]:
    """Check the contents of the blocks :func:`~tutor.lessons.load_lesson` left unchecked; return
    the problems found, which are also merged into ``lesson.problems`` (replaced in one
    assignment, so another thread reading it sees the old list or the new one). A lesson checked
    before gives ``[]``."""
    from tutor.misconceptions import declared

    with declared(lesson.misconceptions):  # its quizzes may use the tags it (or its course) declares
        return _check_blocks(lesson, grade_examples)


def _check_blocks(lesson: Lesson, grade_examples: bool) -> list[Problem]:
    blocks, lesson.unchecked = lesson.unchecked, []
    where = str(lesson.path)
    found: list[Problem] = []
    held = 0
    for count, block in enumerate(blocks, start=1):
        held += len(block.text)
        if count > MAX_BLOCKS or held > MAX_BLOCK_CHARS:
            # checking is a program run per block: a lesson's share of it is bounded, so that
            # one file cannot keep `tutor check` (or the app's check of it) busy for long
            found.append(
                Problem(
                    where,
                    block.line,
                    1,
                    f"this lesson has more interactive blocks than one lesson may hold (at most "
                    f"{MAX_BLOCKS}, with {MAX_BLOCK_CHARS:,} characters between them); split it into "
                    "several lessons. The blocks from here on are not checked.",
                )
            )
            break
        found += check_block(block, where, grade_examples=grade_examples)
    else:
        found += _check_reveals(lesson, where)
    warned = [w for block in blocks for w in block.warnings]
    if warned:
        lesson.warnings = sorted([*lesson.warnings, *warned], key=lambda p: (p.line, p.col))
    if found:
        lesson.problems = sorted([*lesson.problems, *found], key=lambda p: (p.line, p.col))
    return found
