"""Each block's stable id: what the learner's progress is keyed by.

An interactive block may name itself with a top-level ``id = "..."`` line in its TOML (lowercase
letters, digits and dashes, unique in the lesson). Every other block gets an id derived from its
kind and its text: ``<kind>-<first 8 hex digits of the SHA-1 of the text, whitespace collapsed>``,
e.g. ``quiz-3f2a9c1b``; a block whose text repeats an earlier block's gets ``-2``, ``-3``...

Why the text and not the position (or "the third quiz"): a block inserted, removed or moved
leaves every other block's text, so its id and the learner's progress on it, as they were. The
price is that editing a block's text gives it a new id (the learner meets it as new, which for a
changed question is fair); a teacher who wants progress to survive edits gives the block an
explicit ``id``. Whitespace is collapsed first, so re-indenting or re-wrapping a block keeps it.

The explicit id is found by reading the block's lines (before any ``[table]`` header), not by
parsing its TOML, so every id is known as soon as a lesson is split, before its blocks are
checked (:func:`tutor.lessons.check_block` then proves the parsed ``id`` is the one read here).
"""

from __future__ import annotations

import hashlib
import re

from tutor.lessons.model import Block, Problem

__all__ = ["ID_RE", "assign_ids", "derived_id", "explicit_id"]

ID_RE = re.compile(r"[a-z0-9-]+\Z")
MAX_ID_CHARS = 64
_ID_LINE = re.compile(r"""[ \t]*id[ \t]*=[ \t]*(?:"([^"\\\n]*)"|'([^'\n]*)')[ \t]*(?:#.*)?\Z""")


def derived_id(kind: str, text: str) -> str:
    digest = hashlib.sha1(" ".join(text.split()).encode("utf-8")).hexdigest()
    return f"{kind}-{digest[:8]}"


def explicit_id(text: str) -> tuple[str, int] | None:
    """The value of a top-level ``id = "..."`` line of a block's TOML and its line in the block
    (1-based), or None."""
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            return None  # a table: keys after it are not the block's
        if stripped.startswith("id"):
            match = _ID_LINE.match(line)
            if match:
                return (match.group(1) if match.group(1) is not None else match.group(2)), number
    return None


def assign_ids(blocks: list[Block], where: str, problems: list[Problem]) -> None:
    """Set ``block.id`` on every block; a bad or repeated explicit id is a problem (the block then
    gets a derived id, so the lesson still lists)."""
    taken: dict[str, int] = {}
    for block in blocks:
        if not block.interactive:
            continue
        found = explicit_id(block.text)
        if found is None:
            continue
        value, number = found
        line = block.line + number
        if not ID_RE.match(value) or len(value) > MAX_ID_CHARS:
            problems.append(
                Problem(
                    where,
                    line,
                    1,
                    f"the block's id {value!r} may hold only lowercase letters, digits and dashes "
                    f'(at most {MAX_ID_CHARS}), e.g. id = "chain-rule-quiz"',
                )
            )
        elif value in taken:
            problems.append(
                Problem(
                    where,
                    line,
                    1,
                    f"the block id {value!r} is already used by the block on line {taken[value]}; "
                    "each block of a lesson needs its own id",
                )
            )
        else:
            taken[value] = block.line
            block.id = value
    for block in blocks:
        if block.id:
            continue
        base = derived_id(block.kind, block.text)
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}-{n}"
        taken[candidate] = block.line
        block.id = candidate
