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

__all__ = ["Write", "describe_writes", "now", "plural"]

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

    kind: str  # "position", "block", "done", "attempt" or "reset"
    lesson_id: str | None
    block_index: int = 0
    answer: str = ""
    correct: bool = False
    tags: tuple[str, ...] = ()
    at: str = ""

    def statements(self) -> list[tuple[str, tuple]]:
        if self.kind == "reset":
            if self.lesson_id is None:
                return [("DELETE FROM attempt", ()), ("DELETE FROM block", ()), ("DELETE FROM lesson", ())]
            return [
                ("DELETE FROM attempt WHERE lesson_id = ?", (self.lesson_id,)),
                ("DELETE FROM block WHERE lesson_id = ?", (self.lesson_id,)),
                ("DELETE FROM lesson WHERE id = ?", (self.lesson_id,)),
            ]
        out = [
            (
                "INSERT INTO lesson (id, position, started_at) VALUES (?, 0, ?) ON CONFLICT (id) DO NOTHING",
                (self.lesson_id, self.at),
            )
        ]
        if self.kind == "position":
            out.append(("UPDATE lesson SET position = ? WHERE id = ?", (self.block_index, self.lesson_id)))
        elif self.kind == "block":
            out.append(
                (
                    "INSERT INTO block (lesson_id, block_index, completed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (self.lesson_id, self.block_index, self.at),
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
                        "INSERT INTO attempt (lesson_id, block_index, answer, correct, tags, at) "
                        "SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM attempt WHERE lesson_id = ? "
                        "AND block_index = ? AND at = ? AND answer = ?)"
                    ),
                    (
                        self.lesson_id,
                        self.block_index,
                        self.answer,
                        int(self.correct),
                        json.dumps(list(self.tags)),
                        self.at,
                        self.lesson_id,
                        self.block_index,
                        self.at,
                        self.answer,
                    ),
                )
            )
        return out

    def touches(self, lesson_id: str) -> bool:
        return self.kind != "reset" and self.lesson_id == lesson_id

    def resets(self, lesson_id: str | None) -> bool:
        """Does this write forget ``lesson_id`` (None: any lesson)?"""
        return self.kind == "reset" and (self.lesson_id is None or self.lesson_id == lesson_id)


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
