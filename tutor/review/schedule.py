"""Review items and their spaced schedule, derived from the answers the progress store keeps.

Every block the learner once answered wrong is a :class:`ReviewItem`. Nothing is stored for it:
the item, its Leitner box and its due day are worked out again from the attempts each time
(:func:`review_items`), so a review answer is an ordinary ``record_attempt`` on the block's id,
and a learner who answers the block right in its lesson on a later day moves it just the same.

The scheme (Leitner boxes, counted in whole days, UTC):

* a day with a wrong answer on the block puts the item in box 1, due the next day;
* a day of right answers only, on or after the due day, moves it up a box and waits
  ``INTERVALS[box - 1]`` days (1, then 2, 4, 8); a right answer out of box 4 retires the item;
* right answers before the due day change nothing but count towards resolving the mistake.

A misconception an item showed counts as **resolved** once the block has been answered right on
``RESOLVED_AFTER_DAYS`` different days after the last wrong one (a second try the same day is
not enough: it may be memory of the feedback just read).

Pure logic over :class:`tutor.progress.Attempt` values: no Textual, no store.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from tutor.progress.records import Attempt

__all__ = [
    "INTERVALS",
    "RESOLVED_AFTER_DAYS",
    "RESOLVED_WORDS",
    "ReviewItem",
    "day_of",
    "due_items",
    "review_items",
    "tag_resolution",
]

INTERVALS = (1, 2, 4, 8)  # days to wait before the next review, by box (1-based)
RESOLVED_AFTER_DAYS = 2  # different later days answered right before a mistake counts as put right
# the rule in words, for the screens and `tutor progress` that state it
_DAYS_IN_WORDS = {1: "one later day", 2: "two later days", 3: "three later days"}
RESOLVED_WORDS = (
    f"right answers on {_DAYS_IN_WORDS.get(RESOLVED_AFTER_DAYS, f'{RESOLVED_AFTER_DAYS} later days')}"
)
MAX_WRONG_KEPT = 3  # wrong answers an item remembers (most recent first), to show


def day_of(moment: str | datetime) -> date | None:
    """The UTC day of an attempt's ISO 8601 timestamp (or of a datetime); None if unreadable."""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return None
    if not isinstance(moment, datetime):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the store writes UTC
    return moment.astimezone(UTC).date()


@dataclass(frozen=True)
class ReviewItem:
    """One block the learner got wrong, where it stands on the schedule."""

    lesson_id: str
    block_id: str
    box: int  # 1..len(INTERVALS); len(INTERVALS) + 1 once retired
    due: date | None  # the day it comes back; None once retired
    last_wrong: date  # the last day it was answered wrong
    wrong_answers: tuple[str, ...] = ()  # most recent first
    tags: tuple[str, ...] = ()  # misconception tags its wrong answers showed, first met first
    last_wrong_tags: tuple[str, ...] = ()  # the tags of the last wrong day
    right_days: int = 0  # different days answered right since the last wrong day
    answered_days: int = 0  # different days it was answered at all
    attempts: int = 0  # answers given on the block

    @property
    def retired(self) -> bool:
        return self.due is None

    @property
    def resolved(self) -> bool:
        """Answered right on enough later days for its mistakes to count as put right."""
        return self.right_days >= RESOLVED_AFTER_DAYS

    def is_due(self, today: date) -> bool:
        return self.due is not None and self.due <= today

    def wait_days(self, today: date) -> int | None:
        """Days until it comes back (0 when due); None once retired."""
        return None if self.due is None else max((self.due - today).days, 0)


@dataclass
class _Build:
    box: int = 1
    due: date | None = None
    last_wrong: date | None = None
    wrong: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    last_tags: tuple[str, ...] = ()
    right_days: int = 0
    answered_days: int = 0
    attempts: int = 0


def _step_day(b: _Build, day: date, answers: list[Attempt]) -> None:
    """Move one block's item through one day of its answers."""
    b.answered_days += 1
    b.attempts += len(answers)
    wrongs = [a for a in answers if not a.correct]
    if wrongs:
        b.box, b.due, b.last_wrong, b.right_days = 1, day + timedelta(days=INTERVALS[0]), day, 0
        for a in reversed(wrongs):
            if a.answer not in b.wrong:
                b.wrong.insert(0, a.answer)
        del b.wrong[MAX_WRONG_KEPT:]
        day_tags = []
        for a in wrongs:
            for tag in a.tags:
                if tag not in b.tags:
                    b.tags.append(tag)
                if tag not in day_tags:
                    day_tags.append(tag)
        b.last_tags = tuple(day_tags)
        return
    b.right_days += 1
    if b.due is not None and day >= b.due:
        b.box += 1
        b.due = day + timedelta(days=INTERVALS[b.box - 1]) if b.box <= len(INTERVALS) else None


def review_items(attempts: Iterable[Attempt]) -> list[ReviewItem]:
    """Every block answered wrong at least once, in the order of its first wrong answer."""
    by_block: dict[tuple[str, str], list[tuple[date, Attempt]]] = {}
    for attempt in attempts:
        day = day_of(attempt.timestamp)
        if day is None:
            continue
        by_block.setdefault((attempt.lesson_id, attempt.block_id), []).append((day, attempt))
    found: list[tuple[date, int, ReviewItem]] = []
    for n, ((lesson_id, block_id), answers) in enumerate(by_block.items()):
        answers.sort(key=lambda pair: (pair[0], pair[1].timestamp))  # stable: same-stamp order kept
        first_wrong = next((day for day, a in answers if not a.correct), None)
        if first_wrong is None:
            continue
        b = _Build()
        days: dict[date, list[Attempt]] = {}
        for day, a in answers:
            if day >= first_wrong:
                days.setdefault(day, []).append(a)
        for day, day_answers in days.items():
            _step_day(b, day, day_answers)
        item = ReviewItem(
            lesson_id,
            block_id,
            box=b.box,
            due=b.due,
            last_wrong=b.last_wrong,
            wrong_answers=tuple(b.wrong),
            tags=tuple(b.tags),
            last_wrong_tags=b.last_tags,
            right_days=b.right_days,
            answered_days=b.answered_days,
            attempts=b.attempts,
        )
        found.append((first_wrong, n, item))
    return [item for _, _, item in sorted(found, key=lambda t: (t[0], t[1]))]


def due_items(items: Iterable[ReviewItem], today: date) -> list[ReviewItem]:
    """The items due on ``today``, the longest overdue first (then in the order met)."""
    due = [(item.due, n, item) for n, item in enumerate(items) if item.is_due(today)]
    return [item for _, _, item in sorted(due, key=lambda t: (t[0], t[1]))]


def tag_resolution(items: Iterable[ReviewItem]) -> dict[str, bool]:
    """Each misconception tag the items showed -> True once every item that showed it is resolved.

    The one home of "put right": `tutor progress` and the summary screen (through
    `tutor.progress.tag_summary`) and the mastery view (through `ReviewItem.resolved`) use it."""
    out: dict[str, bool] = {}
    for item in items:
        for tag in item.tags:
            out[tag] = out.get(tag, True) and item.resolved
    return out
