"""Every page on the demo study, with AppTest: what each shows each role, consensus, and that no
other role reaches the PI's pages or their data.

The demo study (the one `make run` serves) is loaded once; each test works on its own copy of
its database, so that what one test writes (a consensus rating, refusals in the audit log) is
not there for another, and each can state exactly what it expects.
"""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from coding_app.accounts import account_named
from coding_app.coder_agreement import agreement_report
from coding_app.consensus import consensus_ratings
from coding_app.logins import Identity
from coding_app.media import MediaStore
from coding_app.reliability_report import file_names, report_html, report_tables, tables_csv_zip, tables_xlsx
from coding_app.store import Store
from coding_app.web import identity, runtime
from fixtures.load_demo import load_demo
from tests.coding_app.helpers import audit_rows
from tests.conftest import copy_database

APP = Path(identity.__file__).with_name("app.py")
PAGES = APP.with_name("views")
PI_PAGES = {
    "agreement": ("Agreement", "For the methods section"),
    "progress": ("Coding progress", "left to code"),  # a header: a coder's own name is in their sidebar
    "certification": ("Coder certification", "rater.three"),
    "fidelity": ("Treatment fidelity", "clinician"),
}


@dataclass
class DemoStudy:
    database: Path
    media: Path


@pytest.fixture(scope="session")
def demo_study(demo, tmp_path_factory) -> DemoStudy:
    """The demo study loaded into a SQLite database of its own, from the session's generated sources."""
    root = tmp_path_factory.mktemp("demo-pi")
    shutil.copytree(demo.parent, root / "study")
    study = DemoStudy(root / "obscode.db", root / "media-store")
    store = Store(f"sqlite:///{study.database}")
    load_demo(store, MediaStore(study.media), root / "study")
    store.dispose()
    return study


