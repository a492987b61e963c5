"""The progress store under a large class: SQLite (one file per learner, as `tutor serve` keeps
them) against PostgreSQL (one database for every learner), on this machine. Run by hand:

    python benchmarks/bench_store.py [--learners 1000] [--processes 4] [--seconds 10]
                                     [--rate 100] [--db postgresql://...]

1,000 simulated learners are split over 4 processes (as 4 `tutor serve` hosts, or 4 groups of
learner processes on one); in each process 8 threads answer for their share of the learners in
turn. Each answer is one write as the store commits it (its own SQL, ``Write.statements()``, in
one transaction: an answer, the block done, the position). Two runs per backend:

* **saturated**: every thread writes as fast as it can, for ``--seconds``: the sustained answers
  per second the store can take, and the latency of one write under that load;
* **paced**: ``--rate`` answers per second in all (100/s is one answer every 10 s from each of
  1,000 learners, a busy class), for ``--seconds``: the latency a learner's write sees in class.

Latency is one write's commit, p50 and p95 over every write of the run (on the writer thread:
the learner never waits for it; it is how far behind the saved state runs).

SQLite: the files are made first (schema created by :class:`tutor.progress.Progress`), each
learner's connection is the store's (WAL, synchronous FULL). PostgreSQL: without ``--db`` a
throw-away cluster is started with ``tests/pgcluster.py`` and restarted with ``fsync`` on (the
test cluster runs with it off), so both backends make their commits durable; each thread holds
one connection and names the learner in each transaction (``set_config('tutor.learner', ...,
true)``), the per-learner views the store uses. The database is emptied of bench rows after.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

THREADS = 8


def _write(i: int, name: str):
    from tutor.progress.writes import Write, now

    block = f"quiz-{i % 7}"
    return [
        Write("attempt", "chain", block, str(i), i % 3 == 0, ("wrong-sign",), at=now()),
        Write("block", "chain", block, at=now()),
        Write("position", "chain", block, at=now()),
    ]


def _sqlite_worker(root: str, names: list[str], stop_at: float, interval: float, out) -> None:
    from tutor.progress.schema import WRITE_BUSY_TIMEOUT_MS, connect, prepare_writer

    conns = {}
    for n in names:
        c = connect(str(Path(root) / n / "progress.sqlite3"), WRITE_BUSY_TIMEOUT_MS)
        prepare_writer(c, wal=True)
        conns[n] = c
    lat, i, next_at = [], 0, time.monotonic()
    while time.monotonic() < stop_at:
        if interval:
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += interval
        name = names[i % len(names)]
        conn = conns[name]
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for w in _write(i, name):
            for sql, params in w.statements():
                conn.execute(sql, params)
        conn.execute("COMMIT")
        lat.append(time.perf_counter() - t0)
        i += 1
    out.extend(lat)


def _pg_worker(url: str, names: list[str], stop_at: float, interval: float, out) -> None:
    from tutor.progress.pg_schema import connect, pg_sql

    conn = connect(url, names[0])
    lat, i, next_at = [], 0, time.monotonic()
    while time.monotonic() < stop_at:
        if interval:
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += interval
        name = names[i % len(names)]
        t0 = time.perf_counter()
        conn.execute("SELECT set_config('tutor.learner', %s, true)", (name,))
        for w in _write(i, name):
            for sql, params in w.statements():
                conn.execute(pg_sql(sql), params)
        conn.commit()
        lat.append(time.perf_counter() - t0)
        i += 1
    conn.close()
    out.extend(lat)


def _process(backend: str, target: str, names: list[str], seconds: float, rate_per_thread: float, q) -> None:
    stop_at = time.monotonic() + seconds
    interval = 1.0 / rate_per_thread if rate_per_thread else 0.0
    shares = [names[k::THREADS] for k in range(THREADS)]
    results: list[list[float]] = [[] for _ in shares]
    worker = _sqlite_worker if backend == "sqlite" else _pg_worker
    threads = [
        threading.Thread(target=worker, args=(target, share, stop_at, interval, results[k]))
        for k, share in enumerate(shares)
        if share
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    q.put([x for r in results for x in r])


def run(backend: str, target: str, learners: int, processes: int, seconds: float, rate: float) -> dict:
    names = [f"learner{n:04d}" for n in range(learners)]
    groups = [names[p::processes] for p in range(processes)]
    per_thread = rate / (processes * THREADS) if rate else 0.0
    q = mp.get_context("fork").Queue()
    procs = [
        mp.get_context("fork").Process(target=_process, args=(backend, target, g, seconds, per_thread, q))
        for g in groups
    ]
    started = time.perf_counter()
    for p in procs:
        p.start()
    lat = [x for _ in procs for x in q.get()]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    lat.sort()
    return {
        "answers": len(lat),
        "per_s": len(lat) / seconds,
        "p50_ms": 1000 * statistics.median(lat),
        "p95_ms": 1000 * lat[int(0.95 * (len(lat) - 1))],
        "elapsed": elapsed,
    }


def _prepare_sqlite(root: Path, learners: int) -> None:
    from tutor.progress import Progress

    for n in range(learners):
        Progress(root / f"learner{n:04d}").close()


def _start_pg(directory: Path) -> str:
    from tests import pgcluster

    url = pgcluster.start(directory)
    pgcluster.stop(directory)
    options = directory / "options"
    options.write_text(options.read_text().replace("-c fsync=off", "-c fsync=on"))
    pgcluster.start_again(directory)
    return url


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--learners", type=int, default=1000)
    ap.add_argument("--processes", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--db", help="a PostgreSQL URL (default: a throw-away cluster, fsync on)")
    ap.add_argument("--only", choices=("sqlite", "postgres"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tutor-bench-store-"))
    work.chmod(0o755)
    cluster = None
    try:
        rows = []
        if args.only != "postgres":
            root = work / "learners"
            _prepare_sqlite(root, args.learners)
            for mode, rate in (("saturated", 0.0), ("paced", args.rate)):
                rows.append(
                    (
                        "SQLite",
                        mode,
                        run("sqlite", str(root), args.learners, args.processes, args.seconds, rate),
                    )
                )
        if args.only != "sqlite":
            url = args.db
            if url is None:
                cluster = work / "pg"
                url = _start_pg(cluster)
            from tutor.progress.pg_schema import connect, migrate

            conn = connect(url)
            migrate(conn, url)
            conn.close()
            for mode, rate in (("saturated", 0.0), ("paced", args.rate)):
                rows.append(
                    ("PostgreSQL", mode, run("pg", url, args.learners, args.processes, args.seconds, rate))
                )
            conn = connect(url)
            for table in ("progress_attempt", "progress_block", "progress_lesson"):
                conn.execute(f"DELETE FROM {table} WHERE learner LIKE 'learner%%'")
            conn.commit()
            conn.close()
        print(
            f"{args.learners} learners, {args.processes} processes x {THREADS} threads, {args.seconds:g} s a run; "
            f"paced = {args.rate:g} answers/s in all"
        )
        print(f"{'backend':<11} {'run':<10} {'answers':>8} {'answers/s':>10} {'p50 ms':>8} {'p95 ms':>8}")
        for backend, mode, r in rows:
            print(
                f"{backend:<11} {mode:<10} {r['answers']:>8} {r['per_s']:>10.0f} {r['p50_ms']:>8.2f} {r['p95_ms']:>8.2f}"
            )
    finally:
        if cluster is not None:
            from tests import pgcluster

            pgcluster.stop(cluster)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
