"""One Value operation at a time: this tree's engine against another checkout's. Run by hand.

    git -C . archive main engine | tar -x -C /tmp/old      # the engine to compare against
    /work/venv/bin/python benchmarks/bench_ops.py --old /tmp/old

Each line is the best of 7 runs of 100,000 of the same operation (``timeit``), in microseconds,
both engines loaded into the same process one after the other. Without ``--old`` only this tree's
figures are printed.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

OPS = {
    "Value(1.5)": lambda V, a, b: V(1.5),
    "a + b": lambda V, a, b: a + b,
    "a * b": lambda V, a, b: a * b,
    "a * 2.0": lambda V, a, b: a * 2.0,
    "2.0 * a": lambda V, a, b: 2.0 * a,
    "a ** 2": lambda V, a, b: a**2,
    "a.tanh()": lambda V, a, b: a.tanh(),
    "a.relu()": lambda V, a, b: a.relu(),
    "(a * b)._prev": None,  # reads a node's operands (timed on one node, below)
}


def load(path: Path):
    """The Value class of the engine under ``path`` (a fresh import each time)."""
    for name in [m for m in sys.modules if m == "engine" or m.startswith("engine.")]:
        del sys.modules[name]
    sys.path.insert(0, str(path))
    try:
        from engine.value import Value
    finally:
        sys.path.pop(0)
    return Value


def times(Value) -> dict[str, float]:
    a, b = Value(0.5), Value(-1.5)
    node = a * b
    found = {}
    for name, op in OPS.items():
        run = (lambda: node._prev) if op is None else (lambda op=op: op(Value, a, b))
        found[name] = min(timeit.repeat(run, number=100_000, repeat=7)) * 1e6 / 100_000
    return found


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, help="a directory holding the engine/ to compare against")
    args = parser.parse_args(argv)
    old = times(load(args.old)) if args.old else None
    new = times(load(ROOT))
    print("| operation | before (µs) | now (µs) | faster |" if old else "| operation | µs |")
    print("| --- | --- | --- | --- |" if old else "| --- | --- |")
    for name, t in new.items():
        if old:
            print(f"| `{name}` | {old[name]:.2f} | {t:.2f} | {old[name] / t:.1f}× |")
        else:
            print(f"| `{name}` | {t:.2f} |")


if __name__ == "__main__":
    main()
