"""The migrations and the models describe one schema. A home is built by the migrations, but
the code reads it through the models: a difference (an index named otherwise, a constraint
one side lacks) goes unnoticed until a later migration or `alembic revision --autogenerate`
trips on it. Alembic's own comparison, on a fresh home at head, on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from amanah.config import write_default_config
from amanah.db.models import Base
from amanah.workspace import open_workspace

#: What SQLite cannot hold the way the models say, on purpose: its full-text tables (not
#: models), and the reference `entities.merged_into_id`, which SQLite could only add by
#: rebuilding `entities` (migration 0024 says why; PostgreSQL has it).
SQLITE_ONLY = {("add_fk", "entities", ("merged_into_id",))}
#: PostgreSQL's full-text columns of `search_docs` and their GIN indexes: that backend's own,
#: written by its migration only (the models are shared with SQLite, which has FTS5 instead).
POSTGRESQL_ONLY = {"exact_tsv", "stem_tsv", "ix_search_docs_exact", "ix_search_docs_stem"}


def _differences(url: str | None, home: Path) -> list[Any]:
    write_default_config(home, url)
    ws = open_workspace(home)
    try:
        with ws.db.engine.connect() as conn:
            found = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        ws.db.dispose()
    return _flatten(found)


def _flatten(diffs: list[Any]) -> list[Any]:
    out: list[Any] = []
    for d in diffs:
        out.extend(d if isinstance(d, list) else [d])
    return out


def _significant(diff: Any, dialect: str) -> bool:
    kind = diff[0]
    if dialect == "sqlite":
        if kind == "remove_table" and diff[1].name.startswith("search_fts"):
            return False
        if kind == "modify_type":
            # SQLite keeps one REAL and one INTEGER: Float/Double and Integer/BigInteger read
            # back as each other.
            before, after = type(diff[5]).__name__, type(diff[6]).__name__
            return {before, after} not in ({"FLOAT", "Double"}, {"BIGINT", "BigInteger"})
        if kind == "add_fk":
            fk = diff[1]
            key = (kind, fk.parent.name, tuple(c.name for c in fk.columns))
            return key not in SQLITE_ONLY
    if dialect == "postgresql":
        if kind == "remove_index" and diff[1].name in POSTGRESQL_ONLY:
            return False
        if kind == "remove_column" and diff[2] == "search_docs":
            return diff[3].name not in POSTGRESQL_ONLY
    return True


def test_models_match_the_migrations_on_sqlite(tmp_path: Path) -> None:
    diffs = [d for d in _differences(None, tmp_path / "home") if _significant(d, "sqlite")]
    assert diffs == []


def test_models_match_the_migrations_on_postgresql(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue("postgres").create_database()
    diffs = [d for d in _differences(url, tmp_path / "home") if _significant(d, "postgresql")]
    assert diffs == []


def test_the_comparison_sees_an_index_named_otherwise(tmp_path: Path) -> None:
    """Negative control: the check would have caught last stop's drift."""
    home = tmp_path / "home"
    write_default_config(home)
    ws = open_workspace(home)
    try:
        with ws.db.engine.begin() as conn:
            conn.exec_driver_sql("DROP INDEX ix_linkage_pairs_record_a")
            conn.exec_driver_sql(
                "CREATE INDEX ix_linkage_pairs_record_a_id ON linkage_pairs (record_a_id)"
            )
        with ws.db.engine.connect() as conn:
            found = _flatten(compare_metadata(MigrationContext.configure(conn), Base.metadata))
    finally:
        ws.db.dispose()
    kinds = {(d[0], d[1].name) for d in found if d[0] in ("add_index", "remove_index")}
    assert kinds == {
        ("add_index", "ix_linkage_pairs_record_a"),
        ("remove_index", "ix_linkage_pairs_record_a_id"),
    }


def test_the_newest_migration_read_from_the_files_is_alembics_head() -> None:
    """Start-up skips alembic when the database names the newest migration, read from the
    files; that reading must be alembic's own head, or a needed upgrade would be skipped."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from amanah.db.engine import MIGRATIONS, newest_migration

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert newest_migration() == ScriptDirectory.from_config(cfg).get_current_head()
