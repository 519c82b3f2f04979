"""name keys

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01

The blocking keys of every entity name (`name_match.keys`: consonant keys and Latin
skeletons, one alphabet for both scripts), one row per name and key, so that `entity match`
finds its candidates by index instead of scoring every name. A new table only; the keys are
derived from the names and can be rebuilt at any time (`amanah entity name parse --all`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entity_name_keys",
        sa.Column("name_id", sa.Integer, sa.ForeignKey("entity_names.id"), primary_key=True),
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("entity_id", sa.Integer, sa.ForeignKey("entities.id"), nullable=False),
    )
    op.create_index("ix_entity_name_keys_key", "entity_name_keys", ["key", "name_id"])
    op.create_index("ix_entity_name_keys_entity", "entity_name_keys", ["entity_id"])


def downgrade() -> None:
    op.drop_table("entity_name_keys")
