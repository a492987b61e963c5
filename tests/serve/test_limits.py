"""The server's limits as pure bookkeeping: sessions at once, the rate of new connections per
address, the idle timeout's warning and end, the session cap."""

from __future__ import annotations

from tutor.serve.limits import Limits, RateLimit, Sessions, deadline


def test_sessions_at_once_server_wide_and_per_learner():
    sessions = Sessions(Limits(max_sessions=3, max_per_learner=2))
    a1, a2, a3, b1, c1 = object(), object(), object(), object(), object()
    assert sessions.start(a1, "alice") is None
    assert sessions.start(a2, "alice") is None
    assert "You already have 2 sessions open" in sessions.start(a3, "alice")
    assert sessions.start(b1, "bob") is None
    assert "The class is full: 3 sessions are open" in sessions.start(c1, "carol")
    sessions.end(a1)
    assert sessions.start(c1, "carol") is None
    assert len(sessions) == 3 and sessions.learners() == ["alice", "bob", "carol"]


def test_new_connections_per_address_in_a_sliding_window():
    rate = RateLimit(3, 10.0)
    assert [rate.allow("1.2.3.4", t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert rate.allow("5.6.7.8", 3)  # another address has its own count
    assert not rate.allow("1.2.3.4", 9.9)
    assert rate.allow("1.2.3.4", 10.0)  # the first one has left the window
    assert not rate.allow("1.2.3.4", 10.5)


def test_the_rate_limit_forgets_the_oldest_addresses_first():
    rate = RateLimit(1, 100.0)
    rate.MAX_ADDRESSES = 3
    for n in range(5):
        assert rate.allow(f"10.0.0.{n}", 0)
    assert len(rate._seen) == 3
    assert rate.allow("10.0.0.0", 1)  # forgotten, so counted afresh
    assert not rate.allow("10.0.0.4", 1)


def test_idle_warning_then_end_and_the_cap():
    limits = Limits(idle_timeout=600, idle_warning=60, session_cap=3600)
    assert deadline(limits, started=0, last_key=0, now=539) is None
    assert deadline(limits, started=0, last_key=0, now=541) == ("warn-idle", 59)
    assert deadline(limits, started=0, last_key=0, now=600) == ("end-idle", 0)
    assert deadline(limits, started=0, last_key=550, now=600) is None  # a key pressed resets it
    assert deadline(limits, started=0, last_key=3500, now=3550) == ("warn-cap", 50)
    assert deadline(limits, started=0, last_key=3599, now=3600) == ("end-cap", 0)


def test_limits_that_make_no_sense_are_named():
    assert Limits().problems() == []
    problems = Limits(max_sessions=0, rate=0, login_timeout=0, idle_timeout=10, idle_warning=10).problems()
    assert problems == [
        "--max-sessions must be at least 1",
        "--rate must be at least 1",
        "--login-timeout must be more than 0 seconds",
        "--idle-warning must be at least 0 and less than --idle-timeout",
    ]


def test_every_limit_is_a_flag_of_tutor_serve_and_reaches_the_server():
    import dataclasses

    from tutor.cli_class import LIMIT_FLAGS, build_parser

    assert set(LIMIT_FLAGS) == {f.name for f in dataclasses.fields(Limits)}
    args = build_parser().parse_args(["serve", "--class-dir", "c", "--idle-timeout", "90", "--rate", "5"])
    assert (args.idle_timeout, args.rate, args.max_sessions) == (90.0, 5, Limits().max_sessions)
