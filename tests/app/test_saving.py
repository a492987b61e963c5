"""Answers never wait for the disk: another process holding the database's write lock.

The old store wrote each answer on the UI thread with a 10 s busy timeout, so with another
session holding the lock every verdict appeared 10 s after its key and the answers were lost. Now
the verdict is drawn at once, a quiet notice says the answers are waiting and why, and once the
lock goes every answer is written, once, in order.
"""

from __future__ import annotations

import subprocess
import sys
import time

from tests.app.conftest import screen_text, toast_text
from tutor.progress import DB_NAME, Progress
from tutor.screens.quiz import QuizScreen

SIZE = (80, 24)
HOLD = 15.0  # seconds the other process keeps the write lock (as in the attack that found this)

LOCKER = """
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
c.execute("COMMIT")
"""


async def test_a_held_write_lock_freezes_no_verdict_and_loses_no_answer(make_app, data_dir):
    Progress(data_dir).close()  # the learner's database exists, as on any second visit
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(data_dir / DB_NAME), str(HOLD)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert locker.stdout.readline().strip() == "locked"
        held_from = time.monotonic()
        app = make_app(open_lesson="training")
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("n", "n", "n", "enter")
            await pilot.pause()
            assert isinstance(app.screen, QuizScreen)
            for answer, verdict in (("-6", "✗ Not right"), ("6", "✓ Right")):
                await pilot.press("ctrl+u", *answer, "enter")
                started = time.monotonic()
                await pilot.pause()
                assert verdict in screen_text(app)
                assert time.monotonic() - started < 3  # it was 10 s a write, on the UI thread
                if answer == "-6":
                    await pilot.press("enter")  # from the feedback back to the answer box
            assert time.monotonic() - held_from < HOLD  # all of it while the lock was held
            while "Not saved yet" not in toast_text(app) and time.monotonic() - held_from < HOLD:
                await pilot.pause(0.2)
            assert "waiting to be saved: database is locked" in toast_text(app)
            assert Progress(data_dir).attempts("training") == []  # another session: nothing yet

            assert app.progress.flush(HOLD + 10), "the answers were never written"
            while "saved now" not in toast_text(app):
                await pilot.pause(0.2)
        saved = Progress(data_dir)
        assert [(a.answer, a.correct) for a in saved.attempts("training")] == [("-6", False), ("6", True)]
        assert app.catalog.get("training").blocks[3].id in saved.completed_blocks("training")
    finally:
        locker.kill()
        locker.wait(timeout=10)
