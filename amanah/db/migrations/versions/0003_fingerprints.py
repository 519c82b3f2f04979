"""fingerprints

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Fingerprints and their LSH bands, for near-duplicate detection.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fingerprint_bands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("band", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("fingerprint_bands", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fingerprint_bands_item_id"), ["item_id"], unique=False)
        batch_op.create_index("ix_fingerprint_bands_key", ["kind", "band"], unique=False)

    op.create_table(
        "fingerprints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "kind", name="uq_fingerprint"),
    )


def downgrade() -> None:
    op.drop_table("fingerprints")
    with op.batch_alter_table("fingerprint_bands", schema=None) as batch_op:
        batch_op.drop_index("ix_fingerprint_bands_key")
        batch_op.drop_index(batch_op.f("ix_fingerprint_bands_item_id"))

    op.drop_table("fingerprint_bands")
