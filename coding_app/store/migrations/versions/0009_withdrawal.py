"""participants' consent withdrawn (key side)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from coding_app.store.migrations.guards import create_guards, drop_guards

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# A withdrawal is history: the participant's media are gone when it is written.
GUARDS = {
    f"withdrawal_{event.lower()}_refused": (event, "withdrawal", None, f"withdrawal rows are never {verb}")
    for event, verb in (("UPDATE", "changed"), ("DELETE", "deleted"))
}


def upgrade() -> None:
    op.create_table(
        "withdrawal",
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ratings_kept", sa.Boolean(), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name=op.f("fk_withdrawal_participant_id_participant")
        ),
        sa.PrimaryKeyConstraint("participant_id", name=op.f("pk_withdrawal")),
    )
    create_guards(GUARDS)


def downgrade() -> None:
    drop_guards(GUARDS)
    op.drop_table("withdrawal")
