"""accounts

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

Accounts that can be cut off: a session epoch per user (raised by a password reset or a
disable, it ends every session and token made before), token expiry, revocation (when, by
whom) and last use; and per-key sign-in failure counters that an attempt reserves before its
password is checked. Tokens made before this revision expire 90 days after the upgrade.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", TS, nullable=True))
        batch.add_column(sa.Column("revoked_at", TS, nullable=True))
        batch.add_column(sa.Column("revoked_by", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("last_used_at", TS, nullable=True))
        batch.add_column(sa.Column("created_by", sa.String(200), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )
    # No token lives for ever: those made before expiry existed get the default from now.
    tokens = sa.table("api_tokens", sa.column("expires_at", TS), sa.column("revoked", sa.Boolean))
    op.execute(
        tokens.update()
        .where(tokens.c.expires_at.is_(None))
        .values(expires_at=datetime.now(UTC) + timedelta(days=90))
    )
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("expires_at", existing_type=TS, nullable=False)
    op.create_table(
        "sign_in_limits",
        sa.Column("key", sa.String(320), primary_key=True),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
    )
    op.create_index("ix_sign_in_limits_window_start", "sign_in_limits", ["window_start"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_limits_window_start", "sign_in_limits")
    op.drop_table("sign_in_limits")
    # Plain column drops (SQLite 3.35+ drops in place): a batch copy of users or api_tokens
    # would drop a table other tables' foreign keys point at, which SQLite refuses.
    for name in (
        "session_epoch",
        "created_by",
        "last_used_at",
        "revoked_by",
        "revoked_at",
        "expires_at",
    ):
        op.drop_column("api_tokens", name)
    op.drop_column("web_sessions", "session_epoch")
    op.drop_column("users", "session_epoch")
