"""Where lessons are, and reading one lesson file's text (refusing what is not a lesson)."""

from __future__ import annotations

import os
from pathlib import Path

from tutor.files import NotARegularFile, read_regular
from tutor.lessons.model import Problem

__all__ = ["MAX_LESSON_BYTES", "builtin_lessons_dir", "lesson_dirs", "lesson_files", "read_text"]

MAX_LESSON_BYTES = 1024 * 1024  # a lesson is prose and a few small blocks; anything bigger is a mistake


# ------------------------------------------------------------------------ where lessons are


def builtin_lessons_dir() -> Path:
    """The directory of the lessons that ship with tutor.

    In an installed package they sit in ``tutor/course/`` next to this module (``pyproject.toml``
    maps the repository's ``lessons/`` there, under a name that cannot shadow this module); in a
    source checkout or an editable install they are the repository's ``lessons/`` directory.
    """
    here = Path(__file__).resolve().parent.parent  # tutor/, above this package
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


def read_text(path: Path, problems: list[Problem]) -> str | None:
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
    # one kind of line end, as markdown-it and tomllib count lines: \r\n and a lone \r are \n
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
