"""How long grading a written rule takes (run by hand: python benchmarks/bench_rule_grade.py).

ctrl+s and ctrl+r on the exercise screen grade the editor's rule on the UI thread: the random
cases, the program with the gradient check, and for a wrong rule the search for its mistakes
(`tutor.rule_diagnosis`, which tries each mistake and pair of mistakes in turn). The slowest
case is a wrong rule no mistake explains: every candidate is tried, then every one-value swap.
For each op of the table this prints the best of 5 runs, in ms, of a right rule, a rule with
two mistakes ('=' and the local derivative left out) and one no mistake explains.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.expr import parse_program  # noqa: E402
from engine.ops import OPS  # noqa: E402
from tutor.lessons.exercise import default_program  # noqa: E402
from tutor.rule_code import signature  # noqa: E402
from tutor.rule_grade import grade_rule, true_rule_text  # noqa: E402


def best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times) * 1000


def main() -> None:
    print(f"{'op':<11} {'right':>8} {'two mistakes':>13} {'unexplained':>12}   (ms, best of 5)")
    worst = 0.0
    for op, spec in OPS.items():
        program = parse_program(default_program(op))
        targets = ["self.grad", "other.grad"][: spec.operands]
        start = signature(op)
        two = start + "".join(f"    {t} = out.grad\n" for t in targets)
        odd = start + "".join(f"    {t} += 7 * out.grad + 0.5\n" for t in targets)
        row = [best(lambda r=r: grade_rule(r, op, program)) for r in (true_rule_text(op), two, odd)]
        worst = max(worst, *row)
        print(f"{op:<11} {row[0]:>8.1f} {row[1]:>13.1f} {row[2]:>12.1f}")
    print(f"slowest: {worst:.1f} ms")


if __name__ == "__main__":
    main()
