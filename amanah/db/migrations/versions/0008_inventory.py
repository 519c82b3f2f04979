"""content inventory

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Each item's content inventory state ("none", "complete", "incomplete") with the reasons it is
not complete, and legal officers' attestations that an incomplete item was examined by hand.
The inventory itself is a derivative (kind "inventory").
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as b:
        b.add_column(sa.Column("inventory", sa.String(20), nullable=False, server_default="none"))
        b.add_column(sa.Column("inventory_reasons", sa.Text(), nullable=False, server_default="[]"))
    op.create_table(
        "inventory_attestations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("attested_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_inventory_attestations_item_id", "inventory_attestations", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_inventory_attestations_item_id", "inventory_attestations")
    op.drop_table("inventory_attestations")
    # In place (SQLite 3.35+): a batch copy of items would drop a table others point at.
    op.drop_column("items", "inventory_reasons")
    op.drop_column("items", "inventory")
