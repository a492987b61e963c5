"""Progress follows a block's id, not its position: a teacher who inserts a block above a part
the learner has done leaves that part done (drawn "✓ done" at 80×24), and an explicit
``id = "..."`` keeps a part done through an edit of its text."""

from __future__ import annotations

from tests.app.conftest import screen_text, squash
from tutor.app import TutorApp
from tutor.lessons import load_catalog
from tutor.progress import Progress
from tutor.screens.lesson import LessonScreen
from tutor.screens.quiz import QuizScreen

SIZE = (80, 24)

FRONT = """+++
id = "stable"
title = "Stable parts"
section = "Tests"
order = 1
summary = "One quiz."
prerequisites = []
+++
"""
QUIZ = """
```quiz
{id}kind = "numeric"
prompt = "{prompt}"
answer = 6
```
"""
INSERTED = """
```quiz
kind = "numeric"
prompt = "A new question the teacher put first: what is 2 * 2?"
answer = 4
```
"""


def _write(path, *parts: str) -> None:
    path.write_text(FRONT + "\nSome prose.\n" + "".join(parts), encoding="utf-8")


async def _answer_the_quiz(lessons, data_dir) -> None:
    app = TutorApp(load_catalog([lessons]), Progress(data_dir), open_lesson="stable")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "enter")
        await pilot.pause()
        assert isinstance(app.screen, QuizScreen)
        await pilot.press("6", "enter")
        await pilot.pause()
        app.screen.dismiss(True)
        await pilot.pause()
        assert "Quiz ✓ done" in squash(screen_text(app))
    app.progress.close()


async def _cards(lessons, data_dir) -> list[str]:
    """The quiz cards as the lesson screen draws them, top to bottom: 'done' or 'to do'."""
    app = TutorApp(load_catalog([lessons]), Progress(data_dir), open_lesson="stable")
    found = []
    async with app.run_test(size=(80, 60)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        for line in screen_text(app).splitlines():
            if "Quiz" in line and ("▶" in line or "─" in line or "│" in line):
                found.append("done" if "✓ done" in line else "to do")
    app.progress.close()
    return found


async def test_a_block_inserted_above_a_done_part_leaves_it_done(tmp_path):
    lessons, data = tmp_path / "lessons", tmp_path / "data"
    lessons.mkdir()
    lesson = lessons / "stable.md"
    _write(lesson, QUIZ.format(id="", prompt="What is dL/da?"))
    await _answer_the_quiz(lessons, data)
    assert await _cards(lessons, data) == ["done"]

    _write(lesson, INSERTED, QUIZ.format(id="", prompt="What is dL/da?"))  # a new quiz above it
    assert await _cards(lessons, data) == ["to do", "done"]


async def test_an_explicit_id_keeps_a_part_done_when_its_text_is_edited(tmp_path):
    lessons, data = tmp_path / "lessons", tmp_path / "data"
    lessons.mkdir()
    lesson = lessons / "stable.md"
    _write(lesson, QUIZ.format(id='id = "da-quiz"\n', prompt="What is dL/da?"))
    await _answer_the_quiz(lessons, data)
    _write(lesson, INSERTED, QUIZ.format(id='id = "da-quiz"\n', prompt="Edited: what is dL/da here?"))
    assert await _cards(lessons, data) == ["to do", "done"]
    # without the id, the edited text is a new part (its id is derived from the text)
    _write(lesson, QUIZ.format(id="", prompt="Edited again: what is dL/da?"))
    assert await _cards(lessons, data) == ["to do"]
