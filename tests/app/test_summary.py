"""How it went, in the app: at the end of a lesson and for the whole course, with the
misconceptions the learner's answers showed and the lesson part that shows each."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from tests.app.conftest import screen_text, squash
from tutor.screens.summary import SummaryScreen

SIZE = (80, 24)
DAY0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def answered(monkeypatch):
    """A learner's answers in local-rules: its numeric quiz wrong twice, then right, and right
    again on each of the next two days (so its mistakes are put right); its code quiz right first
    time. The progress store stamps them on those simulated days."""
    import tutor.progress.store as store

    day, ticks = [DAY0], itertools.count(1)
    monkeypatch.setattr(store, "now", lambda: (day[0] + timedelta(microseconds=next(ticks))).isoformat())

    def answer(app) -> None:
        quizzes = {
            b.config.get("kind"): b.id for b in app.catalog.get("local-rules").blocks if b.kind == "quiz"
        }
        numeric, code = quizzes["numeric"], quizzes["code"]
        progress = app.progress
        progress.record_attempt("local-rules", numeric, "6", False, ["forgot-upstream"])
        progress.record_attempt("local-rules", numeric, "12", False, ["rule-wrong-sign"])
        progress.record_attempt("local-rules", numeric, "-12", True, [])
        progress.record_attempt("local-rules", code, "self.grad += other.data * out.grad", True, [])
        for later in (1, 2):
            day[0] = DAY0 + timedelta(days=later)
            progress.record_attempt("local-rules", numeric, "-12", True, [])
        progress.flush()

    return answer


async def test_s_at_the_end_of_a_lesson_shows_how_it_went(course, answered):
    app = course(open_lesson="local-rules")
    answered(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        text = squash(screen_text(app))
        assert "How it went: The local rules" in text
        assert "2 questions answered, 1 right first time; 2 wrong answers on the way." in text
        assert "forgot to multiply by the upstream gradient" in text or "upstream" in text
        assert "Shown in: The local rules, part" in text
        assert "(1 time; ✓ put right)" in text
        await pilot.press("q")
        await pilot.pause()
        assert "part 1 of" in screen_text(app).splitlines()[0]


async def test_s_on_the_list_of_lessons_shows_how_the_course_went(course, answered):
    app = course()
    answered(app)
    app.progress.complete_lesson("derivative")
    app.progress.flush()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Summary" in screen_text(app).splitlines()[-1]
        await pilot.press("s")
        await pilot.pause()
        text = squash(screen_text(app))
        assert "How the course went" in text and "1 of 14 lessons done." in text
        assert "Misconceptions your answers showed" in text


def test_the_summary_screen(snap_compare, course, answered):
    app = course()
    answered(app)

    async def open_it(pilot):
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_it)
