"""The misconception summary of `tutor progress`: which tags a learner's answers showed, how
often, where, and whether each was put right. A pure function over the attempts.

Whether a tag is put right is not decided here: it is the review schedule's rule
(`tutor.review.schedule.tag_resolution`, the one the mastery view's levels use too), so
`tutor progress`, the summary screen and the mastery view cannot disagree."""

from __future__ import annotations

from collections.abc import Iterable

from tutor.progress.records import Attempt

__all__ = ["tag_summary"]


def tag_summary(attempts: Iterable[Attempt]) -> list[dict]:
    """Each misconception tag met in ``attempts`` (oldest first), most often met first:
    ``{"tag", "hits", "lessons", "resolved"}``. ``hits`` counts the attempts that showed it,
    ``lessons`` lists the lessons where it showed (in the order first met), and ``resolved`` is
    True once every block where it showed has been answered right on later days
    (`tutor.review.schedule.RESOLVED_AFTER_DAYS` different days after its last wrong answer)."""
    # the review package builds on this one (its attempts are tutor.progress's): imported here
    from tutor.review.schedule import review_items, tag_resolution

    attempts = list(attempts)
    resolved = tag_resolution(review_items(attempts))
    summary: dict[str, dict] = {}
    for attempt in attempts:
        for tag in attempt.tags:
            entry = summary.get(tag)
            if entry is None:
                entry = summary[tag] = {"tag": tag, "hits": 0, "lessons": [], "resolved": False}
            entry["hits"] += 1
            if attempt.lesson_id not in entry["lessons"]:
                entry["lessons"].append(attempt.lesson_id)
    for tag, entry in summary.items():
        entry["resolved"] = resolved.get(
            tag, False
        )  # a tag only a right answer carried: not a mistake put right
    return sorted(summary.values(), key=lambda e: (-e["hits"], e["tag"]))
