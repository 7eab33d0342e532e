"""participants the owner does not show to the rest of the group (participants.hidden)

Revision ID: 0011_visibility
Revises: 0010_accesslog
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_visibility"
down_revision: str | None = "0010_accesslog"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.add_column(
            sa.Column("hidden", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("hidden")
