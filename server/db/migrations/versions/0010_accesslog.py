"""a readable access log and guardians until a date

- ``access_log.grounds``: why an access was allowed, recorded when the row is written
  ("consent:3:read", "owner", "guardian"); part of the entry's hash when not empty.
- ``plans.owner_born``: the owner's birth date when known (a child's plan).
- ``participants.access_until``: a guardian's full access ends at the start of this day
  (Europe/Oslo); ``access_answered``: the end date the owner has answered the question
  "what does the guardian keep?" for.

Revision ID: 0010_accesslog
Revises: 0009_bounds
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_accesslog"
down_revision: str | None = "0009_bounds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("access_log") as batch:
        batch.add_column(sa.Column("grounds", sa.String(64), nullable=False, server_default=""))
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("owner_born", sa.Date(), nullable=True))
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("access_until", sa.Date(), nullable=True))
        batch.add_column(sa.Column("access_answered", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("access_answered")
        batch.drop_column("access_until")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("owner_born")
    with op.batch_alter_table("access_log") as batch:
        batch.drop_column("grounds")
