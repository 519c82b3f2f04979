"""entities

Revision ID: 0020
Revises: 0014
Create Date: 2026-12-01

Entities (persons, organisations and units, facilities, places), their names as rows of
their own, relations over time with confidence and status, and evidence links that tie an
assertion to an item pinned by its SHA-256 and a locator. New tables only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _who() -> list[sa.Column]:
    return [
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "entities",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False, index=True),
        sa.Column("subkind", sa.String(60), nullable=False),
        sa.Column("sex", sa.String(10), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=True),
        sa.Column("birth_date_precision", sa.String(12), nullable=False),
        sa.Column("birth_place", sa.Text, nullable=False),
        sa.Column("nationality", sa.String(100), nullable=False),
        sa.Column("rank", sa.String(100), nullable=False),
        sa.Column("father_name", sa.Text, nullable=False),
        sa.Column("mother_name", sa.Text, nullable=False),
        sa.Column("identifiers", sa.Text, nullable=False),
        sa.Column("photo_item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=True),
        sa.Column("pcode", sa.String(20), nullable=False),
        sa.Column("latitude", sa.Float, nullable=True),
        sa.Column("longitude", sa.Float, nullable=True),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("origin", sa.String(100), nullable=False),
        sa.Column("ftm_id", sa.String(200), nullable=True, unique=True),
        *_who(),
    )
    op.create_table(
        "entity_names",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "entity_id", sa.Integer, sa.ForeignKey("entities.id"), nullable=False, index=True
        ),
        sa.Column("full_name", sa.Text, nullable=False),
        sa.Column("script", sa.String(4), nullable=False),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("ism", sa.Text, nullable=False),
        sa.Column("father", sa.Text, nullable=False),
        sa.Column("grandfather", sa.Text, nullable=False),
        sa.Column("family", sa.Text, nullable=False),
        sa.Column("kunya", sa.Text, nullable=False),
        *_who(),
    )
    op.create_table(
        "entity_relations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "subject_id", sa.Integer, sa.ForeignKey("entities.id"), nullable=False, index=True
        ),
        sa.Column(
            "object_id", sa.Integer, sa.ForeignKey("entities.id"), nullable=False, index=True
        ),
        sa.Column("kind", sa.String(30), nullable=False, index=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=True),
        sa.Column("valid_from_precision", sa.String(12), nullable=False),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.Column("valid_to_precision", sa.String(12), nullable=False),
        sa.Column("confidence", sa.String(10), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        *_who(),
    )
    op.create_table(
        "evidence_links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entity_id", sa.Integer, sa.ForeignKey("entities.id"), nullable=True, index=True),
        sa.Column(
            "name_id", sa.Integer, sa.ForeignKey("entity_names.id"), nullable=True, index=True
        ),
        sa.Column(
            "relation_id",
            sa.Integer,
            sa.ForeignKey("entity_relations.id"),
            nullable=True,
            index=True,
        ),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False, index=True),
        sa.Column("item_sha256", sa.String(64), nullable=False),
        sa.Column("locator_kind", sa.String(10), nullable=False),
        sa.Column("page", sa.Integer, nullable=True),
        sa.Column("rects", sa.Text, nullable=False),
        sa.Column("derivative", sa.String(40), nullable=False),
        sa.Column("start", sa.BigInteger, nullable=True),
        sa.Column("end", sa.BigInteger, nullable=True),
        sa.Column("quotation", sa.Text, nullable=False),
        sa.Column("translation", sa.Text, nullable=False),
        sa.Column("stance", sa.String(12), nullable=False),
        *_who(),
    )


def downgrade() -> None:
    for table in ("evidence_links", "entity_relations", "entity_names", "entities"):
        op.drop_table(table)
