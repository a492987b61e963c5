"""The misconception summary of `tutor progress`: which tags a learner's answers showed, how
often, where, and whether each was later put right. A pure function over the attempts."""

from __future__ import annotations

from collections.abc import Iterable

from tutor.progress.records import Attempt

__all__ = ["tag_summary"]


def tag_summary(attempts: Iterable[Attempt]) -> list[dict]:
    """Each misconception tag met in ``attempts`` (oldest first), most often met first:
    ``{"tag", "hits", "lessons", "resolved"}``. ``hits`` counts the attempts that showed it,
    ``lessons`` lists the lessons where it showed (in the order first met), and ``resolved`` is
    True when every block where it showed was answered right in a later attempt (after the last
    time it showed there). One pass to find each block's last right answer, one over the tags."""
    attempts = list(attempts)
    last_right: dict[tuple[str, str], int] = {}
    for i, attempt in enumerate(attempts):
        if attempt.correct:
            last_right[(attempt.lesson_id, attempt.block_id)] = i
    summary: dict[str, dict] = {}
    open_blocks: dict[str, set] = {}  # per tag: the blocks where it showed with no right answer after
    lessons_seen: dict[str, set] = {}
    for i, attempt in enumerate(attempts):
        key = (attempt.lesson_id, attempt.block_id)
        later_right = last_right.get(key, -1) > i
        for tag in attempt.tags:
            entry = summary.get(tag)
            if entry is None:
                entry = summary[tag] = {"tag": tag, "hits": 0, "lessons": [], "resolved": False}
                open_blocks[tag], lessons_seen[tag] = set(), set()
            entry["hits"] += 1
            if attempt.lesson_id not in lessons_seen[tag]:
                lessons_seen[tag].add(attempt.lesson_id)
                entry["lessons"].append(attempt.lesson_id)
            if later_right:
                open_blocks[tag].discard(key)
            else:
                open_blocks[tag].add(key)
    for tag, entry in summary.items():
        entry["resolved"] = not open_blocks[tag]
    return sorted(summary.values(), key=lambda e: (-e["hits"], e["tag"]))
