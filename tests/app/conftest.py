"""Fixtures for the app tests: a fixed lesson directory and a fresh progress store per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.lessons import load_catalog
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


def screen_text(app) -> str:
    """The characters on the terminal right now, one line per row (what the learner reads)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def squash(text: str) -> str:
    """The words on screen with borders and bars taken out and every run of whitespace made one
    space, so a message that wraps inside a frame can be found as one sentence."""
    text = "".join(" " if 0x2500 <= ord(ch) <= 0x259F else ch for ch in text)
    return " ".join(text.split())


def toast_text(app) -> str:
    """The text of the notifications on screen (they sit at the bottom right, after a ▌ bar)."""
    parts = [line.rsplit("▌", 1)[1] for line in screen_text(app).splitlines() if "▌" in line]
    return squash(" ".join(parts))


def threads_in(function_name: str, filename: str) -> list[int]:
    """The threads whose stack is inside that function right now (``filename`` ends its path)."""
    import sys

    found = []
    for ident, frame in sys._current_frames().items():
        while frame is not None:
            code = frame.f_code
            if code.co_name == function_name and code.co_filename.endswith(filename):
                found.append(ident)
                break
            frame = frame.f_back
    return found
