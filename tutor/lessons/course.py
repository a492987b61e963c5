"""A course as a unit: a folder of lessons with a manifest, ``course.toml``, shipped as a folder
or as a pip package that registers itself.

    # course.toml, beside the lesson files
    name = "Backprop for biologists"
    version = "1.2"
    lessons = ["cells", "signals", "learning"]   # the order the app lists them in
    builtin = false                              # hide the built-in lessons (default: true)

    [[misconceptions]]                           # tags every lesson of the course may use
    tag = "..."

A folder with a manifest is loaded like any lesson folder (``--lessons DIR``, ``TUTOR_LESSONS``);
its lessons are listed after the built-in ones and the folders without a manifest, in the
manifest's order (lessons it does not list follow, by their ``order``). ``builtin = false``
in any manifest, or ``--no-builtin``, hides the built-in course.

A pip package registers its course with an entry point in the group ``tutor.courses``, whose
value names the package holding ``course.toml`` and the lessons::

    [project.entry-points."tutor.courses"]
    biology = "backprop_biology"

The package's folder is found with :func:`importlib.util.find_spec` without importing it: nothing
of the package runs, and its files are read like any lesson folder's.

Pure logic: no Textual.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tutor.lessons import toml_text
from tutor.lessons.model import Problem
from tutor.lessons.positions import key_position, toml_error
from tutor.lessons.source import builtin_lessons_dir, lesson_dirs
from tutor.schema import Issues, Key, Table

__all__ = [
    "ENTRY_POINT_GROUP",
    "MANIFEST",
    "MANIFEST_NAME",
    "Course",
    "course_dirs",
    "entry_point_dirs",
    "read_manifest",
]

MANIFEST_NAME = "course.toml"
ENTRY_POINT_GROUP = "tutor.courses"
MAX_MANIFEST_BYTES = 64 * 1024
MAX_ENTRY_POINTS = 50


def _ids(value: list) -> str | None:
    from tutor.lessons.ids import ID_RE

    bad = [v for v in value if not isinstance(v, str) or not ID_RE.match(v)]
    if bad:
        return f'must be a list of lesson ids, e.g. ["cells", "signals"]; {bad[0]!r} is not a lesson id'
    if len(set(value)) != len(value):
        twice = next(v for v in value if value.count(v) > 1)
        return f"lists {twice!r} twice; each lesson once"
    return None


MANIFEST = Table(
    "course.toml",
    (
        Key("name", "str", 'the course\'s name, e.g. "Backprop for biologists"', required=True),
        Key("version", "str", 'its version, e.g. "1.0"', default=""),
        Key(
            "lessons",
            "list",
            'the lesson ids in the order they are listed, e.g. ["cells", "signals"]',
            check=_ids,
        ),
        Key(
            "builtin", "bool", "true or false: whether tutor's built-in lessons show beside it", default=True
        ),
        Key("misconceptions", "tables", "misconception tags every lesson of the course may use"),
    ),
    unknown="unknown key '{key}' in {where}{hint}",
    missing="course.toml has no '{key}' key; add {example}",
)


@dataclass
class Course:
    """One course folder's manifest, as read."""

    path: Path  # the folder
    name: str
    version: str = ""
    lessons: list[str] = field(default_factory=list)
    builtin: bool = True
    misconceptions: dict = field(default_factory=dict)  # tag -> tutor.misconceptions.Misconception

    @property
    def manifest(self) -> Path:
        return self.path / MANIFEST_NAME


def read_manifest(folder: Path, problems: list[Problem]) -> Course | None:
    """The course ``folder/course.toml`` describes; None when the folder has none. A manifest with
    a problem still gives a course (the good keys), and the problem goes into ``problems``."""
    path = Path(folder) / MANIFEST_NAME
    where = str(path)
    try:
        if not path.is_file():
            return None
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            problems.append(
                Problem(
                    where, 0, 0, f"course.toml is {size:,} bytes; a manifest may hold {MAX_MANIFEST_BYTES:,}"
                )
            )
            return None
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        problems.append(
            Problem(where, 0, 0, f"cannot read course.toml: {getattr(err, 'strerror', None) or err}")
        )
        return None
    try:
        config = toml_text.loads(text)
    except toml_text.TomlRefused as err:
        problems.append(Problem(where, err.line, err.col, f"course.toml refused: {err.message}"))
        return None
    except tomllib.TOMLDecodeError as err:
        line, col, msg = toml_error(err, 1, text)
        problems.append(Problem(where, line, col, f"course.toml is not valid TOML: {msg}"))
        return None
    issues = Issues()
    values = MANIFEST.read(config, issues) or {}
    declared = {}
    if "misconceptions" in values:
        from tutor.misconceptions import read_declared

        declared = read_declared(values["misconceptions"], issues, source=where)
    for issue in issues:
        line, col = key_position(text, 1, issue.path, (1, 1))
        problems.append(Problem(where, line, col, issue.message))
    return Course(
        Path(folder),
        values.get("name", Path(folder).name),
        values.get("version", ""),
        list(values.get("lessons") or []),
        values.get("builtin", True),
        declared,
    )


def entry_point_dirs(problems: list[Problem]) -> list[Path]:
    """The folders of the courses installed as pip packages (entry point group
    ``tutor.courses``), in the order of their names; each one that cannot be found is a problem."""
    try:
        found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception as err:  # a broken installed distribution must not stop the tutor
        problems.append(
            Problem(ENTRY_POINT_GROUP, 0, 0, f"the installed courses could not be listed ({err})")
        )
        return []
    dirs = []
    seen = set()
    for ep in sorted(found, key=lambda e: e.name)[:MAX_ENTRY_POINTS]:
        if ep.name in seen:
            continue
        seen.add(ep.name)
        where = f"course '{ep.name}' (entry point {ep.value!r} in {ENTRY_POINT_GROUP})"
        package = ep.value.split(":", 1)[0].strip()
        try:
            # top-level: found without importing; a dotted name imports its parents only
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError) as err:
            spec, reason = None, str(err)
        else:
            reason = "no such package is installed"
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        if not locations:
            problems.append(
                Problem(
                    where, 0, 0, f"its package {package!r} cannot be found ({reason}); reinstall the course"
                )
            )
            continue
        dirs.append(Path(locations[0]))
    return dirs


def course_dirs(
    extra=(), environ=None, *, no_builtin: bool = False, problems: list[Problem] | None = None
) -> list[Path]:
    """Every folder the app loads lessons from: the built-in course (unless ``no_builtin``, or a
    course's manifest says ``builtin = false``), ``--lessons`` folders, ``TUTOR_LESSONS``, then
    the installed courses (entry points). Problems finding them go into ``problems``."""
    import os

    problems = [] if problems is None else problems
    dirs = lesson_dirs(extra, os.environ if environ is None else environ)
    dirs += [d for d in entry_point_dirs(problems) if d not in dirs]
    builtin = builtin_lessons_dir()
    hide = no_builtin
    for d in dirs:
        if d == builtin:
            continue
        course = read_manifest(d, []) if d.is_dir() else None  # its problems are the catalogue's
        if course is not None and not course.builtin:
            hide = True
    return [d for d in dirs if not (hide and d == builtin)]
