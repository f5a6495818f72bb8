import itertools
import os

import pytest
from hypothesis import settings

from coding_app.store import Store
from tests.pg_cluster import ThrowawayCluster

# Behaviour, never wall-clock: no per-example deadline on a shared 2-core machine. CI draws the same
# examples every run (a red run must mean a change broke something); developers explore fresh ones,
# and what they find is pinned as a regression test.
settings.register_profile("obscode", deadline=None, max_examples=100, print_blob=True,
                          derandomize=bool(os.environ.get("CI")))  # fmt: skip
settings.load_profile("obscode")

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
