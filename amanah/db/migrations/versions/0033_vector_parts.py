"""vector parts

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-04

The vectors of a long text (search by meaning) are made by every idle worker: each job embeds
a share of the text's passages and keeps it in `vector_parts` until every share of the same
text is made; the job that keeps the last one stores the item's vectors and deletes the rows,
in one transaction (processing/vectorjobs.py). Additive.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vector_parts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False),
        sa.Column("first_passage", sa.Integer, nullable=False),
        sa.Column("passages", sa.Integer, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("vectors", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("item_id", "first_passage", name="uq_vector_part_item_passage"),
    )


def downgrade() -> None:
    op.drop_table("vector_parts")
