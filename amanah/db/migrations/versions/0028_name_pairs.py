"""name pair keys

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-02

Pair keys of entity names (`amanah.entities.candidates`): for each two parts of a name, each
combination of one key of each part, hashed to 64 bits, one row per name and pair key, so that
candidate search over a million names reads short posting lists instead of every name that
shares a common part (محمد). A new table only; derived from the names and rebuilt with their
other keys by `amanah entity name parse --all` (until then the search falls back to the
single keys of `entity_name_keys`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entity_name_pairs",
        sa.Column("key", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column(
            "name_id",
            sa.Integer,
            sa.ForeignKey("entity_names.id"),
            primary_key=True,
            autoincrement=False,
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_entity_name_pairs_name", "entity_name_pairs", ["name_id"])


def downgrade() -> None:
    op.drop_table("entity_name_pairs")
