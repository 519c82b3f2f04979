"""requests

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

Cooperation terms as data (kind, parties, expiry, scope, disclosure rule, attribution,
confidentiality, named jurisdictions), jurisdictions and recipient accounts, requests for
assistance with their events, review decisions, consent records, protected persons, and
sharing packages with their items.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "jurisdictions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("state", sa.String(200), nullable=False),
        sa.Column("authority", sa.String(400), nullable=False),
        sa.Column("unit", sa.String(400), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("contacts", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    with op.batch_alter_table("frameworks") as b:
        b.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default="mou"))
        b.add_column(sa.Column("parties", sa.Text(), nullable=False, server_default="[]"))
        b.add_column(sa.Column("expires_on", sa.Date(), nullable=True))
        b.add_column(sa.Column("scope", sa.Text(), nullable=False, server_default=""))
        # Frameworks recorded before terms were data ask for consent: the safe reading.
        b.add_column(
            sa.Column("disclosure", sa.String(20), nullable=False, server_default="consent")
        )
        b.add_column(
            sa.Column(
                "attribution_required", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        b.add_column(
            sa.Column(
                "confidentiality", sa.String(40), nullable=False, server_default="confidential"
            )
        )
    op.create_table(
        "framework_jurisdictions",
        sa.Column("framework_id", sa.Integer(), sa.ForeignKey("frameworks.id"), primary_key=True),
        sa.Column(
            "jurisdiction_id", sa.Integer(), sa.ForeignKey("jurisdictions.id"), primary_key=True
        ),
    )
    with op.batch_alter_table("users") as b:
        b.add_column(
            sa.Column(
                "jurisdiction_id",
                sa.Integer(),
                sa.ForeignKey("jurisdictions.id", name="fk_users_jurisdiction"),
                nullable=True,
            )
        )
    op.create_table(
        "requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", sa.String(100), nullable=False, unique=True),
        sa.Column(
            "jurisdiction_id", sa.Integer(), sa.ForeignKey("jurisdictions.id"), nullable=False
        ),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("urgency", sa.String(20), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("subject_fields", sa.Text(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("decline_reason", sa.String(60), nullable=False),
        sa.Column("assignee", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("responded_on", sa.Date(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_requests_jurisdiction_id", "requests", ["jurisdiction_id"])
    op.create_table(
        "request_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("requests.id"), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=False),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
    )
    op.create_index("ix_request_events_request_id", "request_events", ["request_id"])
    op.create_table(
        "reviews",
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("requests.id"), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), primary_key=True),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.Column("decided_at", TS, nullable=True),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("requests.id"), nullable=False),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("providers.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("given_by", sa.String(400), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
    )
    op.create_index("ix_consents_request_id", "consents", ["request_id"])
    op.create_table(
        "protected_persons",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pseudonym", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("spellings", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "packages",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("requests.id"), nullable=False),
        sa.Column(
            "jurisdiction_id", sa.Integer(), sa.ForeignKey("jurisdictions.id"), nullable=False
        ),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("payload_bytes", sa.BigInteger(), nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
    )
    op.create_index("ix_packages_request_id", "packages", ["request_id"])
    op.create_index("ix_packages_jurisdiction_id", "packages", ["jurisdiction_id"])
    op.create_table(
        "package_items",
        sa.Column("package_id", sa.String(40), sa.ForeignKey("packages.id"), primary_key=True),
        sa.Column("number", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("variant", sa.String(20), nullable=False),
    )
    op.create_index("ix_package_items_item_id", "package_items", ["item_id"])


def downgrade() -> None:
    for table in (
        "package_items",
        "packages",
        "protected_persons",
        "consents",
        "reviews",
        "request_events",
        "requests",
        "framework_jurisdictions",
    ):
        op.drop_table(table)
    with op.batch_alter_table("users") as b:
        b.drop_column("jurisdiction_id")
    with op.batch_alter_table("frameworks") as b:
        for column in (
            "kind",
            "parties",
            "expires_on",
            "scope",
            "disclosure",
            "attribution_required",
            "confidentiality",
        ):
            b.drop_column(column)
    op.drop_table("jurisdictions")
