"""protected digests

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Protected persons' spellings leave the database: each is sealed as keyed digests of its word
keys (amanah.sharing.protected.seal, HMAC-SHA256 under keys/names-hmac.key, made here if the
home has none), and the clear spellings are erased. On SQLite the freed bytes are overwritten
(secure_delete) and the engine checkpoints the WAL after the upgrade; on PostgreSQL it rewrites
the table (VACUUM FULL) so that no dead row version keeps a name.
"""

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.get_bind().exec_driver_sql("PRAGMA secure_delete=ON")  # freed pages are zeroed
    with op.batch_alter_table("protected_persons") as b:
        b.add_column(sa.Column("name_digests", sa.Text(), nullable=False, server_default=""))
    bind = op.get_bind()
    table = sa.table(
        "protected_persons",
        sa.column("id", sa.Integer),
        sa.column("spellings", sa.Text),
        sa.column("name_digests", sa.Text),
    )
    rows = bind.execute(
        sa.select(table.c.id, table.c.spellings).where(table.c.spellings.notin_(["", "[]"]))
    ).all()
    if not rows:
        return
    import json

    from amanah.sharing.protected import load_or_create_key, seal

    where = op.get_context().config.attributes.get("names_key_path")
    if not where:
        raise RuntimeError(
            "migration 0009 seals protected names and needs the home's names key: run it"
            " through Amanah (amanah.workspace.open_workspace), not bare Alembic"
        )
    key = load_or_create_key(Path(str(where)))
    for row_id, spellings in rows:
        try:
            names = [str(n) for n in json.loads(spellings)]
        except (json.JSONDecodeError, TypeError):
            names = [spellings]
        bind.execute(
            table.update()
            .where(table.c.id == row_id)
            .values(name_digests=json.dumps(seal(key, names)), spellings="[]")
        )


def downgrade() -> None:
    # The clear spellings cannot come back: they no longer exist anywhere.
    with op.batch_alter_table("protected_persons") as b:
        b.drop_column("name_digests")
