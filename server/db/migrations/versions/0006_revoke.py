"""refused attempts counted per plan, person and day (access_denials)

Revision ID: 0006_revoke
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_revoke"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_denials",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("person_id", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("outsider", sa.Boolean(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("logged", sa.Integer(), nullable=False),
        sa.Column("first_seq", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_target", sa.String(200), nullable=False),
        sa.Column("last_detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_access_denials"),
        sa.UniqueConstraint("plan_id", "person_id", "day", name="uq_access_denials_plan_id"),
    )


def downgrade() -> None:
    op.drop_table("access_denials")
