"""coders' "cannot code this recording" flags, and recordings excluded from coding

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from coding_app.store.migrations.guards import create_guards, drop_guards

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# An exclusion is for good: the recording's media may already be deleted.
GUARDS = {
    f"exclusion_{event.lower()}_refused": (event, "exclusion", None, f"exclusion rows are never {verb}")
    for event, verb in (("UPDATE", "changed"), ("DELETE", "deleted"))
}


def upgrade() -> None:
    op.create_table(
        "flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "reason IN ('no_picture', 'no_sound', 'wrong_recording', 'not_the_task', 'other')",
            name=op.f("ck_flag_reason"),
        ),
        sa.CheckConstraint(
            "resolution IS NULL OR resolution IN ('cleared', 'excluded')", name=op.f("ck_flag_resolution")
        ),
        sa.CheckConstraint("reason <> 'other' OR length(text) > 0", name=op.f("ck_flag_other_has_text")),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignment.id"], name=op.f("fk_flag_assignment_id_assignment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag")),
    )
    op.create_index(
        "uq_flag_open_assignment",
        "flag",
        ["assignment_id"],
        unique=True,
        sqlite_where=sa.text("resolution IS NULL"),
        postgresql_where=sa.text("resolution IS NULL"),
    )
    op.create_table(
        "exclusion",
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("ratings_count", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("cause IN ('flag', 'withdrawal')", name=op.f("ck_exclusion_cause")),
        sa.ForeignKeyConstraint(["recording_id"], ["recording.id"], name=op.f("fk_exclusion_recording_id_recording")),
        sa.PrimaryKeyConstraint("recording_id", name=op.f("pk_exclusion")),
    )
    create_guards(GUARDS)


def downgrade() -> None:
    drop_guards(GUARDS)
    op.drop_table("exclusion")
    op.drop_index("uq_flag_open_assignment", table_name="flag")
    op.drop_table("flag")
