"""`amanah reprocess`: items preserved earlier are read again; new derivatives, old ones kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from amanah.access import local_administrator
from amanah.db.models import CustodyEvent, Derivative, Item, SupersededDerivative
from amanah.items import show
from amanah.search.service import search
from amanah.workspace import open_workspace
from tests.conftest import amanah, ingest_cli
from tests.fixtures import scanned_pdf, write

LINES = ["إفادة الشاهد حول فرع فلسطين", "ذكر الشاهد اسم المحقق سليم الأحمد"]


@pytest.fixture
def sqlite_home(sqlite_home: Path) -> Path:
    """The embedded home without vectors for search by meaning (not these tests' subject)."""
    config = sqlite_home / "amanah.toml"
    config.write_text(config.read_text().replace("semantic = true", "semantic = false"))
    return sqlite_home


def _hits(home: Path, query: str) -> list[int]:
    ws = open_workspace(home)
    try:
        return [h.item_id for h in search(ws, local_administrator(ws), query, limit=50).hits]
    finally:
        ws.close()


def _events(home: Path, item_id: int) -> list[tuple[str, dict]]:
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            rows = s.execute(
                select(CustodyEvent)
                .where(CustodyEvent.object_type == "item", CustodyEvent.object_id == str(item_id))
                .order_by(CustodyEvent.seq)
            ).scalars()
            return [(e.event_type, json.loads(e.details)) for e in rows]
    finally:
        ws.close()


@pytest.mark.needs("arabic-font")
def test_reprocess_after_a_setting_changed_makes_new_derivatives_and_keeps_the_old(
    sqlite_home: Path, tmp_path: Path
) -> None:
    write(
        tmp_path / "first",
        {
            "statement.pdf": scanned_pdf(LINES, skew=0, noise=0),
            "note.txt": b"a note that is not a PDF",
        },
    )
    # The collection was taken in with English OCR only: the Arabic scan reads as noise.
    ingest_cli(sqlite_home, tmp_path / "first", "c", "--ocr-languages", "eng")
    amanah(sqlite_home, "process", "--quiet", "--workers", "1", check=True)
    assert _hits(sqlite_home, "المحقق") == []
    # Later the collection's OCR languages are set right (a later intake names them) …
    write(tmp_path / "second", {"later.txt": b"later handover"})
    ingest_cli(sqlite_home, tmp_path / "second", "c", "--ocr-languages", "ara+eng")
    amanah(sqlite_home, "process", "--quiet", "--workers", "1", check=True)
    ws = open_workspace(sqlite_home)
    with ws.db.reader() as s:
        scan = s.execute(
            select(Item).where(Item.original_path == "first/statement.pdf")
        ).scalar_one()
        note = s.execute(select(Item).where(Item.original_path == "first/note.txt")).scalar_one()
        old_ocr = s.execute(
            select(Derivative).where(Derivative.item_id == scan.id, Derivative.kind == "ocr")
        ).scalar_one()
        old_sha = old_ocr.sha256
    ws.close()
    before = len(_events(sqlite_home, scan.id))

    # … a dry run says how many, and changes nothing.
    dry = amanah(sqlite_home, "reprocess", "--where", "type:pdf", "--dry-run", check=True)
    assert "1 items match 'type:pdf' (1 application/pdf)" in dry.stdout
    assert "dry run: nothing queued" in dry.stdout
    assert len(_events(sqlite_home, scan.id)) == before

    done = amanah(sqlite_home, "reprocess", "--where", "type:pdf", "--quiet", "--workers", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "queued 1 items again" in done.stdout
    assert "0 failed" in done.stdout
    # The word only the new reading has is found, on the scan.
    assert _hits(sqlite_home, "المحقق") == [scan.id]
    ws = open_workspace(sqlite_home)
    with ws.db.reader() as s:
        new_ocr = s.execute(
            select(Derivative).where(Derivative.item_id == scan.id, Derivative.kind == "ocr")
        ).scalar_one()
        assert new_ocr.sha256 != old_sha  # the newest is the one in use
        kept = s.execute(
            select(SupersededDerivative).where(
                SupersededDerivative.item_id == scan.id, SupersededDerivative.kind == "ocr"
            )
        ).scalar_one()
        assert kept.sha256 == old_sha and kept.superseded_by == new_ocr.sha256
    with ws.blobs.open(old_sha) as f:  # the old derivative's bytes are still there
        assert f.read()
    shown = show(ws, scan.id)
    assert [
        (d["kind"], d["sha256"]) for d in shown["superseded_derivatives"] if d["kind"] == "ocr"
    ] == [("ocr", old_sha)]
    ws.close()
    events = _events(sqlite_home, scan.id)[before:]
    kinds = [k for k, _ in events]
    assert kinds[0] == "reprocessing" and events[0][1]["where"] == "type:pdf"
    derived = [d for k, d in events if k == "derivation" and d.get("derivative") == "ocr"]
    assert derived and derived[-1]["sha256"] == new_ocr.sha256
    # Negative control: the text file did not match and was not touched.
    assert "reprocessing" not in [k for k, _ in _events(sqlite_home, note.id)]
    # The audit holds every derivative in use to its derivation event, and the ledger verifies.
    audit = amanah(sqlite_home, "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr


def test_reprocess_refuses_a_wrong_query_with_the_reason_and_exit_2(sqlite_home: Path) -> None:
    amanah(sqlite_home, "init", check=False)
    bad = amanah(sqlite_home, "reprocess", "--where", "type:nonsense")
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert "'type:nonsense' is not known" in bad.stderr
    assert "Traceback" not in bad.stderr
    empty = amanah(sqlite_home, "reprocess", "--where", "lang:ar")
    assert empty.returncode == 0, empty.stderr
    assert "0 items match 'lang:ar'" in empty.stdout and "nothing to reprocess" in empty.stdout


@pytest.mark.parametrize("engines", ["sqlite-file", "postgresql-s3"])
def test_an_item_whose_processing_fails_again_stays_findable_by_its_earlier_text(
    request: pytest.FixtureRequest, tmp_path: Path, engines: str
) -> None:
    """A reprocess that fails must not take the item out of search: the derivatives in use
    are still the earlier ones, and the index is built from them (read from either store)."""
    from amanah.processing.pipeline import mark_failed
    from tests.conftest import make_home

    sqlite_home = make_home(request, tmp_path, engines)  # PostgreSQL, S3: the same
    config = sqlite_home / "amanah.toml"
    config.write_text(config.read_text().replace("semantic = true", "semantic = false"))

    write(tmp_path / "h", {"n.txt": b"the convoy left at dawn"})
    ingest_cli(sqlite_home, tmp_path / "h")
    amanah(sqlite_home, "process", "--quiet", "--workers", "1", check=True)
    [item_id] = _hits(sqlite_home, "convoy")
    ws = open_workspace(sqlite_home)
    mark_failed(ws, item_id, "the sandbox stopped: CPU time limit")
    ws.close()
    assert _hits(sqlite_home, "convoy") == [item_id]
    assert _hits(sqlite_home, "nothingsaysthis") == []
