import itertools
import os

import pytest
from hypothesis import settings

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
