"""`tutor progress` on a learner with many recorded answers (the misconception summary's cost).

Run by hand (not a test):  python benchmarks/bench_progress.py [--attempts 30000] [--runs 3] [--tutor PATH]

Seeds a throw-away TUTOR_HOME straight through SQLite with ``--attempts`` answers spread over 10
lessons of 20 blocks: two answers in three are wrong and carry one of 8 misconception tags, and
half the blocks are never answered right (the summary's worst case: for those it must know that
no right answer came later). Then times ``tutor progress`` (the whole command, start-up included)
``--runs`` times and prints each wall time and the median.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def seed(data_dir: Path, count: int) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    # the schema the tutor writes (created here so the script works on any version of the store)
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from tutor.progress import Progress; Progress(sys.argv[1]).close()",
            str(data_dir),
        ],
        check=True,
    )
    rng = random.Random(1)
    rows = []
    for i in range(count):
        lesson, block = f"lesson-{rng.randrange(10)}", rng.randrange(20)
        never_right = block % 2 == 1
        correct = not never_right and rng.random() < 1 / 3
        tags = [] if correct else [f"tag-{rng.randrange(8)}"]
        rows.append(
            (
                lesson,
                f"quiz-{block}",
                str(i),
                int(correct),
                json.dumps(tags),
                f"2026-01-01T00:00:00.{i:06d}+00:00",
            )
        )
    conn = sqlite3.connect(data_dir / "progress.sqlite3", isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO attempt (lesson_id, block_id, answer, correct, tags, at) VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.execute("COMMIT")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tutor", default=str(Path(sys.executable).with_name("tutor")))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        seed(home, args.attempts)
        env = dict(os.environ, TUTOR_HOME=str(home))
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run([args.tutor, "progress"], env=env, check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
            print(f"tutor progress, {args.attempts} attempts: {times[-1]:.2f} s", flush=True)
        print(f"median of {args.runs}: {statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
