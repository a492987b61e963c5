"""The review schedule over simulated days: wrong answers become items, right answers on later
days move them up the Leitner boxes, and a mistake counts as put right only on later days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tutor.progress import Attempt, Progress
from tutor.review import INTERVALS, due_items, review_items, tag_resolution

DAY0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand; ``stamp()`` is an attempt's timestamp now."""

    def __init__(self, start: datetime = DAY0):
        self.now = start
        self.ticks = 0

    def advance(self, days: float = 0, minutes: float = 0) -> None:
        self.now += timedelta(days=days, minutes=minutes)

    def stamp(self) -> str:
        self.ticks += 1  # distinct stamps, in order, as the store makes them
        return (self.now + timedelta(microseconds=self.ticks)).isoformat()

    @property
    def today(self) -> date:
        return self.now.date()


def answer(log: list, clock: Clock, correct: bool, block: str = "quiz-1", tags=(), text="x"):
    log.append(Attempt("chain", block, text, correct, list(tags), clock.stamp()))


def test_a_wrong_answer_comes_back_the_next_day_not_today():
    clock, log = Clock(), []
    answer(log, clock, False, tags=["forgot-upstream"], text="2")
    answer(log, clock, True, text="-4")  # the second try, after reading the feedback
    [item] = review_items(log)
    assert (item.lesson_id, item.block_id, item.box) == ("chain", "quiz-1", 1)
    assert item.wrong_answers == ("2",) and item.tags == ("forgot-upstream",)
    assert due_items([item], clock.today) == []
    assert due_items([item], clock.today + timedelta(days=1)) == [item]


def test_right_answers_on_due_days_climb_the_boxes_until_the_item_retires():
    clock, log = Clock(), []
    answer(log, clock, False)
    seen = []
    for _ in range(len(INTERVALS)):
        [item] = review_items(log)
        wait = item.wait_days(clock.today)
        seen.append(wait)
        clock.advance(days=wait)
        assert due_items(review_items(log), clock.today), f"due after {wait} days"
        answer(log, clock, True)
    assert seen == list(INTERVALS) == [1, 2, 4, 8]  # box 1 waits a day, each box up twice as long
    [item] = review_items(log)
    assert item.retired and not item.is_due(clock.today + timedelta(days=365))


def test_a_right_answer_before_the_due_day_does_not_move_the_item():
    clock, log = Clock(), []
    answer(log, clock, False)
    clock.advance(days=1)
    answer(log, clock, True)  # due: box 2, back in 2 days
    [item] = review_items(log)
    assert item.box == 2 and item.wait_days(clock.today) == INTERVALS[1]
    clock.advance(days=1)
    answer(log, clock, True)  # not due yet
    [item] = review_items(log)
    assert item.box == 2 and item.wait_days(clock.today) == 1


def test_a_wrong_review_sends_the_item_back_to_box_one():
    clock, log = Clock(), []
    answer(log, clock, False)
    clock.advance(days=1)
    answer(log, clock, True)
    clock.advance(days=2)
    answer(log, clock, False, text="7")
    answer(log, clock, True)  # right again the same day: the day still counts as wrong
    [item] = review_items(log)
    assert item.box == 1 and item.wait_days(clock.today) == 1 and item.right_days == 0
    assert item.wrong_answers == ("7", "x")


def test_a_misconception_is_resolved_only_after_right_answers_on_later_days():
    clock, log = Clock(), []
    answer(log, clock, False, tags=["own-input-in-mul"])
    for _ in range(5):
        clock.advance(minutes=20)
        answer(log, clock, True)  # the same day, however often: not resolved
    assert tag_resolution(review_items(log)) == {"own-input-in-mul": False}
    clock.advance(days=1)
    answer(log, clock, True)
    assert tag_resolution(review_items(log)) == {"own-input-in-mul": False}  # one later day
    clock.advance(days=2)
    answer(log, clock, True)
    assert tag_resolution(review_items(log)) == {"own-input-in-mul": True}  # two later days


def test_blocks_never_answered_wrong_are_no_items_and_items_keep_their_order():
    clock, log = Clock(), []
    answer(log, clock, True, block="quiz-a")
    answer(log, clock, False, block="quiz-b")
    clock.advance(days=1)
    answer(log, clock, False, block="quiz-c")
    items = review_items(log)
    assert [i.block_id for i in items] == ["quiz-b", "quiz-c"]
    clock.advance(days=1)
    assert [i.block_id for i in due_items(items, clock.today)] == ["quiz-b", "quiz-c"]


def test_unreadable_timestamps_are_left_out():
    log = [Attempt("chain", "quiz-1", "2", False, [], "not a time")]
    assert review_items(log) == []


@pytest.fixture
def store_clock(monkeypatch):
    """The progress store stamps attempts with the simulated clock (its own ``now``)."""
    import tutor.progress.store as store

    clock = Clock()
    monkeypatch.setattr(store, "now", clock.stamp)
    return clock


def test_the_schedule_is_derived_from_what_the_store_keeps(tmp_path, store_clock):
    clock = store_clock
    with Progress(tmp_path / "data") as progress:
        progress.record_attempt("chain", "quiz-1", "2", False, ["forgot-upstream"])
        clock.advance(days=1)
        progress.record_attempt("chain", "quiz-1", "-4", True, [])
        progress.flush()
    with Progress(tmp_path / "data") as progress:  # read back after a restart
        [item] = review_items(progress.attempts())
    assert item.box == 2 and item.wait_days(clock.today) == INTERVALS[1]
    assert item.right_days == 1 and not item.resolved
