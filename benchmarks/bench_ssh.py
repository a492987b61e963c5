"""Bytes sent to the terminal, and the memory of one session, with the tutor over real SSH (by hand).

    /work/venv/bin/python benchmarks/bench_ssh.py
    /work/venv/bin/python benchmarks/bench_ssh.py --idle 10 --repeat 8

It starts the same throw-away sshd as the end-to-end test (tests/e2e/conftest.py: 127.0.0.1, a
free port, keys made for the run) and opens ``ssh -tt`` to it in an 80×24 tmux pane with
``TERM=xterm-256color``. The ssh client runs under ``script -q -f -O LOG``, so LOG receives every
byte the terminal is sent (after decryption): that is the "terminal" figure. The "wire" figure is
what the session's sshd process wrote (``wchar`` in /proc/PID/io): the same stream encrypted and
framed, plus the few bytes of each key it passes to the tutor. One sample is an action (a key)
followed by waiting for the expected text on screen and then for the output to go quiet for
0.3 s.

Measured:

* start-up: bytes to draw the lesson list, and the time until it is on screen;
* idle: bytes per second on the lesson list, on a lesson, and in a quiz's answer box (whose
  cursor blinks);
* a lesson: bytes per ``n`` (next part) and per ↓ (scroll a line);
* the debugger (``tutor step -e``): bytes to open it and per ``n`` (one backward step), on the
  seeds' expression and on a tanh neuron;
* the Escape key: time from pressing Escape in an answer box to the screen changing, beside the
  same for a plain key, with Textual's default ``ESCDELAY`` (100 ms), ``ESCDELAY=25`` and
  ``ESCDELAY=300``;
* CPU: the tutor's CPU time to reach the lesson list (the cost of one login);
* memory: RSS of the tutor process (``ps -o rss``) and its PSS/USS (/proc/PID/smaps_rollup) at
  the lesson list, in a lesson and in the debugger, and the RSS of the session's sshd processes.

* training (``tutor train TASK``): bytes per second while the loss plot updates, from space
  (run) until the last step, on the seeds' task of the training-loop lesson and on 40 moons
  samples with the decision boundary shown.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.conftest import (  # noqa: E402
    HEIGHT,
    WIDTH,
    Pane,
    Terminals,
    descendants,
    ensure_tools,
    poll,
    rss_kib,
    start_sshd,
    tutor_pids,
)
from tests.e2e.test_ssh import LESSON  # noqa: E402

SEEDS = "a = 2; b = -3; c = 10; f = -2; e = a * b; d = e + c; L = d * f"
SEEDS_TASK = """steps = 100
[model]
layers = [4, 4, 1]
[data]
name = "seeds"
[loss]
kind = "sse"
[optimiser]
kind = "sgd"
lr = 0.1
"""
MOONS_TASK = """steps = 100
[model]
layers = [8, 8, 1]
[data]
name = "moons"
samples = 40
[loss]
kind = "sse"
[optimiser]
kind = "sgd"
lr = 0.05
"""
NEURON = "x1 = 2; x2 = 0; w1 = -3; w2 = 1; b = 6.8813735870195432; n = x1*w1 + x2*w2 + b; o = tanh(n)"


class Session:
    """One ssh login in a tmux pane, its terminal output logged by ``script``."""

    def __init__(self, terms: Terminals, server, remote: str, log: Path, name: str, env=()) -> None:
        self.server = server
        self.log = log
        self.before = set(descendants(server.process.pid))
        ssh = shlex.join(server.ssh_argv(remote))
        argv = [
            "env",
            "-u",
            "COLORTERM",
            "-u",
            "NO_COLOR",
            "TERM=xterm-256color",
            *env,
            "script",
            "-q",
            "-f",
            "-O",
            str(log),
            "-c",
            ssh,
        ]
        subprocess.run(
            [*terms.tmux, "new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT), "--", *argv],
            check=True,
            capture_output=True,
        )
        self.pane = Pane(terms.tmux, name)
        terms.panes.append(self.pane)
        self.sshd_pid: int | None = None

    def terminal_bytes(self) -> int:
        try:
            return self.log.stat().st_size
        except FileNotFoundError:
            return 0

    def find_sshd(self) -> int | None:
        """The session's unprivileged sshd ("sshd: USER@pts/N"): it does the socket and pty I/O."""
        if self.sshd_pid is None:
            for pid in descendants(self.server.process.pid):
                if pid in self.before:
                    continue
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                except OSError:
                    continue
                if cmd.startswith("sshd:") and "@pts" in cmd:
                    self.sshd_pid = pid
        return self.sshd_pid

    def sshd_pids(self) -> list[int]:
        return [
            p
            for p in descendants(self.server.process.pid)
            if p not in self.before
            and Path(f"/proc/{p}/cmdline").exists()
            and Path(f"/proc/{p}/cmdline").read_bytes().startswith(b"sshd:")
        ]

    def wire_bytes(self) -> int:
        pid = self.find_sshd()
        if pid is None:
            return 0
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("wchar:"):
                return int(line.split()[1])
        return 0

    def settle(self, quiet: float = 0.3, timeout: float = 15.0) -> None:
        """Wait until nothing has been written to the terminal for ``quiet`` seconds."""
        last, since = self.terminal_bytes(), time.monotonic()
        deadline = since + timeout
        while time.monotonic() < deadline:
            time.sleep(0.02)
            now = self.terminal_bytes()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return

    def measure(self, action, *expect: str) -> tuple[int, int]:
        """(terminal bytes, wire bytes) caused by ``action()``, once ``expect`` is on screen and
        the output went quiet."""
        self.settle()
        t0, w0 = self.terminal_bytes(), self.wire_bytes()
        action()
        if expect:
            self.pane.wait_for(*expect)
        self.settle()
        return self.terminal_bytes() - t0, self.wire_bytes() - w0

    def idle(self, seconds: float) -> tuple[float, float]:
        self.settle()
        t0, w0 = self.terminal_bytes(), self.wire_bytes()
        time.sleep(seconds)
        return (self.terminal_bytes() - t0) / seconds, (self.wire_bytes() - w0) / seconds


