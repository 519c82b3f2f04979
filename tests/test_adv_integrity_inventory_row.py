"""The leak check trusts a stored inventory only as the custody ledger records it (an
adversary's, stop 53): one UPDATE pointed a witness-naming file's `inventory` row at another
item's clean inventory (a blob already stored, so it hashed to its name) and the file was
packaged; only `amanah verify` noticed, which the build never asks. Now an inventory row whose
blob no derivation event names for its item is not trusted, and the build refuses the item."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.sharingfixtures import WITNESS_LATIN
from tests.test_adv_leak_places import _setup
from tests.test_leak_check import _ids, _ingest, _ok, name_png, refused_build


def test_an_inventory_row_pointed_at_another_items_inventory_is_not_trusted(
    sqlite_home: Path, tmp_path: Path
) -> None:
    _setup(sqlite_home)
    folder = tmp_path / "handover"
    folder.mkdir()
    # a picture (no raw reading of its bytes says the name) and a text naming nobody
    (folder / "named.png").write_bytes(name_png(WITNESS_LATIN))
    (folder / "clean.txt").write_text("Statement about the centre.\n")
    _ingest(sqlite_home, folder, "handover")
    _ok(sqlite_home, "process")
    ids = _ids(sqlite_home, "handover")
    db = sqlite3.connect(sqlite_home / "amanah.db")
    try:
        clean = db.execute(
            "select sha256, size from derivatives where item_id=? and kind='inventory'",
            (ids["clean.txt"],),
        ).fetchone()
        db.execute(
            "update derivatives set sha256=?, size=? where item_id=? and kind='inventory'",
            (*clean, ids["named.png"]),
        )
        db.commit()
    finally:
        db.close()
    _, reasons = refused_build(sqlite_home, "RFA-1", [ids["named.png"]], tmp_path / "p")
    assert "not the one the custody ledger records" in reasons[ids["named.png"]]
