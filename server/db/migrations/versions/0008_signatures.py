"""consent versions say how they were given; signed paper forms; notifications

Revision ID: 0008_signatures
Revises: 0007_render
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_signatures"
down_revision: str | None = "0007_render"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consent_versions") as batch:
        batch.add_column(
            sa.Column("method", sa.String(16), nullable=False, server_default="in-app")
        )
        batch.add_column(sa.Column("sign_in", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("form_id", sa.String(32), nullable=True))
    # Versions entered by someone other than the signer were recorded on their behalf,
    # without a form (the old rules allowed that): say so, rather than call them in-app.
    op.execute(
        "UPDATE consent_versions SET method = 'paper', sign_in = '' WHERE signed_by <> recorded_by"
    )
    op.execute("UPDATE consent_versions SET sign_in = 'unknown' WHERE method = 'in-app'")
    op.create_table(
        "consent_forms",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by_person", sa.String(32), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_in_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_consent_forms_plan_id_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_forms")),
    )
    op.create_index(op.f("ix_consent_forms_plan_id"), "consent_forms", ["plan_id"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("participant_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("consent_version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_notifications_plan_id_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(op.f("ix_notifications_plan_id"), "notifications", ["plan_id"])
    op.create_index(
        "ix_notifications_participant", "notifications", ["participant_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_participant", table_name="notifications")
    op.drop_index(op.f("ix_notifications_plan_id"), table_name="notifications")
    op.drop_table("notifications")
    op.drop_index(op.f("ix_consent_forms_plan_id"), table_name="consent_forms")
    op.drop_table("consent_forms")
    with op.batch_alter_table("consent_versions") as batch:
        batch.drop_column("form_id")
        batch.drop_column("sign_in")
        batch.drop_column("method")
