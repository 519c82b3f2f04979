"""A request for assistance from end to end, through the command line as a legal officer
scripts it: terms, consent, protected witness, true redaction, a package a recipient can
verify without Amanah, and every disclosure on the custody ledger."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select

from amanah.db.models import CustodyEvent, Item
from amanah.workspace import Workspace, open_workspace
from tests.conftest import (
    REPO,
    amanah,
    amanah_here,
    ingest_folder,
    make_home,
    without_semantic,
)
from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN, scanned_pdf, typed_pdf

REF = "RFA-2026-001"


def _ids(home: Path) -> dict[str, int]:
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            return {
                Path(p).name: i
                for i, p in s.execute(
                    select(Item.id, Item.original_path).where(Item.parent_id.is_(None))
                ).all()
            }
    finally:
        ws.close()


def _ok(home: Path, *args: str) -> str:
    """A step of the story, run in this process (the refusal that names a protected person
    runs as a real process: its output is what a user sees)."""
    return amanah_here(home, *args, check=True).stdout


def _page_text(path: Path) -> str:
    import pymupdf

    with pymupdf.open(path) as doc:
        return "\n".join(p.get_text() for p in doc) + json.dumps(doc.metadata)


def _ocr_boxes(path: Path, dpi: int = 150) -> tuple[object, list[dict[str, object]]]:
    """The first page as grey pixels, and the words Tesseract reads with their boxes."""
    import numpy as np
    import pymupdf

    from amanah.processing import ocr

    with pymupdf.open(path) as doc:
        pix = doc[0].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
    grey = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)
    grey = np.ascontiguousarray(grey[:, : pix.width])
    with tempfile.TemporaryDirectory(prefix="ocr-") as work:
        _, _, words = ocr.tesseract(grey, Path(work), "ara+eng", single_line=False)
    return grey, words


@pytest.mark.parametrize("engines", ["sqlite-file", "postgresql-s3"])
def test_request_from_terms_to_verified_package(
    request: pytest.FixtureRequest, tmp_path: Path, engines: str
) -> None:
    home = make_home(request, tmp_path, engines)
    without_semantic(home)  # word search is what the request uses; vectors cost CPU only
    evidence = tmp_path / "handover"
    evidence.mkdir()
    typed_pdf(evidence / "statement-typed.pdf")
    scanned_pdf(evidence / "statement-scan.pdf")
    (evidence / "unrelated.txt").write_text("Minutes of a meeting on supplies.\n")

    _ok(
        home,
        "jurisdiction",
        "add",
        "DE-GBA",
        "--state",
        "Germany",
        "--authority",
        "Federal Public Prosecutor General",
        "--unit",
        "War crimes unit",
    )
    _ok(
        home,
        "jurisdiction",
        "add",
        "SE-NOA",
        "--state",
        "Sweden",
        "--authority",
        "Swedish Prosecution Authority",
    )
    out = _ok(
        home,
        "framework",
        "add",
        "--provider",
        "Detainees Association",
        "--title",
        "MoU 2023",
        "--disclosure",
        "consent",
        "--attribution",
    )
    framework = out.split(":")[0].split()[-1]
    _ok(
        home,
        "ingest",
        str(evidence),
        "--collection",
        "DA handover 1",
        "--provider",
        "Detainees Association",
        "--framework",
        framework,
    )
    _ok(home, "process")
    ids = _ids(home)
    typed, scan = ids["statement-typed.pdf"], ids["statement-scan.pdf"]

    _ok(
        home,
        "rfa",
        "add",
        REF,
        "--jurisdiction",
        "DE-GBA",
        "--received-on",
        "2026-09-01",
        "--subject",
        "Detentions at the air force intelligence branch",
        "--organisation",
        "Air Force Intelligence",
        "--crime",
        "torture",
        "--urgency",
        "urgent",
    )
    _ok(home, "rfa", "move", REF, "acknowledged")
    _ok(home, "rfa", "move", REF, "in_progress")
    found = _ok(home, "rfa", "search", REF, "المخابرات الجوية")
    assert "2 hits, 2 new candidates" in found  # the scan is found through its OCR text
    shown = json.loads(_ok(home, "rfa", "show", REF, "--json"))
    assert [s["query"] for s in shown["searches"]] == ["المخابرات الجوية"]
    assert shown["searches"][0]["hits"] == 2 and shown["review"] == {"pending": 2}
    _ok(home, "rfa", "review", REF, "relevant", str(typed), str(scan))
    _ok(home, "protected", "add", "Witness A", "--name", WITNESS_AR, "--name", WITNESS_LATIN)

    # 1. Consent is missing: refused, item by item, with the reason.
    target = tmp_path / "out" / "package"
    refused = amanah_here(home, "package", "build", REF, str(target))
    assert refused.returncode == 1, refused.stderr
    assert f"item {typed}: needs consent" in refused.stdout
    assert f"item {scan}: needs consent" in refused.stdout
    assert not target.exists()
    candidates = json.loads(_ok(home, "rfa", "candidates", REF, "--json"))
    assert {c["disclosure"] for c in candidates} == {"needs_consent"}
    letter = tmp_path / "consent.pdf"
    _ok(home, "consent", "letter", REF, "Detainees Association", str(letter))
    letter_text = subprocess.run(
        ["pdftotext", str(letter), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert REF in letter_text and "statement-scan.pdf" in letter_text
    _ok(
        home,
        "consent",
        "record",
        REF,
        "Detainees Association",
        "given",
        "--by",
        "Director, letter of 2026-10-02",
    )

    # 2. The witness is named in the text layer, and in the scan's OCR text: refused.
    refused = amanah(home, "package", "build", REF, str(target))
    assert refused.returncode == 1
    for item in (typed, scan):
        assert f"item {item}: names protected person Witness A" in refused.stdout
    assert WITNESS_AR not in refused.stdout + refused.stderr  # names never printed
    assert WITNESS_LATIN not in refused.stdout + refused.stderr

    # 3. Redaction: text positions for the typed PDF, OCR word boxes for the scan.
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            before = {i: s.get(Item, i).sha256 for i in (typed, scan)}
        original_scan = tmp_path / "original-scan.pdf"
        with ws.blobs.open(before[scan]) as f:
            original_scan.write_bytes(f.read())
    finally:
        ws.close()
    for item in (typed, scan):
        out = _ok(home, "package", "redact", str(item))
        assert "Witness A" in out

    # 4. The package is built.
    built = json.loads(_ok(home, "package", "build", REF, str(target), "--json"))
    assert built["items"] == 2 and built["redacted"] == 2

    # The redacted files say nothing of the witness: not in the text layer, not in the
    # metadata, and not in the pixels (Tesseract no longer reads the name, and where it
    # read the name on the original scan the redacted page is black).
    number = {item: n for n, item in enumerate(sorted((typed, scan)), 1)}
    red_typed = target / "data" / f"{number[typed]:05d}-statement-typed.redacted.pdf"
    red_scan = target / "data" / f"{number[scan]:05d}-statement-scan.redacted.pdf"
    typed_text = _page_text(red_typed)
    assert "المخابرات" in typed_text  # the rest of the statement is still there
    assert "الخطيب" not in typed_text and "Khatib" not in typed_text
    assert "Khatib" not in _page_text(red_scan)
    grey_before, words_before = _ocr_boxes(original_scan)
    named = [w for w in words_before if "الخطيب" in str(w["text"]) or "Khatib" in str(w["text"])]
    assert named, "the original scan's OCR reads the name"
    grey_after, words_after = _ocr_boxes(red_scan)
    assert not [w for w in words_after if "الخطيب" in str(w["text"]) or "Khatib" in str(w["text"])]
    assert any("المخابرات" in str(w["text"]) for w in words_after)
    for w in named:
        left, top, width, height = w["box"]  # type: ignore[misc]
        region = grey_after[top : top + height, left : left + width]  # type: ignore[index]
        assert region.mean() < 40, "the name's pixels are gone, not just its text"
        assert grey_before[top : top + height, left : left + width].mean() > 100  # type: ignore[index]

    # The originals are untouched.
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            assert {i: s.get(Item, i).sha256 for i in (typed, scan)} == before
        import hashlib

        for sha in before.values():
            with ws.blobs.open(sha) as f:
                assert hashlib.sha256(f.read()).hexdigest() == sha
        # Every included item has a disclosure event naming this package and file's hash.
        with ws.db.reader() as s:
            disclosures = [
                json.loads(e.details)
                for e in s.execute(
                    select(CustodyEvent).where(
                        CustodyEvent.event_type == "disclosure", CustodyEvent.object_type == "item"
                    )
                ).scalars()
            ]
            seals = [
                json.loads(e.details)
                for e in s.execute(
                    select(CustodyEvent).where(
                        CustodyEvent.event_type == "disclosure",
                        CustodyEvent.object_type == "package",
                    )
                ).scalars()
            ]
    finally:
        ws.close()
    index = json.loads((target / "amanah" / "items.json").read_text())
    # One more disclosure event seals the package's file set.
    assert [(d["package"], d["files"]) for d in seals] == [(built["package"], 2)]
    assert {(d["package"], d["sha256"]) for d in disclosures} == {
        (built["package"], row["sha256"]) for row in index["items"]
    }
    assert {row["provider"] for row in index["items"]} == {"Detainees Association"}
    tags = (
        "".join(p.read_text(errors="replace") for p in (target / "amanah").rglob("*.json"))
        + (target / "amanah" / "items.csv").read_text()
    )
    assert "الخطيب" not in tags and "Khatib" not in tags

    # 5. bagit validates the bag; the standalone verifier accepts it, and rejects one byte.
    import bagit

    bagit.Bag(str(target)).validate()
    verifier = REPO / "tools" / "verify_package.py"
    ws = open_workspace(home)
    key_id = ws.key.key_id
    ws.close()
    ok = subprocess.run(
        [sys.executable, str(verifier), str(target), "--key-id", key_id],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert _ok(home, "package", "verify", str(target)).strip().endswith("verified")
    tampered = tmp_path / "tampered"
    shutil.copytree(target, tampered)
    victim = sorted((tampered / "data").iterdir())[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    bad = subprocess.run(
        [sys.executable, str(verifier), str(tampered)], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1
    assert f"FAIL data/{victim.name}: sha256 does not match the manifest (changed)" in bad.stdout

    # The build moved the request on to in review (it was in progress), each step recorded.
    shown = json.loads(_ok(home, "rfa", "show", REF, "--json"))
    assert shown["state"] == "in_review"
    assert [e["to"] for e in shown["events"]][-1] == "in_review"
    _ok(home, "rfa", "move", REF, "responded", "--on", "2026-11-20")
    metrics = json.loads(_ok(home, "rfa", "metrics", "--json"))
    assert metrics["days_to_respond"]["answered"] == 1
    assert metrics["per_request"][0]["days_to_respond"] == 80


def _workspace_with(home: Path, folder: Path) -> tuple[Workspace, dict[str, int]]:
    from amanah.processing.runner import run

    ws = open_workspace(home)
    ingest_folder(ws, folder)
    run(ws)
    return ws, _ids(home)


def test_an_image_is_redacted_by_ocr_and_by_region_and_loses_its_metadata(
    sqlite_home: Path, tmp_path: Path
) -> None:
    import numpy as np
    import pymupdf
    from PIL import Image

    from amanah.access import local_administrator
    from amanah.sharing import protected, redaction

    folder = tmp_path / "photos"
    folder.mkdir()
    scan = scanned_pdf(tmp_path / "s.pdf")
    with pymupdf.open(scan) as doc:
        png = doc[0].get_pixmap(dpi=150).tobytes("png")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    exif = Image.Exif()
    exif[0x013B] = WITNESS_LATIN  # Artist
    image.save(folder / "board.jpg", quality=95, exif=exif)
    ws, ids = _workspace_with(sqlite_home, folder)
    admin = local_administrator(ws)
    with ws.db.session() as s:
        protected.add(s, admin, "Witness A", [WITNESS_AR, WITNESS_LATIN])
    region = (1, 10, 10, 60, 60)  # a face, say: painted by hand
    done = redaction.redact(ws, admin, ids["board.jpg"], [region])
    assert done["protected"] == ["Witness A"] and done["regions"] >= 3
    red = tmp_path / "red.jpg"
    with ws.blobs.open(done["sha256"]) as f:
        red.write_bytes(f.read())
    with Image.open(red) as im:
        assert not im.getexif() and "exif" not in im.info
        pixels = np.asarray(im.convert("L"))
    assert pixels[10:60, 10:60].mean() < 10
    _, words = _ocr_boxes_image(pixels)
    read = " ".join(str(w["text"]) for w in words)
    assert "المخابرات" in read and "الخطيب" not in read and "Khatib" not in read
    ws.close()


def _ocr_boxes_image(grey: object) -> tuple[object, list[dict[str, object]]]:
    from amanah.processing import ocr

    with tempfile.TemporaryDirectory(prefix="ocr-") as work:
        _, _, words = ocr.tesseract(grey, Path(work), "ara+eng", single_line=False)
    return grey, words


def test_an_encrypted_pdf_is_refused_for_redaction_with_its_reason(
    sqlite_home: Path, tmp_path: Path
) -> None:
    from amanah.access import local_administrator
    from amanah.sharing import SharingError, protected, redaction
    from tests.conftest import SHARED_DATA

    source = SHARED_DATA / "ingest_file_fixtures" / "password-hunter2.pdf"
    if not source.exists():
        pytest.skip("../shared/data is not beside the repository")
    folder = tmp_path / "locked"
    folder.mkdir()
    shutil.copyfile(source, folder / "locked.pdf")
    ws, ids = _workspace_with(sqlite_home, folder)
    admin = local_administrator(ws)
    with ws.db.session() as s:
        protected.add(s, admin, "Witness A", [WITNESS_AR])
    with pytest.raises(SharingError, match=r"locked.pdf\): redaction failed: .*encrypted"):
        redaction.redact(ws, admin, ids["locked.pdf"])
    ws.close()
