"""What the database itself refuses, on SQLite and PostgreSQL alike."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from coding_app.store import Store, StoreError


def test_schema_is_current_after_upgrade_and_upgrade_is_idempotent(store):
    assert store.is_current()
    store.upgrade()
    assert store.is_current()


def test_an_uninitialised_database_says_to_run_init(tmp_path):
    with pytest.raises(StoreError, match="run `obscode init`"):
        Store(f"sqlite:///{tmp_path / 'empty.db'}").check()


def test_the_audit_log_refuses_updates_and_deletes(store):
    with store.write() as db:
        db.execute(text("INSERT INTO audit (at, actor, action, entity) VALUES (CURRENT_TIMESTAMP, 'pi', 'x', 'y')"))
    for statement in ("UPDATE audit SET actor = 'someone else'", "DELETE FROM audit"):
        with pytest.raises(DBAPIError, match="append-only"), store.write() as db:
            db.execute(text(statement))
    with store.read() as db:
        assert db.execute(text("SELECT actor FROM audit")).scalar_one() == "pi"


def test_unsupported_database_urls_are_refused():
    with pytest.raises(StoreError, match="unsupported database 'mysql'"):
        Store("mysql://somewhere/db")


def test_foreign_keys_are_enforced(store):
    with pytest.raises(IntegrityError), store.write() as db:
        db.execute(text("INSERT INTO draw_member (draw_id, recording_id) VALUES (999, 999)"))


def test_models_and_migrations_agree(store):
    """A model changed without a migration (or the reverse) shows up as a difference here."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from coding_app.store.models import Base

    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
