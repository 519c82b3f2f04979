"""Intake preserves every file byte-exact with provenance, on every engine pair."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from amanah.db.models import Blob, CustodyEvent, IntakeEntry, Item
from amanah.intake.ingest import IntakeError, IntakeRequest, ingest
from amanah.items import export_original, list_items, show
from amanah.preservation.audit import verify
from amanah.workspace import Workspace


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_handover(root: Path) -> dict[str, bytes]:
    """A small handover with Arabic names, nesting, a duplicate and a 3 MiB file."""
    files = {
        "handover/شهادة ١.txt": "شهادة الشاهد الأول".encode(),
        "handover/scans/page-001.jpg": os.urandom(50_000),
        "handover/scans/copy-of-page-001.jpg": b"",
        "handover/big/video.bin": os.urandom(3 * 1024 * 1024 + 17),
        "handover/notes.txt": b"notes\n",
    }
    files["handover/scans/copy-of-page-001.jpg"] = files["handover/scans/page-001.jpg"]
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    os.utime(root / "handover/notes.txt", ns=(1_600_000_000_123_456_789, 1_500_000_000_987_654_321))
    return files


def run(ws: Workspace, *sources: Path | bytes, **kw: object) -> object:
    req = IntakeRequest(
        sources=[os.fsencode(s) for s in sources],
        collection=str(kw.pop("collection", "handover-1")),
        provider=str(kw.pop("provider", "Syrian Archive")),
        actor="test:intake-officer",
        **kw,  # type: ignore[arg-type]
    )
    return ingest(ws, req)


def test_ingest_preserves_bytes_paths_times_and_events(ws: Workspace, tmp_path: Path) -> None:
    files = make_handover(tmp_path)
    report = run(ws, tmp_path / "handover")
    assert report.ok, report.as_dict()
    assert report.counts["ingested"] == 5
    items = {i["original_path"]: i for i in list_items(ws, "handover-1")}
    assert set(items) == set(files)
    for rel, data in files.items():
        assert items[rel]["sha256"] == sha(data)
        assert items[rel]["size"] == len(data)
        with ws.blobs.open(items[rel]["sha256"]) as f:
            assert f.read() == data
    # Same bytes stored once; two items keep their own provenance.
    with ws.db.reader() as s:
        assert s.execute(select(Blob)).scalars().all().__len__() == 4
    notes = show(ws, items["handover/notes.txt"]["id"])
    assert notes["file_times"]["modified"] == "2017-07-14T02:40:00.987654321Z"
    assert notes["provider"] == "Syrian Archive"
    assert [e["type"] for e in notes["custody"]] == ["ingestion", "message digest calculation"]
    assert notes["intake"]["actor"] == "test:intake-officer"
    assert verify(ws, "test:auditor").ok


def test_running_the_same_ingest_twice_adds_nothing(ws: Workspace, tmp_path: Path) -> None:
    make_handover(tmp_path)
    run(ws, tmp_path / "handover")
    with ws.db.reader() as s:
        events_before = len(s.execute(select(CustodyEvent.seq)).all())
    again = run(ws, tmp_path / "handover")
    assert again.counts["ingested"] == 0
    assert again.counts["already_present"] == 5
    assert len(list_items(ws)) == 5
    rehashed = run(ws, tmp_path / "handover", rehash=True)
    assert rehashed.counts["already_present"] == 5
    with ws.db.reader() as s:
        assert len(s.execute(select(CustodyEvent.seq)).all()) == events_before


def test_a_changed_file_at_the_same_path_is_a_new_flagged_item(
    ws: Workspace, tmp_path: Path
) -> None:
    make_handover(tmp_path)
    run(ws, tmp_path / "handover")
    (tmp_path / "handover/notes.txt").write_bytes(b"notes, edited by someone\n")
    report = run(ws, tmp_path / "handover")
    assert report.counts["ingested"] == 1
    versions = [i for i in list_items(ws) if i["original_path"] == "handover/notes.txt"]
    assert len(versions) == 2
    newer = show(ws, versions[1]["id"])
    assert newer["status"] == "flagged"
    assert newer["flags"][0]["code"] == "changed_since_earlier_intake"


def test_get_writes_the_exact_original_and_records_access(ws: Workspace, tmp_path: Path) -> None:
    files = make_handover(tmp_path)
    run(ws, tmp_path / "handover")
    item = next(i for i in list_items(ws) if i["original_path"].endswith("video.bin"))
    out = tmp_path / "out.bin"
    export_original(ws, item["id"], out, "test:analyst")
    assert out.read_bytes() == files["handover/big/video.bin"]
    events = show(ws, item["id"])["custody"]
    assert events[-1]["type"] == "access" and events[-1]["actor"] == "test:analyst"
    with pytest.raises(Exception, match="already exists"):
        export_original(ws, item["id"], out, "test:analyst")


def test_provider_hash_list_match_mismatch_and_missing(ws: Workspace, tmp_path: Path) -> None:
    files = make_handover(tmp_path)
    lines = [
        f"{hashlib.md5(files['handover/notes.txt']).hexdigest()}  ./notes.txt",  # noqa: S324
        f"{'0' * 32}  big/video.bin",  # the provider's md5 disagrees with what arrived
        f"{hashlib.md5(b'gone').hexdigest()}  lost/never-arrived.pdf",  # noqa: S324
    ]
    listing = tmp_path / "MD5SUMS"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run(ws, tmp_path / "handover", hash_list=listing)
    assert not report.ok
    assert report.counts["mismatch"] == 1 and report.counts["missing"] == 1
    by_outcome = {p.outcome: p for p in report.problems}
    assert by_outcome["missing"].path == "lost/never-arrived.pdf"
    assert "line 2" in by_outcome["mismatch"].reason
    items = {i["original_path"]: i for i in list_items(ws)}
    video = show(ws, items["handover/big/video.bin"]["id"])
    assert video["status"] == "flagged"
    assert any(f["code"] == "hash_mismatch" for f in video["flags"])
    assert [e["outcome"] for e in video["custody"] if e["type"] == "fixity check"] == ["failure"]
    notes = show(ws, items["handover/notes.txt"]["id"])
    assert notes["status"] == "preserved"
    assert [e["outcome"] for e in notes["custody"] if e["type"] == "fixity check"] == ["success"]
    unlisted = show(ws, items["handover/notes.txt".replace("notes.txt", "شهادة ١.txt")]["id"])
    assert any(f["code"] == "not_in_hash_list" for f in unlisted["flags"])
    # The mismatched file is still preserved byte-exact: it is evidence of what arrived.
    with ws.blobs.open(video["sha256"]) as f:
        assert sha(f.read()) == sha(files["handover/big/video.bin"])
    with ws.db.reader() as s:
        outcomes = sorted(e.outcome for e in s.execute(select(IntakeEntry)).scalars())
    assert outcomes == ["mismatch", "missing"]


def test_sha256sum_list_in_bsd_style_matches(sqlite_home: Path, tmp_path: Path) -> None:
    from amanah.workspace import open_workspace

    files = make_handover(tmp_path)
    listing = tmp_path / "SHA256SUMS"
    listing.write_text(
        "".join(
            f"SHA256 ({rel.removeprefix('handover/')}) = {sha(d)}\n" for rel, d in files.items()
        ),
        encoding="utf-8",
    )
    ws = open_workspace(sqlite_home)
    report = run(ws, tmp_path / "handover", hash_list=listing)
    ws.close()
    assert report.ok, report.as_dict()
    assert report.counts["ingested"] == 5 and report.counts["flagged"] == 0


def test_missing_source_is_refused_before_anything_starts(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(IntakeError, match="no such file or folder"):
        run(ws, tmp_path / "nope")
    assert list_items(ws) == []


def test_item_rows_hold_raw_path_bytes(ws: Workspace, tmp_path: Path) -> None:
    root = tmp_path / "legacy"
    root.mkdir()
    name = "تقرير".encode("cp1256") + b".txt"  # a Windows-1256 name, not valid UTF-8
    with open(os.path.join(os.fsencode(root), name), "wb") as f:
        f.write(b"report")
    report = run(ws, root)
    assert report.ok
    with ws.db.reader() as s:
        item = s.execute(select(Item)).scalar_one()
    assert item.original_path_raw == b"legacy/" + name
    listed = list_items(ws)[0]
    assert bytes.fromhex(listed["original_path_hex"]) == b"legacy/" + name
    assert "\\x" in listed["original_path"]
    json.dumps(listed)  # printable as JSON
