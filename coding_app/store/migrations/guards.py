"""Triggers through which the database itself refuses a change, whatever the code above it does.

Each guard is ``name: (event, table, condition or None, message)``. PostgreSQL raises through
one shared function, ``obscode_refuse``, created with the first migration's guards.
"""

from __future__ import annotations

from collections.abc import Mapping

from alembic import op

Guards = Mapping[str, tuple[str, str, str | None, str]]


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def create_guards(guards: Guards, *, with_function: bool = False) -> None:
    if _postgres():
        if with_function:
            op.execute(
                "CREATE FUNCTION obscode_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$"
            )
        for name, (event, table, when, message) in guards.items():
            condition = f" WHEN ({when})" if when else ""
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW{condition} "
                f"EXECUTE FUNCTION obscode_refuse('{message}')"
            )
        return
    for name, (event, table, when, message) in guards.items():
        condition = f" WHEN {when}" if when else ""
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {event} ON {table}{condition} BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def drop_guards(guards: Guards, *, with_function: bool = False) -> None:
    for name, (_, table, _, _) in guards.items():
        op.execute(f"DROP TRIGGER {name}" + (f" ON {table}" if _postgres() else ""))
    if with_function and _postgres():
        op.execute("DROP FUNCTION obscode_refuse()")
