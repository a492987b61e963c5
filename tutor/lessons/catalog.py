"""Reading lessons: one file into a :class:`Lesson`, and directories into a :class:`Catalog`.

A lesson is one Markdown file (see ``docs/lesson-format.md``): front matter between ``+++``
lines, then prose and fenced blocks. :func:`load_lesson` never raises on a bad file and never
executes anything from one; every mistake becomes a :class:`Problem` at a line of the file.
:func:`load_catalog` adds what only the whole set can show (unique ids, prerequisites that
exist, no prerequisite cycles: found with :mod:`graphlib`) and sorts the lessons.
"""

from __future__ import annotations

import graphlib
import re
import tomllib
from pathlib import Path

from tutor.lessons import toml_text
from tutor.lessons.blocks import check_blocks, read_front
from tutor.lessons.course import Course, read_manifest
from tutor.lessons.ids import assign_ids
from tutor.lessons.markdown import split_body
from tutor.lessons.model import INTERACTIVE_KINDS, Block, Catalog, Lesson, Problem
from tutor.lessons.positions import key_position, toml_error
from tutor.lessons.source import lesson_files, read_text
from tutor.schema import Issues, did_you_mean

__all__ = ["BROKEN_ORDER", "BROKEN_SECTION", "load_catalog", "load_lesson", "with_siblings"]

BROKEN_SECTION = "Unsorted"  # where a lesson whose front matter cannot be read is listed
BROKEN_ORDER = 1_000_000  # ... and it sorts after every well-formed lesson


MAX_FENCE_LINES = 1_000  # opening and closing lines of fences in one lesson: 500 blocks


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
    text = read_text(path, problems)
    if text is None:
        return lesson
    lines = text.split("\n")

    # front matter between +++ lines
    if not lines or lines[0].strip() != "+++":
        message = (
            "a lesson must start with front matter: a line +++, the keys "
            "id, title, section, order, summary, prerequisites, and another +++"
        )
        if lines and lines[0].strip() == "---":  # Jekyll's and Hugo's YAML front matter
            message = (
                "this front matter is YAML (between --- lines); a lesson's is TOML between +++ lines: "
                'write +++ for each ---, and key = "value" for each key: value'
            )
        problems.append(Problem(where, 1, 1, message))
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
    fm_text = "\n".join(lines[1:close])
    try:
        front = toml_text.loads(fm_text)
    except toml_text.TomlRefused as err:
        problems.append(Problem(where, 1 + err.line, err.col, f"front matter refused: {err.message}"))
        front = None
    except tomllib.TOMLDecodeError as err:
        line, col, msg = toml_error(err, 2, fm_text)
        problems.append(Problem(where, line, col, f"front matter is not valid TOML: {msg}"))
        front = None
    if front is not None:
        _front_matter(lesson, front, fm_text, where, problems)

    # the body: prose and blocks, split as the lesson screen's Markdown widget renders it
    fences = sum(1 for line in lines[close + 1 :] if line.lstrip(" ").startswith(("```", "~~~")))
    if fences > MAX_FENCE_LINES:  # more blocks than a lesson can be; not worth a parse
        message = (
            f"this lesson has {fences:,} fence lines (``` or ~~~), more than the {MAX_FENCE_LINES} "
            "a lesson may hold; split it into several lessons"
        )
        problems.append(Problem(where, close + 2, 1, message))
        return lesson
    for kind, line, body, lang, closed in split_body(lines[close + 1 :], close + 2, where, lesson.warnings):
        block = Block(kind=kind, index=len(lesson.blocks), line=line, text=body, lang=lang)
        lesson.blocks.append(block)
        if kind == "code":
            _swallowed(lines[line - 1], body, line, closed, where, problems, lesson.warnings)
        elif kind == "markdown":
            _list_mid_sentence(body, line, where, lesson.warnings)
        if block.interactive:
            lesson.unchecked.append(block)
            if not closed:
                fence = lines[line - 1].strip().split(kind, 1)[0] or "```"
                problems.append(
                    Problem(
                        where,
                        line,
                        1,
                        f"the ```{kind} block opened here is never closed; end it with a line {fence}",
                    )
                )
    assign_ids(lesson.blocks, where, problems)
    problems.sort(key=lambda p: (p.line, p.col))
    lesson.warnings.sort(key=lambda p: (p.line, p.col))
    if check:
        check_blocks(lesson, grade_examples=grade_examples)
    return lesson


