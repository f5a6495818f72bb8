"""Real-browser end-to-end fixtures: a demo study, a running `obscode run`, and Debian's chromium.

The demo study is loaded once per session into a fresh temporary directory (its own SQLite
database and media store). Each test module gets a copy of that database, served by its own app
server, so that no module sees what another changed. Within a module, tests that change the study
(submitting a recording) record what they did in ``demo.submitted`` so that the other tests can
still state exact expectations, whatever order they run in.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import RUNS, copy_database, wait_until

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


LOGIN_PATH = "/obscode/login"
# Demo accounts (fixtures/load_demo.py ACCOUNTS); what the demo starts with for each coder.
PASSWORDS = {
    "rater.one": "demo-rater-one",
    "rater.two": "demo-rater-two",
    "fidelity.one": "demo-fidelity-one",
    "pi.one": "demo-pi-one",
}
RATER_ONE_DONE, RATER_ONE_TOTAL = 32, 40  # 10 training videos, then 22 of 30 live ones

SERVER_START_TIMEOUT = 60
LOAD_TIMEOUT = 1200  # the demo converts 60 clips: minutes on a shared, busy machine


@dataclass
class Demo:
    base_url: str
    study: Path
    manifest: list[dict[str, str]]
    submitted: dict[str, list[str]] = field(default_factory=dict)
    """Recording codes each account has submitted during this test session."""
    claimed: set[str] = field(default_factory=set)
    """Recording codes a test has taken for itself (so that two tests never rate the same one)."""

    def url(self, path: str) -> str:
        return self.base_url + path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _seed_study_sources(config, study: Path, env: dict[str, str]) -> None:
    """Copy the demo's generated source files (clips, CSVs) from pytest's cache, building them there once.

    fixtures.demo is deterministic (fixed seeds), and generating 60 clips with ffmpeg is most of
    the set-up time; the cache is keyed by fixtures/demo.py's contents. The database and the
    blinded media store are always new: load_demo still imports everything into them.
    """
    if getattr(config, "cache", None) is None:  # run with -p no:cacheprovider: build in place
        return
    key = hashlib.sha256((ROOT / "fixtures" / "demo.py").read_bytes()).hexdigest()[:16]
    cached = config.cache.mkdir("obscode-e2e") / f"demo-study-{key}"
    built = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "fixtures.demo", str(cached)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=LOAD_TIMEOUT,
    )
    assert built.returncode == 0, f"building the demo study failed:\n{built.stdout}\n{built.stderr}"
    shutil.copytree(cached, study)


@dataclass
class LoadedDemo:
    database: Path
    study: Path
    manifest: list[dict[str, str]]
    env: dict[str, str]
    """The environment `obscode run` needs for it, less the database."""


@pytest.fixture(scope="session")
def loaded_demo(tmp_path_factory, pytestconfig) -> LoadedDemo:
    """The demo study loaded once into a fresh directory: a SQLite database, its media store and its sources."""
    tmp = tmp_path_factory.mktemp("obscode-e2e")
    env = os.environ.copy()
    env["OBSCODE_DATABASE_URL"] = f"sqlite:///{tmp / 'obscode.db'}"
    env["OBSCODE_MEDIA_DIR"] = str(tmp / "media-store")
    study = tmp / "study"
    _seed_study_sources(pytestconfig, study, env)
    loaded = subprocess.run(
        # The coder pages are tested at work: the EA scales stay open (`make run` locks them for the Outcomes page).
        [str(VENV_BIN / "python"), "-m", "fixtures.load_demo", str(study), "--coding-open"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=LOAD_TIMEOUT,
    )
    assert loaded.returncode == 0, f"loading the demo study failed:\n{loaded.stdout}\n{loaded.stderr}"
    with (study / "manifest.csv").open(newline="", encoding="utf-8") as f:
        manifest = list(csv.DictReader(f))
    del env["OBSCODE_DATABASE_URL"]
    return LoadedDemo(tmp / "obscode.db", study, manifest, env)


@pytest.fixture(scope="module")
def demo(loaded_demo, tmp_path_factory):
    """A copy of the loaded demo's database served by `obscode run` for this module; yields a :class:`Demo`.

    Copying the database file takes a moment, loading the demo minutes; the media are only read, so the
    copies share them.
    """
    tmp = tmp_path_factory.mktemp("obscode-e2e-module")
    database = copy_database(loaded_demo.database, tmp / "obscode.db")
    env = {**loaded_demo.env, "OBSCODE_DATABASE_URL": f"sqlite:///{database}"}
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [str(VENV_BIN / "obscode"), "run", "--port", str(port)]
    with serving(command, f"{base_url}/_stcore/health", tmp / "server.log", cwd=ROOT, env=env):
        yield Demo(base_url=base_url, study=loaded_demo.study, manifest=loaded_demo.manifest)


@contextmanager
def serving(command: list[str], health_url: str, log_path: Path, **popen) -> Iterator[subprocess.Popen]:
    """Run a server (its output to ``log_path``) until the block ends; wait first until ``health_url`` answers."""
    name = " ".join(Path(part).name for part in command[:2])
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **popen)
    try:
        wait_until(
            lambda: _healthy(health_url) or server.poll() is not None,
            SERVER_START_TIMEOUT,
            f"`{name}` to answer at {health_url}:\n{_tail(log_path)}",
        )
        if server.poll() is not None:
            pytest.fail(f"`{name}` exited with {server.returncode}:\n{_tail(log_path)}")
        yield server
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}}


@pytest.fixture
def browser_page(page):
    """A page in a fresh browser context (pytest-playwright makes one per test)."""
    page.set_default_timeout(20_000)
    SCREENSHOTS.mkdir(exist_ok=True)
    return page


@pytest.fixture
def new_context(new_context):
    """Make further fresh contexts (another browser profile: no cookies); closed after the test."""

    def make(**kwargs):
        context = new_context(**kwargs)
        context.set_default_timeout(20_000)
        return context

    return make


# --------------------------------------------------------------------------- helpers


# True once the page is connected, has asked for more than ``after`` runs, and has drawn the end of the
# run chain that took in its last request (tests/conftest.py counts them).
SETTLED = f"""after => {{
  const runs = window.{RUNS}, app = document.querySelector("[data-testid=stApp]");
  return !!runs && !!app && runs.requested > after && runs.drawn === runs.requested
    && app.dataset.testConnectionState === "CONNECTED" && app.dataset.testScriptState === "notRunning";
}}"""


def settle(page, timeout: float = 30_000) -> None:
    """Wait until the Streamlit app has drawn every run this page asked for (after loading it, say).

    An action that asks for a run goes in ``with reran(page):`` instead: settle() cannot know that a
    run is still to come when the page has not sent the request yet.
    """
    page.wait_for_function(SETTLED, arg=0, timeout=timeout)


@contextmanager
def reran(page, timeout: float = 30_000) -> Iterator[None]:
    """Wait, after the block, until the run that the block's action asked for has been drawn (fails if none was)."""
    before = page.evaluate(f"() => window.{RUNS}.requested")
    yield
    page.wait_for_function(SETTLED, arg=before, timeout=timeout)


