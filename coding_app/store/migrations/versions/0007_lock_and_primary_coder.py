"""the database lock's history, and each recording's primary coder (whose score counts)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from coding_app.store.migrations.guards import create_guards, drop_guards

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Both are history: a lock is undone by an unlock row, never by editing the lock.
GUARDS = {
    f"{table}_{event.lower()}_refused": (event, table, None, f"{table.replace('_', ' ')} rows are never {verb}")
    for table in ("coding_lock", "primary_coder")
    for event, verb in (("UPDATE", "changed"), ("DELETE", "deleted"))
}


def upgrade() -> None:
    op.create_table(
        "coding_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("scale_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("action IN ('lock', 'unlock')", name=op.f("ck_coding_lock_action")),
        sa.CheckConstraint("action = 'lock' OR length(reason) > 0", name=op.f("ck_coding_lock_unlock_reason")),
        sa.ForeignKeyConstraint(["scale_id"], ["scale.id"], name=op.f("fk_coding_lock_scale_id_scale")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coding_lock")),
    )
    op.create_table(
        "primary_coder",
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("named", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_primary_coder_account_id_account")),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recording.id"], name=op.f("fk_primary_coder_recording_id_recording")
        ),
        sa.PrimaryKeyConstraint("recording_id", name=op.f("pk_primary_coder")),
    )
    create_guards(GUARDS)


def downgrade() -> None:
    drop_guards(GUARDS)
    op.drop_table("primary_coder")
    op.drop_table("coding_lock")
