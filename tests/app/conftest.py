"""Fixtures for the app tests: a fixed lesson directory and a fresh progress store per test."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.app import App
from textual.screen import Screen

from tests.app.textual_internals import rendered_lines, threads_in  # noqa: F401 - shared with the tests
from tutor.lessons import builtin_lessons_dir, load_catalog
from tutor.progress import Progress

FIXTURES = Path(__file__).parent / "fixtures"
LESSONS = FIXTURES / "lessons"


@pytest.fixture
def catalog():
    return load_catalog([LESSONS])


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def make_app(catalog, data_dir):
    """Build a TutorApp on the fixture lessons. Each call opens the progress store anew, so a
    second call on the same test is a restart on the same data directory."""
    from tutor.app import TutorApp

    opened = []

    def make(**kwargs):
        progress = Progress(data_dir)
        opened.append(progress)
        return TutorApp(catalog, progress, **kwargs)

    yield make
    for progress in opened:
        progress.close()


@pytest.fixture
def course(tmp_path):
    """Build a TutorApp on the built-in course; each call is a fresh start on the same data."""
    from tutor.app import TutorApp

    catalog = load_catalog([builtin_lessons_dir()])
    opened = []

    def make(**kwargs):
        progress = Progress(tmp_path / "data")
        opened.append(progress)
        return TutorApp(catalog, progress, **kwargs)

    yield make
    for progress in opened:
        progress.close()


def screen_text(app) -> str:
    """The characters on the terminal right now, one line per row (what the learner reads)."""
    return "\n".join(rendered_lines(app))


def squash(text: str) -> str:
    """The words on screen with borders and bars taken out and every run of whitespace made one
    space, so a message that wraps inside a frame can be found as one sentence."""
    text = "".join(" " if 0x2500 <= ord(ch) <= 0x259F else ch for ch in text)
    return " ".join(text.split())


def toast_text(app) -> str:
    """The text of the notifications on screen (they sit at the bottom right, after a ▌ bar)."""
    parts = [line.rsplit("▌", 1)[1] for line in screen_text(app).splitlines() if "▌" in line]
    return squash(" ".join(parts))


class ScreenHost(App):
    """A bare app that opens one screen, as the lesson screen and ``tutor step`` do, and keeps
    what the screen was dismissed with in ``results``. ``make_screen`` builds it on mount;
    ``title`` is the app's (the header shows it when a screen sets none)."""

    def __init__(self, make_screen: Callable[[], Screen], *, title: str = "Host") -> None:
        super().__init__()
        self.title = title
        self._make_screen = make_screen
        self.results: list = []

    def on_mount(self) -> None:
        self.push_screen(self._make_screen(), self.results.append)


async def wait_until(pilot, condition: Callable[[], object], what: str, timeout: float = 10.0):
    """Let the app run until ``condition()`` holds (a toast drawn, a worker done), at most
    ``timeout`` seconds; fails saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        await pilot.pause(0.02)
    return result
