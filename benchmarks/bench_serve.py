"""Many learners at once on one `tutor serve` (by hand; figures in README.md and docs/hosting.md).

    /work/venv/bin/python benchmarks/bench_serve.py                  # 30 learners, 10 of them training
    /work/venv/bin/python benchmarks/bench_serve.py --learners 40 --trainers 10 --keys 15

It starts `tutor serve` on 127.0.0.1 (a free port, a throw-away class directory, a key per
learner: tests/e2e/test_serve.py's ``start_serve``) and drives each learner with the real
OpenSSH client (``ssh -tt``) in its own 80×24 tmux pane, as the end-to-end tests do.

1. one learner alone: time from connecting to the lesson list, then key-to-repaint in the
   debugger (press ``n``, wait for "Step k of T" on the pane; ``r`` starts over);
2. LEARNERS connect at once: how long each waits to see the lesson list (the 30th's wait is
   the figure the issue asks for);
3. memory per session (the tutor's PSS and RSS from /proc/PID/smaps_rollup, at the list and in
   the debugger) and the server process's own RSS;
4. every learner steps the debugger at once, one key every ``--think`` seconds each:
   key-to-repaint p50/p95;
5. the same while TRAINERS of them run the lesson's training task (space) over and over.

The key-to-repaint figure includes tmux drawing the pane and this script reading it
(``tmux capture-pane`` every 10 ms while a key waits for its repaint).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.conftest import Terminals, poll, tutor_pids  # noqa: E402
from tests.e2e.test_serve import start_serve  # noqa: E402

LESSON = '''\
+++
id = "bench-serve"
title = "Serve bench"
section = "Bench"
order = 1
summary = "A debugger to step and a training task."
prerequisites = []
+++

# Serve bench

The seeds' expression, stepped backward, then the training loop's task.

```debugger
program = """
a = 2
b = -3
c = 10
f = -2
e = a * b
d = e + c
L = d * f
"""
caption = "seeds"
```

```train
steps = 100

[model]
layers = [4, 4, 1]

[data]
name = "seeds"

[loss]
kind = "sse"

[optimiser]
kind = "sgd"
lr = 0.1
```

The end.
'''


def memory(pid: int) -> dict[str, float]:
    """RSS and PSS of one process, MiB."""
    out = {"rss": 0.0, "pss": 0.0}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("Rss", "Pss"):
                out[name.lower()] = int(rest.split()[0]) / 1024
    except OSError:
        pass
    return out


def mem_available() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def fmt_ms(samples: list[float]) -> str:
    return f"p50 {pct(samples, 0.5) * 1000:.0f} ms, p95 {pct(samples, 0.95) * 1000:.0f} ms (n={len(samples)})"


class Learner:
    def __init__(self, terms: Terminals, served, name: str) -> None:
        self.name = name
        self.key = served.add_key(name)
        self.home = served.home(name)
        self.terms = terms
        self.pane = None
        self.opened_at = 0.0
        self.total = 0
        self.step = 0

    def connect(self) -> None:
        self.opened_at = time.monotonic()
        self.pane = self.terms.open("", key=self.key)

    def wait_home(self, timeout: float = 180) -> float:
        self.pane.wait_for("tutor — Lessons", timeout=timeout)
        return time.monotonic() - self.opened_at

    def open_debugger(self) -> None:
        p = self.pane
        p.keys("C-p")
        p.wait_for("Search for commands", timeout=60)
        p.type("Serve bench")
        p.wait_for("Lesson: Serve bench", timeout=60)
        p.keys("Enter")
        p.wait_for("part 1 of", timeout=60)
        p.keys("n")
        p.wait_for("part 2 of", timeout=60)
        p.keys("Enter")
        flat = p.wait_for("Step 0 of", timeout=60)
        flat = p.flat()
        self.total = int(flat.split("Step 0 of ")[1].split()[0].rstrip(":"))
        self.step = 0

    def press_step(self) -> float:
        """One key in the debugger; seconds until the pane shows its result."""
        key, after = ("n", self.step + 1) if self.step < self.total else ("r", 0)
        start = time.monotonic()
        self.pane.keys(key)
        self.pane.wait_for(f"Step {after} of {self.total}", timeout=60)
        self.step = after
        return time.monotonic() - start

    def tutor_pid(self) -> int | None:
        pids = tutor_pids(self.home)
        return pids[0] if pids else None


def wait_all_home(learners: list[Learner], timeout: float = 300) -> list[float]:
    """Each learner's wait for the lesson list, the panes read in turn until all show it."""
    waits: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while len(waits) < len(learners) and time.monotonic() < deadline:
        for learner in learners:
            if learner.name not in waits and "tutor — Lessons" in learner.pane.flat():
                waits[learner.name] = time.monotonic() - learner.opened_at
    missing = [learner.name for learner in learners if learner.name not in waits]
    if missing:
        raise SystemExit(f"no lesson list after {timeout:.0f} s for {missing}")
    return [waits[learner.name] for learner in learners]


