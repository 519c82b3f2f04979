"""request compartments

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

Requests for assistance get compartments, like collections: a caller sees a request only
when holding all of them, and a request sees items of its compartments only. Requests that
exist already get the compartments of their candidates' collections, or `default` when they
have no candidate (the compartment every installation starts with).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: Requests without compartments get those of their candidates' collections, else `default`
#: (idempotent: a request that has compartments is left alone).
BACKFILL = (
    "INSERT INTO request_compartments (request_id, compartment)"
    " SELECT DISTINCT r.request_id, c.compartment FROM reviews r"
    " JOIN items i ON i.id = r.item_id JOIN collections c ON c.id = i.collection_id"
    " WHERE NOT EXISTS"
    " (SELECT 1 FROM request_compartments rc WHERE rc.request_id = r.request_id)",
    "INSERT INTO request_compartments (request_id, compartment)"
    " SELECT q.id, 'default' FROM requests q WHERE NOT EXISTS"
    " (SELECT 1 FROM request_compartments rc WHERE rc.request_id = q.id)",
)


def upgrade() -> None:
    op.create_table(
        "request_compartments",
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("requests.id"), primary_key=True),
        sa.Column("compartment", sa.String(200), primary_key=True),
    )
    op.create_index("ix_request_compartments_compartment", "request_compartments", ["compartment"])
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_request_compartments_compartment", "request_compartments")
    op.drop_table("request_compartments")