@pytest.fixture
def as_user(demo_study, tmp_path, monkeypatch):
    """Serve a fresh copy of the demo study to this process's pages, signed in as ``name`` (AppTest cannot
    send cookies). The media are only read: the copy shares them."""
    database = copy_database(demo_study.database, tmp_path / "obscode.db")
    monkeypatch.setenv("OBSCODE_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("OBSCODE_MEDIA_DIR", str(demo_study.media))
    runtime.store.cache_clear()
    runtime.media.cache_clear()

    def sign_in(name: str):
        with runtime.store().read() as db:
            account = account_named(db, name)
        monkeypatch.setattr(identity, "current", lambda: Identity(account, "test-session"))
        return account

    yield sign_in
    runtime.store().dispose()
    runtime.store.cache_clear()
    runtime.media.cache_clear()


def open_page(name: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    return at.run().switch_page(f"views/{name}.py").run()


def shown(at: AppTest) -> str:
    kinds = ("title", "markdown", "caption", "info", "error", "success", "warning", "subheader")
    parts = [str(e.value) for kind in kinds for e in getattr(at, kind)]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    return "\n".join(parts)


@pytest.mark.parametrize("page", PI_PAGES)
def test_each_pi_page_shows_the_demo_study(as_user, page):
    as_user("pi.one")
    at = open_page(page)
    assert not at.exception, at.exception
    title, expected = PI_PAGES[page]
    assert at.title[0].value == title
    assert expected in shown(at)


def test_the_agreement_page_leaves_training_out_and_offers_the_report(as_user):
    as_user("pi.one")
    at = open_page("agreement")
    text = shown(at)
    assert "rater.three" not in text  # only training recordings are shared with rater.three
    assert "Two raters independently coded 22 recordings" in text
    assert at.get("download_button") == []  # prepared on request, each step named as it runs
    next(button for button in at.button if button.label == "Prepare the report and tables").click().run()
    [status] = at.status
    assert (status.label, status.state) == ("The report and tables are ready to download", "complete")
    assert "Prepare the report and tables" not in [button.label for button in at.button]  # gone once taken
    assert [m.value for m in status.markdown] == [
        "Bootstrapping every coder pair's agreement intervals...",
        "Drawing the figures into the HTML report...",
        "Writing the tables (Excel)...",
        "Writing the tables (CSV, zipped)...",
    ]
    labels = [button.proto.label for button in at.get("download_button")]
    assert labels == ["Reliability report (HTML)", "Tables (Excel)", "Tables (CSV, zipped)"]


def test_certification_shows_who_is_certified_and_the_trainee_history(as_user):
    as_user("pi.one")
    at = open_page("certification")
    table = at.dataframe[0].value.set_index(["coder", "scale"])
    assert set(table.loc[["rater.one", "rater.two"], "status"]) == {"certified"}
    assert set(table.loc["rater.three", "status"]) == {"in training"}
    assert set(table.loc["rater.three", "training recordings coded"]) == {5}
    at.selectbox[0].select("rater.three").run()
    assert at.dataframe[1].value["recordings"].tolist() == [1, 2, 3, 4, 5]


def test_a_consensus_rating_is_recorded_from_the_disagreement_list(as_user):
    pi = as_user("pi.one")
    at = open_page("agreement")
    assert consensus_ratings(runtime.store(), pi).empty  # the demo has none
    code = at.selectbox[2].value
    next(box for box in at.selectbox if box.label.startswith("Consensus score on")).select(5.5)  # none chosen to start
    at.text_area[0].input("reviewed the clip together")
    at.button[0].click().run()
    assert not at.exception, at.exception
    added = consensus_ratings(runtime.store(), pi)
    assert added[["code", "reason", "decided_by"]].values.tolist() == [[code, "reviewed the clip together", "pi.one"]]


@pytest.mark.parametrize("who", ["rater.one", "fidelity.one"])
def test_no_coder_reaches_a_pi_page_or_its_data(as_user, who):
    account = as_user(who)
    pi_text = {page: expected for page, (_, expected) in PI_PAGES.items()}
    for page in PI_PAGES:
        at = open_page(page)  # by its URL, through the app's navigation
        text = shown(at)
        assert "This page is not available to your account." in text, page
        assert pi_text[page] not in text and not at.dataframe and not at.get("plotly_chart"), page
    refused = audit_rows(runtime.store(), "refused.page")
    assert [(r.actor, r.entity_id) for r in refused] == [(who, page) for page in PI_PAGES]
    home = AppTest.from_file(str(APP), default_timeout=60).run()
    assert home.title[0].value == "My queue"
    assert not {title for title, _ in PI_PAGES.values()} & {t.value for t in home.title}
    with pytest.raises(PermissionError):
        agreement_report(runtime.store(), account)


def test_the_report_and_its_tables_say_nothing_that_unblinds(as_user, demo):
    pi = as_user("pi.one")
    report, consensus = agreement_report(runtime.store(), pi), consensus_ratings(runtime.store(), pi)
    html = report_html(report, consensus)
    tables = report_tables(report, consensus)
    assert list(tables) == ["alpha", "pairs", "disagreements", "consensus", "double_coded_ratings"]
    assert set(tables["double_coded_ratings"]["coder"]) == {"rater.one", "rater.two"}  # no training recordings
    workbook = pd.read_excel(io.BytesIO(tables_xlsx(tables)), sheet_name=None)
    assert list(workbook) == list(tables) and len(workbook["pairs"]) == len(tables["pairs"]) == 2
    with zipfile.ZipFile(io.BytesIO(tables_csv_zip(tables))) as archive:
        csvs = {name: archive.read(name).decode() for name in archive.namelist()}
    assert sorted(csvs) == sorted(f"{name}.csv" for name in tables)
    # the report stands alone: plotly.js inside, nothing fetched, a figure per picture
    readable = html.split("</script>", 1)[1]  # after plotly.js itself
    assert "<script src" not in html and readable.count("Plotly.newPlot") == 8  # 4 pictures x 2 scales
    assert "Two raters independently coded 22 recordings" in readable
    with (demo.parent / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        manifest = list(csv.DictReader(handle))
    terms = {row[field] for row in manifest for field in ("recording_id", "participant_id", "arm", "clinician")} - {""}
    terms |= {Path(row["path"]).name for row in manifest}
    for where, text in {"html": readable, **csvs}.items():
        assert not [t for t in terms if t in text], where
    assert not [name for name in file_names().values() for t in terms if t in name]


def test_a_rater_s_queue_and_coding_page_on_the_demo(as_user):
    as_user("rater.one")
    at = open_page("queue")
    assert at.title[0].value == "My queue"
    queue = at.dataframe[0].value
    assert len(queue) == 40 and (queue["Status"] == "submitted").sum() == 32  # 10 training + 22 live
    code = queue.loc[queue["Status"] != "submitted", "Recording"].iloc[0]
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["recording"] = code
    at.run().switch_page("views/code.py").run()
    assert not at.exception, at.exception
    assert f"Recording {code}" in shown(at) and len(at.radio) == 2  # the two EA scales


def test_the_fidelity_coder_s_queue_holds_session_audio_only(as_user):
    as_user("fidelity.one")
    queue = open_page("queue").dataframe[0].value
    assert len(queue) == 5 and set(queue["Kind"]) == {"audio"}  # the demo's fidelity draw
    assert (queue["Status"] == "submitted").sum() == 2
