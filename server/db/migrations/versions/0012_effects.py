"""pending effects: after-commit document edits stored in the transaction that needs them

Revision ID: 0012_effects
Revises: 0011_visibility
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_effects"
down_revision: str | None = "0011_visibility"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pending_effects",
        sa.Column("id", BIGINT, nullable=False, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("doc", sa.String(200), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("person_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pending_effects"),
    )
    op.create_index("ix_pending_effects_due", "pending_effects", ["done_at", "not_before"])


def downgrade() -> None:
    op.drop_index("ix_pending_effects_due", table_name="pending_effects")
    op.drop_table("pending_effects")