def _swallowed(opening: str, body: str, line: int, closed: bool, where: str, problems, warnings) -> None:
    """A code fence left open runs on to the next fence line: say so when it swallowed a block
    (```text never closed, then ```debugger: the debugger block is shown as code) or, left open
    to the end of the file, all the rest of the lesson."""
    stripped = opening.strip()
    mark = stripped[0] * (len(stripped) - len(stripped.lstrip(stripped[0])))
    for k, text in enumerate(body.split("\n")):
        inner = text.lstrip(" ")
        if len(text) - len(inner) > 3 or not inner.startswith(mark):
            continue
        lang = inner.lstrip(mark[0]).strip().split(maxsplit=1)[0] if inner.lstrip(mark[0]).strip() else ""
        if lang in INTERACTIVE_KINDS:
            message = (
                f"the {stripped} fence opened on line {line} is not closed before this ```{lang} block, "
                f"so the block is shown as code: end the {stripped} fence with a line {mark} first"
            )
            problems.append(Problem(where, line + 1 + k, 1, message))
            return
    if not closed:
        message = (
            f"the {stripped} fence opened here is never closed, so the rest of the lesson is shown as "
            f"code: end it with a line {mark}"
        )
        warnings.append(Problem(where, line, 1, message, "warning"))


_ONE_DOT = re.compile(r" {0,3}1[.)](?: |$)")
_NOT_PROSE = re.compile(r"\s*(?:[#>|]|[-*+](?: |$)|\d{1,9}[.)](?: |$)|```|~~~)")


def _list_mid_sentence(body: str, line: int, where: str, warnings: list[Problem]) -> None:
    """A prose line starting with "1." or "1)" right under a line of the same paragraph starts a
    numbered list (the one number that may interrupt a paragraph): a sentence wrapped before a
    number ("... a weight of\n1. Then ...") is broken in two on screen."""
    before = ""
    for k, text in enumerate(body.split("\n")):
        if (
            _ONE_DOT.match(text)
            and before.strip()
            and not _NOT_PROSE.match(before)
            and not before.rstrip().endswith(":")
        ):
            message = (
                f"this line starts with '{text.strip()[:2]}', so Markdown starts a numbered list here, in the "
                "middle of a paragraph; to keep the sentence, move the number to the end of the line "
                "before (or write 1\\. for a plain '1.'); for a list, leave a blank line before it"
            )
            warnings.append(Problem(where, line + k, 1, message, "warning"))
        before = text


def _front_matter(lesson: Lesson, front: dict, fm_text: str, where: str, problems: list[Problem]) -> None:
    """Check the front matter (every problem at once) and set the lesson's fields from it."""
    for key in front:
        lesson.key_lines[key] = key_position(fm_text, 2, (key,), (1, 1))[0]
    issues = Issues()
    good = read_front(front, issues)
    if "misconceptions" in good:  # the lesson's own tags: checked one by one, kept by tag
        from tutor.misconceptions import read_declared

        lesson.misconceptions = read_declared(good.pop("misconceptions"), issues, source=where)
    for issue in issues:
        line, col = key_position(fm_text, 2, issue.path, (1, 1))
        problems.append(Problem(where, line, col, issue.message))
    bad = {issue.path[0] for issue in issues if issue.path}
    for key, value in good.items():
        if key not in bad:
            setattr(lesson, key, list(value) if key == "prerequisites" else value)


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
    course_of: dict[Path, Course] = {}  # a lesson file -> the course whose folder holds it

    def add(p: Path, course: Course | None = None) -> None:
        try:
            key = p.resolve()
        except OSError:
            key = p
        if key not in seen:
            seen.add(key)
            paths.append(p)
            if course is not None:
                course_of[p] = course

    for d in dirs:
        d = Path(d)
        if not d.exists():
            catalog.problems.append(Problem(str(d), 0, 0, "no such lesson directory"))
            continue
        if not d.is_dir():
            add(d)
            continue
        course = read_manifest(d, catalog.problems)  # None: a plain folder of lessons
        if course is not None and all(c.path != course.path for c in catalog.courses):
            catalog.courses.append(course)
        try:
            for p in lesson_files(d):
                add(p, course)
        except OSError as err:
            catalog.problems.append(
                Problem(str(d), 0, 0, f"cannot list the directory: {err.strerror or err}")
            )
    for f in files:  # a lesson file of a course folder belongs to that course (its tags, its order)
        parent = Path(f).parent
        course = next((c for c in catalog.courses if c.path == parent), None)
        if course is None:
            course = read_manifest(parent, [])
            if course is not None:
                catalog.courses.append(course)
        add(Path(f), course)

    lessons = [load_lesson(p, check=False) for p in paths]
    for lesson in lessons:
        course = course_of.get(lesson.path)
        if course is not None:  # the course's tags, then the lesson's own (which win)
            lesson.misconceptions = {**course.misconceptions, **lesson.misconceptions}
        if check:
            check_blocks(lesson, grade_examples=grade_examples)
    _check_cross_file(lessons)
    _check_course_lists(catalog, lessons, course_of)

    first_order: dict[str, int] = {}
    for lesson in lessons:
        first_order[lesson.section] = min(first_order.get(lesson.section, lesson.order), lesson.order)
    rank = {id(c): n for n, c in enumerate(catalog.courses, start=1)}

    def listed(l: Lesson):
        course = course_of.get(l.path)
        if course is None:  # the built-in lessons and plain folders, sorted together as always
            return (0, first_order[l.section], l.section, l.order, l.id, str(l.path))
        at = course.lessons.index(l.id) if l.id in course.lessons else len(course.lessons)
        return (rank[id(course)], at, "", l.order, l.id, str(l.path))

    lessons.sort(key=listed)
    catalog.lessons = lessons
    for lesson in lessons:
        catalog.problems.extend(lesson.problems)
        catalog.warnings.extend(lesson.warnings)
    catalog.problems.sort(key=lambda p: (p.path, p.line, p.col))  # file by file, top to bottom
    return catalog


