"""superseded derivatives

Revision ID: 0019
Revises: 0014
Create Date: 2026-12-01

A derivative made again (`amanah reprocess`, a retried job after a reader improved) replaces
its row in `derivatives`, which always names the newest; the row it replaces moves here, so
every earlier text, OCR and inventory stays listed with its blob (never deleted) and can be
compared with the new one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "superseded_derivatives",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("page", sa.Integer, nullable=False, server_default="0"),
        sa.Column("sha256", sa.String(64), sa.ForeignKey("blobs.sha256"), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("details", sa.Text, nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_by", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("superseded_derivatives")
