"""The analysis dataset: the codebook's rule picks the score that counts; exclusions are listed; reads are the PI's,
after lock, audited."""

from __future__ import annotations

import pytest

from coding_app.analysis import CodingOpen, analysis_dataset
from coding_app.assignments import AssignmentError, assign
from coding_app.codebook import ANALYSIS_SCORES, DEFAULT_CODEBOOK, CodebookError, load_codebook
from coding_app.consensus import record_consensus
from coding_app.errors import NotAllowed
from coding_app.imports.ratings import import_ratings
from coding_app.lock import lock
from coding_app.study_setup import initialise
from outcomes import outcome_tables
from tests.coding_app.helpers import add_account, add_recordings, audit_rows, write_csv

VIPP, UC = "VIPP-PMH", "usual care"
VISITS = [  # recording, participant, arm, timepoint
    ("V1", "P1", VIPP, "baseline"),
    ("V2", "P1", VIPP, "month 5"),
    ("V3", "P3", UC, "baseline"),
    ("V4", "P3", UC, "month 5"),
    ("V5", "P5", "", "baseline"),
    ("V6", "P2", VIPP, "baseline"),
    ("V7", "P4", UC, "baseline"),
    ("V8", "P4", UC, "baseline"),
]
SENSITIVITY = {  # (recording, coder) -> score; rater.two is V1-V8's primary (first assigned)
    ("V1", "rater.one"): "5",
    ("V1", "rater.two"): "6",
    ("V2", "rater.two"): "6.5",
    ("V3", "rater.one"): "4",
    ("V4", "rater.one"): "3",
    ("V4", "rater.two"): "3.5",
    ("V5", "rater.two"): "6",
    ("V7", "rater.two"): "5",
    ("V8", "rater.two"): "5.5",
}
NOT_COUNTED = {  # under every rule
    "V5": "the participant is not allocated to an arm",
    "V6": "no submitted rating",
    "V7": "another recording of the same participant, timepoint and scale: neither is counted",
    "V8": "another recording of the same participant, timepoint and scale: neither is counted",
}


def trial(study, rule: str):
    codebook = study.root / "codebook.toml"
    codebook.write_text(
        DEFAULT_CODEBOOK.read_text(encoding="utf-8") + f'\n[study]\narms = ["{VIPP}", "{UC}"]\n'
        'timepoints = ["baseline", "month 5", "month 8"]\n'
        f'[analysis]\nscore = "{rule}"\ncontrol = "{UC}"\nbaseline = "baseline"\n',
        encoding="utf-8",
    )
    initialise(study.store, load_codebook(codebook), "test")
    study.codes = add_recordings(
        study.store, [dict(recording_id=r, participant_id=p, arm=a, timepoint=t, kind="video") for r, p, a, t in VISITS]
    )
    study.accounts = {
        name: add_account(study.store, name, role)
        for name, role in (("rater.one", "coder"), ("rater.two", "coder"), ("pi.one", "pi"))
    }
    assign(study.store, ["rater.two", "rater.one"], kind="video", seed=1, actor="pi.one")
    rows = [dict(recording_id=r, coder=c, scale="ea_sensitivity", score=s) for (r, c), s in SENSITIVITY.items()]
    import_ratings(
        study.store, write_csv(study.root / "r.csv", rows, ("recording_id", "coder", "scale", "score")), "pi.one"
    )
    record_consensus(study.store, study.accounts["pi.one"], study.codes["V4"], "ea_sensitivity", 4, "watched together")
    return study


@pytest.mark.parametrize(
    ("rule", "counted", "listed"),
    [
        (
            "consensus_else_primary",
            [
                ("P1", "baseline", 6.0, "primary (rater.two)"),
                ("P1", "month 5", 6.5, "primary (rater.two)"),
                ("P3", "month 5", 4.0, "consensus"),
            ],
            {"V3": "no consensus rating and the primary coder rater.two has not submitted a rating"},
        ),
        (
            "primary",
            [
                ("P1", "baseline", 6.0, "primary (rater.two)"),
                ("P1", "month 5", 6.5, "primary (rater.two)"),
                ("P3", "month 5", 3.5, "primary (rater.two)"),
            ],
            {"V3": "the primary coder rater.two has not submitted a rating"},
        ),
        (
            "mean",
            [
                ("P1", "baseline", 5.5, "mean of 2"),
                ("P3", "baseline", 4.0, "mean of 1"),
                ("P1", "month 5", 6.5, "mean of 1"),
                ("P3", "month 5", 3.25, "mean of 2"),
            ],
            {},
        ),
    ],
)
def test_the_score_that_counts_follows_the_codebook_rule_and_what_cannot_count_is_listed(study, rule, counted, listed):
    trial(study, rule)
    pi = study.accounts["pi.one"]
    lock(study.store, pi, "ea_sensitivity")
    data = analysis_dataset(study.store, pi)
    assert list(data.scales) == ["ea_sensitivity"]  # the other scales are still open
    assert data.rows[["participant", "timepoint", "score", "source"]].apply(tuple, axis=1).tolist() == counted
    assert data.rows["class"].tolist() == [
        "Sensitive" if s >= 5.5 else "Inconsistent or insensitive" for _, _, s, _ in counted
    ]
    codes = {code: name for name, code in study.codes.items()}
    assert {
        codes[c]: r for c, r in zip(data.listed["recording"], data.listed["reason"], strict=True)
    } == NOT_COUNTED | listed
    described = data.describe()  # in words: the rule's meaning and the scale's label, no codebook keys
    assert ANALYSIS_SCORES[rule] in described and "Maternal sensitivity (EA Scales): locked on" in described
    assert "ea_sensitivity" not in described and f"({rule})" not in described
    if rule == "mean":  # a mean of two half points is a quarter point: the outcome tables take it on a finer grid
        tables = outcome_tables(**data.outcome_inputs())
        row = tables.rows.set_index("timepoint").loc["month 5"]
        assert (row["mean_treatment"], row["mean_control"], row["events_treatment"], row["events_control"]) == (
            6.5,
            3.25,
            1,
            0,
        )


