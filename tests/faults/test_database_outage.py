"""PostgreSQL stopped and started under a coder: a clear message, nothing typed lost, saving resumes.

Both the domain path (the blinded door raises StoreUnavailable, naming the cause and nothing
else, and leaves the database as it was) and the coding page (Streamlit's AppTest, identity
supplied at coding_app.web.identity.current as in tests/coding_app/web/test_pages.py) run
against a cluster of this module's own that the tests stop and start.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from coding_app import blinded
from coding_app.accounts import account_named
from coding_app.logins import Identity
from coding_app.store import StoreUnavailable
from coding_app.store.models import Rating
from coding_app.web import identity, runtime
from coding_app.web.outage import UNAVAILABLE
from tests.coding_app.helpers import row_counts
from tests.coding_app.web.test_pages import PAGES, open_page, run, texts
from tests.faults.load import make_study

SENSITIVITY, NON_INTRUSIVENESS = "ea_sensitivity", "ea_non_intrusiveness"
TYPED = "child turns away at 02:10"


@pytest.fixture
def coder(outage_url, monkeypatch):
    """One coder with two videos, on the stoppable cluster, served to this process's pages as well."""
    monkeypatch.setenv("OBSCODE_DATABASE_URL", outage_url)
    runtime.store.cache_clear()
    store = runtime.store()
    (name,) = make_study(store, 1, 2)
    with store.read() as db:
        account = account_named(db, name)
    monkeypatch.setattr(identity, "current", lambda: Identity(account, "test-session"))
    yield store, account, [item.code for item in blinded.queue(store, account)]
    store.dispose()
    runtime.store.cache_clear()


def test_the_door_reports_the_outage_by_cause_only_and_works_again_after(own_cluster, coder):
    store, account, (code, _) = coder
    blinded.save_draft(store, account, code, SENSITIVITY, 5.0)
    blinded.save_notes(store, account, code, TYPED)
    before = row_counts(store)
    own_cluster.pg_ctl("stop")
    try:
        with pytest.raises(StoreUnavailable) as saving:
            blinded.save_draft(store, account, code, NON_INTRUSIVENESS, 4.0)
        with pytest.raises(StoreUnavailable):
            blinded.queue(store, account)
    finally:
        own_cluster.pg_ctl("start")
    assert saving.value.cause == "unreachable"
    assert str(saving.value) == "the study database cannot be reached; nothing was changed, try again in a moment"
    assert saving.value.__cause__ is None and saving.value.__suppress_context__  # no SQL or values behind it
    assert row_counts(store) == before
    blinded.save_draft(store, account, code, NON_INTRUSIVENESS, 4.0)
    assert blinded.submit(store, account, code)
    task = blinded.task(store, account, code)
    assert {k: (r.score, r.status) for k, r in task.ratings.items()} == {
        SENSITIVITY: (5.0, "submitted"),
        NON_INTRUSIVENESS: (4.0, "submitted"),
    }
    assert task.notes == TYPED


def test_an_error_that_is_not_an_outage_is_not_disguised_as_one(coder):
    store, account, (code, _) = coder
    blinded.save_draft(store, account, code, SENSITIVITY, 5.0)
    with pytest.raises(IntegrityError), store.write() as db:  # a second version 1 of the same rating
        first = db.query(Rating).one()
        db.add(Rating(assignment_id=first.assignment_id, scale_id=first.scale_id, version=1, notes="", status="draft"))


def test_the_coding_page_keeps_the_form_through_an_outage_and_saves_on_the_next_interaction(own_cluster, coder):
    store, account, (code, other) = coder
    at = open_page("views/code.py", {"recording": code})
    at.radio[0].set_value(5.5).run()
    own_cluster.pg_ctl("stop")
    try:
        at.radio[1].set_value(4.5).run()
        assert not at.exception
        assert UNAVAILABLE in texts(at) and "Not saved yet" in texts(at)
        assert [r.value for r in at.radio] == [5.5, 4.5]  # the form, and what was chosen, stay on screen
        next(b for b in at.button if b.label == "Submit ratings").click().run()
        next(b for b in at.button if b.label == "Yes, submit").click().run()
        assert not at.exception and "Not submitted" in texts(at)
        queue_page = run(PAGES / "queue.py")
        elsewhere = open_page("views/code.py", {"recording": other})
    finally:
        own_cluster.pg_ctl("start")
    for page in (queue_page, elsewhere):
        assert not page.exception and UNAVAILABLE in texts(page) and not page.radio
    assert set(blinded.task(store, account, code).ratings) == {SENSITIVITY}  # not saved until the coder acts
    at.run()  # the coder's next interaction
    assert not at.exception and UNAVAILABLE not in texts(at)
    saved = blinded.task(store, account, code).ratings
    assert (saved[NON_INTRUSIVENESS].score, saved[NON_INTRUSIVENESS].status) == (4.5, "draft")
    next(b for b in at.button if b.label == "Submit ratings").click().run()
    next(b for b in at.button if b.label == "Yes, submit").click().run()
    assert blinded.task(store, account, code).submitted
