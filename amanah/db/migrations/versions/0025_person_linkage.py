"""stored person linkage: runs, their pairs and the reviews of pairs

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02

A linkage run of person lists is kept (which lists, the model's settings, threshold, who,
when) with its candidate pairs, each pointing to the two person records (no name is copied:
the records keep them), its score, explanation and whether it is a link or needs review; and
every review of a pair (accept, reject, unsure; who, when, a note). Clusters are computed from
them, never stored. New tables only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "linkage_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("link_type", sa.String(20), nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("review_margin", sa.Float, nullable=False),
        sa.Column("floor", sa.Float, nullable=False),
        sa.Column("settings", sa.Text, nullable=False, server_default="{}"),
        sa.Column("pairs", sa.Integer, nullable=False, server_default="0"),
        sa.Column("links", sa.Integer, nullable=False, server_default="0"),
        sa.Column("to_review", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "linkage_run_lists",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("linkage_runs.id"), primary_key=True),
        sa.Column("list_id", sa.Integer, sa.ForeignKey("person_lists.id"), primary_key=True),
    )
    op.create_index("ix_linkage_run_lists_list_id", "linkage_run_lists", ["list_id"])
    op.create_table(
        "linkage_pairs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("linkage_runs.id"), nullable=False),
        sa.Column("record_a_id", sa.Integer, sa.ForeignKey("person_records.id"), nullable=False),
        sa.Column("record_b_id", sa.Integer, sa.ForeignKey("person_records.id"), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("match", sa.Boolean, nullable=False),
        sa.Column("review", sa.Boolean, nullable=False),
        sa.Column("explanation", sa.Text, nullable=False, server_default="{}"),
        sa.Column("decision", sa.String(10), nullable=False, server_default=""),
        sa.Column("decided_by", sa.String(200), nullable=False, server_default=""),
        sa.Column("decided_at", TS, nullable=True),
        sa.UniqueConstraint("run_id", "record_a_id", "record_b_id", name="uq_linkage_pair"),
    )
    op.create_index("ix_linkage_pairs_run_review", "linkage_pairs", ["run_id", "review"])
    op.create_index("ix_linkage_pairs_record_a", "linkage_pairs", ["record_a_id"])
    op.create_index("ix_linkage_pairs_record_b", "linkage_pairs", ["record_b_id"])
    op.create_table(
        "linkage_reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pair_id", sa.Integer, sa.ForeignKey("linkage_pairs.id"), nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_linkage_reviews_pair_id", "linkage_reviews", ["pair_id"])


def downgrade() -> None:
    op.drop_table("linkage_reviews")
    op.drop_table("linkage_pairs")
    op.drop_table("linkage_run_lists")
    op.drop_table("linkage_runs")
