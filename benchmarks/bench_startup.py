"""Start-up time: launch `tutor` in an 80x24 tmux pane until the home screen is drawn.

Run by hand (not a test):  python benchmarks/bench_startup.py [--runs 15] [--tutor PATH] [--floor]
Needs tmux. Uses a throw-away TUTOR_HOME. Target (issue 3): under 0.5 s median on 2 cores.

Measure a non-editable install (``pip install .`` into a fresh venv, then ``--tutor VENV/bin/tutor``):
an editable one adds the import hook's cost. ``--floor`` also times, run for run in turn, a bare
Textual app with the home screen's widgets (Header, an OptionList of 16 rows, a Static, a Footer
with three keys) and no tutor code: the part of start-up that is Textual's, on this machine today.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR_APP = """
from textual.app import App
from textual.binding import Binding
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option


class Floor(App):
    BINDINGS = [Binding("enter", "x", "Open"), Binding("q", "quit", "Quit"), Binding("question_mark", "x", "Help")]

    def compose(self):
        yield Header()
        yield OptionList(*[Option("Foundations" if i % 5 == 0 else f"  · Lesson {i:<40} not started")
                           for i in range(16)])
        yield Static("details")
        yield Footer()


Floor().run()
"""


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


def summary(name: str, times: list[float]) -> str:
    return f"{name}: median {statistics.median(times):.3f} s, min {min(times):.3f} s, max {max(times):.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--tutor", default=shutil.which("tutor") or "tutor")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time a bare Textual app with the same widgets, alternating runs",
    )
    parser.add_argument(
        "--python",
        default=None,
        help="the Python (with Textual) for --floor; default: the one beside --tutor",
    )
    args = parser.parse_args()
    commands = {"tutor": args.tutor}
    with tempfile.TemporaryDirectory() as home:
        if args.floor:
            python = args.python or str(Path(args.tutor).with_name("python"))
            if not Path(python).exists():
                python = sys.executable
            floor = Path(home) / "floor_app.py"
            floor.write_text(FLOOR_APP)
            commands["bare Textual app, same widgets"] = f"{python} {floor}"
        for command in commands.values():
            launch_once(command, home)  # warm the file cache and byte-code
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(launch_once(command, home))
    print(f"launch to first drawn home screen, {args.runs} runs each")
    for name, values in times.items():
        print("  " + summary(name, values))


if __name__ == "__main__":
    main()
