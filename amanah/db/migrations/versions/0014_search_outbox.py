"""search outbox

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-01

An index outside the database (tantivy) is fed from `search_outbox`: a row per change to
`search_docs` (insert, update, delete), written by a trigger in the same transaction as the
change, whoever makes it (indexing, a restriction change, a rebuild). The triggers write only
while a feed is registered in `search_feeds`, so a home on the database's own index keeps no
queue.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPS = (("insert", "INSERT", "NEW"), ("update", "UPDATE", "NEW"), ("delete", "DELETE", "OLD"))


def upgrade() -> None:
    op.create_table(
        "search_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer, nullable=False),
    )
    op.create_table("search_feeds", sa.Column("name", sa.String(40), primary_key=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION search_outbox_note() RETURNS trigger AS $$
            BEGIN
              IF EXISTS (SELECT 1 FROM search_feeds) THEN
                IF TG_OP = 'DELETE' THEN
                  INSERT INTO search_outbox (item_id) VALUES (OLD.item_id);
                ELSE
                  INSERT INTO search_outbox (item_id) VALUES (NEW.item_id);
                END IF;
              END IF;
              RETURN NULL;
            END $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER search_outbox_note AFTER INSERT OR UPDATE OR DELETE ON search_docs"
            " FOR EACH ROW EXECUTE FUNCTION search_outbox_note()"
        )
        return
    for name, event, row in OPS:
        op.execute(
            f"CREATE TRIGGER search_outbox_{name} AFTER {event} ON search_docs"  # noqa: S608
            " WHEN EXISTS (SELECT 1 FROM search_feeds)"
            f" BEGIN INSERT INTO search_outbox (item_id) VALUES ({row}.item_id); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS search_outbox_note ON search_docs")
        op.execute("DROP FUNCTION IF EXISTS search_outbox_note()")
    else:
        for name, _, _ in OPS:
            op.execute(f"DROP TRIGGER IF EXISTS search_outbox_{name}")
    op.drop_table("search_feeds")
    op.drop_table("search_outbox")