def memory(pid: int) -> dict[str, int]:
    """RSS from ps; PSS and private (USS) from smaps_rollup; all in KiB."""
    out = {"rss": rss_kib(pid)}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("Pss", "Private_Clean", "Private_Dirty"):
                out[key] = int(rest.split()[0])
    except OSError:
        pass
    out["uss"] = out.pop("Private_Clean", 0) + out.pop("Private_Dirty", 0)
    out["pss"] = out.pop("Pss", 0)
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fmt_mem(m: dict[str, int]) -> str:
    return f"RSS {m['rss'] / 1024:.1f} MiB, PSS {m['pss'] / 1024:.1f} MiB, private {m['uss'] / 1024:.1f} MiB"


def summary(samples: list[tuple[int, int]]) -> str:
    term = [s[0] for s in samples]
    wire = [s[1] for s in samples]
    return (
        f"terminal median {statistics.median(term):,.0f} B (min {min(term):,}, max {max(term):,}); "
        f"wire median {statistics.median(wire):,.0f} B  [{len(samples)} samples]"
    )


def tutor_pid(home: Path) -> int:
    pids = poll(lambda: tutor_pids(home), 10)
    if not pids:
        raise SystemExit("the tutor process was not found on the server")
    return pids[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of each idle measurement")
    parser.add_argument("--repeat", type=int, default=6, help="key presses per lesson measurement")
    parser.add_argument("--lessons", type=int, default=8, help="lessons opened in turn for the memory figure")
    args = parser.parse_args()
    try:
        ensure_tools()
    except BaseException as error:  # pytest's skip/fail outcomes
        print(f"cannot run: {error}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bssh") as tmp:
        tmp = Path(tmp)
        server = start_sshd(tmp)
        terms = Terminals(tmp, server)
        lessons = tmp / "lessons"
        lessons.mkdir()
        (lessons / "50-ssh.md").write_text(LESSON, encoding="utf-8")
        try:
            run(args, server, terms, tmp, lessons)
        finally:
            terms.close()
            server.stop()
    return 0


def run(args, server, terms, tmp: Path, lessons: Path) -> None:
    print(f"tutor over ssh to 127.0.0.1:{server.port}, pane {WIDTH}x{HEIGHT}, TERM=xterm-256color")
    # ---------------------------------------------------------------- the lesson list and a lesson
    home = tmp / "home1"
    t = time.monotonic()
    s = Session(terms, server, server.tutor_remote(home), tmp / "s1.log", "s1")
    s.pane.wait_for("tutor — Lessons")
    shown = time.monotonic() - t
    s.settle()
    print(
        f"\nstart-up: lesson list on screen after {shown:.2f} s; "
        f"{s.terminal_bytes():,} B to the terminal, {s.wire_bytes():,} B on the wire"
    )
    pid = tutor_pid(home)
    mem_home = memory(pid)
    print(f"CPU time of the tutor to get there: {cpu_seconds(pid):.2f} s")
    term, wire = s.idle(args.idle)
    print(f"idle on the lesson list: {term:.1f} B/s terminal, {wire:.1f} B/s wire ({args.idle:g} s)")

    s.pane.keys("Enter")  # the highlighted (first) lesson
    s.pane.wait_for("part 1 of")
    s.settle()
    mem_lesson = memory(pid)
    term, wire = s.idle(args.idle)
    print(f"idle in a lesson: {term:.1f} B/s terminal, {wire:.1f} B/s wire")
    samples = []
    for _ in range(args.repeat):
        before = s.pane.screen()
        samples.append(s.measure(lambda: s.pane.keys("Down")))
        if s.pane.screen() == before:  # the end of the lesson: nothing moved, nothing sent
            samples.pop()
            break
    print(f"lesson, ↓ (scroll one line): {summary(samples)}")
    samples = []
    for _ in range(args.repeat):
        before = s.pane.screen()
        samples.append(s.measure(lambda: s.pane.keys("n")))
        if s.pane.screen() == before:
            samples.pop()
            break
    print(f"lesson, n (next part): {summary(samples)}")
    # every lesson of the course opened in turn, for memory that stays after a long session
    s.pane.keys("q")
    s.pane.wait_for("tutor — Lessons")
    opened = 1
    for _ in range(args.lessons - 1):
        s.pane.keys("Down")
        s.settle()
        s.pane.keys("Enter")
        s.pane.wait_for("part 1 of")
        opened += 1
        s.pane.keys("q")
        s.pane.wait_for("tutor — Lessons")
    s.settle()
    mem_many = memory(pid)
    s.pane.keys("C-q")
    poll(lambda: s.pane.dead, 10)

    # ---------------------------------------------------------------- a quiz's answer box, Escape
    for n, delay in enumerate((None, 25, 300)):
        home = tmp / f"home-q{n}"
        remote = server.tutor_remote(home, "--lessons", str(lessons), "ssh-check")
        if delay is not None:
            remote = f"ESCDELAY={delay} {remote}"
        s = Session(terms, server, remote, tmp / f"q{n}.log", f"q{n}")
        s.pane.wait_for("part 1 of 5")
        for part in (2, 3):
            s.pane.keys("n")
            s.pane.wait_for(f"part {part} of 5")
        s.pane.keys("Enter")
        s.pane.wait_for("Enter checks")
        if delay is None:
            term, wire = s.idle(args.idle)
            print(
                f"idle in a quiz's answer box (blinking cursor): {term:.1f} B/s terminal, {wire:.1f} B/s wire"
            )
        escape_latency(s, "ESCDELAY unset (100 ms)" if delay is None else f"ESCDELAY={delay}")
        s.pane.keys("C-q")
        poll(lambda: s.pane.dead, 10)

    # ---------------------------------------------------------------- the debugger
    for name, program in (("the seeds' expression", SEEDS), ("a tanh neuron", NEURON)):
        home = tmp / f"home-{len(terms.panes)}"
        log = tmp / f"d{len(terms.panes)}.log"
        t = time.monotonic()
        s = Session(
            terms, server, server.tutor_remote(home, "step", "-e", program), log, f"d{len(terms.panes)}"
        )
        s.pane.wait_for("Step 0 of")
        s.settle()
        total = int(s.pane.flat().split("Step 0 of ")[1].split(":")[0])
        print(
            f"\ndebugger on {name} ({total} steps): open {s.terminal_bytes():,} B terminal, "
            f"{s.wire_bytes():,} B wire, on screen after {time.monotonic() - t:.2f} s"
        )
        samples = []
        for k in range(1, total + 1):
            samples.append(s.measure(lambda: s.pane.keys("n"), f"Step {k} of {total}"))
        print(f"  per step (n): {summary(samples)}")
        print(f"  each step, terminal bytes: {[t for t, _ in samples]}")
        pid = tutor_pid(home)
        mem_debugger = memory(pid)
        sshd = [memory(p) for p in s.sshd_pids()]
        mem_sshd = {k: sum(m[k] for m in sshd) for k in ("rss", "pss", "uss")}
        s.pane.keys("q")
        poll(lambda: s.pane.dead, 10)

    # ---------------------------------------------------------------- training
    for name, task, keys in (
        ("the seeds' task", SEEDS_TASK, ()),
        ("40 moons samples, boundary shown", MOONS_TASK, ("v",)),
    ):
        home = tmp / f"home-t{len(terms.panes)}"
        task_file = tmp / f"task{len(terms.panes)}.toml"
        task_file.write_text(task)
        s = Session(
            terms,
            server,
            server.tutor_remote(home, "train", str(task_file)),
            tmp / f"t{len(terms.panes)}.log",
            f"t{len(terms.panes)}",
        )
        s.pane.wait_for("step 0/100")
        for key in keys:
            s.pane.keys(key)
        s.settle()
        t0, w0, start = s.terminal_bytes(), s.wire_bytes(), time.monotonic()
        s.pane.keys("space")
        s.pane.wait_for("step 100/100", timeout=120)
        seconds = time.monotonic() - start
        term, wire = s.terminal_bytes() - t0, s.wire_bytes() - w0
        print(
            f"\ntraining, {name}: {seconds:.1f} s for 100 steps; {term / seconds:,.0f} B/s to the "
            f"terminal, {wire / seconds:,.0f} B/s on the wire ({term:,} B in all, {term / 100:,.0f} B per step)"
        )
        mem_train = memory(tutor_pid(home))
        s.pane.keys("q")
        poll(lambda: s.pane.dead, 10)

    print("\nmemory of one session on the server")
    print(f"  tutor at the lesson list: {fmt_mem(mem_home)}")
    print(f"  tutor in a lesson:        {fmt_mem(mem_lesson)}")
    print(f"  tutor in the debugger:    {fmt_mem(mem_debugger)}")
    print(f"  tutor after training moons: {fmt_mem(mem_train)}")
    print(f"  tutor at the lesson list after opening {opened} lessons in turn: {fmt_mem(mem_many)}")
    print(f"  the session's {len(sshd)} sshd processes together: {fmt_mem(mem_sshd)}")


def escape_latency(s: Session, label: str, tries: int = 5) -> None:
    """Escape in the answer box moves the focus to the feedback, ``a`` moves it back: the time
    from each key to the help line changing. ``a`` is the baseline (a key with no wait)."""
    escape, plain = [], []
    for _ in range(tries):
        s.settle()
        t = time.monotonic()
        s.pane.keys("Escape")
        s.pane.wait_for("Enter: try again")
        escape.append(time.monotonic() - t)
        s.settle()
        t = time.monotonic()
        s.pane.keys("a")  # back into the box
        s.pane.wait_for("Enter checks")
        plain.append(time.monotonic() - t)

    def ms(xs):
        return f"median {statistics.median(xs) * 1000:.0f} ms (min {min(xs) * 1000:.0f}, max {max(xs) * 1000:.0f})"

    print(f"key to screen change, {label}: Escape {ms(escape)}; the a key {ms(plain)}")


if __name__ == "__main__":
    sys.exit(main())
