"""the coordinating unit (koordinerende enhet): its members

Revision ID: 0014_unit
Revises: 0013_reminders
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_unit"
down_revision: str | None = "0013_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unit_members",
        sa.Column("person_id", sa.String(32), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name="fk_unit_members_person_id_persons"
        ),
        sa.PrimaryKeyConstraint("person_id", name="pk_unit_members"),
    )


def downgrade() -> None:
    op.drop_table("unit_members")
