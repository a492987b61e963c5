"""What the course's own words look like on screen at 80×24: a predict card says what it asks,
and feedback keeps a name from code as it is spelt when it starts a sentence."""

from __future__ import annotations

from tests.app.conftest import screen_text, squash
from tests.app.test_course_walk import put_in_order
from tutor.app import TutorApp
from tutor.lessons import builtin_lessons_dir, load_catalog
from tutor.progress import Progress
from tutor.screens.quiz import QuizScreen

SIZE = (80, 24)


def built_in():
    return load_catalog([builtin_lessons_dir()])


async def test_the_reuse_predict_card_says_what_it_asks(tmp_path):
    catalog = built_in()
    lesson = catalog.get("reuse-and-accumulation")
    (card,) = [b for b in lesson.blocks if b.kind == "quiz" and b.quiz.kind == "predict"]
    with Progress(tmp_path) as progress:
        progress.set_position(lesson.id, card.id)
        app = TutorApp(catalog, progress, open_lesson=lesson.id)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.pause()
            text = squash(screen_text(app))
            assert "predict question" in text
            assert "e's rule has run; d's rule is about to. What will a.grad be right after it?" in text


async def test_feedback_that_starts_with_zero_grad_keeps_its_spelling(tmp_path):
    catalog = built_in()
    lesson = catalog.get("training-loop")
    (block,) = [b for b in lesson.blocks if b.kind == "quiz" and b.quiz.kind == "order"]
    with Progress(tmp_path) as progress:
        screen = QuizScreen(block.quiz, lesson_id=lesson.id, block_id=block.id, progress=progress)
        app = TutorApp(catalog, progress)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.push_screen(screen)
            await pilot.pause()
            await put_in_order(pilot, screen, ["forward", "loss", "backward", "zero_grad", "update"])
            await pilot.press("enter")
            await pilot.pause()
            text = squash(screen_text(app))
            assert "zero_grad between backward and the update" in text
            assert "Zero_grad" not in text
