"""a coder's notes kept once per recording (they were copied onto every scale's rating)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "note",
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignment.id"], name=op.f("fk_note_assignment_id_assignment")),
        sa.PrimaryKeyConstraint("assignment_id", name=op.f("pk_note")),
    )
    # Each coder's notes as the app last saved them: the latest version's notes on the first scale
    # that has any. Ratings keep their copies (submitted versions cannot change), so nothing is lost.
    latest = (
        "NOT EXISTS (SELECT 1 FROM rating later WHERE later.assignment_id = {r}.assignment_id "
        "AND later.scale_id = {r}.scale_id AND later.version > {r}.version)"
    )
    noted = "{r}.source = 'app' AND {r}.notes <> '' AND " + latest
    op.execute(
        "INSERT INTO note (assignment_id, text, updated_at) SELECT r.assignment_id, r.notes, r.updated_at "
        f"FROM rating r WHERE {noted.format(r='r')} AND NOT EXISTS (SELECT 1 FROM rating o "
        f"WHERE o.assignment_id = r.assignment_id AND o.scale_id < r.scale_id AND {noted.format(r='o')})"
    )


def downgrade() -> None:
    op.drop_table("note")
