"""Who is connected, across hosts: the session limits counted over every host of a class on one
database, a host that died dropping out, and the teacher's view seeing every host."""

from __future__ import annotations

import threading
import time

import psycopg

from tests.serve.test_report import block
from tutor.lessons import lesson_dirs, load_catalog
from tutor.progress import open_store
from tutor.serve.limits import Limits
from tutor.serve.live import DB_DOWN, STALE_S, LivePg, SharedSessions, connected
from tutor.serve.report import watch_view
from tutor.serve.roster import ClassDir


def host(cls: ClassDir, name: str, limits: Limits) -> SharedSessions:
    board = LivePg(cls, name)
    board.write([])  # the host's first heartbeat, as `tutor serve` writes it on start
    return SharedSessions(limits, board)


def test_the_limits_count_sessions_on_every_host(tmp_path, pg_url):
    a_cls, b_cls = ClassDir(tmp_path / "a", db=pg_url), ClassDir(tmp_path / "b", db=pg_url)
    limits = Limits(max_sessions=3, max_per_learner=2)
    a, b = host(a_cls, "a:2222", limits), host(b_cls, "b:2222", limits)
    s1, s2, s3, s4, s5 = (object() for _ in range(5))
    assert a.start(s1, "alice") is None
    assert b.start(s2, "alice") is None
    assert "You already have 2 sessions open" in a.start(s3, "alice")  # one on each host
    assert "You already have 2 sessions open" in b.start(s3, "alice")
    assert a.start(s3, "bob") is None
    assert "The class is full: 3 sessions are open" in b.start(s4, "carol")
    b.end(s2)  # alice leaves host b: a place is free, on either host
    assert b.start(s4, "carol") is None
    assert "The class is full" in a.start(s5, "dana")
    live = connected(a_cls)
    assert sorted(live) == ["alice", "bob", "carol"]
    assert live["alice"]["hosts"] == ["a:2222"] and live["carol"]["hosts"] == ["b:2222"]


def test_a_host_that_stops_heartbeating_is_not_counted_nor_shown(tmp_path, pg_url):
    cls = ClassDir(tmp_path / "a", db=pg_url)
    limits = Limits(max_sessions=2, max_per_learner=2)
    a, b = host(cls, "a:2222", limits), host(cls, "b:2222", limits)
    assert a.start(object(), "alice") is None
    assert b.start(object(), "bob") is None
    assert "The class is full" in a.start(object(), "carol")
    with psycopg.connect(pg_url, autocommit=True) as conn:  # host b died a while ago
        conn.execute(
            "UPDATE serve_hosts SET heartbeat = now() - make_interval(secs => %s) WHERE host = 'b:2222'",
            (STALE_S + 1,),
        )
    assert sorted(connected(cls)) == ["alice"]
    assert a.start(object(), "carol") is None  # bob's dead session holds no place


def test_two_hosts_admitting_at_once_cannot_both_take_the_last_place(tmp_path, pg_url):
    limits = Limits(max_sessions=1, max_per_learner=1)
    hosts = [host(ClassDir(tmp_path / n, db=pg_url), f"{n}:2222", limits) for n in "ab"]
    for round_ in range(8):
        barrier, answers = threading.Barrier(2), {}

        def admit(i):
            barrier.wait()
            answers[i] = hosts[i].start(f"t{round_}{i}", f"learner{i}")

        threads = [threading.Thread(target=admit, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(x is None for x in answers.values()) == [False, True], answers
        for i in (0, 1):
            hosts[i].end(f"t{round_}{i}")


def test_the_class_view_and_the_report_see_every_host(tmp_path, pg_url):
    db_cls = ClassDir(tmp_path / "c", db=pg_url)
    D2 = block("derivative", 2)
    for name in ("alice", "bob"):
        db_cls.roster().add(name)
        with open_store(pg_url, None, name) as progress:
            progress.record_attempt("derivative", D2, "14", True, [])
    a = host(ClassDir(tmp_path / "m1", db=pg_url), "m1:2222", Limits())
    b = host(ClassDir(tmp_path / "m2", db=pg_url), "m2:2222", Limits())
    assert a.start(object(), "alice") is None
    assert b.start(object(), "alice") is None
    catalog = load_catalog(lesson_dirs([], {}), (), check=False)
    rows = {r["name"]: r for r in watch_view(db_cls, catalog, {}, time.time())["learners"]}
    assert rows["alice"]["online"] and not rows["bob"]["online"]
    assert connected(db_cls)["alice"]["sessions"] == 2
    assert sorted(connected(db_cls)["alice"]["hosts"]) == ["m1:2222", "m2:2222"]
    a.live.clear()  # m1 shuts down cleanly: its sessions go with it
    assert connected(db_cls)["alice"]["hosts"] == ["m2:2222"]


def test_while_the_database_is_away_new_sessions_are_refused_with_why_and_it_recovers(tmp_path, own_cluster):
    from tests import pgcluster

    directory, url = own_cluster
    cls = ClassDir(tmp_path / "a", db=url)
    cls.roster().add("alice")
    sessions = host(cls, "a:2222", Limits())
    first = object()
    assert sessions.start(first, "alice") is None
    pgcluster.stop(directory)
    assert sessions.start(object(), "alice") == DB_DOWN
    assert connected(cls) == {}  # the view shows nobody rather than failing
    sessions.end(first)  # its row cannot be deleted now: the next heartbeat does it
    pgcluster.start_again(directory)
    sessions.live.write([], list(sessions.ids.values()))
    assert connected(cls)["alice"]["sessions"] == 1  # a row just made may be a session being admitted
    with psycopg.connect(url, autocommit=True) as conn:  # a minute on
        conn.execute("UPDATE serve_sessions SET since = since - 120")
    sessions.live.write([], list(sessions.ids.values()))
    assert connected(cls) == {}  # the heartbeat cleared the row whose release was missed
    assert cls.roster().who("nobody") is None  # the roster's connection is made again too
    assert sessions.start(object(), "alice") is None
    assert connected(cls)["alice"]["sessions"] == 1
