"""The PI's pages read as a PI reads them (AppTest): headers in words, no "None", scale labels,
statistics grouped by what they are computed on, one legend per interpretation scheme with its
reference, what to do next, and a consensus form that names the scale and confirms the save.
"""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coding_app import blinded
from coding_app.coder_agreement import agreement_report
from coding_app.consensus import consensus_ratings
from coding_app.imports.master_codes import import_master_codes
from coding_app.lock import lock
from coding_app.logins import Identity
from coding_app.reliability_report import report_html
from coding_app.sampling import draw_fidelity
from coding_app.web import identity, report_cache

PAGES = Path(identity.__file__).with_name("views")
SENSITIVITY = "Maternal sensitivity (EA Scales)"
NON_INTRUSIVENESS = "Maternal non-intrusiveness (EA Scales)"
# ann and bob on the three videos: the first 5.5 against 5 (opposite sides of 5.5), the others close
SCORES = {"ann": (5.5, 6.0, 3.0), "bob": (5.0, 6.0, 3.5)}


@pytest.fixture
def as_user(web_study, monkeypatch):
    report_cache._cached.clear()  # PI reports are cached by study version, on any database: none kept across tests

    def sign_in(name: str) -> None:
        monkeypatch.setattr(identity, "current", lambda: Identity(web_study.account(name), "test-session"))

    yield sign_in
    report_cache._cached.clear()


@pytest.fixture
def double_coded(web_study):
    """ann and bob have submitted the three videos on both EA scales; returns the video ann and bob put apart."""
    codes = web_study.codes["ann"]
    for name, scores in SCORES.items():
        account = web_study.account(name)
        for code, score in zip(codes, scores, strict=True):
            for scale in ("ea_sensitivity", "ea_non_intrusiveness"):
                blinded.save_draft(web_study.store, account, code, scale, score)
            blinded.submit(web_study.store, account, code)
    return codes[0]


def run(page: str) -> AppTest:
    return AppTest.from_file(str(PAGES / page), default_timeout=60).run()


def texts(at: AppTest, *kinds: str) -> str:
    kinds = kinds or ("title", "subheader", "markdown", "caption", "info", "error", "success", "warning")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def assert_tables_read_cleanly(at: AppTest) -> None:
    """Every table: no snake_case header, no empty cell (the grid would draw it as "None")."""
    assert at.dataframe
    for frame in at.dataframe:
        table = frame.value
        assert not [c for c in table.columns if "_" in str(c)], list(table.columns)
        assert not table.isna().any().any(), table
        assert not table.astype(str).isin(["None", "nan", "NaT"]).any().any(), table


def selectbox(at: AppTest, label: str):
    return next(box for box in at.selectbox if box.label == label)


def test_the_agreement_page_groups_statistics_explains_its_words_and_says_what_waits(as_user, double_coded):
    as_user("pat")
    at = run("agreement.py")
    assert not at.exception, at.exception
    assert_tables_read_cleanly(at)
    alphas, full, classes = (frame.value for frame in at.dataframe[:3])
    assert list(alphas["scale"]) == [SENSITIVITY, NON_INTRUSIVENESS]
    assert {"95% CI low", "95% CI high", "interpretation"} <= set(alphas.columns)
    # what each group is computed on, said above it; Gwet's AC1 on the grid's levels, not the classes
    said = texts(at, "markdown")
    assert "On the full scale: 13 levels, 1 to 7 by 0.5" in said
    assert "On the two classes: Sensitive (5.5 or more) and Inconsistent or insensitive (below)" in said
    assert "Gwet AC1" in list(full["statistic"]) and list(classes["statistic"]) == [
        "class agreement (>= 5.5)",
        "class kappa (>= 5.5)",
    ]
    legends = texts(at, "caption")
    assert "Landis & Koch (1977)" in legends and "Koo & Li (2016)" in legends and "Krippendorff (2004)" in legends
    assert "almost perfect 0.81 or more" in legends and "good 0.75 to under 0.9" in legends
    assert (
        f"2 disagreements wait for a consensus rating ({SENSITIVITY}: 1; {NON_INTRUSIVENESS}: 1)" in at.warning[0].value
    )
    # the scatter's dashed lines say why they sit at 5.25
    scatter = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert "class boundary 5.25: between 5 and 5.5 on the 0.5-point grid (Sensitive from 5.5)" in [
        t.get("name") for t in scatter["data"]
    ]


