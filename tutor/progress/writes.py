"""One change to the learner's progress, as it waits in the store's queue: what it is, when it
was made, the SQL that stores it, and how to say it in words ("2 answers and 1 other change").

Each write carries the moment it was made, to the microsecond and unique in the process
(:func:`now`): that stamp is what it is stored with, and what makes storing an answer twice a
no-op, so a write tried again after a commit whose success was not reported lands once.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tutor.progress.schema import LEGACY_PREFIX

__all__ = ["Write", "adopt", "describe_writes", "now", "plural"]

_clock_lock = threading.Lock()
_last_stamp: datetime | None = None


def now() -> str:
    """The time, UTC, to the microsecond, and never the same twice in this process (an answer's
    stamp is what makes storing it twice a no-op)."""
    global _last_stamp
    with _clock_lock:
        stamp = datetime.now(UTC)
        if _last_stamp is not None and stamp <= _last_stamp:
            stamp = _last_stamp + timedelta(microseconds=1)
        _last_stamp = stamp
    return stamp.isoformat(timespec="microseconds")


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@dataclass(frozen=True)
class Write:
    """One queued write; ``at`` is when it was made (the stamp it is stored with)."""

    kind: str  # "position", "block", "done", "attempt", "adopt" or "reset"
    lesson_id: str | None
    block_id: str = ""
    answer: str = ""
    correct: bool = False
    tags: tuple[str, ...] = ()
    at: str = ""
    ids: tuple[str, ...] = ()  # "adopt": the lesson's block ids, in order

    def adopted(self, ref: str) -> str:
        """``ref`` as this "adopt" write renames it: "#3" becomes the id of block 3."""
        return adopt(ref, self.ids)

    def statements(self) -> list[tuple[str, tuple]]:
        if self.kind == "reset":
            if self.lesson_id is None:
                return [("DELETE FROM attempt", ()), ("DELETE FROM block", ()), ("DELETE FROM lesson", ())]
            return [
                ("DELETE FROM attempt WHERE lesson_id = ?", (self.lesson_id,)),
                ("DELETE FROM block WHERE lesson_id = ?", (self.lesson_id,)),
                ("DELETE FROM lesson WHERE id = ?", (self.lesson_id,)),
            ]
        if self.kind == "adopt":
            return self._adopt_statements()
        out = [
            (
                "INSERT INTO lesson (id, position, started_at) VALUES (?, '', ?) ON CONFLICT DO NOTHING",
                (self.lesson_id, self.at),
            )
        ]
        if self.kind == "position":
            out.append(("UPDATE lesson SET position = ? WHERE id = ?", (self.block_id, self.lesson_id)))
        elif self.kind == "block":
            out.append(
                (
                    "INSERT INTO block (lesson_id, block_id, completed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (self.lesson_id, self.block_id, self.at),
                )
            )
        elif self.kind == "done":
            out.append(
                ("UPDATE lesson SET done_at = coalesce(done_at, ?) WHERE id = ?", (self.at, self.lesson_id))
            )
        elif self.kind == "attempt":
            # the same answer (same lesson, block, text and stamp) is never stored twice
            out.append(
                (
                    (
                        "INSERT INTO attempt (lesson_id, block_id, answer, correct, tags, at) "
                        "SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM attempt WHERE lesson_id = ? "
                        "AND block_id = ? AND at = ? AND answer = ?)"
                    ),
                    (
                        self.lesson_id,
                        self.block_id,
                        self.answer,
                        int(self.correct),
                        json.dumps(list(self.tags)),
                        self.at,
                        self.lesson_id,
                        self.block_id,
                        self.at,
                        self.answer,
                    ),
                )
            )
        return out

    def _adopt_statements(self) -> list[tuple[str, tuple]]:
        """A version 1 file's "#<index>" names of this lesson's blocks become the blocks' ids
        (an index past the lesson's end is left as it is: that block is gone)."""
        out: list[tuple[str, tuple]] = []
        for index, block_id in enumerate(self.ids):
            old = (LEGACY_PREFIX + str(index), self.lesson_id)
            # a block done under both names (an old file, then a new tutor) is kept once (the
            # same SQL on SQLite and PostgreSQL: no UPDATE OR IGNORE)
            out.append(
                (
                    "UPDATE block SET block_id = ? WHERE block_id = ? AND lesson_id = ? AND NOT EXISTS "
                    "(SELECT 1 FROM block AS b WHERE b.block_id = ? AND b.lesson_id = ?)",
                    (block_id, *old, block_id, self.lesson_id),
                )
            )
            out.append(("DELETE FROM block WHERE block_id = ? AND lesson_id = ?", old))
            out.append(
                ("UPDATE attempt SET block_id = ? WHERE block_id = ? AND lesson_id = ?", (block_id, *old))
            )
            out.append(("UPDATE lesson SET position = ? WHERE position = ? AND id = ?", (block_id, *old)))
        return out

    def touches(self, lesson_id: str) -> bool:
        """Does this write record something about ``lesson_id`` (which makes it started)?"""
        return self.kind not in ("reset", "adopt") and self.lesson_id == lesson_id

    def resets(self, lesson_id: str | None) -> bool:
        """Does this write forget ``lesson_id`` (None: any lesson)?"""
        return self.kind == "reset" and (self.lesson_id is None or self.lesson_id == lesson_id)


def adopt(ref: str, ids) -> str:
    """A stored block name read against a lesson's block ids (in order): a version 1 file's
    "#<index>" is the id of the block at that index; any other name is already an id."""
    if ref.startswith(LEGACY_PREFIX):
        try:
            index = int(ref[len(LEGACY_PREFIX) :])
        except ValueError:
            return ref
        if 0 <= index < len(ids):
            return ids[index]
    return ref


def describe_writes(writes: list[Write]) -> str:
    """The writes in words: "1 answer", "2 answers and 1 other change", "3 changes"."""
    answers = sum(1 for w in writes if w.kind == "attempt")
    others = len(writes) - answers
    parts = []
    if answers:
        parts.append(plural(answers, "answer"))
    if others:
        parts.append(plural(others, "other change" if answers else "change"))
    return " and ".join(parts)
