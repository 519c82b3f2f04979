"""search

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

The search index (derived: an "index" job per item processed before this revision fills
it; `amanah reindex` rebuilds it whole), semantic vectors and the search log. Full-text
terms live in an FTS5 table on SQLite and in two GIN-indexed tsvector columns on PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_docs",
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("compartment", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=200), nullable=False),
        sa.Column("langs", sa.String(length=100), nullable=False),
        sa.Column("doc_date", sa.String(length=10), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("has_ocr", sa.Boolean(), nullable=False),
        sa.Column("has_text", sa.Boolean(), nullable=False),
        sa.Column("has_gps", sa.Boolean(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("analyzer", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("item_id"),
    )
    op.create_index("ix_search_docs_date", "search_docs", ["doc_date", "item_id"])
    op.create_index("ix_search_docs_compartment", "search_docs", ["compartment"])
    op.create_table(
        "search_texts",
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("item_id"),
    )
    op.create_table(
        "search_vectors",
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("chunk", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "chunk"),
    )
    op.create_table(
        "search_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("hit_count", sa.BigInteger(), nullable=False),
        sa.Column("top_ids", sa.Text(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_search_log_request_id", "search_log", ["request_id"])
    # Items processed before this revision enter the index through a job each.
    op.execute(
        "INSERT INTO jobs (item_id, kind, state, attempts, run_after, locked_by, last_error,"
        " created_at) SELECT id, 'index', 'queued', 0, CURRENT_TIMESTAMP, '', '',"
        " CURRENT_TIMESTAMP FROM items WHERE processing IN ('done', 'failed')"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search_docs ADD COLUMN exact_tsv tsvector NOT NULL DEFAULT ''")
        op.execute("ALTER TABLE search_docs ADD COLUMN stem_tsv tsvector NOT NULL DEFAULT ''")
        op.execute("CREATE INDEX ix_search_docs_exact ON search_docs USING gin (exact_tsv)")
        op.execute("CREATE INDEX ix_search_docs_stem ON search_docs USING gin (stem_tsv)")
    else:
        # Contentless: the terms are kept only as index; the text is in search_texts.
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5(exact, stem, content='',"
            " tokenize='unicode61 remove_diacritics 0')"
        )


def downgrade() -> None:
    op.execute("DELETE FROM jobs WHERE kind IN ('index', 'embed')")
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE search_fts")
    op.drop_table("search_log")
    op.drop_table("search_vectors")
    op.drop_table("search_texts")
    op.drop_index("ix_search_docs_compartment", "search_docs")
    op.drop_index("ix_search_docs_date", "search_docs")
    op.drop_table("search_docs")
