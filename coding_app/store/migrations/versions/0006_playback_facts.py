"""a recording's frame rate and sound envelope, for the player (measured on import)

Revision ID: 0006
Revises: 0005

Recordings imported before this revision have no row; they are measured the first time a coder
opens them (coding_app.playback.facts), so the upgrade itself reads no media.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "playback_facts",
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("frame_rate", sa.Float(), nullable=True),
        sa.Column("peaks_per_second", sa.Integer(), nullable=False),
        sa.Column("peaks", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recording.id"], name=op.f("fk_playback_facts_recording_id_recording")
        ),
        sa.PrimaryKeyConstraint("recording_id", name=op.f("pk_playback_facts")),
    )


def downgrade() -> None:
    op.drop_table("playback_facts")
