"""Many coders at once, going through the blinded door as the coding page does.

Separate processes (:func:`run_load`) stand for separate app workers: each has its own engine
and connections, so the database itself arbitrates between them (SQLite's write lock,
PostgreSQL's row locks). Threads of one process (:func:`run_threads`) stand for the browser
sessions of one `obscode run`: they share its store, so its own write queue arbitrates.
Each coder opens a recording (``task``), saves a draft per scale, then submits, for every
recording in their queue; afterwards :func:`verify` compares what every coder was told with what
the database holds. Shared by the load benchmark (bench/bench_load.py, timed) and the behaviour
test (tests/faults/test_concurrent_coders.py, untimed).
"""

from __future__ import annotations

import multiprocessing
import queue as queues
import random
import sys
import threading
import time
import types
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from coding_app import blinded
from coding_app.accounts import account_named
from coding_app.assignments import assign
from coding_app.codebook import load_codebook
from coding_app.store import Store
from coding_app.store.models import Account, Assignment, AuditEntry, Note, Rating, Recording, ScaleRow, rating_rows
from coding_app.study_setup import initialise
from tests.coding_app.helpers import add_account, add_recordings

# A coder process that has not reported by then is counted as an error, not waited for forever.
REPORT_TIMEOUT_S = 1800


@dataclass(frozen=True)
class Sent:
    """What one coder entered for one recording, and whether the door acknowledged the submission."""

    coder: str
    code: str
    scores: dict[str, float]
    notes: str
    acknowledged: bool


