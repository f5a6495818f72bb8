import itertools
import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import settings
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from coding_app.store import Store
from tests.pg_cluster import ThrowawayCluster

# Behaviour, never wall-clock: no per-example deadline on a shared 2-core machine. CI draws the same
# examples every run (a red run must mean a change broke something); developers explore fresh ones,
# and what they find is pinned as a regression test.
settings.register_profile(
    "obscode", deadline=None, max_examples=100, print_blob=True, derandomize=bool(os.environ.get("CI"))
)
settings.load_profile("obscode")

# Streamlit scripts that browser tests serve: run by `streamlit run`, never imported for doctests.
collect_ignore = ["e2e/player_app.py", "e2e/player_launcher.py"]

# What each marker selects (`make check` runs what none of them marks, on SQLite).
MARKERS = {
    "postgres": "runs against the throw-away PostgreSQL cluster",
    "browser": "drives Chromium against a served app",
    "root": "needs root (mounts a small filesystem to fill it)",
    "slow": "takes more than a few seconds: media conversion, a demo build, a served app, a load run",
}
ROOT_MODULES = ("tests/faults/test_disk_faults.py",)
BROWSER_FIXTURES = {"page", "browser", "context"}
# Fixtures that build a demo study or start servers, and modules whose tests convert media or run loads.
SLOW_FIXTURES = {"demo", "own_cluster", "clips", "web_study", "web_media", "template"}
SLOW_MODULES = (
    "tests/bad_input/test_bad_input.py",
    "tests/faults/test_concurrent_coders.py",
    "tests/test_readme_setup.py",
    "tests/coding_app/test_playback.py",
    "tests/coding_app/test_import_killed.py",
)


def pytest_configure(config):
    for name, meaning in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {meaning}")


def pytest_collection_modifyitems(config, items):
    """Mark each test by what it needs, from its fixtures and parameters, so that no test can forget."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        path = item.path.relative_to(config.rootpath).as_posix()
        if "postgres" in names or "postgresql" in params.values():
            item.add_marker("postgres")
        if names & BROWSER_FIXTURES or path.startswith("tests/e2e/"):
            item.add_marker("browser")
        if path in ROOT_MODULES:
            item.add_marker("root")
        if item.get_closest_marker("browser") or names & SLOW_FIXTURES or path in SLOW_MODULES:
            item.add_marker("slow")


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches Debian's chromium (Playwright's own build cannot play H.264, and
    nothing is downloaded here); one browser serves every browser test of the run."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url():
    """No common base URL: each browser test names its own server's. Replaces pytest-playwright's fallback
    fixture, a method of a plugin object, which pytest 9 reports as deprecated in every browser run."""
    return None


# Counts, in each page, the runs it asked Streamlit for and the ones it has drawn, so that a test waits
# for the run its action started (tests/e2e/conftest.py: settle, reran) instead of sleeping. The page's
# own state says "not running" between the runs of one chain (a callback, st.rerun()) and before the
# server has answered a click, so it cannot tell alone. Reads the protobuf wire format's top level:
# a rerun request sent; a run started (new_session); a chain ended (script_finished, not early for a rerun).
RUNS = "__obscodeRuns"
RUNS_SCRIPT = f"""(() => {{
  const RERUN = {BackMsg.DESCRIPTOR.fields_by_name["rerun_script"].number},
    NEW_SESSION = {ForwardMsg.DESCRIPTOR.fields_by_name["new_session"].number},
    FINISHED = {ForwardMsg.DESCRIPTOR.fields_by_name["script_finished"].number},
    EARLY = {ForwardMsg.FINISHED_EARLY_FOR_RERUN};
  // requested: rerun requests sent; started: those sent before the latest run began; ended: those
  // covered by the last chain that ended; drawn: the same, once the page shows that chain finished
  const runs = (window.{RUNS} = {{ requested: 0, started: 0, ended: -1, drawn: -1 }});
  const bytesOf = (data) =>
    data instanceof ArrayBuffer ? new Uint8Array(data)
      : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
  const topFields = (bytes) => {{
    const found = new Map();
    let i = 0;
    const varint = () => {{
      let value = 0, shift = 0, byte;
      do {{ byte = bytes[i++]; value += (byte & 0x7f) * 2 ** shift; shift += 7; }} while (byte & 0x80);
      return value;
    }};
    while (i < bytes.length) {{
      const key = varint(), type = key % 8;
      let value = true;
      if (type === 0) value = varint();
      else if (type === 1) i += 8;
      else if (type === 2) {{ const length = varint(); i += length; }}
      else if (type === 5) i += 4;
      else break;
      if (!found.has(Math.floor(key / 8))) found.set(Math.floor(key / 8), value);
    }}
    return found;
  }};
  const idle = () => document.querySelector("[data-testid=stApp]")?.dataset.testScriptState === "notRunning";
  // React draws what Streamlit's listener handed it in a task it posts then; a message posted after it
  // arrives once that is drawn.
  const drawnCheck = new MessageChannel();
  drawnCheck.port1.onmessage = (event) => {{ if (idle()) runs.drawn = Math.max(runs.drawn, event.data); }};
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {{
    constructor(...args) {{
      super(...args);
      super.addEventListener("message", (event) => {{  // before Streamlit's own listener
        const bytes = bytesOf(event.data);
        if (!bytes) return;
        const message = topFields(bytes);
        if (message.has(NEW_SESSION)) runs.started = runs.requested;
        if (message.has(FINISHED) && message.get(FINISHED) !== EARLY) runs.ended = runs.started;
      }});
    }}
    addEventListener(type, listener, options) {{
      super.addEventListener(type, listener, options);
      if (type === "message") super.addEventListener(type, () => {{  // after it
        if (runs.ended > runs.drawn) drawnCheck.port2.postMessage(runs.ended);
      }});
    }}
    send(data) {{
      const bytes = bytesOf(data);
      if (bytes && topFields(bytes).has(RERUN)) runs.requested += 1;
      return super.send(data);
    }}
  }};
  // Should the page draw later than that (a message it had to fetch first), its state turning idle says so.
  new MutationObserver(() => {{ if (idle()) runs.drawn = Math.max(runs.drawn, runs.ended); }}).observe(document, {{
    subtree: true,
    attributeFilter: ["data-test-script-state"],
  }});
}})();"""


@pytest.fixture
def new_context(new_context):
    """pytest-playwright's browser contexts (its `context` and `page` too), each page counting its Streamlit runs."""

    def make(**kwargs):
        context = new_context(**kwargs)
        context.add_init_script(RUNS_SCRIPT)
        return context

    return make


def copy_database(source: Path, target: Path) -> Path:
    """Copy a SQLite study database whole (with what its write-ahead log still holds), for a test to change."""
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copy:
        original.backup(copy)
    return target


def wait_until(condition, timeout: float, what: str, every: float = 0.05):
    """Poll ``condition`` until it returns something true, and return that; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:g} s for {what}")
        time.sleep(every)
    return value


TEMPLATE = "obscode_template"
_database_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres():
    """One throw-away PostgreSQL cluster for the whole run, with a migrated template database."""
    cluster = ThrowawayCluster().start()
    template = Store(cluster.create_database(TEMPLATE))
    template.upgrade()
    template.dispose()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """A fresh, migrated study database: every store test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        db = Store(f"sqlite:///{tmp_path / 'study.db'}")
        db.upgrade()
    else:
        cluster = request.getfixturevalue("postgres")
        db = Store(cluster.create_database(f"test_{next(_database_numbers)}", template=TEMPLATE))
    yield db
    db.dispose()
