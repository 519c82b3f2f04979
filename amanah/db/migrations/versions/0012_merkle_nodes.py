"""merkle nodes

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

The ledger's Merkle tree kept level by level from 16-leaf subtrees upward, so a consistency
or inclusion proof costs a few lookups at any ledger length (existing ledgers are filled in);
and an index of the (few) key hand-over events.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from amanah.custody import verifier

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NODE_MIN_LEVEL = 4  # amanah.custody.ledger.NODE_MIN_LEVEL at the time of this migration


def upgrade() -> None:
    nodes = op.create_table(
        "merkle_nodes",
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx"),
    )
    # Key hand-overs are few: a partial index finds them without a pass over the ledger.
    op.create_index(
        "ix_custody_key_rotation",
        "custody_events",
        ["seq"],
        sqlite_where=sa.text("event_type = 'key rotation'"),
        postgresql_where=sa.text("event_type = 'key rotation'"),
    )
    conn = op.get_bind()
    frontier: list[tuple[int, bytes]] = []
    rows: list[dict[str, object]] = []
    result = conn.execute(sa.text("SELECT * FROM custody_events ORDER BY seq"))
    for seq, row in enumerate(result.mappings(), 1):
        entry = {
            "seq": row["seq"],
            "event_id": row["event_id"],
            "type": row["event_type"],
            "time": row["occurred_at"],
            "actor": row["actor"],
            "agent": row["agent"],
            "object_type": row["object_type"],
            "object_id": row["object_id"],
            "outcome": row["outcome"],
            "details": json.loads(row["details"]),
            "prev": row["prev_hash"],
        }
        size, h = 1, verifier.leaf_hash(entry)
        while frontier and frontier[-1][0] == size:
            left_size, left = frontier.pop()
            size, h = left_size + size, verifier.node_hash(left, h)
            level = size.bit_length() - 1
            if level >= NODE_MIN_LEVEL:
                rows.append({"level": level, "idx": seq // size - 1, "hash": h.hex()})
        frontier.append((size, h))
        if len(rows) >= 5000:
            op.bulk_insert(nodes, rows)
            rows = []
    if rows:
        op.bulk_insert(nodes, rows)


def downgrade() -> None:
    op.drop_index("ix_custody_key_rotation", "custody_events")
    op.drop_table("merkle_nodes")
