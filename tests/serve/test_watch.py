"""`tutor class watch` at 80×24: who is connected, where each learner is, who looks stuck, and
an answer arriving while it is open."""

from __future__ import annotations

import json
import os
import time

from tests.app.conftest import screen_text, squash, wait_until
from tests.serve.test_report import make_class
from tutor.lessons import lesson_dirs, load_catalog
from tutor.progress import Progress
from tutor.serve.watch import ClassWatch


def row_of(text: str, name: str) -> str:
    return next((line for line in text.splitlines() if f" {name} " in line), "")


async def test_the_class_view_shows_who_is_on_where_and_who_looks_stuck_and_updates(tmp_path):
    cls = make_class(tmp_path)
    now = time.time()
    cls.sessions_file.write_text(
        json.dumps(
            {
                "server_pid": os.getpid(),
                "sessions": [{"learner": "alice", "since": now - 60, "last_key": now - 5}],
            }
        )
    )
    catalog = load_catalog(lesson_dirs([], {}), (), check=False)
    app = ClassWatch(cls, catalog, refresh_s=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        # the class is read in a worker: wait for the last column of the last row to be drawn
        await wait_until(pilot, lambda: "⚠" in row_of(screen_text(app), "bob"), "the learners drawn")
        text = screen_text(app)
        alice, bob = row_of(text, "alice"), row_of(text, "bob")
        assert "●" in alice and "Values that remember" in alice and "50%" in alice
        assert (
            "●" not in bob
            and "⚠ 3 wrong in a row" in bob
            and f"3 of {len(catalog.get('derivative').blocks)}" in bob
        )
        assert text.index("alice") < text.index("bob")  # the connected first
        assert "1 connected, 2 learner(s)" in squash(text)
        assert "Misconceptions per lesson: derivative 4" in squash(text)

        with Progress(cls.learner_dir("bob")) as progress:
            progress.record_attempt("derivative", catalog.get("derivative").blocks[2].id, "14", True, [])
        await wait_until(
            pilot, lambda: "⚠" not in row_of(screen_text(app), "bob"), "bob's right answer shown"
        )
        assert " 4 " in row_of(screen_text(app), "bob")  # four answers now

        # the server stops: nobody is connected any more
        cls.sessions_file.write_text(json.dumps({"server_pid": 2**22 + 1, "sessions": []}))
        await wait_until(pilot, lambda: "0 connected" in squash(screen_text(app)), "nobody connected")
        await pilot.press("q")


async def test_the_class_view_on_a_database_shows_who_is_on_any_host(tmp_path, pg_url):
    from tests.serve.test_live import host
    from tests.serve.test_report import block
    from tutor.progress import open_store
    from tutor.serve.limits import Limits
    from tutor.serve.roster import ClassDir

    cls = ClassDir(tmp_path / "c", db=pg_url)
    for name in ("alice", "bob"):
        cls.roster().add(name)
        with open_store(pg_url, None, name) as progress:
            progress.record_attempt("derivative", block("derivative", 2), "14", True, [])
    one = host(ClassDir(tmp_path / "m1", db=pg_url), "m1:2222", Limits())
    two = host(ClassDir(tmp_path / "m2", db=pg_url), "m2:2222", Limits())
    assert one.start(object(), "alice") is None and two.start(object(), "bob") is None
    catalog = load_catalog(lesson_dirs([], {}), (), check=False)
    app = ClassWatch(cls, catalog, refresh_s=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "2 connected" in squash(screen_text(app)), "both learners on")
        text = screen_text(app)
        assert "●" in row_of(text, "alice") and "●" in row_of(text, "bob")
        assert "2 connected on 2 host(s), 2 learner(s)" in squash(text)
        two.live.clear()  # host m2 stops
        await wait_until(
            pilot, lambda: "1 connected on 1 host(s)" in squash(screen_text(app)), "bob's host gone"
        )
        assert "●" not in row_of(screen_text(app), "bob")
        await pilot.press("q")
    cls.close()


async def test_the_class_view_says_when_its_database_is_away_and_comes_back(tmp_path, own_cluster):
    from tests import pgcluster
    from tutor.serve.roster import ClassDir

    directory, url = own_cluster
    cls = ClassDir(tmp_path / "c", db=url)
    cls.roster().add("alice")
    catalog = load_catalog(lesson_dirs([], {}), (), check=False)
    app = ClassWatch(cls, catalog, refresh_s=0.3)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "0 connected on 0 host(s)" in squash(screen_text(app)), "drawn")
        pgcluster.stop(directory)
        await wait_until(
            pilot,
            lambda: "cannot reach the class database" in squash(screen_text(app)),
            "the database said to be away",
            timeout=30,
        )
        pgcluster.start_again(directory)
        await wait_until(
            pilot, lambda: "0 connected on 0 host(s)" in squash(screen_text(app)), "back", timeout=30
        )
        await pilot.press("q")
    cls.close()
