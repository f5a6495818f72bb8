"""PostgreSQL connections are reused without a ping while fresh, and a dead one is never handed out.

The ping is a round trip before every transaction; a connection used a moment ago skips it
unless the server has since closed it (a restart, a killed backend). The restart and the kill
are real: the cluster is stopped and started, the backend terminated, by the tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from coding_app import store as store_module
from coding_app.store import Store
from coding_app.store.models import AuditEntry
from tests.conftest import TEMPLATE
from tests.faults.conftest import own_cluster  # noqa: F401 - the fixture: a cluster this module may restart
from tests.pg_cluster import USER


@pytest.fixture
def pings(monkeypatch) -> list[int]:
    """Every ping the engines of this test send, counted."""
    sent: list[int] = []
    ping = PGDialect_psycopg.do_ping

    def counted(self, dbapi_connection) -> bool:  # noqa: ANN001
        sent.append(1)
        return ping(self, dbapi_connection)

    monkeypatch.setattr(PGDialect_psycopg, "do_ping", counted)
    return sent


@pytest.fixture
def pg_store(postgres) -> Iterator[Store]:
    store = Store(postgres.create_database(f"connections_{uuid.uuid4().hex}", template=TEMPLATE))
    yield store
    store.dispose()


def _backend(store: Store) -> int:
    with store.read() as db:
        return db.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _write(store: Store, name: str) -> None:
    with store.write() as db:
        db.add(AuditEntry(actor="test", action="test.write", entity="test", entity_id=name))


def _written(store: Store) -> list[str]:
    with store.read() as db:
        return list(db.scalars(text("SELECT entity_id FROM audit WHERE action = 'test.write' ORDER BY id")))


def test_a_connection_used_a_moment_ago_is_reused_without_a_ping(pg_store, pings):
    first = _backend(pg_store)
    pings.clear()
    _write(pg_store, "one")
    assert (_backend(pg_store), pings) == (first, [])  # the same connection, and no round trip to check it


def test_a_connection_idle_for_longer_is_pinged_first(pg_store, pings, monkeypatch):
    _backend(pg_store)
    monkeypatch.setattr(store_module, "RECENT_S", 0.0)
    pings.clear()
    _write(pg_store, "one")
    assert pings == [1]
    assert _written(pg_store) == ["one"]


def test_a_killed_backend_is_replaced_before_the_next_write_without_an_error(pg_store, postgres, monkeypatch):
    monkeypatch.setattr(store_module, "RECENT_S", 3600.0)  # however slow the machine, the connection is "recent"
    killed = _backend(pg_store)
    with psycopg.connect(f"host=127.0.0.1 port={postgres.port} user={USER} dbname=postgres", autocommit=True) as c:
        c.execute("SELECT pg_terminate_backend(%s)", (killed,))
        while c.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (killed,)).fetchone():  # waits for a state
            c.execute("SELECT pg_sleep(0.01)")
    _write(pg_store, "after the kill")
    assert _written(pg_store) == ["after the kill"]
    assert _backend(pg_store) != killed


def test_a_restarted_server_is_noticed_on_every_pooled_connection_without_an_error(own_cluster, monkeypatch):  # noqa: F811
    monkeypatch.setattr(store_module, "RECENT_S", 3600.0)
    store = Store(own_cluster.create_database("connections_restart"))
    try:
        store.upgrade()
        with store.read(), store.read():  # two connections in the pool
            pass
        before = _backend(store)
        own_cluster.pg_ctl("stop")
        own_cluster.pg_ctl("start")
        _write(store, "after the restart")
        with store.read() as one, store.read() as two:  # both pooled connections work
            pids = {db.execute(text("SELECT pg_backend_pid()")).scalar_one() for db in (one, two)}
        assert _written(store) == ["after the restart"]
        assert before not in pids and len(pids) == 2
    finally:
        store.dispose()
