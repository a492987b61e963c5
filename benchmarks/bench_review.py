"""How long the review schedule and fresh numbers take (run by hand: python benchmarks/bench_review.py).

The lesson list works out "Review: N due" from every attempt each time it is shown; a review asks
its question with a fresh draw when opened. Both run on the UI thread.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutor.lessons import builtin_lessons_dir, load_catalog  # noqa: E402
from tutor.progress import Attempt  # noqa: E402
from tutor.review import due_items, review_items  # noqa: E402
from tutor.review.fresh import fresh_quiz, right_number  # noqa: E402


def attempts(n: int, blocks: int = 60) -> list[Attempt]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        Attempt(
            "lesson",
            f"quiz-{i % blocks}",
            "2",
            i % 3 == 0,
            ["forgot-upstream"] if i % 3 == 0 else [],
            (start + timedelta(hours=i)).isoformat(),
        )
        for i in range(n)
    ]


def best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    for n in (1_000, 10_000, 100_000):
        log = attempts(n)
        today = datetime(2026, 1, 1, tzinfo=UTC).date() + timedelta(days=n // 24 + 1)
        s = best(lambda: due_items(review_items(log), today))
        print(f"review_items + due_items over {n:>7,} attempts: {s * 1000:8.1f} ms")
    catalog = load_catalog([builtin_lessons_dir()])
    worst = 0.0
    for lesson in catalog.lessons:
        for block in lesson.blocks:
            if block.kind == "quiz" and block.quiz and block.quiz.kind in ("numeric", "predict"):
                old = right_number(block.quiz)
                s = best(lambda b=block, o=old: fresh_quiz(b.config, o, "seed", lesson.misconceptions))
                worst = max(worst, s)
    print(f"fresh_quiz, slowest block of the course: {worst * 1000:.1f} ms")


if __name__ == "__main__":
    main()