def sign_in(page, demo: Demo, name: str, password: str | None = None) -> None:
    """Sign in through the /obscode/login form and wait for the app to settle."""
    page.goto(demo.url(LOGIN_PATH))
    page.fill("#name", name)
    page.fill("#password", PASSWORDS[name] if password is None else password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    if LOGIN_PATH in page.url:
        problem = page.locator("[role=alert]")
        raise AssertionError(f"sign-in as {name} refused: {problem.inner_text() if problem.count() else page.url}")
    settle(page)


def table_rows(page) -> list[dict[str, str]]:
    """Every row of the page's (first) st.dataframe, as {column: text}.

    The table is a canvas grid; its accessibility table holds only the rows in view, so scroll
    through it step by step and collect rows by their aria-rowindex.
    """
    grid = "[data-testid=stDataFrame] table[role=grid]"
    page.wait_for_selector(f"{grid} tbody tr", state="attached")
    table = page.locator(grid)
    expected = int(table.get_attribute("aria-rowcount")) - 1
    headers = table.locator("thead th").all_text_contents()
    scroller = page.locator("[data-testid=stDataFrame] .dvn-scroller").first
    read_rows = (
        "trs => trs.map(tr => [Number(tr.getAttribute('aria-rowindex')), [...tr.children].map(c => c.textContent)])"
    )
    rows: dict[int, list[str]] = {}
    while True:
        rows.update(table.locator("tbody tr").evaluate_all(read_rows))
        missing = [i for i in range(2, expected + 2) if i not in rows]
        if not missing:
            break
        # scroll so that the first missing row is at the top of the view, and wait until the grid has drawn it
        first = missing[0]
        scroller.evaluate(
            "(e, f) => { e.scrollTop = Math.min(e.scrollHeight, f * e.scrollHeight); }", (first - 2) / (expected + 1)
        )
        table.locator(f"tbody tr[aria-rowindex='{first}']").wait_for(state="attached")
    scroller.evaluate("e => { e.scrollTop = 0; }")
    return [dict(zip(headers, rows[i], strict=True)) for i in sorted(rows)]


queue_rows = table_rows


def done_text(done: int, total: int) -> str:
    return f"{done} of {total} recordings done"


def media(page):
    """The player's <video>/<audio> (inside the component's shadow root: CSS locators pierce it)."""
    return page.locator("[data-testid=obscode-media]")


def wait_for_media(page, ready_state: int = 1, timeout: float = 20.0) -> None:
    """Wait until the player's media reaches ``ready_state`` (1: its duration is known); fail on a media error."""
    element = media(page)
    element.wait_for(state="attached")
    page.wait_for_function(
        "([m, n]) => m.error || m.readyState >= n", arg=[element.element_handle(), ready_state], timeout=timeout * 1000
    )
    error = element.evaluate("m => m.error && m.error.code")
    assert error is None, f"the media element reports error code {error}"


def claim(demo: Demo, rows: list[dict[str, str]], status: str = "not started") -> str:
    """A recording with this status that no other test of this session has taken."""
    for row in rows:
        if row["Status"] == status and row["Recording"] not in demo.claimed:
            demo.claimed.add(row["Recording"])
            return row["Recording"]
    raise AssertionError(f"no unclaimed recording with status {status!r} left in the queue")


def open_unclaimed(page, demo: Demo) -> str:
    """Sign in as rater.one and open a recording not started that no other test has taken; return its code."""
    sign_in(page, demo, "rater.one")
    code = claim(demo, queue_rows(page))
    open_recording(page, demo, code)
    return code


def open_recording(page, demo: Demo, code: str) -> None:
    page.goto(demo.url(f"/code?recording={code}"))
    settle(page)
    page.get_by_role("heading", name=f"Recording {code}").wait_for()
