"""The PyTorch part of a lesson (lesson 13), driven with Pilot at 80×24. PyTorch itself is a
stand-in here (tests/fake_torch); tests/logic/test_torch_compare.py runs the real one when it is
installed."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests import fake_torch
from tests.app.conftest import screen_text, squash
from tutor import torch_compare
from tutor.lessons import load_catalog
from tutor.progress import Progress
from tutor.screens.lesson import LessonScreen
from tutor.screens.pytorch import PytorchScreen

SIZE = (80, 24)

LESSON = '''+++
id = "torch-side"
title = "Side by side"
section = "Beyond"
order = 10
summary = "The same computation in PyTorch."
prerequisites = []
+++

A neuron, both ways.

```pytorch
caption = "A tanh neuron"
program = """
x1 = 2
x2 = 0
w1 = -3
w2 = 1
b = 6.8813735870195432
n = x1*w1 + x2*w2 + b
o = tanh(n)
"""
```
'''


@pytest.fixture
def make_app(tmp_path):
    from tutor.app import TutorApp

    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "side.md").write_text(LESSON, encoding="utf-8")
    catalog = load_catalog([tmp_path / "lessons"])
    assert catalog.problems == []
    stores = []

    def make():
        progress = Progress(tmp_path / "data")
        stores.append(progress)
        return TutorApp(catalog, progress, open_lesson="torch-side")

    yield make
    for progress in stores:
        progress.close()


@pytest.fixture
def torch_runs(monkeypatch):
    """PyTorch 'runs' in this process with the stand-in; returns the programs it was asked for."""

    class Asked(list):
        mode = {"name": ""}

    asked = Asked()
    mode = asked.mode

    def compare(program, *, started=None, timeout=None):
        asked.append(program)
        return torch_compare.compare(program, fake_torch.load(mode["name"], monkeypatch))

    monkeypatch.setattr(torch_compare, "compare_in_subprocess", compare)
    return asked


async def open_card(app, pilot):
    await pilot.pause()
    assert isinstance(app.screen, LessonScreen)
    await pilot.press("n")  # the prose, then the card
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(app.screen, PytorchScreen)
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.screen


def row(text: str, name: str) -> list[str]:
    """The table row of a node (not its line in the listings), split into words."""
    return next(
        words for words in map(str.split, text.splitlines()) if words[:1] == [name] and words[1:2] != ["="]
    )


async def test_the_part_shows_both_listings_and_every_node_agreeing(make_app, torch_runs):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("n")  # the prose, then the card
        card_text = screen_text(app)
        assert "o = torch.tanh(n)" in card_text and "import torch" in card_text
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PytorchScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(app)
        assert "x1 = Value(2.0)" in text and "x1 = leaf(2.0)" in text
        assert "o = tanh(n)" in text and "o = torch.tanh(n)" in text
        assert row(text, "o") == ["o", "0.707106781187", "0.707106781187", "1.0", "1.0", "✓"]
        assert row(text, "x1") == ["x1", "2.0", "2.0", "-1.5", "-1.5", "✓"]
        assert "✓ All 14 numbers agree exactly" in squash(text)
        assert len(torch_runs) == 1 and torch_runs[0].output == "o"
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        assert app.progress.completed_blocks("torch-side") == {app.catalog.get("torch-side").blocks[1].id}
        assert "PyTorch  ✓ done" in screen_text(app)


async def test_a_difference_is_marked_on_its_row_and_explained(make_app, torch_runs):
    torch_runs.mode["name"] = "wrong-tanh"
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_card(app, pilot)
        await pilot.press("end")  # the longer verdict leaves the last row below; the arrows scroll
        await pilot.pause()
        text = screen_text(app)
        assert row(text, "o")[-2:] == ["✗", "differs"]
        assert row(text, "n")[-1] == "✓"
        assert "1 of 7 nodes differ by more than rounding (o)" in squash(text)


async def test_without_pytorch_the_screen_says_how_to_install_it_and_the_part_counts(make_app, monkeypatch):
    calls = []

    def unavailable(program, *, started=None, timeout=None):
        calls.append(program)
        raise torch_compare.TorchUnavailable(torch_compare.install_hint())

    monkeypatch.setattr(torch_compare, "compare_in_subprocess", unavailable)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_card(app, pilot)
        text = squash(screen_text(app))
        assert "✗ No PyTorch numbers. PyTorch is not installed" in text
        assert "-m pip install torch" in text and "counts as done either way" in text
        # the engine's side is there all the same, PyTorch's columns empty
        assert row(screen_text(app), "x1") == ["x1", "2.0", "—", "-1.5", "—"]
        await pilot.press("r")  # after installing it, say
        await app.workers.wait_for_complete()
        assert len(calls) == 2
        await pilot.press("q")
        await pilot.pause()
        assert app.progress.completed_blocks("torch-side") == {app.catalog.get("torch-side").blocks[1].id}


async def test_leaving_while_pytorch_starts_stops_it(make_app, monkeypatch):
    children = []

    def slow(program, *, started=None, timeout=None):
        child = subprocess.Popen(["sleep", "60"])
        children.append(child)
        started(child)
        child.wait()
        raise torch_compare.TorchUnavailable("the PyTorch run was stopped")

    monkeypatch.setattr(torch_compare, "compare_in_subprocess", slow)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("n", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PytorchScreen)
        assert "Starting PyTorch" in screen_text(app)
        assert row(screen_text(app), "o")[:3] == ["o", "0.707106781187", "…"]
        deadline = time.monotonic() + 10
        while not children and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        assert children[0].wait(timeout=10) != 0  # killed, not left running
        await app.workers.wait_for_complete()
        # it was left before anything came back: not counted as done
        assert app.progress.completed_blocks("torch-side") == set()


def test_snapshot_pytorch_compared(snap_compare, make_app, torch_runs):
    async def compared(pilot):
        await pilot.press("n", "enter")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=compared)
