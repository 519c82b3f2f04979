"""person records linked to evidence

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-02

A pair of the linkage review queue was two person-list records; it may now be a record and an
entity (a person named in evidence) or a record and a mention found in an item
(`amanah.persons.evidence`). So `linkage_pairs.record_b_id` may be empty and the pair names
its entity or mention instead; old pairs keep their two records unchanged. An accepted pair of
the new kinds makes a `person_record_links` row, pinned to the item by SHA-256 and a locator
(the list's row for an entity, the mention's derivative and span for a mention). Additive.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("linkage_pairs") as batch:
        batch.alter_column("record_b_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("entity_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("mention_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_linkage_pairs_entity", "entities", ["entity_id"], ["id"])
        batch.create_foreign_key(
            "fk_linkage_pairs_mention", "entity_mentions", ["mention_id"], ["id"]
        )
        batch.create_index("ix_linkage_pairs_entity_id", ["entity_id"])
        batch.create_index("ix_linkage_pairs_mention_id", ["mention_id"])
    op.create_table(
        "person_record_links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("record_id", sa.Integer, sa.ForeignKey("person_records.id"), nullable=False),
        sa.Column("pair_id", sa.Integer, sa.ForeignKey("linkage_pairs.id"), nullable=True),
        sa.Column("entity_id", sa.Integer, sa.ForeignKey("entities.id"), nullable=True),
        sa.Column("mention_id", sa.Integer, sa.ForeignKey("entity_mentions.id"), nullable=True),
        sa.Column(
            "evidence_link_id", sa.Integer, sa.ForeignKey("evidence_links.id"), nullable=True
        ),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False),
        sa.Column("item_sha256", sa.String(64), nullable=False),
        sa.Column("locator", sa.Text, nullable=False),
        sa.Column("linked_by", sa.String(200), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_person_record_links_record_id", "person_record_links", ["record_id"])
    op.create_index("ix_person_record_links_item_id", "person_record_links", ["item_id"])


def downgrade() -> None:
    op.drop_table("person_record_links")
    with op.batch_alter_table("linkage_pairs") as batch:
        batch.drop_index("ix_linkage_pairs_mention_id")
        batch.drop_index("ix_linkage_pairs_entity_id")
        batch.drop_constraint("fk_linkage_pairs_mention", type_="foreignkey")
        batch.drop_constraint("fk_linkage_pairs_entity", type_="foreignkey")
        batch.drop_column("mention_id")
        batch.drop_column("entity_id")
        batch.alter_column("record_b_id", existing_type=sa.Integer(), nullable=False)
