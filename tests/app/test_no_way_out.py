"""Nothing in the app starts a program, writes a file or suspends to the shell.

On a class server the tutor is the only thing a learner may run. Textual can do each of these on
its own (a link click runs ``webbrowser.open``, the command palette has a screenshot command, ctrl+z
style suspending); every test here tries one as a learner would and checks that nothing left the
app.
"""

from __future__ import annotations

import os
import stat
import textwrap

import pytest
from textual.app import SuspendNotSupported

from tests.app.conftest import screen_text, toast_text, wait_until
from tests.app.textual_internals import driver_of
from tutor.lessons import load_catalog
from tutor.progress import Progress

SIZE = (80, 24)
URL = "https://example.org/backprop"

LESSON = textwrap.dedent(
    f"""\
    +++
    id = "links"
    title = "A lesson with a link"
    section = "Tests"
    order = 1
    summary = "One paragraph with a link in it."
    prerequisites = []
    +++

    Read [the chain rule]({URL}) before you go on.
    """
)

# Every name `webbrowser` may look for on Linux, and BROWSER: each one records that it ran.
BROWSERS = (
    "www-browser",
    "x-www-browser",
    "sensible-browser",
    "xdg-open",
    "gio",
    "w3m",
    "lynx",
    "links",
    "elinks",
    "firefox",
    "chromium",
    "google-chrome",
    "kfmclient",
    "gvfs-open",
    "netscape",
    "opera",
)


@pytest.fixture
def stand_in_browsers(tmp_path, monkeypatch):
    """Stand-in browsers on PATH and in BROWSER; returns the file each one appends to if run."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "launched.txt"
    for name in BROWSERS:
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{record}"\n')
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("BROWSER", f"{bin_dir / 'w3m'} %s")
    monkeypatch.delenv("DISPLAY", raising=False)
    import webbrowser

    # webbrowser reads PATH and BROWSER once, on first use: make it read ours
    monkeypatch.setattr(webbrowser, "_tryorder", None, raising=False)
    monkeypatch.setattr(webbrowser, "_browsers", {}, raising=False)
    return record


@pytest.fixture
def link_app(tmp_path):
    from tutor.app import TutorApp

    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "links.md").write_text(LESSON)
    progress = Progress(tmp_path / "data")
    yield TutorApp(load_catalog([lessons]), progress, open_lesson="links")
    progress.close()


def _find(app, text: str) -> tuple[int, int]:
    for y, line in enumerate(screen_text(app).splitlines()):
        x = line.find(text)
        if x >= 0:
            return x, y
    raise AssertionError(f"{text!r} is not on screen:\n{screen_text(app)}")


async def test_a_click_on_a_link_shows_its_address_and_launches_nothing(link_app, stand_in_browsers):
    async with link_app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        x, y = _find(link_app, "the chain rule")
        assert await pilot.click(offset=(x + 2, y))
        await wait_until(pilot, lambda: URL in toast_text(link_app), "the link's address shown")
        assert not stand_in_browsers.exists(), stand_in_browsers.read_text()
        assert "never opens links" in toast_text(link_app)


async def test_open_url_from_anywhere_in_the_app_launches_nothing(link_app, stand_in_browsers):
    async with link_app.run_test(size=SIZE, notifications=True) as pilot:
        link_app.open_url(URL)
        await wait_until(pilot, lambda: URL in toast_text(link_app), "the address shown")
    assert not stand_in_browsers.exists()


async def test_the_palette_offers_no_screenshot_and_the_action_writes_nothing(
    link_app, tmp_path, monkeypatch
):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    async with link_app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        for key in "screensh":
            await pilot.press(key)
        await wait_until(pilot, lambda: "screensh" in screen_text(link_app), "the typed search")
        await pilot.pause()
        assert "Screenshot" not in screen_text(link_app)
        assert "Screenshot" not in [c.title for c in link_app.get_system_commands(link_app.screen)]
        await pilot.press("escape")
        await link_app.run_action("screenshot")
        link_app.deliver_screenshot()
        await wait_until(
            pilot, lambda: "does not allow saving screenshots" in toast_text(link_app), "the refusal"
        )
    written = [p for p in home.rglob("*") if p.suffix == ".svg"]
    assert written == []


async def test_the_app_never_suspends_to_the_shell(link_app, monkeypatch):
    signals = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: signals.append((pid, sig)))
    async with link_app.run_test(size=SIZE, notifications=True) as pilot:
        # as if on a real terminal, where Textual's driver can suspend
        monkeypatch.setattr(type(driver_of(link_app)), "can_suspend", property(lambda self: True))
        await link_app.run_action("suspend_process")
        await pilot.pause()
        with pytest.raises(SuspendNotSupported), link_app.suspend():
            pass
        assert "does not allow suspending" in toast_text(link_app)
    assert signals == []
