"""Alembic environment: always given a live connection by server.db.migrate."""

from __future__ import annotations

from alembic import context

import server.db.auth_models  # noqa: F401  (registers the sign-in tables)
from server.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `planrom migrate`")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
