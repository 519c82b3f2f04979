"""upload modified time

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-02

A web upload kept no file time: the browser knows the file's last modification time
(`File.lastModified`) and now sends it, so the item's ingestion event can carry it as
folder ingestion does, marked as the uploader's browser's claim. Additive: one nullable column.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("uploads", sa.Column("modified_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("uploads") as batch:
        batch.drop_column("modified_ms")
