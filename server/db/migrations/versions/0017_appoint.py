"""the unit appoints coordinators (the owner's wish recorded); relatives may answer the survey

Revision ID: 0017_appoint
Revises: 0016_continuity
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_appoint"
down_revision: str | None = "0016_continuity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(
            sa.Column("survey_relatives", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "appointments",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("participant_id", sa.String(32), nullable=False),
        sa.Column("owner_wish", sa.Text(), nullable=False),
        sa.Column("appointed_by", sa.String(32), nullable=False),
        sa.Column("appointed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name="fk_appointments_plan_id_plans"),
        sa.PrimaryKeyConstraint("id", name="pk_appointments"),
    )
    op.create_index("ix_appointments_plan_id", "appointments", ["plan_id"])


def downgrade() -> None:
    op.drop_index("ix_appointments_plan_id", table_name="appointments")
    op.drop_table("appointments")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("survey_relatives")
