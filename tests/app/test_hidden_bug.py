"""A train block that does not give its bug away: its caption on the card and as the screen's
subtitle, and with ``hide_mistake`` neither the card, nor the training screen's header, legend
and status name the bug until the learner has answered the question after it (80×24)."""

from __future__ import annotations

from tests.app.conftest import screen_text, squash
from tutor.app import TutorApp
from tutor.lessons import load_catalog, load_lesson
from tutor.progress import Progress
from tutor.screens.lesson import LessonScreen
from tutor.screens.quiz import QuizScreen
from tutor.screens.train import TrainScreen

LESSON = """+++
id = "which-bug"
title = "Which bug is it?"
section = "Bugs"
order = 1
summary = "Find the bug from the curve."
prerequisites = []
+++

```train
caption = "Something is wrong with this loop"
hide_mistake = true
mistake = "no_zero_grad"
steps = 10

[model]
layers = [4, 1]

[data]
name = "seeds"

[loss]
kind = "sse"

[optimiser]
kind = "sgd"
lr = 0.05
```

```quiz
kind = "choice"
prompt = "Which bug does the run have?"

[[options]]
text = "zero_grad is missing"
correct = true
feedback = "Yes: the gradients pile up."

[[options]]
text = "the learning rate is too high"
feedback = "No."
```
"""

NAMES = ("no_zero_grad", "no zero_grad")  # the bug, as the TOML and as the screens name it


def _lessons(tmp_path):
    d = tmp_path / "lessons"
    d.mkdir()
    (d / "which-bug.md").write_text(LESSON, encoding="utf-8")
    return d


async def _open_training(app, pilot) -> str:
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(app.screen, TrainScreen)
    app.screen.advance(3)
    await pilot.pause()
    text = screen_text(app)
    app.screen.dismiss(False)
    await pilot.pause()
    return text


async def test_the_bug_stays_hidden_until_the_question_is_answered(tmp_path):
    lessons, data = _lessons(tmp_path), tmp_path / "data"
    assert load_lesson(lessons / "which-bug.md").problems == []
    app = TutorApp(load_catalog([lessons]), Progress(data), open_lesson="which-bug")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        card = squash(screen_text(app))
        assert "Something is wrong with this loop" in card
        assert "bug: hidden until you answer" in card
        assert not any(name in card for name in NAMES)

        training = await _open_training(app, pilot)
        assert "Something is wrong with this loop" in training  # the caption as the subtitle
        assert "bug: hidden bug" in training  # the header; and the legend and status name the run so:
        assert sum(line.count("hidden bug") for line in training.splitlines()) >= 3
        assert not any(name in training for name in NAMES), training

        await pilot.press("n", "enter")  # the question after it
        await pilot.pause()
        assert isinstance(app.screen, QuizScreen)
        await pilot.press("1")  # picks and checks
        await pilot.pause()
        assert "✓ Right" in screen_text(app)
        app.screen.dismiss(True)
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        await pilot.press("p")
        await pilot.pause()
        assert 'mistake = "no_zero_grad"' in screen_text(app)  # now the card shows the task as written
        training = await _open_training(app, pilot)
        assert "bug: no zero_grad" in training and "hidden" not in training
    app.progress.close()


def test_check_wants_a_question_to_reveal_the_bug_after(tmp_path):
    path = tmp_path / "alone.md"
    path.write_text(LESSON.split("```quiz")[0], encoding="utf-8")
    (problem,) = load_lesson(path).problems
    assert (
        problem.line == 10
        and "hide_mistake = true needs a question to reveal the bug after" in problem.message
    )
    path.write_text(
        LESSON.replace("hide_mistake = true", 'hide_mistake = true\nreveal_after = "nope"'), encoding="utf-8"
    )
    (problem,) = load_lesson(path).problems
    assert "reveal_after 'nope' is not the id of another block of this lesson" in problem.message
