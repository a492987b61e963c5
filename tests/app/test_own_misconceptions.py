"""A teacher's own misconception: declared in a lesson's front matter, used by a [[wrong]]
answer, named in the quiz's feedback (what is drawn at 80×24) and in `tutor progress`."""

from __future__ import annotations

from tests.app.conftest import screen_text, squash
from tutor.app import TutorApp
from tutor.cli import main
from tutor.lessons import load_catalog, load_lesson
from tutor.progress import Progress
from tutor.screens.quiz import QuizScreen

LESSON = """+++
id = "axes"
title = "Rows and columns"
section = "Layers"
order = 1
summary = "Which way round a weight matrix is."
prerequisites = []

[[misconceptions]]
tag = "mixed-up-axes"
title = "mixed up the rows and the columns"
explanation = "Each row of a layer's weights is one neuron; each column is one input."
see = "Debugger on a layer: one neuron's weights are one row."
+++

```quiz
kind = "numeric"
prompt = "A layer of 4 neurons takes 3 inputs. How many weights does one neuron have?"
answer = 3

[[wrong]]
answer = 4
tag = "mixed-up-axes"
feedback = "4 is the number of neurons, not of inputs."

[[examples]]
answer = 4
verdict = "wrong"
tag = "mixed-up-axes"
```
"""


def _course(tmp_path):
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "axes.md").write_text(LESSON, encoding="utf-8")
    return lessons


async def test_a_custom_misconception_is_named_in_the_feedback_and_in_tutor_progress(tmp_path, capsys):
    lessons, data = _course(tmp_path), tmp_path / "data"
    app = TutorApp(load_catalog([lessons]), Progress(data), open_lesson="axes")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuizScreen)
        await pilot.press("4", "enter")
        await pilot.pause()
        text = squash(screen_text(app))
        assert "✗ Not right" in text
        assert "Mistake: mixed up the rows and the columns." in text
        assert "Each row of a layer's weights is one neuron" in text
    assert app.progress.close() is None

    env = {"TUTOR_HOME": str(data)}
    code = main(["progress", "--lessons", str(lessons)], environ=env)
    out = capsys.readouterr().out
    assert code == 0
    assert "mixed-up-axes (mixed up the rows and the columns): 1 time, not yet put right" in out


def test_check_validates_declared_tags_and_their_use(tmp_path):
    path = tmp_path / "bad.md"
    bad = (
        LESSON.replace(
            'tag = "mixed-up-axes"\ntitle', 'tag = "forgot-upstream"\ntitle', 1
        ).replace(  # a built-in name
            'answer = 4\ntag = "mixed-up-axes"', 'answer = 4\ntag = "mixed-up-axis"'
        )  # misspelt use
    )
    path.write_text(bad, encoding="utf-8")
    messages = [str(p) for p in load_lesson(path, grade_examples=True).problems]
    assert any(":10:" in m and "'forgot-upstream' is a built-in tag" in m for m in messages), messages
    assert any(
        "unknown misconception tag 'mixed-up-axis'" in m and "[[misconceptions]]" in m for m in messages
    )
    good = tmp_path / "good.md"
    good.write_text(LESSON, encoding="utf-8")
    lesson = load_lesson(good, grade_examples=True)
    assert lesson.problems == [] and lesson.misconceptions["mixed-up-axes"].title.startswith("mixed up")
    # another lesson does not know it
    other = tmp_path / "other.md"
    other.write_text(
        LESSON.split("[[misconceptions]]")[0] + "+++" + LESSON.split("+++", 2)[2], encoding="utf-8"
    )
    assert any("unknown misconception tag 'mixed-up-axes'" in str(p) for p in load_lesson(other).problems)
