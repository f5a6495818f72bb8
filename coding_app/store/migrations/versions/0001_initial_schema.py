"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 05:23:13.496499
"""

import sqlalchemy as sa
from alembic import op

from coding_app.store.migrations.guards import create_guards, drop_guards

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('coder', 'fidelity', 'pi')", name=op.f("ck_account_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("name", name=op.f("uq_account_name")),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
    )
    op.create_table(
        "study_setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_study_setting")),
    )
    op.create_table(
        "draw",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("fraction", sa.Numeric(precision=8, scale=6, asdecimal=False), nullable=True),
        sa.Column("n", sa.Integer(), nullable=True),
        sa.Column("stratify", sa.JSON(), nullable=False),
        sa.Column("rounding", sa.Text(), nullable=False),
        sa.Column("frame", sa.JSON(), nullable=False),
        sa.Column("strata", sa.JSON(), nullable=False),
        sa.Column("tops_up", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint("purpose IN ('fidelity', 'reliability')", name=op.f("ck_draw_purpose")),
        sa.ForeignKeyConstraint(["tops_up"], ["draw.id"], name=op.f("fk_draw_tops_up_draw")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draw")),
    )
    op.create_table(
        "participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("site", sa.String(length=100), nullable=False),
        sa.Column("arm", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participant")),
        sa.UniqueConstraint("external_id", name=op.f("uq_participant_external_id")),
    )
    op.create_table(
        "recording",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("media_name", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.CheckConstraint("kind IN ('video', 'audio')", name=op.f("ck_recording_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording")),
        sa.UniqueConstraint("code", name=op.f("uq_recording_code")),
        sa.UniqueConstraint("media_name", name=op.f("uq_recording_media_name")),
    )
    op.create_table(
        "scale",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("low", sa.Numeric(precision=6, scale=2, asdecimal=False), nullable=False),
        sa.Column("high", sa.Numeric(precision=6, scale=2, asdecimal=False), nullable=False),
        sa.Column("step", sa.Numeric(precision=6, scale=2, asdecimal=False), nullable=False),
        sa.Column("threshold", sa.Numeric(precision=6, scale=2, asdecimal=False), nullable=True),
        sa.Column("classes", sa.JSON(), nullable=False),
        sa.Column("anchors", sa.JSON(), nullable=False),
        sa.CheckConstraint("kind IN ('video', 'audio')", name=op.f("ck_scale_kind")),
        sa.CheckConstraint("high > low", name=op.f("ck_scale_range")),
        sa.CheckConstraint("step > 0", name=op.f("ck_scale_step")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scale")),
        sa.UniqueConstraint("key", name=op.f("uq_scale_key")),
    )
    op.create_table(
        "assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_assignment_account_id_account")),
        sa.ForeignKeyConstraint(["recording_id"], ["recording.id"], name=op.f("fk_assignment_recording_id_recording")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment")),
        sa.UniqueConstraint("account_id", "position", name=op.f("uq_assignment_account_id_position")),
        sa.UniqueConstraint("account_id", "recording_id", name=op.f("uq_assignment_account_id_recording_id")),
    )
    op.create_table(
        "draw_member",
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["draw_id"], ["draw.id"], name=op.f("fk_draw_member_draw_id_draw")),
        sa.ForeignKeyConstraint(["recording_id"], ["recording.id"], name=op.f("fk_draw_member_recording_id_recording")),
        sa.PrimaryKeyConstraint("draw_id", "recording_id", name=op.f("pk_draw_member")),
    )
    op.create_table(
        "recording_key",
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("timepoint", sa.String(length=100), nullable=False),
        sa.Column("session", sa.String(length=100), nullable=True),
        sa.Column("clinician", sa.String(length=100), nullable=True),
        sa.Column("original_path", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("file_metadata", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name=op.f("fk_recording_key_participant_id_participant")
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recording.id"], name=op.f("fk_recording_key_recording_id_recording")
        ),
        sa.PrimaryKeyConstraint("recording_id", name=op.f("pk_recording_key")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_recording_key_content_hash")),
        sa.UniqueConstraint("external_id", name=op.f("uq_recording_key_external_id")),
    )
    op.create_table(
        "scale_level",
        sa.Column("scale_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Numeric(precision=6, scale=2, asdecimal=False), nullable=False),
        sa.ForeignKeyConstraint(["scale_id"], ["scale.id"], name=op.f("fk_scale_level_scale_id_scale")),
        sa.PrimaryKeyConstraint("scale_id", "score", name=op.f("pk_scale_level")),
    )
    op.create_table(
        "assignment_scale",
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("scale_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignment.id"], name=op.f("fk_assignment_scale_assignment_id_assignment")
        ),
        sa.ForeignKeyConstraint(["scale_id"], ["scale.id"], name=op.f("fk_assignment_scale_scale_id_scale")),
        sa.PrimaryKeyConstraint("assignment_id", "scale_id", name=op.f("pk_assignment_scale")),
    )
    op.create_table(
        "rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("scale_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("score", sa.Numeric(precision=6, scale=2, asdecimal=False), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopened_by", sa.String(length=100), nullable=True),
        sa.Column("reopen_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("source IN ('app', 'import')", name=op.f("ck_rating_source")),
        sa.CheckConstraint("status = 'draft' OR score IS NOT NULL", name=op.f("ck_rating_submitted_has_score")),
        sa.CheckConstraint("status IN ('draft', 'submitted')", name=op.f("ck_rating_status")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_rating_version")),
        sa.ForeignKeyConstraint(
            ["assignment_id", "scale_id"],
            ["assignment_scale.assignment_id", "assignment_scale.scale_id"],
            name=op.f("fk_rating_assignment_id_scale_id_assignment_scale"),
        ),
        sa.ForeignKeyConstraint(
            ["scale_id", "score"],
            ["scale_level.scale_id", "scale_level.score"],
            name=op.f("fk_rating_scale_id_score_scale_level"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating")),
        sa.UniqueConstraint(
            "assignment_id", "scale_id", "version", name=op.f("uq_rating_assignment_id_scale_id_version")
        ),
    )
    create_guards(GUARDS, with_function=True)


def downgrade() -> None:
    drop_guards(GUARDS, with_function=True)
    op.drop_table("rating")
    op.drop_table("assignment_scale")
    op.drop_table("scale_level")
    op.drop_table("recording_key")
    op.drop_table("draw_member")
    op.drop_table("assignment")
    op.drop_table("scale")
    op.drop_table("recording")
    op.drop_table("participant")
    op.drop_table("draw")
    op.drop_table("audit")
    op.drop_table("study_setting")
    op.drop_table("account")


# What the database itself refuses, whatever the code above it does.
GUARDS = {
    "rating_submitted_is_immutable": (
        "UPDATE",
        "rating",
        "OLD.status = 'submitted'",
        "submitted ratings are immutable",
    ),
    "rating_never_deleted": ("DELETE", "rating", None, "ratings are never deleted"),
    "audit_no_update": ("UPDATE", "audit", None, "the audit log is append-only"),
    "audit_no_delete": ("DELETE", "audit", None, "the audit log is append-only"),
}
