"""The study the attacks run against: the web tests' study, plus a video only bob codes.

It is built once per session and copied for each attack, so every attempt meets the same
fresh database and what an attempt changed (nothing, if it was refused) is its own doing.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from coding_app import blinded
from coding_app.accounts import account_named
from coding_app.assignments import assign
from coding_app.consensus import record_consensus
from coding_app.imports.manifest import import_manifest
from coding_app.imports.master_codes import import_master_codes
from coding_app.logins import identify, media_token, secret_key
from coding_app.media import MediaStore
from coding_app.store import Store
from coding_app.store.models import Account, AuditEntry, Base
from coding_app.web import runtime
from coding_app.web.routes import routes
from coding_app.web.runtime import COOKIE, LOGIN_PATH
from tests.coding_app.web.conftest import (  # noqa: F401 - web_media is a fixture
    MANIFEST,
    PASSWORDS,
    ROLES,
    _clip,
    build_web_study,
    post_form,
    web_media,
)

# A video dealt to bob alone, so that ann has a coder's recording that is not hers.
BOB_ONLY = "W5,PX03,South,usual care,month 5,video,,,PX03_month5.mp4\n"
# What would unblind a coder or name a mother: never in an audit row, a response or an error.
IDENTIFYING = (
    "PX01",
    "PX02",
    "PX03",
    "North",
    "South",
    "VIPP-PMH",
    "usual care",
    "baseline",
    "month 5",
    "clinician Q",
    "_baseline",
    "_month5",
    "_session2",
    ".mp4",
    ".m4a",
)


@dataclass(frozen=True)
class Template:
    root: Path
    codes: dict[str, list[str]]
    """Each coder's queue, in their order."""
    bob_only: str
    submitted: str
    """A recording ann and bob have both submitted ratings for."""


@pytest.fixture(scope="session")
def template(tmp_path_factory, web_media) -> Template:  # noqa: F811 - the fixture imported above
    root = tmp_path_factory.mktemp("security-study")
    store, media = Store(f"sqlite:///{root / 'web.db'}"), MediaStore(root / "media-store")
    build_web_study(store, media, web_media)
    extra = root / "extra"
    extra.mkdir()
    _clip(extra / "PX03_month5.mp4", 450, video=True)
    (extra / "manifest.csv").write_text(MANIFEST.splitlines(keepends=True)[0] + BOB_ONLY)
    import_manifest(store, media, extra / "manifest.csv", "test")
    shutil.rmtree(extra)
    assign(store, ["bob"], kind="video", recordings="unassigned", seed=1, actor="test")
    with store.read() as db:
        accounts = {name: db.scalar(select(Account).where(Account.name == name)) for name in ROLES}
    codes = {name: [item.code for item in blinded.queue(store, accounts[name])] for name in ("ann", "bob", "fay")}
    submitted = codes["ann"][0]
    for name in ("ann", "bob"):
        for scale, score in (("ea_sensitivity", 5.5), ("ea_non_intrusiveness", 4.0)):
            blinded.save_draft(store, accounts[name], submitted, scale, score)
        blinded.submit(store, accounts[name], submitted)
    (bob_only,) = set(codes["bob"]) - set(codes["ann"])
    # Something on every PI page: a consensus decision, and a training set (bob's own recording).
    record_consensus(store, accounts["pat"], submitted, "ea_non_intrusiveness", 4.5, "watched together")
    master = root / "master.csv"
    master.write_text(f"recording_id,scale,score\n{bob_only},ea_sensitivity,5\n")
    import_master_codes(store, accounts["pat"], master)
    secret_key(store)  # made at the study's first sign-in; pages signed in by a stand-in identity need it too
    store.dispose()
    return Template(root, codes, bob_only, submitted)


@dataclass
class Bench:
    """One fresh copy of the study, served to this process's web runtime (routes and pages)."""

    store: Store
    template: Template
    root: Path

    @property
    def codes(self) -> dict[str, list[str]]:
        return self.template.codes

    def account(self, name: str) -> Account:
        with self.store.read() as db:
            return account_named(db, name)

    def client(self, cookie: str | None = None) -> TestClient:
        """A browser of its own: no cookie but the one given."""
        return TestClient(Starlette(routes=routes()), cookies={COOKIE: cookie} if cookie else None)

    def sign_in(self, name: str) -> str:
        """A live session cookie for ``name``, from the login route."""
        client = self.client()
        response = post_form(client, LOGIN_PATH, {"name": name, "password": PASSWORDS[name]})
        assert response.status_code == 303, response.text
        return client.cookies[COOKIE]

    def token(self, cookie: str, code: str) -> str:
        """The media token the coding page would hand this session for ``code``."""
        return media_token(self.store, identify(self.store, cookie), code)

    def audit_rows(self, after: int = 0) -> list[AuditEntry]:
        with self.store.read() as db:
            return list(db.scalars(select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id)))

    def state(self) -> dict[str, list[tuple]]:
        """Every row of every table but the audit log (which refusals add to): what a refusal must leave alone."""
        with self.store.read() as db:
            return {
                table.name: sorted(map(tuple, db.execute(table.select()).all()), key=repr)
                for table in Base.metadata.sorted_tables
                if table.name != AuditEntry.__tablename__
            }


@pytest.fixture
def bench(template, tmp_path, monkeypatch) -> Bench:
    root = tmp_path / "study"
    shutil.copytree(template.root, root)
    monkeypatch.setenv("OBSCODE_DATABASE_URL", f"sqlite:///{root / 'web.db'}")
    monkeypatch.setenv("OBSCODE_MEDIA_DIR", str(root / "media-store"))
    runtime.store.cache_clear()
    runtime.media.cache_clear()
    yield Bench(runtime.store(), template, root)
    runtime.store().dispose()
    runtime.store.cache_clear()
    runtime.media.cache_clear()
