"""Page run times on a benchmark study: 5,000 recordings, 20 coders, 20,000 ratings.

The study is written straight through the store's models into a temporary SQLite file (no
media files): 5,000 play videos, each double-coded by a random pair of 20 EA raters on
sensitivity and non-intrusiveness (scores share a latent value per recording, so the
statistics are sensible), submitted over a year; 1,000 session audios with a 10% fidelity
sample coded by one fidelity coder. A few of the first rater's recordings are left in draft,
so that submitting one can be timed.

Each page's server-side script is run under Streamlit's AppTest, signed in at the seam the
pages use (coding_app.web.identity.current), several times; the median is reported:

- agreement page (PI): cold (empty cache), warm (cached), and after a rating is submitted;
- queue page for one rater, and ``blinded.queue`` alone;
- progress and fidelity pages.

The peer is the same work without our caching and on-demand intervals: every statistic's
bootstrap for every coder pair up front, as the agreement report used to be computed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import string
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

import numpy as np
import streamlit as st
from sqlalchemy import insert, select
from streamlit.testing.v1 import AppTest

from coding_app import blinded
from coding_app.codebook import load_codebook
from coding_app.coder_agreement import agreement_report, pair_statistics
from coding_app.logins import Identity
from coding_app.store import Store
from coding_app.store.models import (
    Account,
    Assignment,
    AssignmentScale,
    Draw,
    DrawMember,
    Participant,
    Rating,
    Recording,
    RecordingKey,
    ScaleRow,
)
from coding_app.study_setup import initialise
from coding_app.web import identity, runtime

PAGES = Path(identity.__file__).with_name("views")
VIDEOS, AUDIOS, CODERS, CLINICIANS = 5_000, 1_000, 20, 8
VIDEO_SCALES = ("ea_sensitivity", "ea_non_intrusiveness")
START = datetime(2025, 1, 6, 9, tzinfo=UTC)


@dataclass(frozen=True)
class BenchStudy:
    store: Store
    coder: Account
    """The rater whose queue is timed; a few of their recordings are still drafts."""
    pi: Account
    drafts: list[str]
    """Codes of the rater's recordings left in draft, to submit one at a time."""


