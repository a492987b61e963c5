"""The built-in course as a new learner meets it at 80×24: what the lesson screen draws as they
press n, PgDn and Enter, how a lesson ends, and where the tutor says so."""

from __future__ import annotations

import pytest
from textual import events

from tests.app.conftest import screen_text, squash, toast_text, wait_until
from tests.app.textual_internals import Terminal
from tutor.lessons import builtin_lessons_dir, load_catalog
from tutor.progress import Progress
from tutor.screens.home import HomeScreen
from tutor.screens.lesson import LessonScreen
from tutor.widgets.block_card import EndCard

SIZE = (80, 24)


def header(app) -> str:
    return screen_text(app).splitlines()[0]


async def press_until(pilot, app, wanted: str, limit: int = 40) -> None:
    """n until the header says ``wanted`` (a part counter like "part 4 of")."""
    for _ in range(limit):
        if wanted in header(app):
            return
        await pilot.press("n")
        await pilot.pause()
    raise AssertionError(f"n never reached {wanted!r}; the header says {header(app)!r}")


@pytest.mark.parametrize(("lesson_id", "part"), [("zero-grad", 4), ("pytorch", 10)])
async def test_n_onto_a_quiz_card_leaves_no_old_lines_on_the_terminal(course, lesson_id, part):
    app = course(open_lesson=lesson_id)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        terminal = Terminal(app)
        await press_until(pilot, app, f"part {part} of")
        await pilot.pause()
        await pilot.pause()
        # what the terminal holds is what a fresh drawing of the screen shows
        assert terminal.lines()[1:-1] == screen_text(app).splitlines()[1:-1]


def _reading(app) -> list[str]:
    """The lesson's text rows as drawn, without what marks the current part (the bar, a card's
    frame and its ▶) or the scroll bar: what changes when the text itself moves."""
    rows = []
    for line in screen_text(app).splitlines()[1:-1]:
        body = "".join(" " if 0x2500 <= ord(ch) <= 0x259F or ch == "▶" else ch for ch in line[2:-3])
        rows.append(" ".join(body.split()))
    return rows


def _advance(before: list[str], after: list[str]) -> int | None:
    """How many rows the text moved up between two drawings (None: it jumped more than a screen)."""
    for k in range(len(before)):
        if before[k:] == after[: len(before) - k]:
            return k
    return None


def _lesson_ids():
    catalog = load_catalog([builtin_lessons_dir()])
    return [lesson.id for _, lessons in catalog.sections() for lesson in lessons]


@pytest.mark.parametrize("lesson_id", _lesson_ids())
async def test_n_moves_the_text_by_a_page_or_not_at_all(course, lesson_id):
    """Each n either moves the text a good way on, or only moves the mark to a part already on
    screen; a step of 1 to 3 lines happens only where the lesson has no more to show."""
    app = course(open_lesson=lesson_id)
    small = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.pause()
        for _ in range(100):
            if isinstance(app.screen.focused, EndCard):
                break
            before, where = _reading(app), header(app).split("·")[-1].strip()
            await pilot.press("n")
            await pilot.pause()
            moved = _advance(before, _reading(app))
            at_bottom = "End of the lesson" in squash(screen_text(app))
            if moved is not None and 0 < moved < 4 and not at_bottom:
                small.append(f"n on {where} moved the text {moved} lines")
        assert isinstance(app.screen.focused, EndCard)
    assert small == []


async def test_two_hundred_quick_ns_from_part_one_reach_the_end(course):
    """Keys typed faster than the screen redraws (a held-down n, or a burst over SSH) each count."""
    app = course(open_lesson="derivative")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "part 1 of" in header(app)
        for _ in range(200):  # all queued before the first is handled, as a terminal delivers them
            app.post_message(events.Key("n", "n"))
        await pilot.pause()
        await wait_until(pilot, lambda: "· end" in header(app), "the end card after 200 n")
        assert "End of the lesson" in squash(screen_text(app))


