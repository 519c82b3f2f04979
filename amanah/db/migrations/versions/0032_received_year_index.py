"""received year index

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-03

The search facet "received" counts hits per year received by the id range each year's items
hold (`sql_search.received_id_ranges`). Finding those ranges grouped every row of `items` on
each faceted search (95 ms at 100,000 items, a full scan of a wide table). An index on the
year received and the id gives each year's first and last id, and the next year, by one seek
each. SQLite only: its intake times are text in UTC, so the year is `substr(intake_at, 1, 4)`,
the very expression the queries use; PostgreSQL keeps its grouped query (its default backend
counts received years in its own statement). Additive.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_items_received_year"
            " ON items (substr(intake_at, 1, 4), id)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX IF EXISTS ix_items_received_year")
