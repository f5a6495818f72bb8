"""master codes of training recordings, coder certification, and PI consensus ratings

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from coding_app.store.migrations.guards import create_guards, drop_guards

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Score = sa.Numeric(6, 2, asdecimal=False)
GUARDS = {
    f"{table}_{event.lower()}_refused": (event, table, None, f"{table.replace('_', ' ')} rows are never {verb}")
    for table in ("master_code", "certification", "consensus_rating")
    for event, verb in (("UPDATE", "changed"), ("DELETE", "deleted"))
}


def upgrade() -> None:
    op.create_table(
        "master_code",
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("scale_id", sa.Integer(), nullable=False),
        sa.Column("score", Score, nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["recording_id"], ["recording.id"], name=op.f("fk_master_code_recording_id_recording")),
        sa.ForeignKeyConstraint(["scale_id"], ["scale.id"], name=op.f("fk_master_code_scale_id_scale")),
        sa.ForeignKeyConstraint(
            ["scale_id", "score"],
            ["scale_level.scale_id", "scale_level.score"],
            name=op.f("fk_master_code_scale_id_score_scale_level"),
        ),
        sa.PrimaryKeyConstraint("recording_id", "scale_id", name=op.f("pk_master_code")),
    )
    op.create_table(
        "certification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("scale_id", sa.Integer(), nullable=False),
        sa.Column("statistic", sa.String(length=64), nullable=False),
        sa.Column("threshold", sa.Numeric(6, 4, asdecimal=False), nullable=False),
        sa.Column("min_recordings", sa.Integer(), nullable=False),
        sa.Column("value", sa.Numeric(8, 6, asdecimal=False), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("certified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_certification_account_id_account")),
        sa.ForeignKeyConstraint(["scale_id"], ["scale.id"], name=op.f("fk_certification_scale_id_scale")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification")),
        sa.UniqueConstraint("account_id", "scale_id", name=op.f("uq_certification_account_id_scale_id")),
    )
    op.create_table(
        "consensus_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("scale_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("score", Score, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(reason) > 0", name=op.f("ck_consensus_rating_reason")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_consensus_rating_version")),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recording.id"], name=op.f("fk_consensus_rating_recording_id_recording")
        ),
        sa.ForeignKeyConstraint(["scale_id"], ["scale.id"], name=op.f("fk_consensus_rating_scale_id_scale")),
        sa.ForeignKeyConstraint(
            ["scale_id", "score"],
            ["scale_level.scale_id", "scale_level.score"],
            name=op.f("fk_consensus_rating_scale_id_score_scale_level"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consensus_rating")),
        sa.UniqueConstraint(
            "recording_id", "scale_id", "version", name=op.f("uq_consensus_rating_recording_id_scale_id_version")
        ),
    )
    create_guards(GUARDS)


def downgrade() -> None:
    drop_guards(GUARDS)
    op.drop_table("consensus_rating")
    op.drop_table("certification")
    op.drop_table("master_code")
