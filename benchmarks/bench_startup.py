"""Start-up time: launch `tutor` in an 80x24 tmux pane until the home screen is drawn.

Run by hand (not a test):  python benchmarks/bench_startup.py [--runs 15] [--tutor PATH]
Needs tmux. Uses a throw-away TUTOR_HOME. Target (issue 3): under 0.5 s median on 2 cores.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time


def launch_once(tutor: str, home: str, session: str = "tutor-bench-startup") -> float:
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    start = time.perf_counter()
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", f"TUTOR_HOME={home} {tutor}"],
        check=True,
    )
    try:
        while True:  # the home screen is drawn once its first section heading is on the pane
            screen = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
            ).stdout
            if "Foundations" in screen:
                return time.perf_counter() - start
            if time.perf_counter() - start > 30:
                raise RuntimeError("the home screen did not appear within 30 s:\n" + screen)
            time.sleep(0.005)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--tutor", default=shutil.which("tutor") or "tutor")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        launch_once(args.tutor, home)  # warm the file cache and byte-code
        times = [launch_once(args.tutor, home) for _ in range(args.runs)]
    print(f"launch to first drawn home screen, {args.runs} runs: median {statistics.median(times):.3f} s, "
          f"min {min(times):.3f} s, max {max(times):.3f} s")


if __name__ == "__main__":
    main()
