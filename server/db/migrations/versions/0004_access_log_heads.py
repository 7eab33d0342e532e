"""access log heads; joins the meetings and sign-in branches

Revision ID: 0004
Revises: 0002, 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: tuple[str, ...] = ("0002", "0003")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_log_heads",
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", name="pk_access_log_heads"),
    )
    # Existing chains: their newest entry is their head.
    op.execute(
        "INSERT INTO access_log_heads (plan_id, seq, hash) "
        "SELECT a.plan_id, a.seq, a.hash FROM access_log a "
        "WHERE a.seq = (SELECT max(b.seq) FROM access_log b WHERE b.plan_id = a.plan_id)"
    )


def downgrade() -> None:
    op.drop_table("access_log_heads")
