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

This package turns such a file into a :class:`Lesson` made of :class:`Block` objects and reports
every mistake in it as a :class:`Problem` that points at a line of the Markdown file. It never
raises on a bad file and never executes anything from one. Its parts:

``source``     where lessons are, and reading a file's text (refusing binary, huge, non-UTF-8 files)
``markdown``   the body split into prose and blocks with markdown-it, as the lesson screen renders it
``positions``  where a key or a TOML error is in the file
``blocks``     the front matter, ```debugger and ```pytorch described once; checking any block
``train``      the ```train block (and ``tutor train TASK.toml``) read into the engine's Task
``catalog``    load_lesson, load_catalog and what only the whole set can show
``model``      Problem, Block, Lesson, Catalog

Quizzes are read by :mod:`tutor.quiz`. It imports neither ``textual`` nor ``rich``, so
``tutor check`` and the tests run it directly.
"""

from __future__ import annotations

from tutor.lessons.blocks import (
    DEBUGGER,
    FRONT_MATTER,
    PYTORCH,
    block_result,
    cannot_open,
    check_block,
    check_blocks,
)
from tutor.lessons.catalog import BROKEN_ORDER, BROKEN_SECTION, load_catalog, load_lesson, with_siblings
from tutor.lessons.model import INTERACTIVE_KINDS, Block, Catalog, Lesson, Problem, ProgramBlock
from tutor.lessons.positions import toml_error_position, toml_key_position
from tutor.lessons.source import MAX_LESSON_BYTES, builtin_lessons_dir, lesson_dirs, lesson_files
from tutor.lessons.train import TaskConfigError, read_task, read_task_file

__all__ = [
    "BROKEN_ORDER",
    "BROKEN_SECTION",
    "DEBUGGER",
    "FRONT_MATTER",
    "INTERACTIVE_KINDS",
    "MAX_LESSON_BYTES",
    "PYTORCH",
    "Block",
    "Catalog",
    "Lesson",
    "Problem",
    "ProgramBlock",
    "TaskConfigError",
    "block_result",
    "builtin_lessons_dir",
    "cannot_open",
    "check_block",
    "check_blocks",
    "lesson_dirs",
    "lesson_files",
    "load_catalog",
    "load_lesson",
    "read_task",
    "read_task_file",
    "toml_error_position",
    "toml_key_position",
    "with_siblings",
]
