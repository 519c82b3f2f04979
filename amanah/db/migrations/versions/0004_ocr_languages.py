"""ocr languages

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Per-collection OCR languages (Tesseract codes), defaulting to Arabic and English.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("collections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "ocr_languages", sa.String(length=100), nullable=False, server_default="ara+eng"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("collections", schema=None) as batch_op:
        batch_op.drop_column("ocr_languages")
