"""A small study for the web tests: three videos, one session audio, four accounts."""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from coding_app.accounts import account_named, add_account
from coding_app.assignments import assign
from coding_app.blinded import queue
from coding_app.codebook import load_codebook
from coding_app.imports.manifest import import_manifest
from coding_app.media import MediaStore
from coding_app.store import Store
from coding_app.study_setup import initialise
from coding_app.web import runtime

FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
PASSWORDS = {"ann": "ann-password-1", "bob": "bob-password-1", "fay": "fay-password-1", "pat": "pat-password-1"}
ROLES = {"ann": "coder", "bob": "coder", "fay": "fidelity", "pat": "pi"}
MANIFEST = """recording_id,participant_id,site,arm,timepoint,kind,session,clinician,path
W1,PX01,North,VIPP-PMH,baseline,video,,,PX01_baseline.mp4
W2,PX01,North,VIPP-PMH,month 5,video,,,PX01_month5.mp4
W3,PX02,South,usual care,baseline,video,,,PX02_baseline.mp4
W4,PX01,North,VIPP-PMH,,audio,2,clinician Q,PX01_session2.m4a
"""


def post_form(client, path: str, data: dict[str, str] | None = None, **kwargs):
    """Post one of obscode's own forms as a browser does: first shown it (and its token), then sending it."""
    token = FORM_TOKEN.search(client.get(path, follow_redirects=False).text).group(1)
    return client.post(path, data={**(data or {}), "form_token": token}, follow_redirects=False, **kwargs)


def _clip(path: Path, frequency: int, video: bool) -> None:
    sources = ["-f", "lavfi", "-i", f"sine=frequency={frequency}:duration=2"]
    if video:
        sources = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10:duration=2", *sources]
        codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    else:
        codecs = ["-c:a", "aac"]
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *sources, *codecs, "-shortest", str(path)], check=True
    )


@pytest.fixture(scope="session")
def web_media(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("web-media")
    for i, name in enumerate(("PX01_baseline.mp4", "PX01_month5.mp4", "PX02_baseline.mp4")):
        _clip(folder / name, 300 + 50 * i, video=True)
    _clip(folder / "PX01_session2.m4a", 700, video=False)
    (folder / "manifest.csv").write_text(MANIFEST)
    return folder


@dataclass
class WebStudy:
    store: Store
    media: MediaStore
    codes: dict[str, list[str]]
    """Each coder's queue, in their order."""

    def account(self, name: str):
        with self.store.read() as db:
            return account_named(db, name)


def build_web_study(store: Store, media: MediaStore, sources: Path) -> None:
    """The web tests' study: three videos for ann and bob, a session audio for fay, and pat the PI."""
    initialise(store, load_codebook(), "test")
    import_manifest(store, media, sources / "manifest.csv", "test")
    with store.write() as db:
        for name, role in ROLES.items():
            add_account(db, name, role, PASSWORDS[name], "test")
    assign(store, ["ann", "bob"], kind="video", seed=1, actor="test")
    assign(store, ["fay"], kind="audio", seed=1, actor="test")


@pytest.fixture
def web_study(tmp_path, web_media, monkeypatch) -> WebStudy:
    """An initialised study served to this process's web runtime (routes and pages)."""
    url, folder = f"sqlite:///{tmp_path / 'web.db'}", tmp_path / "media-store"
    monkeypatch.setenv("OBSCODE_DATABASE_URL", url)
    monkeypatch.setenv("OBSCODE_MEDIA_DIR", str(folder))
    runtime.store.cache_clear()
    runtime.media.cache_clear()
    store, media = runtime.store(), runtime.media()
    build_web_study(store, media, web_media)
    study = WebStudy(store, media, {})
    study.codes = {name: [item.code for item in queue(store, study.account(name))] for name in ("ann", "bob", "fay")}
    yield study
    store.dispose()
    runtime.store.cache_clear()
    runtime.media.cache_clear()