async def test_n_after_pagedown_carries_on_below_what_was_read(course):
    app = course(open_lesson="derivative")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.pause()
        passed = set()  # lines the learner paged past
        for _ in range(3):
            passed |= set(_reading(app))
            await pilot.press("pagedown")
            await pilot.pause()
        read = _reading(app)
        passed -= set(read)
        passed.discard("")
        await pilot.press("n")
        await pilot.pause()
        after = _reading(app)
        assert after != read
        assert not set(after) & passed, "n went back above where the learner was reading"


async def test_enter_opens_the_card_on_screen_below_the_current_prose(course):
    app = course(open_lesson="topological-order")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press_until(pilot, app, "part 3 of")
        text = squash(screen_text(app))
        assert "Enter: open the debugger" in text and "Open" in screen_text(app).splitlines()[-1]
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, LessonScreen)
        assert "part 3 of" not in header(app)


async def test_leaving_from_the_end_card_finishes_the_lesson_and_home_moves_on(course, tmp_path):
    lesson_id = "topological-order"
    app = course()
    progress = app.progress
    lesson = app.catalog.get(lesson_id)
    for block in lesson.blocks:
        if block.interactive:
            progress.complete_block(lesson_id, block.id)
    progress.set_position(lesson_id, lesson.blocks[-1].id)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        home_rows = screen_text(app).splitlines()
        assert any("▶" in row and lesson.title in row for row in home_rows)
        app.open_lesson(lesson_id)
        await pilot.pause()
        await pilot.pause()
        assert "End of the lesson" in squash(screen_text(app))  # on screen below the last part
        assert "· end" not in header(app)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        rows = screen_text(app).splitlines()
        assert "done" in next(row for row in rows if lesson.title in row)
        marked = next(row for row in rows if "▶" in row)
        assert lesson.title not in marked and app.catalog.get("mlp").title in marked
    assert Progress(tmp_path / "data").state(lesson_id) == "done"


async def test_finishing_says_so_in_the_header_not_over_the_text(course):
    app = course(open_lesson="derivative")
    progress = app.progress
    lesson = app.catalog.get("derivative")
    for block in lesson.blocks:
        if block.interactive:
            progress.complete_block("derivative", block.id)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press(*["n"] * 30)
        await pilot.pause()
        assert "lesson complete ✓" in header(app)
        assert toast_text(app) == ""
        assert "You have finished it" in squash(screen_text(app))


async def test_ctrl_p_lists_the_lessons_before_textuals_own_commands(course):
    app = course()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: "Lesson:" in screen_text(app), "the palette's lessons")
        await pilot.pause(0.3)
        rows = [row for row in screen_text(app).splitlines() if "Lesson:" in row or "theme" in row.lower()]
        assert "Lesson: What a derivative is" in rows[0]
        assert not any("theme" in row.lower() for row in rows[:13])


async def test_at_60_by_20_the_header_keeps_the_part_counter_and_the_footer_its_keys(course):
    app = course(open_lesson="backprop-by-hand")
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        await pilot.press("n", "n", "n")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert "Backprop by hand" in lines[0] and "part 3/7" in lines[0]
        for key in ("n Next", "p Prev", "q Back", "? Help"):
            assert key in lines[-1], lines[-1]


async def test_enter_opens_the_card_just_above_when_its_enter_line_is_what_is_on_screen(course):
    """Values' last part is prose under its last quiz: the quiz card's bottom, "Enter: answer the
    quiz", is on screen above it, so Enter answers that quiz (it used to do nothing)."""
    from tutor.screens.quiz import QuizScreen

    app = course(open_lesson="values")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press_until(pilot, app, "part 11 of")
        await pilot.pause()
        text = screen_text(app)
        assert "Enter: answer the quiz" in text and "What to remember" in text
        assert "⏎ Open" in text.splitlines()[-1]
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, QuizScreen), "the quiz above opened")
        assert "What is L.data?" in screen_text(app)
