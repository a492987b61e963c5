"""What the training screen's marks say at 80×24: a run that took every step is not "passed", a
run that blew up is neither "correct" nor quiet about it, a bug run that ends lower is called
luck, and the bug menu says what its lines are."""

from __future__ import annotations

from tests.app.conftest import screen_text, squash
from tests.app.test_train_screen import SIZE, Host, pick_bug, settle
from tutor.lessons import builtin_lessons_dir, load_catalog, read_task
from tutor.screens.bug_picker import BugPicker
from tutor.screens.train import TrainScreen


def lesson_task(lesson_id: str, nth: int = 0):
    lesson = load_catalog([builtin_lessons_dir()]).get(lesson_id)
    return read_task([b for b in lesson.blocks if b.kind == "train"][nth].config)


def run_lines(app) -> list[str]:
    return [line for line in screen_text(app).splitlines() if " step " in line and "/" in line]


async def test_a_finished_run_is_not_ticked_as_passed_beside_accuracy_0():
    task = read_task(
        {
            "steps": 3,
            "model": {"layers": [4, 4, 1]},
            "data": {"name": "seeds"},
            "loss": {"kind": "sse"},
            "optimiser": {"kind": "sgd", "lr": 1e-9},
        }
    )
    screen = TrainScreen(task)
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen.advance(3)
        await settle(pilot, screen)
        (line,) = [line for line in run_lines(app) if "3/3" in line]
        assert "✓" not in line and "■ end" in line


async def test_a_run_that_exploded_is_not_labelled_correct():
    task = lesson_task("learning-rate", 1)  # linear output at lr 0.1: ends around 1.4e72
    screen = TrainScreen(task)
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen.advance(task.steps)
        await settle(pilot, screen)
        text = squash(screen_text(app))
        assert "e+72" in text or "e72" in text
        assert "correct" not in text
        assert "no bug" in text and "✗ diverged: the loss grew instead of shrinking" in text


async def test_the_no_zero_grad_run_that_ends_at_loss_0_is_called_luck():
    task = lesson_task("training-loop")
    screen = TrainScreen(task)
    app = Host(screen)
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.pause()
        await pick_bug(pilot, app, "1")  # no zero_grad
        await settle(pilot, screen)
        screen.advance(task.steps)
        await settle(pilot, screen)
        text = squash(screen_text(app))
        assert "accuracy 100%" in text
        assert "no zero_grad is the buggy run, and it ended no worse here: luck of this task" in text


async def test_the_bug_menu_does_not_list_a_fix_under_a_heading_of_bugs():
    task = lesson_task("zero-grad")  # a task with its own bug: the menu offers it taken out
    assert task.mistake
    screen = TrainScreen(task)
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, BugPicker)
        text = squash(screen_text(app))
        assert "with a bug in it" not in text and "correct" not in text
        assert "Rerun from the same initial weights, for a second curve beside this one" in text
        assert "no bug: the same task with its bug taken out" in text
