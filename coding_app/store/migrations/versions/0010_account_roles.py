"""an account holds one or more roles (account_role), and a reset password must be changed at next sign-in

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ROLES_CHECK = "role IN ('coder', 'fidelity', 'pi')"


def _account(*columns: sa.Column, checks: tuple[sa.CheckConstraint, ...] = ()) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        *columns,
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *checks,
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("name", name=op.f("uq_account_name")),
    ]


def _rebuild_sqlite_account(items: list[sa.schema.SchemaItem], rows: str) -> None:
    """SQLite changes a table by making it anew; rows of other tables point at account's, so the new table
    must be *named* account when the rows go back in (alembic's batch copies them into a temporary name,
    and the foreign keys checked at commit then count every pointing row as broken)."""
    op.execute("PRAGMA defer_foreign_keys = ON")
    op.execute("CREATE TEMPORARY TABLE account_before AS SELECT * FROM account")
    op.drop_table("account")
    op.create_table("account", *items)
    op.execute(f"INSERT INTO account SELECT {rows} FROM account_before AS a")
    op.execute("DROP TABLE account_before")


def upgrade() -> None:
    op.create_table(
        "account_role",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.CheckConstraint(ROLES_CHECK, name=op.f("ck_account_role_role")),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_account_role_account_id_account")),
        sa.PrimaryKeyConstraint("account_id", "role", name=op.f("pk_account_role")),
    )
    op.execute("INSERT INTO account_role (account_id, role) SELECT id, role FROM account")
    must_change: sa.Column[bool] = sa.Column(
        "must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False
    )
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite_account(_account(must_change), "a.id, a.name, 0, a.password_hash, a.active, a.created_at")
    else:
        op.add_column("account", must_change)
        op.drop_column("account", "role")  # and its check with it


def downgrade() -> None:
    # One role per account again: an account with two coding roles keeps the first by name.
    first_role = "(SELECT min(r.role) FROM account_role r WHERE r.account_id = {}.id)"
    if op.get_bind().dialect.name == "sqlite":
        role = sa.Column("role", sa.String(length=16), nullable=False)
        check = sa.CheckConstraint(ROLES_CHECK, name=op.f("ck_account_role"))
        _rebuild_sqlite_account(
            _account(role, checks=(check,)),
            f"a.id, a.name, {first_role.format('a')}, a.password_hash, a.active, a.created_at",
        )
    else:
        op.add_column("account", sa.Column("role", sa.String(length=16), nullable=True))
        op.execute(f"UPDATE account SET role = {first_role.format('account')}")
        op.alter_column("account", "role", existing_type=sa.String(length=16), nullable=False)
        op.create_check_constraint(op.f("ck_account_role"), "account", ROLES_CHECK)
        op.drop_column("account", "must_change_password")
    op.drop_table("account_role")
