"""Rows edited by hand in the database are found by `amanah verify` (an adversary's, stop 53):
each of these passed it, fixity and all: an item's row deleted with its blob; a blob's register
row and bytes deleted while the item still says preserved (fixity walks the register); an item
moved into another provider's collection; an item's file times, intake time and actor, and the
item it came from rewritten; every derivative row of a processed item deleted. The ingestion
and derivation events (signed, chained) say what the rows must be."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import amanah, ingest_cli


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hand-edits")
    home = root / "home"
    amanah(home, "init", check=True)
    toml = home / "amanah.toml"
    toml.write_text(toml.read_text().replace("semantic = true", "semantic = false"))
    folder = root / "handover"
    folder.mkdir()
    for n in (1, 2, 3):
        (folder / f"doc{n}.txt").write_text(f"synthetic document number {n}\n")
    framework = amanah(
        home, "framework", "add", "--provider", "P", "--title", "MoU", "--disclosure", "any",
        check=True,
    ).stdout  # fmt: skip
    ingest_cli(home, folder, "c", "--framework", framework.split(":")[0].split()[-1])
    amanah(home, "process", "--quiet", check=True)
    assert "verified" in amanah(home, "verify", "--no-fixity", check=True).stdout
    return home


def _edited(base: Path, tmp_path: Path, sql: str) -> Path:
    home = tmp_path / "home"
    shutil.copytree(base, home)
    db = sqlite3.connect(home / "amanah.db")
    try:
        db.execute("PRAGMA foreign_keys=OFF")
        db.executescript(sql)
        db.commit()
    finally:
        db.close()
    return home


CASES = {
    "item row deleted": (
        "delete from derivatives where item_id=3; delete from jobs where item_id=3;"
        " delete from items where id=3;",
        "item 3, recorded by its ingestion event, is not in the database",
    ),
    "blob register row deleted": (
        "delete from blobs where sha256=(select sha256 from items where id=2);",
        "item 2: its blob",
    ),
    "item moved to another provider's collection": (
        "insert into providers(id,name,created_at) values (9,'P2',datetime('now'));"
        " insert into collections(id,name,provider_id,method,place,collector,created_at,"
        "compartment,ocr_languages) values (9,'other',9,'','','',datetime('now'),'default',"
        "'ara+eng'); update items set collection_id=9 where id=1;",
        "item 1: collection is other but its ingestion event recorded c",
    ),
    "file times rewritten": (
        "update items set mtime_ns=0 where id=1;",
        "item 1: file time modified is 1970-01-01",
    ),
    "intake rewritten": (
        "update items set intake_at='2001-01-01 00:00:00', intake_actor='someone-else' where id=1;",
        "item 1: intake actor is someone-else",
    ),
    "parent rewritten": (
        "update items set parent_id=2 where id=1;",
        "item 1: the item it came from is 2 but its ingestion event recorded None",
    ),
    "derivative rows deleted": (
        "delete from derivatives where item_id=2;",
        "of item 2, recorded by derivation event",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_row_edited_by_hand_is_found_by_verify(base: Path, tmp_path: Path, case: str) -> None:
    sql, said = CASES[case]
    home = _edited(base, tmp_path, sql)
    done = amanah(home, "verify", "--no-fixity")
    assert done.returncode == 1, done.stdout + done.stderr
    assert said in done.stdout + done.stderr, done.stdout + done.stderr


def test_a_package_does_not_seal_an_edited_row_as_the_senders(base: Path, tmp_path: Path) -> None:
    """The package index seals each item's date received, file time and provider: an item whose
    row was rewritten after intake is refused with what differs; the others are built."""
    home = _edited(
        base,
        tmp_path,
        "update items set intake_at='2013-05-01 09:00:00', mtime_ns=1356998400000000000"
        " where id=1;",
    )
    amanah(home, "jurisdiction", "add", "DE-GBA", "--state", "Germany", "--authority", "GBA",
           check=True)  # fmt: skip
    for ref, ids in (("RFA-1", ["1", "2"]), ("RFA-2", ["2"])):
        amanah(home, "rfa", "add", ref, "--jurisdiction", "DE-GBA", "--received-on",
               "2026-09-01", "--subject", "Detentions", check=True)  # fmt: skip
        amanah(home, "rfa", "move", ref, "acknowledged", check=True)
        amanah(home, "rfa", "move", ref, "in_progress", check=True)
        amanah(home, "rfa", "review", ref, "relevant", *ids, check=True)
    refused = amanah(home, "package", "build", "RFA-1", str(tmp_path / "p1"))
    said = refused.stdout + refused.stderr
    assert refused.returncode == 1, said
    assert "item 1: its record differs from its ingestion event" in said, said
    assert "file time modified is 2013-01-01" in said and "taken in at 2013-05-01" in said, said
    assert "item 2:" not in said, said
    assert not (tmp_path / "p1").exists()
    built = amanah(home, "package", "build", "RFA-2", str(tmp_path / "p2"))
    assert built.returncode == 0, built.stdout + built.stderr
