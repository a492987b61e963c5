"""The app on PostgreSQL when the database goes away mid-lesson: verdicts are drawn at once, the
quiet notice says the answers are waiting and why, and once the server is back every answer is
written, once, in order, and the notice says so."""

from __future__ import annotations

import time

from tests import pgcluster
from tests.app.conftest import screen_text, toast_text
from tutor.progress import open_store
from tutor.screens.quiz import QuizScreen

SIZE = (80, 24)


async def test_postgres_stopped_mid_lesson_keeps_the_answers_and_says_so(catalog, own_cluster, data_dir):
    from tutor.app import TutorApp

    directory, url = own_cluster
    progress = open_store(url, data_dir, "ada")
    try:
        app = TutorApp(catalog, progress, open_lesson="training")
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("n", "n", "n", "enter")
            await pilot.pause()
            assert isinstance(app.screen, QuizScreen)
            assert progress.flush(30)
            pgcluster.stop(directory)
            for answer, verdict in (("-6", "✗ Not right"), ("6", "✓ Right")):
                await pilot.press("ctrl+u", *answer, "enter")
                started = time.monotonic()
                await pilot.pause()
                assert verdict in screen_text(app)
                assert time.monotonic() - started < 3  # never waits on the dead server
                if answer == "-6":
                    await pilot.press("enter")
            deadline = time.monotonic() + 30
            while "waiting to be saved" not in toast_text(app) and time.monotonic() < deadline:
                await pilot.pause(0.2)
            assert "Not saved yet" in toast_text(app) and "waiting to be saved" in toast_text(app)
            for _ in range(10):  # the writer tries again meanwhile, and the server's error changes
                await pilot.pause(0.2)
            assert toast_text(app).count("Not saved yet") == 1  # one quiet notice for the outage

            pgcluster.start_again(directory)
            assert progress.flush(60), f"the answers were never written: {progress.status}"
            deadline = time.monotonic() + 30
            while "saved now" not in toast_text(app) and time.monotonic() < deadline:
                await pilot.pause(0.2)
            assert "saved now" in toast_text(app)
    finally:
        progress.close()
    with open_store(url, None, "ada") as saved:
        assert [(a.answer, a.correct) for a in saved.attempts("training")] == [("-6", False), ("6", True)]
        assert catalog.get("training").blocks[3].id in saved.completed_blocks("training")
