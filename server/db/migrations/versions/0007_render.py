"""rendered minutes: each finalised version rendered once per view, language and format

Revision ID: 0007_render
Revises: 0006_revoke
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_render"
down_revision: str | None = "0006_revoke"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rendered_minutes",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("minutes_id", BIGINT, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["minutes_id"],
            ["meeting_minutes.id"],
            name="fk_rendered_minutes_minutes_id_meeting_minutes",
        ),
        sa.PrimaryKeyConstraint("key", name="pk_rendered_minutes"),
    )
    op.create_index("ix_rendered_minutes_minutes_id", "rendered_minutes", ["minutes_id"])


def downgrade() -> None:
    op.drop_index("ix_rendered_minutes_minutes_id", table_name="rendered_minutes")
    op.drop_table("rendered_minutes")
