"""victims and survivors: person consent, items about a person, engagements

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02

Consent per person (a protected person or a person-list record) with its scope and history;
the link from a person to the items about them, which their consent then governs;
protective measures; engagements with their persons, follow-up tasks and what families were
told. Additive: new tables only. No column holds a name in clear.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _person() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column(
            "protected_person_id", sa.Integer, sa.ForeignKey("protected_persons.id"), nullable=True
        ),
        sa.Column(
            "person_record_id", sa.Integer, sa.ForeignKey("person_records.id"), nullable=True
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "person_items",
        sa.Column("id", sa.Integer, primary_key=True),
        *_person(),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False, index=True),
        sa.Column("source", sa.String(40), nullable=False, server_default="by hand"),
        sa.Column("linked_by", sa.String(200), nullable=False),
        sa.Column("linked_at", TS, nullable=False),
    )
    op.create_index(
        "ix_person_items_person", "person_items", ["protected_person_id", "person_record_id"]
    )
    op.create_table(
        "person_consents",
        sa.Column("id", sa.Integer, primary_key=True),
        *_person(),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("uses", sa.Text, nullable=False, server_default="[]"),
        sa.Column("recipients", sa.Text, nullable=False, server_default='["all"]'),
        sa.Column("told", sa.Text, nullable=False, server_default=""),
        sa.Column("given_on", sa.Date, nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
    )
    op.create_index(
        "ix_person_consents_person", "person_consents", ["protected_person_id", "person_record_id"]
    )
    op.create_table(
        "protective_measures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "protected_person_id",
            sa.Integer,
            sa.ForeignKey("protected_persons.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("no_contact", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("relocation", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
    )
    op.create_table(
        "engagements",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("place", sa.Text, nullable=False, server_default=""),
        sa.Column("pcode", sa.String(20), nullable=False, server_default=""),
        sa.Column(
            "compartment", sa.String(200), nullable=False, server_default="default", index=True
        ),
        sa.Column("organisations", sa.Text, nullable=False, server_default="[]"),
        sa.Column("topics", sa.Text, nullable=False, server_default="[]"),
        sa.Column("participants", sa.Text, nullable=False, server_default="{}"),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "engagement_persons",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "engagement_id",
            sa.Integer,
            sa.ForeignKey("engagements.id"),
            nullable=False,
            index=True,
        ),
        *_person(),
    )
    op.create_table(
        "engagement_tasks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "engagement_id",
            sa.Integer,
            sa.ForeignKey("engagements.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("task", sa.Text, nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("due_on", sa.Date, nullable=True),
        sa.Column("done_at", TS, nullable=True),
        sa.Column("done_by", sa.String(200), nullable=False, server_default=""),
    )
    op.create_table(
        "family_contacts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "engagement_id", sa.Integer, sa.ForeignKey("engagements.id"), nullable=True, index=True
        ),
        *_person(),
        sa.Column("contact", sa.String(200), nullable=False),
        sa.Column("relation", sa.String(100), nullable=False, server_default=""),
        sa.Column("told", sa.Text, nullable=False, server_default=""),
        sa.Column("told_on", sa.Date, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "family_contacts",
        "engagement_tasks",
        "engagement_persons",
        "engagements",
        "protective_measures",
        "person_consents",
        "person_items",
    ):
        op.drop_table(table)
