"""mentions

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01

Mentions: where an entity's name (any spelling, either script) was found in an item's text
derivative, with page and character span; a suggestion an analyst accepts (an evidence link)
or rejects. A new table only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "entity_mentions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "entity_id", sa.Integer, sa.ForeignKey("entities.id"), nullable=False, index=True
        ),
        sa.Column(
            "name_id", sa.Integer, sa.ForeignKey("entity_names.id"), nullable=False, index=True
        ),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False, index=True),
        sa.Column("item_sha256", sa.String(64), nullable=False),
        sa.Column("derivative", sa.String(40), nullable=False),
        sa.Column("derivative_sha256", sa.String(64), nullable=False),
        sa.Column("page", sa.Integer, nullable=False),
        sa.Column("start", sa.BigInteger, nullable=False),
        sa.Column("end", sa.BigInteger, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("state", sa.String(12), nullable=False, index=True),
        sa.Column("link_id", sa.Integer, sa.ForeignKey("evidence_links.id"), nullable=True),
        sa.Column("found_at", TS, nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.UniqueConstraint(
            "entity_id", "item_id", "derivative", "start", "end", name="uq_entity_mention"
        ),
    )


def downgrade() -> None:
    op.drop_table("entity_mentions")