@dataclass
class CoderReport:
    """Everything one coder process saw: what it sent, the errors shown to it, and how long saves took."""

    coder: str
    attempted: int = 0
    sent: list[Sent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    draft_seconds: list[float] = field(default_factory=list)
    submit_seconds: list[float] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    """time.monotonic() when coding began and ended (one clock for every process on the machine)."""


@dataclass(frozen=True)
class Outcome:
    attempted: int
    stored: int
    """Submissions in the database, submitted, with exactly the scores and notes the coder entered."""
    lost: int
    """Submissions the coder was told had succeeded that the database does not hold as entered."""
    duplicated: int
    """Rating rows or submit audit rows beyond one per coder, recording and scale."""
    errors: list[str]
    draft_seconds: list[float]
    submit_seconds: list[float]
    seconds: float
    """From the first coder starting to the last one finishing."""


def make_study(store: Store, coders: int, recordings: int) -> list[str]:
    """An initialised study where each of ``coders`` coders has every one of ``recordings`` videos."""
    initialise(store, load_codebook(), "load")
    add_recordings(
        store,
        [{"recording_id": f"L{i:04d}", "participant_id": f"LP{i:04d}", "kind": "video"} for i in range(recordings)],
    )
    names = [f"load.coder.{n:02d}" for n in range(1, coders + 1)]
    for name in names:
        add_account(store, name, "coder")
    assign(store, names, kind="video", seed=7, actor="load")
    return names


def _timed(seconds: list[float], call: Callable[[], object]) -> object:
    started = time.perf_counter()
    result = call()
    seconds.append(time.perf_counter() - started)
    return result


def _code_recording(
    store: Store, account: Account, code: str, rng: random.Random, report: CoderReport, think: float
) -> None:
    """Open one recording, save a draft on each scale (as choosing a score does), then submit.

    Before each save the coder pauses for a random time, ``think`` seconds on average (0: none).
    """

    def pause() -> None:
        if think:
            time.sleep(rng.expovariate(1 / think))

    task = blinded.task(store, account, code)
    scores = {scale.key: float(rng.choice(scale.scale.levels)) for scale in task.scales}
    notes = f"note {rng.randrange(10**6)} on {code}"
    for key, score in scores.items():
        pause()
        _timed(report.draft_seconds, lambda k=key, s=score: blinded.save_draft(store, account, code, k, s))
    pause()
    blinded.save_notes(store, account, code, notes)
    pause()
    acknowledged = bool(_timed(report.submit_seconds, lambda: blinded.submit(store, account, code)))
    report.sent.append(Sent(account.name, code, scores, notes, acknowledged))


def code_queue(url: str, coder: str, seed: int, start, reports, think: float = 0.0) -> None:  # noqa: ANN001 - proxies
    """One coder process: its own store, then :func:`code_with`."""
    store = Store(url)
    try:
        code_with(store, coder, seed, start, reports, think)
    finally:
        store.dispose()


def code_with(store: Store, coder: str, seed: int, start, reports, think: float = 0.0) -> None:  # noqa: ANN001
    """One coder: load the queue, wait for every coder to be ready (``start``, a barrier), then code it all;
    the report goes to ``reports`` (a queue)."""
    report = CoderReport(coder)
    try:
        with store.read() as db:
            account = account_named(db, coder)
        codes = [item.code for item in blinded.queue(store, account)]
        rng = random.Random(seed)
        start.wait()
        report.started = time.monotonic()
        for code in codes:
            report.attempted += 1
            try:
                _code_recording(store, account, code, rng, report, think)
            except Exception as error:  # noqa: BLE001 - what the coder would see: counted, and the run goes on
                report.errors.append(f"{type(error).__name__}: {error}")
    finally:
        report.finished = time.monotonic()
        reports.put(report)


def run_threads(store: Store, coders: list[str], seed: int, think: float = 0.0) -> list[CoderReport]:
    """Every coder a thread of this process, all sharing ``store``, released together; their reports."""
    start, reports = threading.Barrier(len(coders)), queues.Queue()
    threads = [
        threading.Thread(target=code_with, args=(store, name, seed + n, start, reports, think), name=name)
        for n, name in enumerate(coders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    collected = {report.coder: report for report in (reports.get_nowait() for _ in coders)}
    return [collected[name] for name in coders]


def run_load(url: str, coders: list[str], seed: int, think: float = 0.0) -> list[CoderReport]:
    """Start one process per coder (spawned: no engine state crosses a fork) and collect their reports."""
    context = multiprocessing.get_context("spawn")
    start, reports = context.Barrier(len(coders)), context.Queue()
    processes = [
        context.Process(target=code_queue, args=(url, name, seed + n, start, reports, think), name=name)
        for n, name in enumerate(coders)
    ]
    # A spawned child first re-runs the parent's __main__ from its file; in a test run, Streamlit's
    # AppTest may have left a page script there. The children need nothing of it.
    main, sys.modules["__main__"] = sys.modules["__main__"], types.ModuleType("__main__")
    try:
        for process in processes:
            process.start()
    finally:
        sys.modules["__main__"] = main
    collected: dict[str, CoderReport] = {}
    deadline = time.monotonic() + REPORT_TIMEOUT_S
    while len(collected) < len(coders) and time.monotonic() < deadline:
        try:
            report = reports.get(timeout=1)
        except queues.Empty:
            if all(not p.is_alive() for p in processes) and reports.empty():
                break
            continue
        collected[report.coder] = report
    for process in processes:
        process.join(timeout=10)
    for process in processes:
        if process.name not in collected:
            collected[process.name] = CoderReport(
                process.name, errors=[f"coder process ended with {process.exitcode} without reporting"]
            )
    return [collected[name] for name in coders]


def verify(store: Store, reports: list[CoderReport]) -> Outcome:
    """Compare what each coder entered and was told with the rating table and the audit log."""
    with store.read() as db:
        rows = db.execute(
            rating_rows(Recording.code, Account.name, ScaleRow.key, Rating.score, Note.text, Rating.status).outerjoin(
                Note, Note.assignment_id == Assignment.id
            )
        ).all()
        submits = [entry.new for entry in db.scalars(select(AuditEntry).where(AuditEntry.action == "rating.submit"))]
    ratings: dict[tuple[str, str, str], list[tuple]] = {}
    for code, coder, scale, score, notes, status in rows:
        ratings.setdefault((code, coder, scale), []).append((score, notes, status))
    submit_rows = Counter((new["recording"], new["coder"], new["scale"]) for new in submits)
    duplicated = sum(len(found) - 1 for found in ratings.values()) + sum(n - 1 for n in submit_rows.values())

    def held_as_sent(sent: Sent) -> bool:
        return all(
            ratings.get((sent.code, sent.coder, key)) == [(score, sent.notes, "submitted")]
            for key, score in sent.scores.items()
        )

    sent = [s for report in reports for s in report.sent]
    return Outcome(
        attempted=sum(report.attempted for report in reports),
        stored=sum(held_as_sent(s) for s in sent),
        lost=sum(s.acknowledged and not held_as_sent(s) for s in sent),
        duplicated=duplicated,
        errors=[error for report in reports for error in report.errors],
        draft_seconds=[t for report in reports for t in report.draft_seconds],
        submit_seconds=[t for report in reports for t in report.submit_seconds],
        seconds=max(r.finished for r in reports) - min(r.started or r.finished for r in reports),
    )
