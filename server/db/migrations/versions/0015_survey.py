"""the owner's verdict: usefulness survey answers after meetings

Revision ID: 0015_survey
Revises: 0014_unit
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_survey"
down_revision: str | None = "0014_unit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "survey_answers",
        sa.Column("id", BIGINT, nullable=False, autoincrement=True),
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("person_id", sa.String(32), nullable=False),
        sa.Column("occasion", sa.String(64), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name="fk_survey_answers_plan_id_plans"),
        sa.PrimaryKeyConstraint("id", name="pk_survey_answers"),
        sa.UniqueConstraint("person_id", "occasion", name="uq_survey_answers_person_id"),
    )
    op.create_index("ix_survey_answers_plan_id", "survey_answers", ["plan_id"])


def downgrade() -> None:
    op.drop_index("ix_survey_answers_plan_id", table_name="survey_answers")
    op.drop_table("survey_answers")
