"""ocr parts

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-01

A long scanned file is OCR'd in page jobs that any worker may run. Each page job's result
waits in `ocr_parts` (the pages it covers, and the blob of its reading once done) until every
part of the item is done and one join job makes the item's single OCR derivative from them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ocr_parts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False),
        sa.Column("first_page", sa.Integer, nullable=False),
        sa.Column("pages", sa.Text, nullable=False),
        sa.Column("languages", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("item_id", "first_page", name="uq_ocr_part_item_page"),
    )


def downgrade() -> None:
    op.drop_table("ocr_parts")
