"""Fault fixtures: a PostgreSQL cluster of the faults' own (the tests stop and start it)."""

from __future__ import annotations

import itertools

import pytest

from tests.pg_cluster import ThrowawayCluster

_numbers = itertools.count()


@pytest.fixture(scope="module")
def own_cluster():
    """A throw-away cluster no other test uses, so stopping it disturbs nobody."""
    cluster = ThrowawayCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture
def outage_url(own_cluster) -> str:
    """A fresh, empty database on the cluster the test may stop."""
    return own_cluster.create_database(f"outage_{next(_numbers)}")