def _codes(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct random 8-letter codes, as the importer gives recordings."""
    letters = np.array(list(string.ascii_uppercase + string.digits))
    codes: set[str] = set()
    while len(codes) < n:
        codes |= {"".join(row) for row in letters[rng.integers(0, letters.size, (n, 8))]}
    return sorted(codes)[:n]


def _ea_scores(rng: np.random.Generator, units: int) -> np.ndarray:
    """(2 coders, units) scores on the EA grid 1-7 in halves: a latent level per unit plus each coder's noise."""
    latent = rng.normal(8, 2.2, size=units)
    levels = np.clip(np.round(latent + rng.normal(0, 1, size=(2, units))), 0, 12)
    return 1 + levels / 2


def build_study(path: Path, seed: int, drafts: int) -> BenchStudy:
    """Write the benchmark study into a new SQLite file at ``path`` (bulk inserts, no audit rows)."""
    rng = np.random.default_rng(seed)
    store = Store(f"sqlite:///{path}")
    initialise(store, load_codebook(), "bench")
    with store.write() as db:
        scale_ids = dict(db.execute(select(ScaleRow.key, ScaleRow.id)).all())
        names = [f"rater{i:02d}" for i in range(1, CODERS + 1)]
        accounts = [{"name": n, "role": "coder"} for n in names] + [
            {"name": "fidelity01", "role": "fidelity"},
            {"name": "pi01", "role": "pi"},
        ]
        db.execute(insert(Account), [a | {"password_hash": "!", "active": True} for a in accounts])
        account_ids = dict(db.execute(select(Account.name, Account.id)).all())

        codes = _codes(rng, VIDEOS + AUDIOS)
        kinds = ["video"] * VIDEOS + ["audio"] * AUDIOS
        db.execute(
            insert(Recording),
            [
                {
                    "id": i,
                    "code": c,
                    "kind": k,
                    "media_name": f"{i:08x}.{'mp4' if k == 'video' else 'm4a'}",
                    "media_type": f"{k}/mp4",
                }
                for i, (c, k) in enumerate(zip(codes, kinds, strict=True), start=1)
            ],
        )
        participants = VIDEOS // 2
        db.execute(
            insert(Participant),
            [
                {
                    "id": p,
                    "external_id": f"P{p:05d}",
                    "site": ("North", "South")[p % 2],
                    "arm": ("VIPP-PMH", "usual care")[p % 2 == 0],
                }
                for p in range(1, participants + 1)
            ],
        )
        db.execute(
            insert(RecordingKey),
            [
                {
                    "recording_id": i,
                    "external_id": f"R{i:05d}",
                    "original_path": f"/raw/R{i:05d}",
                    "content_hash": f"{i:064x}",
                    "file_metadata": {},
                    "extra": {},
                    **(
                        {
                            "participant_id": (i - 1) // 2 + 1,
                            "timepoint": ("baseline", "month 5")[i % 2],
                            "session": None,
                            "clinician": None,
                        }
                        if i <= VIDEOS
                        else {
                            "participant_id": 2 * ((i - VIDEOS - 1) // 4) + 1,
                            "timepoint": "intervention",
                            "session": str((i - VIDEOS - 1) % 4 + 1),
                            "clinician": f"clinician {(i - VIDEOS) % CLINICIANS + 1}",
                        }
                    ),
                }
                for i in range(1, VIDEOS + AUDIOS + 1)
            ],
        )

        # Video: each recording to a random pair of raters, each rater's queue in its own random order.
        pair_list = np.array(list(combinations(range(CODERS), 2)))
        pairs = pair_list[rng.integers(0, len(pair_list), VIDEOS)]
        coder_of = pairs.ravel()
        recording_of = np.repeat(np.arange(1, VIDEOS + 1), 2)
        position = np.empty_like(coder_of)
        for c in range(CODERS):
            mine = np.flatnonzero(coder_of == c)
            position[mine] = rng.permutation(mine.size) + 1
        # Audio: a 10% fidelity sample, coded by the fidelity coder.
        frame = list(range(VIDEOS + 1, VIDEOS + AUDIOS + 1))
        sampled = sorted(rng.choice(frame, AUDIOS // 10, replace=False).tolist())
        db.execute(
            insert(Draw),
            [
                {
                    "id": 1,
                    "purpose": "fidelity",
                    "seed": seed,
                    "fraction": 0.1,
                    "n": None,
                    "stratify": [],
                    "rounding": "round half up",
                    "frame": frame,
                    "strata": {"all": {"frame": AUDIOS, "drawn": len(sampled)}},
                    "created_by": "pi01",
                }
            ],
        )
        db.execute(insert(DrawMember), [{"draw_id": 1, "recording_id": r} for r in sampled])

        assignments = [
            {"id": i, "account_id": account_ids[names[c]], "recording_id": int(r), "position": int(p)}
            for i, (c, r, p) in enumerate(zip(coder_of, recording_of, position, strict=True), start=1)
        ] + [
            {"id": 2 * VIDEOS + i, "account_id": account_ids["fidelity01"], "recording_id": r, "position": i}
            for i, r in enumerate(sampled, start=1)
        ]
        db.execute(insert(Assignment), assignments)
        scales_of = {a["id"]: VIDEO_SCALES if a["id"] <= 2 * VIDEOS else ("vipp_adherence",) for a in assignments}
        db.execute(
            insert(AssignmentScale),
            [{"assignment_id": a, "scale_id": scale_ids[k]} for a, keys in scales_of.items() for k in keys],
        )

        # The first rater's last few recordings in their queue stay drafts.
        first = np.flatnonzero(coder_of == 0)
        draft_ids = set((first[np.argsort(position[first])][-drafts:] + 1).tolist())
        scores = {k: _ea_scores(rng, VIDEOS).T.ravel() for k in VIDEO_SCALES}
        days = rng.uniform(0, 365, size=2 * VIDEOS)
        ratings = [
            {
                "assignment_id": a,
                "scale_id": scale_ids[k],
                "version": 1,
                "score": float(scores[k][a - 1]),
                "notes": "",
                "status": "draft" if a in draft_ids else "submitted",
                "source": "app",
                "submitted_at": None if a in draft_ids else START + timedelta(days=float(days[a - 1])),
            }
            for a in range(1, 2 * VIDEOS + 1)
            for k in VIDEO_SCALES
        ] + [
            {
                "assignment_id": 2 * VIDEOS + i,
                "scale_id": scale_ids["vipp_adherence"],
                "version": 1,
                "score": float(rng.integers(2, 6)),
                "notes": "",
                "status": "submitted",
                "source": "app",
                "submitted_at": START + timedelta(days=float(rng.uniform(0, 365))),
            }
            for i in range(1, len(sampled) + 1)
        ]
        db.execute(insert(Rating), ratings)
        coder = db.get(Account, account_ids[names[0]])
        pi = db.get(Account, account_ids["pi01"])
        draft_codes = [codes[recording_of[a - 1] - 1] for a in sorted(draft_ids)]
    return BenchStudy(store, coder, pi, draft_codes)


@dataclass(frozen=True)
class Figure:
    name: str
    ours: float
    target: float | None = None
    peer: float | None = None
    peer_name: str = ""


def median_time(repeats: int, run: Callable[[], object], before: Callable[[], object] = lambda: None) -> float:
    """Median wall time of ``run`` over ``repeats`` runs, ``before`` (untimed) ahead of each."""
    times = []
    for _ in range(repeats):
        before()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def page_run(page: str) -> Callable[[], None]:
    """A server-side run of a page script under AppTest, as whoever :func:`sign_in` set.

    The first run of an AppTest pays for the harness (it scans every installed package for
    Streamlit components, once per AppTest); it is made here, untimed, and each call reruns
    the script as a browser's rerun would.
    """
    at = AppTest.from_file(str(PAGES / page), default_timeout=600)

    def run() -> None:
        at.run()
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception[0].message}")

    run()
    return run


def sign_in(account: Account) -> None:
    """Whoever the pages see as signed in (the seam the page tests use)."""
    identity.current = lambda: Identity(account, "bench")


def agreement_figures(study: BenchStudy, repeats: int) -> list[Figure]:
    sign_in(study.pi)
    run = page_run("agreement.py")
    cold = median_time(repeats, run, before=st.cache_data.clear)
    warm = median_time(repeats, run, before=run)
    drafts = iter(study.drafts)
    submitted = median_time(
        min(repeats, len(study.drafts)),
        run,
        before=lambda: (run(), blinded.submit(study.store, study.coder, next(drafts))),
    )
    pair = agreement_report(study.store, study.pi, pair_intervals=False).pairs.iloc[0]

    def ours() -> None:
        report = agreement_report(study.store, study.pi, pair_intervals=False)
        pair_statistics(report, pair["subscale"], pair["coder_a"], pair["coder_b"])

    return [
        Figure("agreement page, cold (empty cache)", cold, 1.5),
        Figure("agreement page, warm (cached)", warm, 1.5, cold, "the same page uncached (cold)"),
        Figure("agreement page, just after a rating is submitted", submitted, 1.5),
        Figure(
            "agreement report: every pair, one pair's intervals on demand",
            median_time(repeats, ours),
            None,
            median_time(1, lambda: agreement_report(study.store, study.pi)),
            "every pair's bootstrap up front",
        ),
    ]


def coder_figures(study: BenchStudy, repeats: int) -> list[Figure]:
    sign_in(study.coder)
    run = page_run("queue.py")
    run()
    return [
        Figure(f"queue page, {study.coder.name}", median_time(repeats, run), 0.150),
        Figure("blinded.queue alone", median_time(repeats, lambda: blinded.queue(study.store, study.coder))),
    ]


def pi_figures(study: BenchStudy, repeats: int) -> list[Figure]:
    sign_in(study.pi)
    progress, fidelity = page_run("progress.py"), page_run("fidelity.py")
    progress()
    cold = median_time(repeats, fidelity, before=st.cache_data.clear)
    return [
        Figure("progress page", median_time(repeats, progress)),
        Figure("fidelity page, cold (empty cache)", cold),
        Figure(
            "fidelity page, warm (cached)",
            median_time(repeats, fidelity, before=fidelity),
            None,
            cold,
            "the same page uncached (cold)",
        ),
    ]


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value * 1000:8.0f} ms" if value < 1 else f"{value:8.2f} s "


def print_table(figures: list[Figure]) -> None:
    print(f"{'figure':62} {'ours':>11} {'target':>11} {'verdict':8} {'peer':>11} {'ratio':>8}  peer is")
    for f in figures:
        verdict = "" if f.target is None else "meets" if f.ours <= f.target else "MISSES"
        ratio = "" if f.peer is None else f"{f.peer / f.ours:7.1f}x"
        print(
            f"{f.name:62} {_seconds(f.ours):>11} {_seconds(f.target):>11} {verdict:8} "
            f"{_seconds(f.peer):>11} {ratio:>8}  {f.peer_name}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        study = build_study(Path(folder) / "bench.db", args.seed, drafts=args.repeats)
        print(
            f"benchmark study: {VIDEOS:,} videos double-coded by pairs of {CODERS} raters on 2 scales, "
            f"{AUDIOS:,} session audios (10% fidelity sample); built in {time.perf_counter() - start:.1f} s\n"
        )
        os.environ["OBSCODE_DATABASE_URL"] = study.store.url
        runtime.store.cache_clear()
        figures = [
            *agreement_figures(study, args.repeats),
            *coder_figures(study, args.repeats),
            *pi_figures(study, args.repeats),
        ]
        print_table(figures)
        print(f"\nmedians of {args.repeats} runs each (the peer of the report: one run)")
        runtime.store().dispose()
        study.store.dispose()


if __name__ == "__main__":
    main()
