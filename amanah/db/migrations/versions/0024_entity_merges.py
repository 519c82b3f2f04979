"""entity merges

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01

Merge with provenance: an entity merged into another is kept (its id still resolves) and
points at its keeper (`entities.merged_into_id`); each merge is a row of `entity_merges` that
records exactly which names, relation ends, evidence links and mentions moved, so that
`entity unmerge` can move those rows back and no others. Additive: a new nullable column and
a new table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # A plain ADD COLUMN: SQLite cannot add a constraint without rebuilding `entities`, which
    # other tables point at, so there the reference is the model's only; PostgreSQL has it.
    fk = [sa.ForeignKey("entities.id")] if op.get_bind().dialect.name != "sqlite" else []
    op.add_column("entities", sa.Column("merged_into_id", sa.Integer, *fk, nullable=True))
    op.create_table(
        "entity_merges",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("keep_id", sa.Integer, sa.ForeignKey("entities.id"), nullable=False, index=True),
        sa.Column("other_id", sa.Integer, sa.ForeignKey("entities.id"), nullable=False, index=True),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("moved", sa.Text, nullable=False, server_default="{}"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("undone_at", TS, nullable=True),
        sa.Column("undone_by", sa.String(200), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("entity_merges")
    with op.batch_alter_table("entities") as batch:
        batch.drop_column("merged_into_id")