def step_all(learners: list[Learner], keys: int, think: float) -> list[float]:
    samples: list[float] = []
    lock = threading.Lock()

    def run(learner: Learner) -> None:
        rng = random.Random(learner.name)
        time.sleep(rng.uniform(0, think))
        for _ in range(keys):
            took = learner.press_step()
            with lock:
                samples.append(took)
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))

    threads = [threading.Thread(target=run, args=(learner,)) for learner in learners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--trainers", type=int, default=10)
    parser.add_argument("--keys", type=int, default=10, help="debugger keys per learner per phase")
    parser.add_argument("--think", type=float, default=1.0, help="seconds between one learner's keys")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    (tmp / "lessons").mkdir()
    (tmp / "lessons" / "60-bench.md").write_text(LESSON)
    free_before = mem_available()
    served = start_serve(
        tmp, "--max-sessions", str(args.learners + 5), "--rate", "1000", "--idle-timeout", "3600"
    )
    server_rss0 = memory(served.process.pid)["rss"]
    short = tempfile.mkdtemp(prefix="tmx")
    terms = Terminals(Path(short), served)
    try:
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"{os.cpu_count()} CPUs (load average {load}), {free_before:,.0f} MiB available before the server started"
        )
        # 1. alone
        alone = Learner(terms, served, "alone")
        alone.connect()
        home_alone = alone.wait_home()
        alone.open_debugger()
        alone_samples = [alone.press_step() for _ in range(args.keys * 2)]
        alone_mem = memory(alone.tutor_pid())
        alone.pane.keys("C-q")
        poll(lambda: alone.pane.dead, 20)
        print(f"\none learner alone: lesson list after {home_alone:.2f} s")
        print(f"  debugger key to repaint: {fmt_ms(alone_samples)}")
        print(f"  tutor in the debugger: PSS {alone_mem['pss']:.1f} MiB, RSS {alone_mem['rss']:.1f} MiB")

        # 2. everyone at once
        learners = [Learner(terms, served, f"l{i:02d}") for i in range(args.learners)]
        for learner in learners:
            learner.connect()
        waits = wait_all_home(learners)
        print(f"\n{args.learners} learners connecting at once: the lesson list after")
        print(f"  the {args.learners}th (last to connect): {waits[-1]:.1f} s; median {statistics.median(waits):.1f} s, "
              f"slowest {max(waits):.1f} s")  # fmt: skip

        # 3. memory
        at_home = [memory(pid) for pid in (learner.tutor_pid() for learner in learners) if pid]
        for learner in learners:
            learner.open_debugger()
        in_dbg = [memory(pid) for pid in (learner.tutor_pid() for learner in learners) if pid]
        server_rss = memory(served.process.pid)["rss"]
        pss_home = statistics.mean(m["pss"] for m in at_home)
        pss_dbg = statistics.mean(m["pss"] for m in in_dbg)
        print("\nmemory per session (mean over the tutors)")
        print(
            f"  at the lesson list: PSS {pss_home:.1f} MiB, RSS {statistics.mean(m['rss'] for m in at_home):.1f} MiB"
        )
        print(
            f"  in the debugger:    PSS {pss_dbg:.1f} MiB, RSS {statistics.mean(m['rss'] for m in in_dbg):.1f} MiB"
        )
        print(f"  the server process: RSS {server_rss:.1f} MiB with {args.learners} sessions "
              f"({server_rss0:.1f} MiB with none): {(server_rss - server_rss0) / args.learners:.2f} MiB per session")  # fmt: skip
        used = free_before - mem_available()
        print(
            f"  memory available fell by {used:,.0f} MiB in all: {used / args.learners:.1f} MiB per session"
        )

        # 4. everyone stepping
        samples = step_all(learners, args.keys, args.think)
        print(f"\n{args.learners} learners stepping the debugger (a key every ~{args.think:g} s each):")
        print(f"  key to repaint: {fmt_ms(samples)}  (alone: {fmt_ms(alone_samples)})")

        # one more, while the others sit in the debugger
        late = Learner(terms, served, "late")
        late.connect()
        late_wait = late.wait_home()
        print(
            f"  one more learner connecting while {args.learners} sit in the debugger: the list after {late_wait:.2f} s"
        )
        late.pane.keys("C-q")

        # 5. with trainers
        trainers, steppers = learners[: args.trainers], learners[args.trainers :]
        stop = threading.Event()
        runs = []

        def train(learner: Learner) -> None:
            p = learner.pane
            p.keys("q")
            p.wait_for("Debugger ✓ done", timeout=60)
            p.keys("n")
            p.wait_for("part 3 of", timeout=60)
            p.keys("Enter")
            p.wait_for("step 0/100", timeout=60)
            while not stop.is_set():
                start = time.monotonic()
                p.keys("space")
                p.wait_for("step 100/100", timeout=300)
                runs.append(time.monotonic() - start)
                p.keys("r")
                p.wait_for("step 0/100", timeout=60)

        threads = [threading.Thread(target=train, args=(t,)) for t in trainers]
        for t in threads:
            t.start()
        time.sleep(5)
        samples = step_all(steppers, args.keys, args.think)
        stop.set()
        for t in threads:
            t.join()
        print(f"\n{len(steppers)} stepping while {len(trainers)} train (100 steps, over and over):")
        print(f"  key to repaint: {fmt_ms(samples)}")
        if runs:
            print(
                f"  a training run: median {statistics.median(runs):.1f} s, slowest {max(runs):.1f} s (n={len(runs)})"
            )
        print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        per = max(pss_home, pss_dbg) + (server_rss - server_rss0) / args.learners
        print(f"\nsessions this machine holds by memory: {free_before / per:.0f} "
              f"({free_before:,.0f} MiB available / {per:.1f} MiB per session)")  # fmt: skip
    finally:
        terms.close()
        served.stop(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
