"""Load: 20 coders submitting at once, on SQLite and on PostgreSQL, as processes and as threads of one process.

Every coder goes through the blinded door exactly as the coding page does: open the
recording, save a draft on each scale, save the notes, submit. 20 coders x 50 recordings =
1,000 submissions per run, all coders released together. By default with no pause between
actions: a stress test, where every coder is always waiting for the database, so a save's time
is mostly its place in the queue (20 coders / saves per second). ``--think S`` makes every
coder pause S seconds on average (exponentially distributed) before each save, as a person
choosing a score does: then a save's time is what one coder waits for. Two ways of running them:

- processes: each coder its own process with its own engine, standing for separate app
  workers; the database arbitrates between them (SQLite's write lock, PostgreSQL's row locks);
- threads: every coder a thread of one process sharing one store, as the browser sessions of
  one `obscode run` are; on SQLite the store's own write queue arbitrates.

Afterwards every submission a coder made is looked up in the database: stored (submitted,
with the scores and notes entered), lost (the coder was told it was submitted, the database
does not hold it as entered), duplicated (more than one rating row or submit audit row per
coder, recording and scale), and the errors any coder saw. The bar is 0 lost, 0 duplicated,
0 errors; the script exits 1 if it is not met.

SQLite: the project's own settings (WAL, BEGIN IMMEDIATE for writes, synchronous at its FULL
default: every commit is flushed to disk). PostgreSQL: a throw-away cluster from
tests/pg_cluster.py with its durability settings on (fsync, full page writes, synchronous
commit), so both pay for the disk flush.

On a shared machine the figures move with whatever else runs: ``--repeat N`` runs each N times
and reports the median of each figure over the runs with its best and worst in brackets (counts
are summed: the bar holds for every run), and the load average (1 min) at the end of the runs,
median and range, so a reader can tell. Each run's own figures are printed as it ends.

Run from the repository root: ``.venv/bin/python bench/bench_load.py`` (``--runs`` picks some).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the coder processes live in tests/faults/load.py

from coding_app.store import Store  # noqa: E402
from tests.faults.load import Outcome, make_study, run_load, run_threads, verify  # noqa: E402
from tests.pg_cluster import ThrowawayCluster  # noqa: E402


@contextmanager
def database(dialect: str, root: Path) -> Iterator[str]:
    """The URL of an empty database of this dialect, thrown away afterwards."""
    if dialect == "sqlite":
        yield f"sqlite:///{root / 'load.db'}"
        return
    cluster = ThrowawayCluster(durable=True).start()
    try:
        yield cluster.create_database("bench_load")
    finally:
        cluster.stop()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0-100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def latency(runs: list[list[float]]) -> str:
    """p50 / p95 / max in ms, each the median over the runs; with several runs, each figure's best-worst after it."""
    if not all(runs):
        return "-"
    figures = []
    for q in (50, 95, 100):
        ms = sorted(percentile(v, q) * 1000 for v in runs)
        spread = f" ({ms[0]:.0f}-{ms[-1]:.0f})" if len(ms) > 1 else ""
        figures.append(f"{statistics.median(ms):.0f}{spread}")
    return " / ".join(figures)


def _load(loads: list[float]) -> str:
    """The median load average at the end of the runs, with its range."""
    spread = f" ({min(loads):.1f}-{max(loads):.1f})" if len(loads) > 1 else ""
    return f"{statistics.median(loads):.1f}{spread}"


RUNS = ("sqlite-processes", "sqlite-threads", "postgresql-processes", "postgresql-threads")


def run(name: str, coders: int, recordings: int, seed: int, think: float) -> tuple[Outcome, float]:
    """One run's outcome, and the load average (1 min) at its end."""
    dialect, how = name.split("-")
    with tempfile.TemporaryDirectory(prefix="obscode-load-") as root, database(dialect, Path(root)) as url:
        store = Store(url)
        try:
            names = make_study(store, coders, recordings)
            pausing = f", pausing {think:g} s on average before each save" if think else ""
            print(
                f"{dialect}: {coders} coder {how} x {recordings} recordings, released together{pausing} ...", flush=True
            )
            threads = how == "threads"
            reports = run_threads(store, names, seed, think) if threads else run_load(url, names, seed, think)
            outcome = verify(store, reports)
        finally:
            store.dispose()
    for error in sorted(set(outcome.errors))[:5]:
        print(f"  a coder saw: {error}")
    load = os.getloadavg()[0]
    print(
        f"  draft ms p50/p95/max {latency([outcome.draft_seconds])}, submit {latency([outcome.submit_seconds])}, "
        f"{outcome.stored / outcome.seconds:.1f} submissions/s, load {load:.1f}",
        flush=True,
    )
    return outcome, load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--coders", type=int, default=20)
    parser.add_argument("--recordings", type=int, default=50, help="in every coder's queue")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", nargs="+", choices=RUNS, default=RUNS)
    parser.add_argument("--think", type=float, default=0.0, help="mean pause before each save, in seconds")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; figures are medians over them")
    args = parser.parse_args()
    results = {
        name: [run(name, args.coders, args.recordings, args.seed, args.think) for _ in range(args.repeat)]
        for name in args.runs
    }
    header = (
        "run",
        "attempted",
        "stored",
        "lost",
        "duplicated",
        "errors",
        "draft ms p50/p95/max",
        "submit ms p50/p95/max",
        "submissions/s",
        "load",
    )
    rows = []
    for name, result in results.items():
        runs = [outcome for outcome, _ in result]
        rows.append(
            (
                name,
                *(sum(getattr(o, f) for o in runs) for f in ("attempted", "stored", "lost", "duplicated")),
                sum(len(o.errors) for o in runs),
                latency([o.draft_seconds for o in runs]),
                latency([o.submit_seconds for o in runs]),
                f"{statistics.median(o.stored / o.seconds for o in runs):.1f}",
                _load([load for _, load in result]),
            )
        )
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    print()
    for row in (header, *rows):
        print("  ".join(str(cell).rjust(width) for cell, width in zip(row, widths, strict=True)))
    met = all(
        o.lost == o.duplicated == len(o.errors) == 0 and o.stored == o.attempted
        for result in results.values()
        for o, _ in result
    )
    print(f"\nbar (every submission stored; 0 lost, 0 duplicated, 0 errors): {'met' if met else 'NOT MET'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