def with_siblings(files) -> list[Path]:
    """``files`` and the lessons of their own folders that they need: a file checked or opened
    alone (``tutor check course/20-xor.md``) names its prerequisites by id, and those are
    usually beside it. A sibling is added when a file needs it, directly or through another
    sibling; the rest of the folder is left out (it may hold Markdown that is no lesson)."""
    files = [Path(f) for f in files]
    out = list(files)
    seen = set()
    for f in files:
        seen.add(_resolved(f))
    folders: dict[Path, dict[str, Lesson]] = {}

    def siblings(folder: Path) -> dict[str, Lesson]:
        if folder not in folders:
            try:
                paths = lesson_files(folder)
            except OSError:
                paths = []
            found: dict[str, Lesson] = {}
            for p in paths:
                if _resolved(p) not in seen:
                    lesson = load_lesson(p, check=False)
                    found.setdefault(lesson.id, lesson)
            folders[folder] = found
        return folders[folder]

    todo = [(f.parent, load_lesson(f, check=False)) for f in files if f.is_file()]
    while todo:
        folder, lesson = todo.pop()
        for pre in lesson.prerequisites:
            sibling = siblings(folder).get(pre)
            if sibling is not None and _resolved(sibling.path) not in seen:
                seen.add(_resolved(sibling.path))
                out.append(sibling.path)
                todo.append((folder, sibling))
    return out


def _resolved(p: Path) -> Path:
    try:
        return p.resolve()
    except OSError:
        return p


def _check_course_lists(catalog: Catalog, lessons: list[Lesson], course_of: dict) -> None:
    """Each id a manifest's ``lessons`` lists is a lesson of that course's folder."""
    for course in catalog.courses:
        mine = {l.id for l in lessons if course_of.get(l.path) is course}
        for lesson_id in course.lessons:
            if lesson_id not in mine:
                catalog.problems.append(
                    Problem(
                        str(course.manifest),
                        _line_of(course.manifest, "lessons"),
                        1,
                        f"'lessons' lists {lesson_id!r}, which is not the id of a lesson in "
                        f"{course.path}{did_you_mean(lesson_id, mine)}",
                    )
                )


def _line_of(path: Path, key: str) -> int:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return 0
    return key_position(text, 1, (key,), (0, 0))[0]


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
    needs: dict[str, list[str]] = {}
    for lesson in lessons:
        lesson_id, where = lesson.id, str(lesson.path)
        line = lesson.key_lines.get("prerequisites", 1)
        # a lesson whose id is another's was told so above; its prerequisites still must exist
        # (naming the id it shares is naming the other lesson, not itself)
        clashes = by_id[lesson_id] is not lesson
        for pre in lesson.prerequisites:
            if pre not in by_id:
                message = f"prerequisite '{pre}' is not the id of any lesson{did_you_mean(pre, by_id)}"
                lesson.problems.append(Problem(where, line, 1, message))
            elif clashes:
                continue
            elif pre == lesson_id:
                lesson.problems.append(
                    Problem(where, line, 1, f"lesson '{lesson_id}' lists itself as a prerequisite")
                )
            else:
                needs.setdefault(lesson_id, []).append(pre)
    for cycle in _cycles(needs):
        lesson = by_id[cycle[0]]
        lesson.problems.append(
            Problem(
                str(lesson.path),
                lesson.key_lines.get("prerequisites", 1),
                1,
                "prerequisites go round in a circle: " + " -> ".join(cycle),
            )
        )
    for lesson in lessons:
        lesson.problems.sort(key=lambda p: (p.line, p.col))


def _cycles(needs: dict[str, list[str]]) -> list[list[str]]:
    """Every circle of prerequisites, each as ``[a, b, ..., a]`` read "a needs b needs ... a".

    ``graphlib`` reports one cycle at a time; the edge from its first lesson is then set aside
    and the sort tried again, so each circle is reported once (at most one sort per edge)."""
    edges = {lesson: list(pres) for lesson, pres in needs.items()}
    found = []
    while True:
        try:
            graphlib.TopologicalSorter(edges).prepare()  # each lesson after its prerequisites
            return found
        except graphlib.CycleError as err:
            cycle = list(reversed(err.args[1]))  # graphlib lists predecessors first
            found.append(cycle)
            edges[cycle[0]].remove(cycle[1])
