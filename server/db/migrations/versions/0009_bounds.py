"""document updates that failed validation are quarantined (never applied again)

Revision ID: 0009_bounds
Revises: 0008_signatures
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_bounds"
down_revision: str | None = "0008_signatures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("doc_updates") as batch:
        batch.add_column(sa.Column("quarantined_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("quarantine_reason", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("doc_updates") as batch:
        batch.drop_column("quarantine_reason")
        batch.drop_column("quarantined_at")