def test_unblinded_reads_need_the_pi_and_the_lock_or_an_interim_reason_and_each_is_audited(study):
    trial(study, "consensus_else_primary")
    store, pi, rater = study.store, study.accounts["pi.one"], study.accounts["rater.one"]
    with pytest.raises(NotAllowed):
        analysis_dataset(store, rater)
    with pytest.raises(CodingOpen, match="only after coding is locked"):
        analysis_dataset(store, pi)
    assert [(e.actor, e.entity) for e in audit_rows(store, "refused.unblinding")] == [
        ("rater.one", "analysis"),
        ("pi.one", "analysis"),
    ]
    assert audit_rows(store, "unblind.key_table") == []  # nothing of the key was read
    interim = analysis_dataset(store, pi, interim="DMC safety review")
    assert set(interim.scales) == {"ea_sensitivity", "ea_non_intrusiveness", "vipp_adherence"}
    assert "INTERIM read before lock: DMC safety review" in interim.describe()
    lock(store, pi)
    analysis_dataset(store, pi)
    reads = audit_rows(store, "outcomes.read")
    assert [(e.actor, e.reason, e.new["interim"]) for e in reads] == [
        ("pi.one", "DMC safety review", True),
        ("pi.one", None, False),
    ]
    assert [e.actor for e in audit_rows(store, "unblind.key_table")] == ["pi.one", "pi.one"]


def test_the_primary_coder_is_named_at_assignment_or_is_the_first_assigned_and_never_changes(study):
    trial(study, "primary")
    store = study.store
    add_recordings(store, [dict(recording_id="V9", participant_id="P1", arm=VIPP, timepoint="month 8", kind="video")])
    with pytest.raises(AssignmentError, match="must be one of the coders assigned"):
        assign(store, ["rater.two"], kind="video", seed=1, actor="pi.one", primary="rater.one")
    with pytest.raises(AssignmentError, match="already have another primary coder"):
        assign(store, ["rater.one"], kind="video", seed=1, actor="pi.one", primary="rater.one")
    assign(
        store,
        ["rater.two", "rater.one"],
        kind="video",
        recordings="unassigned",
        seed=1,
        actor="pi.one",
        primary="rater.one",
    )
    rows = [
        dict(recording_id="V9", coder=c, scale="ea_sensitivity", score=s)
        for c, s in (("rater.one", "2"), ("rater.two", "7"))
    ]
    import_ratings(store, write_csv(study.root / "v9.csv", rows, ("recording_id", "coder", "scale", "score")), "pi.one")
    lock(store, study.accounts["pi.one"])
    rows = analysis_dataset(store, study.accounts["pi.one"]).rows.set_index(["participant", "timepoint", "scale"])
    assert rows.loc[("P1", "month 8", "ea_sensitivity"), "source"] == "primary (rater.one)"
    assert rows.loc[("P1", "month 5", "ea_sensitivity"), "source"] == "primary (rater.two)"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('score = "median"', "score must be one of consensus_else_primary, primary, mean, not 'median'"),
        ('control = ""', "control must be a label"),
        ('primary = "rater.one"', "has unknown field primary"),
    ],
)
def test_a_bad_analysis_section_is_refused_naming_the_field(tmp_path, section, message):
    path = tmp_path / "codebook.toml"
    path.write_text(DEFAULT_CODEBOOK.read_text(encoding="utf-8") + f"\n[analysis]\n{section}\n", encoding="utf-8")
    with pytest.raises(CodebookError, match=f"codebook codebook.toml: \\[analysis\\] {message}"):
        load_codebook(path)


def test_the_analysis_rule_cannot_change_while_coding_is_locked(study):
    trial(study, "primary")
    pi = study.accounts["pi.one"]
    lock(study.store, pi, "ea_sensitivity")
    mean = study.root / "mean.toml"
    mean.write_text(
        (study.root / "codebook.toml").read_text(encoding="utf-8").replace('score = "primary"', 'score = "mean"'),
        encoding="utf-8",
    )
    with pytest.raises(CodebookError, match="cannot change while coding is locked"):
        initialise(study.store, load_codebook(mean), "pi.one")
    assert analysis_dataset(study.store, pi).rule.score == "primary"
