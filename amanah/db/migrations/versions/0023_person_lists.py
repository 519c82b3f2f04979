"""person lists

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01

Person lists (the detained, the disappeared, the dead) kept as evidence: the list, pointing
to the preserved file it was read from, and one row per record with its line in that file,
the fields linkage compares, status, dates and places, and every unmapped column. New tables
only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT_FIELDS = (
    "full_name",
    "ism",
    "father",
    "grandfather",
    "family",
    "mother",
    "place_of_birth",
    "governorate_text",
    "status_text",
    "last_seen_place",
    "detention_facility",
    "reporter",
    "reporter_relation",
    "notes",
)
_DATE_FIELDS = (
    "birth_date",
    "age_as_of",
    "status_date",
    "disappeared_on",
    "last_seen_on",
    "detention_seen_on",
    "released_on",
    "died_on",
    "found_on",
)


def upgrade() -> None:
    op.create_table(
        "person_lists",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("compartment", sa.String(100), nullable=False, server_default="default"),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False),
        sa.Column("key_column", sa.Text, nullable=False, server_default=""),
        sa.Column("mapping", sa.Text, nullable=False, server_default="{}"),
        sa.Column("as_of", sa.Date, nullable=True),
        sa.Column("report", sa.Text, nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_person_lists_compartment", "person_lists", ["compartment"])
    op.create_index("ix_person_lists_item_id", "person_lists", ["item_id"])
    op.create_table(
        "person_records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("list_id", sa.Integer, sa.ForeignKey("person_lists.id"), nullable=False),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        *(sa.Column(f, sa.Text, nullable=False, server_default="") for f in _TEXT_FIELDS),
        *(sa.Column(f, sa.String(10), nullable=False, server_default="") for f in _DATE_FIELDS),
        sa.Column("sex", sa.String(1), nullable=False, server_default=""),
        sa.Column("birth_year", sa.Integer, nullable=True),
        sa.Column("birth_year_spread", sa.Integer, nullable=False, server_default="0"),
        sa.Column("age", sa.Integer, nullable=True),
        sa.Column("governorate", sa.String(20), nullable=False, server_default=""),
        sa.Column("status", sa.String(10), nullable=False, server_default=""),
        sa.Column("detention_facility_id", sa.Integer, sa.ForeignKey("entities.id"), nullable=True),
        sa.Column("extra", sa.Text, nullable=False, server_default="{}"),
        sa.UniqueConstraint("list_id", "item_id", "row", name="uq_person_record_row"),
    )
    op.create_index("ix_person_records_list_key", "person_records", ["list_id", "key"])
    op.create_index("ix_person_records_item_id", "person_records", ["item_id"])


def downgrade() -> None:
    op.drop_table("person_records")
    op.drop_table("person_lists")
