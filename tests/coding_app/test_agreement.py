"""The PI's agreement report, on SQLite and PostgreSQL: numbers, disagreements, drift, caching key."""

import dataclasses
from functools import partial

import pandas as pd
import pytest

from coding_app import blinded, flags
from coding_app.accounts import account_named, add_account
from coding_app.assignments import assign
from coding_app.changes import study_version
from coding_app.codebook import load_codebook
from coding_app.coder_agreement import (
    agreement_over_time,
    agreement_report,
    disagreements,
    methods_paragraph,
    pair_scores,
    pair_statistics,
)
from coding_app.consensus import record_consensus
from coding_app.errors import NotAllowed
from coding_app.imports.master_codes import import_master_codes
from coding_app.imports.ratings import import_ratings
from coding_app.ratings import reopen
from coding_app.store.models import Recording
from coding_app.study_setup import initialise
from coding_app.unblinding import key_table
from coding_app.web import report_cache, runtime
from reliability import Scale, agreement_table

EA = Scale(1, 7, 0.5, threshold=5.5)
A = [5.5, 6.0, 3.0, 7.0, 4.5, 6.5]
B = [5.0, 6.0, 4.5, 7.0, 4.5, 5.5]
C = [5.5, 6.5, 3.5, 6.5, 5.0, 6.0]


@pytest.fixture
def rated(store, tmp_path):
    initialise(store, load_codebook(), "test")
    codes = [f"CODE{i}AAA" for i in range(len(A))]
    with store.write() as db:
        db.add_all(
            Recording(code=c, kind="video", media_name=f"m{i}.mp4", media_type="video/mp4") for i, c in enumerate(codes)
        )
        for name in ("ann", "bob", "cat"):
            add_account(db, name, "coder", "a-long-password", "test")
        add_account(db, "pat", "pi", "a-long-password", "test")
    assign(store, ["ann", "bob", "cat"], kind="video", scales=["ea_sensitivity"], seed=1, actor="test")
    rows = [
        (c, coder, s)
        for coder, scores in (("ann", A), ("bob", B), ("cat", C))
        for c, s in zip(codes, scores, strict=True)
    ]
    path = tmp_path / "ratings.csv"
    pd.DataFrame(rows, columns=["recording_id", "coder", "score"]).assign(scale="ea_sensitivity").to_csv(
        path, index=False
    )
    import_ratings(store, path, "test")
    with store.read() as db:
        pi, coder = account_named(db, "pat"), account_named(db, "ann")
    return store, pi, coder, codes


def test_only_a_pi_gets_the_report(rated):
    store, _, coder, _ = rated
    with pytest.raises(NotAllowed):
        agreement_report(store, coder)


def test_pair_rows_are_the_reliability_table_of_the_same_scores(rated):
    store, pi, _, codes = rated
    report = agreement_report(store, pi, n_boot=200, seed=3)
    expected = agreement_table(
        pd.DataFrame(
            {
                "unit": codes * 3,
                "coder": ["ann"] * 6 + ["bob"] * 6 + ["cat"] * 6,
                "subscale": "ea_sensitivity",
                "score": A + B + C,
            }
        ),
        {"ea_sensitivity": EA},
        n_boot=200,
        seed=3,
    )
    pd.testing.assert_frame_equal(report.pairs.reset_index(drop=True), expected, check_dtype=False)
    (alpha,) = report.alphas.itertuples()
    assert (alpha.scale, alpha.coders, alpha.n) == ("ea_sensitivity", 3, 6)


def test_a_pair_shown_on_demand_is_its_row_of_the_full_table(rated):
    store, pi, _, _ = rated
    full = agreement_report(store, pi, n_boot=200, seed=3)
    lean = agreement_report(store, pi, n_boot=200, seed=3, pair_intervals=False)
    interval = ["alpha_se", "alpha_ci_low", "alpha_ci_high"]
    assert lean.pairs[interval].isna().all().all() and full.pairs[interval].notna().all().all()
    pd.testing.assert_frame_equal(lean.pairs.drop(columns=interval), full.pairs.drop(columns=interval))
    shown = pd.DataFrame(
        [pair_statistics(lean, row.subscale, row.coder_a, row.coder_b) for row in full.pairs.itertuples()]
    )
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), full.pairs, check_dtype=False)


def test_disagreements_are_more_than_a_point_apart_or_across_the_threshold(rated):
    store, pi, _, codes = rated
    report = agreement_report(store, pi, n_boot=0)
    flagged = disagreements(report, "ea_sensitivity", "ann", "bob")
    # ann/bob: 5.5 vs 5.0 crosses 5.5; 3.0 vs 4.5 is 1.5 apart; 6.5 vs 5.5 is neither.
    assert flagged[["code", "reason"]].values.tolist() == [
        [codes[0], "opposite sides of the threshold"],
        [codes[2], "more than 1 point apart"],
    ]


def test_rolling_agreement_follows_completion_order():
    scores = pd.DataFrame(
        {
            "code": list("wxyz"),
            "a": [5, 5, 5, 5],
            "b": [5, 6, 7, 5],
            "submitted_at": pd.to_datetime(["2026-01-04", "2026-01-01", "2026-01-02", "2026-01-03"]),
        }
    )
    rolling = agreement_over_time(scores, window=2)
    # completion order: x (1 apart), y (2 apart), z (equal), w (equal)
    assert rolling["exact"].tolist() == [0.0, 0.0, 0.5, 1.0]
    assert rolling["within_one"].tolist() == [1.0, 0.5, 0.5, 1.0]


