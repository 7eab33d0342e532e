"""continuity: deputies standing in, handover notes, transitions in a plan's life

Revision ID: 0016_continuity
Revises: 0015_survey
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_continuity"
down_revision: str | None = "0015_survey"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _plan_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=f"fk_{table}_plan_id_plans")


def upgrade() -> None:
    op.create_table(
        "stand_ins",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("participant_id", sa.String(32), nullable=False),
        sa.Column("for_participant_id", sa.String(32), nullable=False),
        sa.Column("starts", sa.Date(), nullable=False),
        sa.Column("ends", sa.Date(), nullable=False),
        sa.Column("set_by", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _plan_fk("stand_ins"),
        sa.PrimaryKeyConstraint("id", name="pk_stand_ins"),
    )
    op.create_index("ix_stand_ins_plan_id", "stand_ins", ["plan_id"])
    op.create_table(
        "handovers",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("from_participant_id", sa.String(32), nullable=False),
        sa.Column("from_name", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("to_participant_id", sa.String(32), nullable=True),
        sa.Column("to_name", sa.String(200), nullable=True),
        sa.Column("handed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        _plan_fk("handovers"),
        sa.PrimaryKeyConstraint("id", name="pk_handovers"),
    )
    op.create_index("ix_handovers_plan_id", "handovers", ["plan_id"])
    op.create_table(
        "transitions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        _plan_fk("transitions"),
        sa.PrimaryKeyConstraint("id", name="pk_transitions"),
    )
    op.create_index("ix_transitions_plan_id", "transitions", ["plan_id"])


def downgrade() -> None:
    for table in ("transitions", "handovers", "stand_ins"):
        op.drop_index(f"ix_{table}_plan_id", table_name=table)
        op.drop_table(table)
