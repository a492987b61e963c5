"""The server's limits: their defaults, and the bookkeeping that enforces them. No network and
no clock of its own (``now`` is passed in), so the tests drive it directly.

* sessions at once, server-wide and per learner (:class:`Sessions`);
* new connections per address per time window (:class:`RateLimit`);
* the idle timeout with its warning, and the absolute cap on a session (:func:`deadline`).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

__all__ = ["Limits", "RateLimit", "Sessions", "deadline", "refusal"]


@dataclass(frozen=True)
class Limits:
    """Each limit has a default and a `tutor serve` flag of the same name (dashes for ``_``)."""

    max_sessions: int = 40  # at once, server-wide (bench_serve: 30 fit a 2-core, 4 GiB machine)
    max_per_learner: int = 2  # at once, per learner (a second terminal is fine, a dozen is not)
    idle_timeout: float = 30 * 60.0  # seconds without a key pressed
    idle_warning: float = 60.0  # the warning comes this long before the idle end
    session_cap: float = 4 * 3600.0  # seconds, however busy
    login_timeout: float = 30.0  # seconds from connecting to being authenticated
    rate: int = 30  # new connections per address ...
    rate_window: float = 60.0  # ... in this many seconds (a class behind one NAT shares an address)

    def problems(self) -> list[str]:
        out = []
        for name in ("max_sessions", "max_per_learner", "rate"):
            if getattr(self, name) < 1:
                out.append(f"--{name.replace('_', '-')} must be at least 1")
        for name in ("idle_timeout", "session_cap", "login_timeout", "rate_window"):
            if getattr(self, name) <= 0:
                out.append(f"--{name.replace('_', '-')} must be more than 0 seconds")
        if self.idle_warning < 0 or self.idle_warning >= self.idle_timeout:
            out.append("--idle-warning must be at least 0 and less than --idle-timeout")
        return out


class RateLimit:
    """At most ``rate`` new connections per address in any ``window`` seconds."""

    MAX_ADDRESSES = 10_000  # bounded memory: the oldest addresses are forgotten first

    def __init__(self, rate: int, window: float) -> None:
        self.rate, self.window = rate, window
        self._seen: collections.OrderedDict[str, collections.deque] = collections.OrderedDict()

    def allow(self, address: str, now: float) -> bool:
        times = self._seen.pop(address, None) or collections.deque()
        while times and now - times[0] >= self.window:
            times.popleft()
        allowed = len(times) < self.rate
        if allowed:
            times.append(now)
        if times:
            self._seen[address] = times
        while len(self._seen) > self.MAX_ADDRESSES:
            self._seen.popitem(last=False)
        return allowed


def refusal(limits: Limits, total: int, mine: int) -> str | None:
    """Why one more session cannot open when ``total`` are open, ``mine`` of them this
    learner's (or None). With a database the counts are of every host serving the class."""
    if total >= limits.max_sessions:
        return (
            f"The class is full: {limits.max_sessions} sessions are open, the most this "
            "server allows. Try again in a few minutes."
        )
    if mine >= limits.max_per_learner:
        return (
            f"You already have {mine} sessions open, the most allowed at once. Close one "
            "(ctrl+q in it) and connect again."
        )
    return None


class Sessions:
    """Sessions open now, by learner: ``start`` says why one more cannot open (or None).
    These are one host's; :class:`tutor.serve.live.SharedSessions` counts every host's."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._open: dict[object, str] = {}

    def start(self, token: object, learner: str) -> str | None:
        mine = sum(1 for who in self._open.values() if who == learner)
        why = refusal(self.limits, len(self._open), mine)
        if why is None:
            self._open[token] = learner
        return why

    def end(self, token: object) -> None:
        self._open.pop(token, None)

    def __len__(self) -> int:
        return len(self._open)

    def learners(self) -> list[str]:
        return sorted(set(self._open.values()))


def deadline(limits: Limits, started: float, last_key: float, now: float) -> tuple[str, float] | None:
    """What is due for a session now: ``("end-idle", 0)``, ``("end-cap", 0)``,
    ``("warn-idle", seconds_left)``, ``("warn-cap", seconds_left)``, or None."""
    idle_left = limits.idle_timeout - (now - last_key)
    cap_left = limits.session_cap - (now - started)
    if cap_left <= 0:
        return ("end-cap", 0.0)
    if idle_left <= 0:
        return ("end-idle", 0.0)
    if cap_left <= limits.idle_warning:
        return ("warn-cap", cap_left)
    if idle_left <= limits.idle_warning:
        return ("warn-idle", idle_left)
    return None
