"""consent follows near-duplicates

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-02

A withdrawal of consent withholds the items linked to the person; a near-duplicate of such an
item (the same statement re-scanned or re-saved: other bytes, the same text or image) now gets
a derived link (`person_items.derived_from`, `similarity`), so the read path's condition stays
one join on `person_items`. The legal officer's "not the same document" is kept by SHA-256 pair
in `distinct_documents`, so a derivation is not made again. And an index on
`person_consents.person_record_id`: the read path's lookup of a record's latest consent.
Additive.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person_items") as batch:
        batch.add_column(sa.Column("derived_from", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("similarity", sa.Float(), nullable=True))
        batch.create_foreign_key("fk_person_items_derived_from", "items", ["derived_from"], ["id"])
    op.create_table(
        "distinct_documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha_a", sa.String(64), nullable=False),
        sa.Column("sha_b", sa.String(64), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("sha_a", "sha_b", name="uq_distinct_documents"),
    )
    # a person-list record's latest consent, read on every item read: found by index, not
    # by a scan of every consent record per link (benchmarks/withheld.py)
    op.create_index("ix_person_consents_record", "person_consents", ["person_record_id"])


def downgrade() -> None:
    op.drop_index("ix_person_consents_record", "person_consents")
    op.drop_table("distinct_documents")
    with op.batch_alter_table("person_items") as batch:
        batch.drop_constraint("fk_person_items_derived_from", type_="foreignkey")
        batch.drop_column("similarity")
        batch.drop_column("derived_from")
