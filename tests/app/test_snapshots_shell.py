"""Snapshots of the app shell at the design size, on the fixed fixture lessons and a fresh data dir.

Update with ``pytest tests/app/test_snapshots_shell.py --snapshot-update`` and look at the SVGs in
``__snapshots__`` before committing them.
"""

from __future__ import annotations

from tutor.progress import Progress

SIZE = (80, 24)


def test_home_fresh(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE)


def test_home_with_progress(snap_compare, make_app, data_dir):
    progress = Progress(data_dir)
    progress.set_position("slopes", 2)
    progress.complete_lesson("slopes")
    progress.set_position("chain", 1)
    progress.close()
    # the cursor starts on the lesson in progress; move to the broken one to show its details
    assert snap_compare(make_app(), terminal_size=SIZE, press=["down", "down"])


def test_lesson_start(snap_compare, make_app):
    assert snap_compare(make_app(open_lesson="chain"), terminal_size=SIZE)


def test_lesson_on_the_debugger_card(snap_compare, make_app):
    assert snap_compare(make_app(open_lesson="chain"), terminal_size=SIZE, press=["n"])


def test_lesson_end_card(snap_compare, make_app):
    assert snap_compare(make_app(open_lesson="slopes"), terminal_size=SIZE, press=["n", "n", "n"])


def test_help_on_a_lesson(snap_compare, make_app):
    assert snap_compare(make_app(open_lesson="chain"), terminal_size=SIZE, press=["question_mark"])


def test_too_small(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(50, 15))
