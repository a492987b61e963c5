"""Lesson files: read them, check them, and put them in order.

A lesson is one Markdown file (see ``docs/lesson-format.md``)::

    +++
    id = "backprop-by-hand"
    title = "Backprop by hand"
    section = "Foundations"
    order = 30
    summary = "Push the gradient of L = (a*b + c) * f back to every input."
    prerequisites = ["derivative"]
    +++

    Prose in Markdown...

    ```debugger
    program = "a = 2; b = -3; L = a * b"
    ```

This module turns such a file into a :class:`Lesson` made of :class:`Block` objects and reports
every mistake in it as a :class:`Problem` that points at a line of the Markdown file. It never
raises on a bad file and never executes anything from one: TOML is parsed with ``tomllib``,
expression programs with ``engine.expr`` (an ``ast`` whitelist), quizzes and training tasks by
their own validators.

It imports neither ``textual`` nor ``rich``, so ``tutor check`` and the tests run it directly.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tutor.files import NotARegularFile, read_regular

__all__ = [
    "MAX_LESSON_BYTES",
    "Block",
    "Catalog",
    "Lesson",
    "Problem",
    "builtin_lessons_dir",
    "check_blocks",
    "lesson_dirs",
    "lesson_files",
    "load_catalog",
    "load_lesson",
]

MAX_LESSON_BYTES = 1024 * 1024  # a lesson is prose and a few small blocks; anything bigger is a mistake
INTERACTIVE_KINDS = ("debugger", "train", "quiz", "pytorch")
BROKEN_SECTION = "Unsorted"  # where a lesson whose front matter cannot be read is listed
BROKEN_ORDER = 1_000_000  # ... and it sorts after every well-formed lesson

_ID_RE = re.compile(r"[a-z0-9-]+\Z")

# The front-matter keys: name -> (python type, how to describe it to a teacher).
FRONT_MATTER_KEYS: dict[str, tuple[type, str]] = {
    "id": (str, 'a string of lowercase letters, digits and dashes, e.g. "backprop-by-hand"'),
    "title": (str, 'a string, e.g. "Backprop by hand"'),
    "section": (str, 'a string, e.g. "Foundations"'),
    "order": (int, "a whole number, e.g. 30 (lessons are listed by it)"),
    "summary": (str, "a string of one sentence"),
    "prerequisites": (list, 'a list of lesson ids, e.g. ["derivative"] or []'),
}

# The keys of a ```debugger block: name -> (type, required, description).
DEBUGGER_KEYS: dict[str, tuple[type, bool, str]] = {
    "program": (str, True, "a string holding an expression program"),
    "output": (str, False, "a string: the name of the node whose gradient is computed"),
    "predict": (bool, False, "true or false"),
    "caption": (str, False, "a string shown above the debugger"),
}

# The keys of a ```pytorch block (the program run in the engine and in PyTorch, side by side).
PYTORCH_KEYS: dict[str, tuple[type, bool, str]] = {
    "program": (str, True, "a string holding an expression program"),
    "output": (str, False, "a string: the name of the node whose backward() runs"),
    "caption": (str, False, "a string shown above the comparison"),
}


# --------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Problem:
    """One mistake in a lesson file, at a line and column of that file (both 1-based).

    ``line`` and ``col`` are 0 when the problem is about the file as a whole (for instance a
    directory that does not exist); ``str()`` then leaves them out.
    """

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        if self.line <= 0:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}:{max(self.col, 1)}: {self.message}"


@dataclass
class Block:
    """One part of a lesson, in reading order.

    ``kind`` is "markdown" (prose), "code" (a fence shown as code; ``lang`` is its info string),
    or one of the interactive kinds "debugger", "train", "quiz", "pytorch" (``config`` is the
    block's parsed TOML; for a debugger block the optional keys are filled with their defaults).
    ``index`` is the block's position in ``Lesson.blocks`` (progress is keyed by it); ``line`` is
    the 1-based line where the block starts in the file (the opening fence for fenced blocks);
    ``text`` is the block's text without its fences.
    """

    kind: str
    index: int
    line: int
    text: str
    lang: str = ""
    config: dict = field(default_factory=dict)

    @property
    def interactive(self) -> bool:
        return self.kind in INTERACTIVE_KINDS


@dataclass
class Lesson:
    """A parsed lesson file. ``problems`` is empty for a good lesson; a broken one still loads."""

    id: str
    title: str
    section: str
    order: int
    summary: str
    prerequisites: list[str]
    path: Path
    blocks: list[Block] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # line of each front-matter key in the file, for problems found later (duplicate ids, ...)
    key_lines: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    # interactive blocks whose contents are not checked yet (see ``load_lesson(check=False)``)
    unchecked: list[Block] = field(default_factory=list, repr=False, compare=False)

    @property
    def broken(self) -> bool:
        """True when the lesson has a problem. Until :func:`check_blocks` has run on a lesson
        loaded with ``check=False``, only the problems of its file and front matter count."""
        return bool(self.problems)

    @property
    def checked(self) -> bool:
        """Whether every block has been checked (always, unless loaded with ``check=False``)."""
        return not self.unchecked

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    @property
    def interactive_blocks(self) -> list[Block]:
        return [b for b in self.blocks if b.interactive]


@dataclass
class Catalog:
    """Every lesson found, in the order the app lists them, with every problem found."""

    lessons: list[Lesson] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def unchecked(self) -> list[Lesson]:
        """The lessons whose blocks are still to be checked, in list order."""
        return [lesson for lesson in self.lessons if lesson.unchecked]

    def check(self, lesson: Lesson) -> list[Problem]:
        """Check ``lesson``'s blocks if they are not yet (see ``load_catalog(check=False)``) and
        return the problems found. Safe to call from several threads: the app checks in a
        worker while the learner may open a lesson, which checks it first."""
        with self._lock:
            found = check_blocks(lesson)
            if found:
                self.problems = sorted([*self.problems, *found], key=lambda p: (p.path, p.line, p.col))
            return found

    def sections(self) -> list[tuple[str, list[Lesson]]]:
        """The lessons grouped by section, sections in the order of their first lesson."""
        groups: dict[str, list[Lesson]] = {}
        for lesson in self.lessons:  # already sorted section by section
            groups.setdefault(lesson.section, []).append(lesson)
        return list(groups.items())

    def get(self, lesson_id: str) -> Lesson | None:
        for lesson in self.lessons:
            if lesson.id == lesson_id:
                return lesson
        return None


# ------------------------------------------------------------------------ where lessons are


def builtin_lessons_dir() -> Path:
    """The directory of the lessons that ship with tutor.

    In an installed package they sit in ``tutor/course/`` next to this module (``pyproject.toml``
    maps the repository's ``lessons/`` there, under a name that cannot shadow this module); in a
    source checkout or an editable install they are the repository's ``lessons/`` directory.
    """
    here = Path(__file__).resolve().parent
    installed = here / "course"
    if installed.is_dir():
        return installed
    return here.parent / "lessons"


def lesson_dirs(extra=(), environ=os.environ) -> list[Path]:
    """Where the app looks for lessons: the built-in ones, then ``--lessons DIR`` (in the order
    given), then each directory of ``TUTOR_LESSONS`` (separated like PATH, by ``os.pathsep``)."""
    dirs = [builtin_lessons_dir()]
    dirs += [Path(d).expanduser() for d in extra if str(d)]
    env = environ.get("TUTOR_LESSONS", "")
    dirs += [Path(d).expanduser() for d in env.split(os.pathsep) if d.strip()]
    return dirs


def lesson_files(directory: Path) -> list[Path]:
    """The lesson files of one directory: its ``*.md`` files, not in subdirectories, skipping
    ``README.md`` and names starting with ``.`` or ``_``; sorted by name."""
    found = []
    for p in directory.iterdir():
        name = p.name
        if not name.endswith(".md") or name.startswith((".", "_")) or name.lower() == "readme.md":
            continue
        if p.is_file():
            found.append(p)
    return sorted(found)


# ------------------------------------------------------------------------ reading one file


def _line_col_of_offset(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    col = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, col


def _read_text(path: Path, problems: list[Problem]) -> str | None:
    """The file's text, or None with a problem saying why it was refused."""
    where = str(path)
    try:
        data = read_regular(path, MAX_LESSON_BYTES)  # a FIFO would block open() for good
    except NotARegularFile as err:
        if err.kind == "a directory":
            problems.append(Problem(where, 0, 0, "this is a directory, not a lesson file"))
        else:
            problems.append(
                Problem(
                    where,
                    0,
                    0,
                    f"file refused: it is not a regular file ({err.kind}); "
                    "give the path of a lesson's text file",
                )
            )
        return None
    except OSError as err:
        reason = err.strerror or str(err)
        problems.append(Problem(where, 0, 0, f"cannot read the file: {reason}"))
        return None
    if len(data) > MAX_LESSON_BYTES:
        try:
            size = f"{path.stat().st_size:,} bytes"
        except OSError:
            size = "too many bytes"
        problems.append(
            Problem(
                where,
                1,
                1,
                f"file refused: it is larger than 1 MiB ({size}); "
                "a lesson should be far smaller, so split it into several lessons",
            )
        )
        return None
    nul = data.find(b"\x00")
    if nul >= 0:
        line, col = _line_col_of_offset(data, nul)
        problems.append(
            Problem(
                where,
                line,
                col,
                "file refused: it contains NUL bytes, so it is binary, not a Markdown lesson",
            )
        )
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line, col = _line_col_of_offset(data, err.start)
        problems.append(
            Problem(
                where,
                line,
                col,
                f"file refused: byte 0x{data[err.start]:02x} is not UTF-8; save the lesson as UTF-8 text",
            )
        )
        return None
    return text.removeprefix("\ufeff")


_TOML_POS_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END_RE = re.compile(r"\s*\(at end of document\)\s*$")


def _toml_error(err: tomllib.TOMLDecodeError, first_line: int, text_lines: list[str]) -> tuple[int, int, str]:
    """Map a tomllib error to (file line, column, message without the position).

    ``first_line`` is the file line of the TOML text's first line."""
    msg = str(err)
    m = _TOML_POS_RE.search(msg)
    if m:
        return first_line + int(m.group(1)) - 1, int(m.group(2)), msg[: m.start()]
    m = _TOML_END_RE.search(msg)
    if m:
        msg = msg[: m.start()]
    # "at end of document": point at the last line that holds anything
    last = len(text_lines)
    while last > 1 and not text_lines[last - 1].strip():
        last -= 1
    return first_line + max(last, 1) - 1, 1, msg


# Key locations inside a TOML text, found by scanning it line by line for `key =` and `[table]`.
_HEADER_RE = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY_RE = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)


def _split_dotted(key: str) -> tuple[str, ...]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", key)
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


@functools.lru_cache(maxsize=32)  # one scan per text, however many keys are looked up in it
def _key_locations(text: str) -> tuple[tuple[tuple[str, ...], int, int], ...]:
    """(key path, 1-based line, 1-based column) for every table header and `key =` line.

    Arrays of tables get their index as a path part: the second ``[[examples]]`` is
    ``("examples", "1")``. Lines inside multi-line strings are skipped."""
    found = []
    table: tuple[str, ...] = ()
    array_counts: dict[tuple[str, ...], int] = {}
    in_string = None
    for n, line in enumerate(text.splitlines(), start=1):
        if in_string:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        header = _HEADER_RE.match(line)
        if header:
            path = _split_dotted(header.group(2))
            if header.group(1) == "[[":
                i = array_counts.get(path, 0)
                array_counts[path] = i + 1
                path = path + (str(i),)
            table = path
            found.append((path, n, line.index("[") + 1))
            continue
        key = _KEY_RE.match(line)
        if key:
            found.append((table + _split_dotted(key.group(1)), n, key.start(1) + 1))
            rest = line[key.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_string = quote
                    break
    return tuple(found)


def toml_error_position(err: tomllib.TOMLDecodeError, text: str = "") -> tuple[int, int, str]:
    """(line, column, message) of a TOML error in a standalone TOML file."""
    return _toml_error(err, 1, text.splitlines())


def toml_key_position(text: str, keypath) -> tuple[int, int]:
    """(line, column) of ``keypath`` in a standalone TOML file (1, 1 when it is not written there)."""
    found = _locate(text, keypath) if keypath else None
    return found if found is not None else (1, 1)


def _locate(text: str, keypath) -> tuple[int, int] | None:
    """Line and column (1-based, inside ``text``) that best match ``keypath``: the key itself,
    or else its deepest enclosing table or key. None when nothing matches."""
    want = tuple(str(k) for k in keypath)
    best = None
    best_len = 0
    for path, line, col in _key_locations(text):
        if len(path) > best_len and want[: len(path)] == path:
            best, best_len = (line, col), len(path)
    return best


# ------------------------------------------------------------------------ the Markdown body

_FENCE_RE = re.compile(r"^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)[^`]*$")


def _split_body(lines: list[str], first_line: int, where: str, problems: list[Problem]):
    """Split Markdown lines into (kind, line, text, lang) parts: prose and fenced blocks.

    ``first_line`` is the file line of ``lines[0]``."""
    parts = []
    prose: list[str] = []
    prose_start = first_line
    i = 0
    while i < len(lines):
        m = _FENCE_RE.match(lines[i])
        if not m:
            if not prose:
                if not lines[i].strip():
                    i += 1
                    continue
                prose_start = first_line + i
            prose.append(lines[i])
            i += 1
            continue
        fence, lang = m.group(2), m.group(3)
        open_line = first_line + i
        close_re = re.compile(r"^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
        j = i + 1
        while j < len(lines) and not close_re.match(lines[j]):
            j += 1
        if "\n".join(prose).strip():
            parts.append(("markdown", prose_start, "\n".join(prose).strip("\n"), ""))
        prose = []
        inner = "\n".join(lines[i + 1 : j])
        if j >= len(lines):  # noqa: SIM102 - the comment below is about the outer case
            if lang in INTERACTIVE_KINDS:
                problems.append(
                    Problem(
                        where,
                        open_line,
                        1,
                        f"the ```{lang} block opened here is never closed; end it with a line {fence}",
                    )
                )
            # an unclosed code fence runs to the end of the file, as Markdown renders it
        kind = lang if lang in INTERACTIVE_KINDS else "code"
        parts.append((kind, open_line, inner, lang if kind == "code" else ""))
        i = j + 1
    if "\n".join(prose).strip():
        parts.append(("markdown", prose_start, "\n".join(prose).strip("\n"), ""))
    return parts


# ------------------------------------------------------------------------ validating blocks


def _type_name(value) -> str:
    return {
        bool: "true/false",
        int: "a whole number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _check_debugger(block: Block, where: str, problems: list[Problem]) -> None:
    if _check_program_block(block, where, problems, DEBUGGER_KEYS):
        block.config.setdefault("predict", False)


def _check_program_block(block: Block, where: str, problems: list[Problem], keys: dict) -> bool:
    """Check a block made of an expression program and options (debugger, pytorch): its keys
    against ``keys``, and that the program parses and evaluates. True when it has no problem."""
    cfg = block.config
    kind = block.kind
    first = block.line + 1  # file line of the block's first TOML line

    def at(key) -> tuple[int, int]:
        loc = _locate(block.text, (key,))
        return (first + loc[0] - 1, loc[1]) if loc else (block.line, 1)

    ok = True
    for key in cfg:
        if key not in keys:
            line, col = at(key)
            problems.append(
                Problem(
                    where, line, col, f"unknown key '{key}' in a {kind} block; allowed: {', '.join(keys)}"
                )
            )
            ok = False
    for key, (typ, required, desc) in keys.items():
        if key not in cfg:
            if required:
                problems.append(
                    Problem(where, block.line, 1, f"the {kind} block has no '{key}' key; add {key} = {desc}")
                )
                ok = False
            continue
        value = cfg[key]
        if not isinstance(value, typ) or (typ is not bool and isinstance(value, bool)):
            line, col = at(key)
            problems.append(Problem(where, line, col, f"'{key}' must be {desc}, not {_type_name(value)}"))
            ok = False
    if not ok:
        return False

    try:
        from engine.expr import ProgramError, parse_program
    except ImportError as err:
        problems.append(Problem(where, block.line, 1, f"this version of tutor cannot check programs ({err})"))
        return False

    program_text = cfg["program"]
    output = cfg.get("output")
    try:
        program = parse_program(program_text)
        if output is not None and output not in program.names:
            line, col = at("output")
            names = ", ".join(program.names)
            problems.append(
                Problem(
                    where,
                    line,
                    col,
                    f"output '{output}' is not a name the program assigns (it assigns: {names})",
                )
            )
            return False
        if output is not None:
            program = parse_program(program_text, output=output)
        program.check_backward()  # evaluates it, and finds a rule that cannot be computed
    except ProgramError as err:
        line, col = _program_position(block, err.line, err.col)
        problems.append(Problem(where, line, col, f"in the program: {err.message}"))
        return False
    except Exception as err:  # never let a bug in the parser stop the app or `tutor check`
        problems.append(
            Problem(
                where,
                block.line,
                1,
                f"the program could not be checked ({type(err).__name__}: {err}); please report this",
            )
        )
        return False
    return True


def _program_position(block: Block, line: int, col: int) -> tuple[int, int]:
    """Where line/col of a debugger block's program string lies in the Markdown file."""
    first = block.line + 1
    loc = _locate(block.text, ("program",))
    if loc is None:
        return block.line, 1
    key_line, _ = loc
    raw = block.text.splitlines()[key_line - 1]
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


def _check_with(
    block: Block,
    where: str,
    problems: list[Problem],
    module: str,
    func: str,
    error: str,
    what: str,
    grade_examples: bool = False,
) -> None:
    """Validate a train or quiz block with its own validator, which raises ``error(keypath, message)``."""
    import importlib

    try:
        mod = importlib.import_module(module)
        exc_type = getattr(mod, error)
        validate = mod
        for name in func.split("."):
            validate = getattr(validate, name)
    except (ImportError, AttributeError) as err:
        problems.append(
            Problem(
                where, block.line, 1, f"this version of tutor cannot check {what} blocks ({module}: {err})"
            )
        )
        return
    try:
        result = validate(block.config)
    except exc_type as err:
        keypath = tuple(getattr(err, "keypath", ()) or ())
        message = getattr(err, "message", None) or str(err)
        line, col = _block_key_position(block, keypath)
        key = getattr(err, "dotted", None) or ".".join(str(k) for k in keypath)
        problems.append(
            Problem(
                where, line, col, f"{what} block, {key}: {message}" if key else f"{what} block: {message}"
            )
        )
        return
    except Exception as err:  # a bug in the validator must not stop the app or `tutor check`
        problems.append(
            Problem(
                where,
                block.line,
                1,
                f"the {what} block could not be checked ({type(err).__name__}: {err}); please report this",
            )
        )
        return
    # quizzes carry example answers that `tutor check` grades (not the app: an order question's
    # examples run real training, which would cost every start-up most of a second)
    check_examples = getattr(mod, "check_examples", None) if block.kind == "quiz" and grade_examples else None
    if check_examples is None:
        return
    try:
        differences = list(check_examples(result))
    except Exception as err:
        problems.append(
            Problem(
                where,
                block.line,
                1,
                f"the quiz's examples could not be graded ({type(err).__name__}: {err}); please report this",
            )
        )
        return
    for index, message in differences:
        line, col = _block_key_position(block, ("examples", index))
        problems.append(Problem(where, line, col, f"quiz block, examples[{index}]: {message}"))


def _block_key_position(block: Block, keypath) -> tuple[int, int]:
    loc = _locate(block.text, keypath) if keypath else None
    if loc is None:
        return block.line, 1
    return block.line + loc[0], loc[1]


# ------------------------------------------------------------------------ the whole lesson


def load_lesson(path, *, grade_examples: bool = False, check: bool = True) -> Lesson:
    """Read and check one lesson file. Never raises: problems go into ``Lesson.problems``.

    ``grade_examples`` also grades each quiz's example answers, as ``tutor check`` does.
    ``check=False`` reads the front matter and finds the blocks but leaves their contents (TOML,
    programs, tasks, quizzes) for :func:`check_blocks`: that is most of the cost, and the app's
    list of lessons needs only the front matter to appear."""
    path = Path(path)
    where = str(path)
    problems: list[Problem] = []
    lesson = Lesson(
        id=path.stem,
        title=path.name,
        section=BROKEN_SECTION,
        order=BROKEN_ORDER,
        summary="",
        prerequisites=[],
        path=path,
        problems=problems,
    )
    text = _read_text(path, problems)
    if text is None:
        return lesson
    lines = text.splitlines()

    # front matter between +++ lines
    if not lines or lines[0].strip() != "+++":
        problems.append(
            Problem(
                where,
                1,
                1,
                "a lesson must start with front matter: a line +++, the keys "
                "id, title, section, order, summary, prerequisites, and another +++",
            )
        )
        return lesson
    close = next((i for i in range(1, len(lines)) if lines[i].strip() == "+++"), None)
    if close is None:
        problems.append(
            Problem(
                where,
                1,
                1,
                "the front matter opened on line 1 is never closed; add a line +++ after its last key",
            )
        )
        return lesson
    fm_lines = lines[1:close]
    fm_text = "\n".join(fm_lines)
    try:
        front = tomllib.loads(fm_text)
    except tomllib.TOMLDecodeError as err:
        line, col, msg = _toml_error(err, 2, fm_lines)
        problems.append(Problem(where, line, col, f"front matter is not valid TOML: {msg}"))
        front = None
    if front is not None:
        _check_front_matter(lesson, front, fm_text, where, problems)

    # the body: prose and blocks
    for kind, line, body, lang in _split_body(lines[close + 1 :], close + 2, where, problems):
        block = Block(kind=kind, index=len(lesson.blocks), line=line, text=body, lang=lang)
        lesson.blocks.append(block)
        if block.interactive:
            lesson.unchecked.append(block)
    problems.sort(key=lambda p: (p.line, p.col))
    if check:
        check_blocks(lesson, grade_examples=grade_examples)
    return lesson


def check_blocks(lesson: Lesson, *, grade_examples: bool = False) -> list[Problem]:
    """Check the contents of the blocks :func:`load_lesson` left unchecked; return the problems
    found, which are also merged into ``lesson.problems`` (replaced in one assignment, so another
    thread reading it sees the old list or the new one). A lesson checked before gives ``[]``."""
    blocks, lesson.unchecked = lesson.unchecked, []
    where = str(lesson.path)
    found: list[Problem] = []
    for block in blocks:
        try:
            block.config = tomllib.loads(block.text)
        except tomllib.TOMLDecodeError as err:
            line, col, msg = _toml_error(err, block.line + 1, block.text.splitlines())
            found.append(Problem(where, line, col, f"the {block.kind} block is not valid TOML: {msg}"))
            continue
        if block.kind == "debugger":
            _check_debugger(block, where, found)
        elif block.kind == "pytorch":
            _check_program_block(block, where, found, PYTORCH_KEYS)
        elif block.kind == "train":
            _check_with(block, where, found, "engine.train", "Task.from_config", "TaskConfigError", "train")
        else:
            _check_with(
                block, where, found, "tutor.quiz", "parse_quiz", "QuizConfigError", "quiz", grade_examples
            )
    if found:
        lesson.problems = sorted([*lesson.problems, *found], key=lambda p: (p.line, p.col))
    return found


def _check_front_matter(
    lesson: Lesson, front: dict, fm_text: str, where: str, problems: list[Problem]
) -> None:
    def at(key) -> tuple[int, int]:
        loc = _locate(fm_text, (key,))
        return (1 + loc[0], loc[1]) if loc else (1, 1)

    for key in front:
        lesson.key_lines[key] = at(key)[0]
        if key not in FRONT_MATTER_KEYS:
            line, col = at(key)
            close = difflib.get_close_matches(key, FRONT_MATTER_KEYS, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(FRONT_MATTER_KEYS)}"
            problems.append(Problem(where, line, col, f"unknown front-matter key '{key}'{hint}"))
    good: dict = {}
    for key, (typ, desc) in FRONT_MATTER_KEYS.items():
        if key not in front:
            problems.append(Problem(where, 1, 1, f"the front matter has no '{key}' key; add {key} = {desc}"))
            continue
        value = front[key]
        line, col = at(key)
        if not isinstance(value, typ) or isinstance(value, bool):
            problems.append(Problem(where, line, col, f"'{key}' must be {desc}, not {_type_name(value)}"))
            continue
        if typ is str and not value.strip():
            problems.append(Problem(where, line, col, f"'{key}' must not be empty; it should be {desc}"))
            continue
        if key == "id" and not _ID_RE.match(value):
            problems.append(
                Problem(
                    where,
                    line,
                    col,
                    f"id '{value}' may hold only lowercase letters, digits and "
                    'dashes, e.g. "backprop-by-hand"',
                )
            )
            continue
        if key == "prerequisites":
            bad = [p for p in value if not isinstance(p, str) or not _ID_RE.match(p)]
            if bad:
                problems.append(
                    Problem(
                        where, line, col, f"'prerequisites' must be {desc}; {bad[0]!r} is not a lesson id"
                    )
                )
                continue
            value = list(value)
        good[key] = value
    for key, value in good.items():
        setattr(lesson, key, value)


# ------------------------------------------------------------------------ the catalog


def load_catalog(dirs, files=(), *, grade_examples: bool = False, check: bool = True) -> Catalog:
    """Load every lesson of ``dirs`` (see :func:`lesson_files`) and the single ``files``, check
    what only the whole set can show (unique ids, prerequisites that exist, no prerequisite
    cycles), and sort them: sections by their smallest ``order``, lessons by ``order`` then id.

    ``check=False`` leaves each lesson's blocks unchecked (see :func:`load_lesson`); the app
    lists the lessons at once and checks them with :meth:`Catalog.check` right after.

    A file reached twice (the same directory given twice) is loaded once. When two lessons share an
    id, the one loaded later gets the problem (directories are loaded in the order given, so the
    built-in lessons, listed first by :func:`lesson_dirs`, keep theirs)."""
    catalog = Catalog()
    paths: list[Path] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        try:
            key = p.resolve()
        except OSError:
            key = p
        if key not in seen:
            seen.add(key)
            paths.append(p)

    for d in dirs:
        d = Path(d)
        if not d.exists():
            catalog.problems.append(Problem(str(d), 0, 0, "no such lesson directory"))
            continue
        if not d.is_dir():
            add(d)
            continue
        try:
            for p in lesson_files(d):
                add(p)
        except OSError as err:
            catalog.problems.append(
                Problem(str(d), 0, 0, f"cannot list the directory: {err.strerror or err}")
            )
    for f in files:
        add(Path(f))

    lessons = [load_lesson(p, grade_examples=grade_examples, check=check) for p in paths]
    _check_cross_file(lessons)

    first_order: dict[str, int] = {}
    for lesson in lessons:
        first_order[lesson.section] = min(first_order.get(lesson.section, lesson.order), lesson.order)
    lessons.sort(key=lambda l: (first_order[l.section], l.section, l.order, l.id, str(l.path)))
    catalog.lessons = lessons
    for lesson in lessons:
        catalog.problems.extend(lesson.problems)
    catalog.problems.sort(key=lambda p: (p.path, p.line, p.col))  # file by file, top to bottom
    return catalog


def _check_cross_file(lessons: list[Lesson]) -> None:
    by_id: dict[str, Lesson] = {}
    for lesson in lessons:
        other = by_id.get(lesson.id)
        if other is None:
            by_id[lesson.id] = lesson
            continue
        lesson.problems.append(
            Problem(
                str(lesson.path),
                lesson.key_lines.get("id", 1),
                1,
                f"lesson id '{lesson.id}' is already used by {other.path}; each lesson needs its own id",
            )
        )
    for lesson in lessons:
        line = lesson.key_lines.get("prerequisites", 1)
        for pre in lesson.prerequisites:
            if pre == lesson.id:
                lesson.problems.append(
                    Problem(str(lesson.path), line, 1, f"lesson '{lesson.id}' lists itself as a prerequisite")
                )
            elif pre not in by_id:
                close = difflib.get_close_matches(pre, list(by_id), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                lesson.problems.append(
                    Problem(
                        str(lesson.path), line, 1, f"prerequisite '{pre}' is not the id of any lesson{hint}"
                    )
                )
    # cycles (a -> b -> a): report each once, on the lesson where the walk found it
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished

    for start in by_id:
        if state.get(start):
            continue
        stack = [(start, iter(by_id[start].prerequisites))]
        trail = [start]
        state[start] = 1
        while stack:
            node, pres = stack[-1]
            for pre in pres:
                if pre not in by_id or pre == node:
                    continue
                if state.get(pre) == 1:
                    cycle = trail[trail.index(pre) :] + [pre]
                    lesson = by_id[node]
                    lesson.problems.append(
                        Problem(
                            str(lesson.path),
                            lesson.key_lines.get("prerequisites", 1),
                            1,
                            "prerequisites go round in a circle: " + " -> ".join(cycle),
                        )
                    )
                elif not state.get(pre):
                    state[pre] = 1
                    trail.append(pre)
                    stack.append((pre, iter(by_id[pre].prerequisites)))
                    break
            else:
                stack.pop()
                state[trail.pop()] = 2
    for lesson in lessons:
        lesson.problems.sort(key=lambda p: (p.line, p.col))