def test_the_consensus_form_names_the_scale_offers_its_grid_and_confirms_the_save(as_user, web_study, double_coded):
    as_user("pat")
    at = run("agreement.py")
    assert selectbox(at, "Recording").value == double_coded
    score = selectbox(at, f"Consensus score on {SENSITIVITY}")
    assert score.value is None  # nothing chosen for the PI
    assert "5.5  (given by ann)" in score.options and "5  (given by bob)" in score.options and "6.5" in score.options
    at.text_area[0].input("reviewed together")
    at.button[0].click().run()
    assert "Choose the consensus score." in texts(at, "error")
    assert consensus_ratings(web_study.store, web_study.account("pat")).empty

    selectbox(at, f"Consensus score on {SENSITIVITY}").select(5.5)
    at.text_area[0].input("reviewed together")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert f"Consensus for {double_coded}, {SENSITIVITY}: 5.5 saved." in texts(at, "success")
    settled = consensus_ratings(web_study.store, web_study.account("pat"))
    assert settled[["code", "scale", "score"]].values.tolist() == [[double_coded, "ea_sensitivity", 5.5]]
    assert f"1 disagreement waits for a consensus rating ({NON_INTRUSIVENESS}: 1)" in at.warning[0].value


def test_a_locked_scale_offers_no_consensus_form_and_nothing_waits_on_it(as_user, web_study, double_coded):
    lock(web_study.store, web_study.account("pat"), "ea_sensitivity")
    as_user("pat")
    at = run("agreement.py")
    assert not at.exception, at.exception
    assert f"1 disagreement waits for a consensus rating ({NON_INTRUSIVENESS}: 1)" in at.warning[0].value
    assert "Coding of this scale is locked: no consensus rating can be recorded now" in texts(at, "info")
    assert not [box for box in at.selectbox if box.label.startswith("Consensus score")]


def test_the_certification_page_names_the_rule_in_words_and_who_is_below_it(as_user, web_study, tmp_path):
    pat = web_study.account("pat")
    masters = tmp_path / "master.csv"
    masters.write_text(
        "recording_id,scale,score\n" + "".join(f"{code},ea_sensitivity,5\n" for code in web_study.codes["ann"])
    )
    import_master_codes(web_study.store, pat, masters)
    ann = web_study.account("ann")
    for code in web_study.codes["ann"]:
        for scale in ("ea_sensitivity", "ea_non_intrusiveness"):
            blinded.save_draft(web_study.store, ann, code, scale, 5.0)
        blinded.submit(web_study.store, ann, code)
    as_user("pat")
    at = run("certification.py")
    assert not at.exception, at.exception
    assert_tables_read_cleanly(at)
    table = at.dataframe[0].value
    assert "weighted kappa (quadratic)" in table.columns and set(table["scale"]) == {SENSITIVITY}
    assert set(table["certified (UTC)"]) == {"—"}
    assert "Rule: weighted kappa (quadratic) with the master codes of at least 0.8, over at least 8" in texts(
        at, "caption"
    )
    steps = at.warning[0].value
    assert f"ann is below the certification rule on {SENSITIVITY} (3 training recordings coded)" in steps
    assert f"bob is below the certification rule on {SENSITIVITY} (0 training recordings coded)" in steps


def test_the_fidelity_page_says_what_waits_and_draws_the_whole_scale(as_user, web_study):
    as_user("pat")
    assert "No session audio has been drawn for fidelity coding" in run("fidelity.py").warning[0].value
    draw_fidelity(web_study.store, fraction=1.0, seed=3, actor="pat")
    assert "1 sampled session is not coded yet" in run("fidelity.py").warning[0].value
    fay, code = web_study.account("fay"), web_study.codes["fay"][0]
    blinded.save_draft(web_study.store, fay, code, "vipp_adherence", 2)
    blinded.submit(web_study.store, fay, code)
    at = run("fidelity.py")
    assert not at.exception, at.exception
    assert_tables_read_cleanly(at)
    assert "1 coded session scored below acceptable fidelity (3)" in at.warning[0].value
    assert "Adherence on VIPP-PMH adherence to the manual, 1 to 5" in texts(at, "caption")
    assert {"mean adherence", "share sampled", "share acceptable"} <= set(at.dataframe[0].value.columns)
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert chart["layout"]["yaxis"]["range"] == [1, 5.25]  # the whole 1-5 scale
    [label] = chart["layout"]["annotations"]
    # inside the plot at its left edge, above the line: nothing to clip it
    assert (label["text"], label["x"], label["xanchor"], label["yanchor"]) == ("acceptable (>= 3)", 0, "left", "bottom")


def test_the_reliability_report_lists_the_disagreements_and_explains_its_words(web_study, double_coded):
    pat = web_study.account("pat")
    html = report_html(agreement_report(web_study.store, pat, n_boot=50), consensus_ratings(web_study.store, pat))
    readable = html.split("</script>", 1)[1]  # after plotly.js itself
    assert readable.count("<h3>Disagreements</h3>") == 2  # one list per scale
    assert readable.count("1 recordings more than a point apart or on opposite sides of the threshold; 1 waiting") == 2
    listed = readable.split("<h3>Disagreements</h3>", 1)[1].split("</table>", 1)[0]
    assert double_coded in listed and "opposite sides of the threshold" in listed and "<td>5.5</td>" in listed
    assert (
        "Landis &amp; Koch (1977)" in readable
        and "Koo &amp; Li (2016)" in readable
        and "Krippendorff (2004)" in readable
    )
    assert "On the two classes: Sensitive (5.5 or more)" in readable and "ci_low" not in readable