def test_pair_scores_line_up_the_two_coders(rated):
    store, pi, _, codes = rated
    scores = pair_scores(agreement_report(store, pi, n_boot=0), "ea_sensitivity", "bob", "cat")
    assert scores.set_index("code").loc[codes[2], ["a", "b"]].tolist() == [4.5, 3.5]


def _submit_a_rating(store, pi, codes, tmp_path):
    with store.write() as db:
        add_account(db, "dan", "coder", "a-long-password", "test")
    path = tmp_path / "more.csv"
    path.write_text(f"recording_id,coder,scale,score\n{codes[0]},dan,ea_sensitivity,5\n")
    import_ratings(store, path, "test")


def _import_master_codes(store, pi, codes, tmp_path):
    """The first recording becomes a training recording: it leaves the agreement figures."""
    path = tmp_path / "master.csv"
    path.write_text(f"recording_id,scale,score\n{codes[0]},ea_sensitivity,5.5\n")
    import_master_codes(store, pi, path)


def _reopen(store, pi, codes, tmp_path):
    reopen(store, pi, codes[0], "ann", "ea_sensitivity", "scored the wrong clip")


def _consensus(store, pi, codes, tmp_path):
    record_consensus(store, pi, codes[2], "ea_sensitivity", 4, "reviewed together")


@pytest.mark.parametrize("change", [_submit_a_rating, _import_master_codes, _reopen, _consensus])
def test_a_cached_report_is_rebuilt_after_every_change_to_the_study(rated, tmp_path, monkeypatch, change):
    store, pi, _, codes = rated
    monkeypatch.setattr(runtime, "store", lambda: store)
    report_cache._cached.clear()
    built = []

    def build(store, pi):
        built.append(1)
        return agreement_report(store, pi, n_boot=0)

    first = report_cache.pi_report("agreement", build, pi)
    assert report_cache.pi_report("agreement", build, pi).pairs.equals(first.pairs) and len(built) == 1
    change(store, pi, codes, tmp_path)
    rebuilt = report_cache.pi_report("agreement", build, pi)
    assert len(built) == 2
    assert rebuilt.ratings.equals(agreement_report(store, pi, n_boot=0).ratings)


def test_the_cached_agreement_shows_the_new_numbers_once_master_codes_make_a_recording_training(
    rated, tmp_path, monkeypatch
):
    store, pi, _, codes = rated
    monkeypatch.setattr(runtime, "store", lambda: store)
    report_cache._cached.clear()
    build = partial(agreement_report, n_boot=0)
    before = report_cache.pi_report("agreement", build, pi)
    _import_master_codes(store, pi, codes, tmp_path)
    after = report_cache.pi_report("agreement", build, pi)
    n = lambda report: report.pairs.set_index(["coder_a", "coder_b"]).loc[("ann", "bob"), "n"]  # noqa: E731
    assert (n(before), n(after)) == (6, 5)


def test_the_cached_agreement_leaves_out_a_recording_once_it_is_excluded(rated, monkeypatch):
    """A fourth coder flags a recording and the PI excludes it: the cached figures are rebuilt without it."""
    store, pi, _, codes = rated
    monkeypatch.setattr(runtime, "store", lambda: store)
    report_cache._cached.clear()
    build = partial(agreement_report, n_boot=0)
    before = report_cache.pi_report("agreement", build, pi)
    with store.write() as db:
        add_account(db, "dan", "coder", "a-long-password", "test")
    assign(store, ["dan"], kind="video", recordings=codes[0], scales=["ea_sensitivity"], seed=1, actor="test")
    with store.read() as db:
        dan = account_named(db, "dan")
    blinded.flag(store, dan, codes[0], "no_picture")
    flags.exclude(store, pi, flags.open_flags(store, pi)[0].id, "no picture at all")
    after = report_cache.pi_report("agreement", build, pi)
    n = lambda report: report.pairs.set_index(["coder_a", "coder_b"]).loc[("ann", "bob"), "n"]  # noqa: E731
    assert (n(before), n(after)) == (6, 5)
    assert codes[0] not in set(after.ratings["code"])


def test_reads_and_a_coders_drafts_leave_the_study_version_alone(rated):
    """Rows that change nothing a report shows (a read of the key, a sign-in, a refusal, a draft) keep the cache."""
    store, pi, coder, codes = rated
    before = study_version(store)
    key_table(store, pi, "a look")
    with pytest.raises(NotAllowed):
        agreement_report(store, coder)
    assert study_version(store) == before
    _consensus(store, pi, codes, None)
    assert study_version(store) > before


def test_methods_paragraph_reports_kappa_for_two_coders_and_alpha_for_more(rated):
    store, pi, _, codes = rated
    report = agreement_report(store, pi, n_boot=200, seed=3)
    alpha = report.alphas.iloc[0]
    assert methods_paragraph(report, "videos") == (
        f"Three raters independently coded 6 videos; Krippendorff's alpha (ordinal) was {alpha['alpha']:.2f} "
        f"(95% CI {alpha['ci_low']:.2f} to {alpha['ci_high']:.2f}) for maternal sensitivity."
    )
    two = dataclasses.replace(
        report, pairs=report.pairs[(report.pairs["coder_a"] == "ann") & (report.pairs["coder_b"] == "bob")]
    )
    row = two.pairs.iloc[0]
    assert methods_paragraph(two, "videos") == (
        f"Two raters independently coded 6 videos; quadratic weighted Cohen's kappa was {row['kappa_quadratic']:.2f} "
        f"(95% CI {row['kappa_quadratic_ci_low']:.2f} to {row['kappa_quadratic_ci_high']:.2f}) "
        "for maternal sensitivity."
    )
