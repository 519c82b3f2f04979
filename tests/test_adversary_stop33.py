"""Adversary round 33: the redaction split (the child lists words, Amanah matches) tried with
real files and the real sandbox on the cases the single pass handled, and on a name the
single pass never found: its words on two pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from amanah.access import local_administrator
from amanah.db.models import Derivative
from amanah.sharing import SharingError, redaction
from amanah.workspace import open_workspace
from tests.conftest import ingest_folder
from tests.test_redaction import _blob, _independent_scan, _workspace_with

LATIN = ("Ahmad", "Khatib", "KHATIB", "khatib")


def _pdf(path: Path, pages: list[list[tuple[float, str]]], rotate: int = 0) -> Path:
    import pymupdf

    doc = pymupdf.open()
    for lines in pages:
        page = doc.new_page()
        for y, text in lines:
            page.insert_text((72, y), text, fontsize=12)
        if rotate:
            page.set_rotation(rotate)
    doc.save(path)
    doc.close()
    return path


def _redacted_text(ws: Any, done: dict[str, Any], tmp: Path) -> str:
    return _independent_scan(_blob(ws, done["sha256"], tmp / "out.pdf"))


def _kinds(ws: Any, item_id: int) -> set[str]:
    with ws.db.reader() as s:
        return set(
            s.execute(select(Derivative.kind).where(Derivative.item_id == item_id)).scalars()
        )


def test_a_name_whose_words_fall_on_two_pages_is_removed(sqlite_home: Path, tmp_path: Path) -> None:
    """ "Ahmad" ends page 1 and "al-Khatib" begins page 2: a reader turning the page reads the
    name. The single pass matched page by page and left both words; Amanah now holds every
    page's words and reads them as one sequence."""
    folder = tmp_path / "in"
    folder.mkdir()
    _pdf(
        folder / "turned.pdf",
        [
            [(100, "Minutes of the hearing."), (700, "The hearing was told by Ahmad")],
            [(72, "al-Khatib that the cell was full."), (120, "The guards spoke.")],
        ],
    )
    ws, ids = _workspace_with(sqlite_home, folder)
    try:
        done = redaction.redact(ws, local_administrator(ws), ids["turned.pdf"])
        said = _redacted_text(ws, done, tmp_path)
        assert done["protected"] == ["Witness A"]
        assert {a[0] for a in done["areas"]} == {1, 2}
        assert not [p for p in LATIN if p in said], "a part of the name survived"
        assert "cell was full" in said and "guards spoke" in said
    finally:
        ws.close()


def test_line_end_hyphen_rotated_page_and_region_checks(sqlite_home: Path, tmp_path: Path) -> None:
    """A name hyphenated across a line end, and a name on a page rotated by 90 degrees (its
    areas are in the unrotated page's points), are removed; a region beyond the last page or
    page 2 of an image is refused before anything is written, saying nothing was redacted."""
    from PIL import Image

    folder = tmp_path / "in"
    folder.mkdir()
    _pdf(
        folder / "hyphen.pdf",
        [[(100, "The hearing was told by Ahmad al-Kha-"), (115, "tib that the cell was full.")]],
    )
    _pdf(folder / "rotated.pdf", [[(100, "Statement of Ahmad al-Khatib, read aloud.")]], 90)
    Image.new("RGB", (200, 100), "white").save(folder / "blank.png")
    ws, ids = _workspace_with(sqlite_home, folder)
    try:
        admin = local_administrator(ws)
        for name in ("hyphen.pdf", "rotated.pdf"):
            done = redaction.redact(ws, admin, ids[name])
            said = _redacted_text(ws, done, tmp_path)
            assert done["protected"] == ["Witness A"], name
            assert not [p for p in LATIN if p in said], name
            assert ("cell was full" if name == "hyphen.pdf" else "read aloud") in said
        with pytest.raises(SharingError, match="nothing was redacted"):
            redaction.redact(ws, admin, ids["hyphen.pdf"], [(3, 10, 10, 50, 50)])
        with pytest.raises(SharingError, match="page other than 1"):
            redaction.redact(ws, admin, ids["blank.png"], [(2, 10, 10, 50, 50)])
        assert redaction.REDACTED not in _kinds(ws, ids["blank.png"])
    finally:
        ws.close()


def test_hand_regions_only_with_no_protected_person(sqlite_home: Path, tmp_path: Path) -> None:
    """With nobody recorded, regions drawn by hand are still removed (no OCR is asked for);
    without a region, nothing is done and the reason says so."""
    folder = tmp_path / "in"
    folder.mkdir()
    _pdf(folder / "face.pdf", [[(100, "Minutes of the hearing."), (200, "Secret line here.")]])
    ws = open_workspace(sqlite_home)
    ingest_folder(ws, folder)
    from amanah.processing.runner import run

    run(ws)
    try:
        with ws.db.reader() as s:
            from amanah.db.models import Item

            item_id = s.execute(select(Item.id)).scalar_one()
        admin = local_administrator(ws)
        with pytest.raises(SharingError, match="no protected person is recorded"):
            redaction.redact(ws, admin, item_id)
        done = redaction.redact(ws, admin, item_id, [(1, 60, 185, 400, 205)])
        said = _redacted_text(ws, done, tmp_path)
        assert "Secret" not in said and "Minutes of the hearing" in said
        assert done["protected"] == [] and done["ocr_pages"] == []
    finally:
        ws.close()


def test_a_child_that_slips_the_name_into_the_reread_text_is_refused(
    sqlite_home: Path, tmp_path: Path
) -> None:
    """The re-read text (check.txt) is stored as the redacted copy's text: a compromised
    child could say one thing in reread.json and write the name into check.txt. Amanah reads
    it too; the copy is refused and nothing is recorded."""
    from tests.test_redaction_child import _no_redaction, _refused

    folder = tmp_path / "in"
    folder.mkdir()
    _pdf(folder / "plain.pdf", [[(100, "Minutes of the hearing.")]])
    ws, ids = _workspace_with(sqlite_home, folder)

    def spoil(out: Path, manifest: dict[str, Any]) -> None:
        if (out / "check.txt").exists():
            with (out / "check.txt").open("a", encoding="utf-8") as f:
                f.write("\nAhmad al-Khatib\n")

    try:
        caught = _refused(ws, ids["plain.pdf"], spoil)
        assert "the re-read text" in caught and "Khatib" not in caught
        assert _no_redaction(ws, ids["plain.pdf"])
    finally:
        ws.close()


def test_an_image_with_exif_orientation_is_redacted_as_it_is_seen(
    sqlite_home: Path, tmp_path: Path
) -> None:
    """A photo stored on its side with an EXIF orientation: the words are read, the areas
    painted and the result written on the image as it is seen (the child's sizes and the
    parent's areas agree), and the copy carries no EXIF left to turn it."""
    from PIL import Image, ImageDraw, ImageFont

    from tests.test_redaction import FONT

    folder = tmp_path / "in"
    folder.mkdir()
    upright = Image.new("RGB", (1400, 240), "white")
    font = ImageFont.truetype(FONT, 48)
    ImageDraw.Draw(upright).text((40, 80), "Statement of Ahmad al-Khatib", fill="black", font=font)
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise
    upright.rotate(90, expand=True).save(folder / "photo.jpg", "JPEG", exif=exif, quality=95)
    ws, ids = _workspace_with(sqlite_home, folder)
    try:
        done = redaction.redact(ws, local_administrator(ws), ids["photo.jpg"])
        assert done["protected"] == ["Witness A"] and done["media_type"] == "image/jpeg"
        out = _blob(ws, done["sha256"], tmp_path / "out.jpg")
        with Image.open(out) as im:
            assert im.size == upright.size and not im.getexif()
    finally:
        ws.close()


def test_an_oversized_word_list_is_refused_before_it_is_read(
    sqlite_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent reads what the child lists into memory: a file (or a compromised child)
    that makes the list huge is refused by its size, clearly, before it is parsed. The limit
    is lowered here so that a small real list exceeds it."""
    from tests.test_redaction_child import _no_redaction, _refused

    folder = tmp_path / "in"
    folder.mkdir()
    _pdf(folder / "plain.pdf", [[(100 + 14 * i, "Minutes of the hearing.") for i in range(40)]])
    ws, ids = _workspace_with(sqlite_home, folder)
    monkeypatch.setattr(redaction, "TAKEN_LIMIT", 2048)
    try:
        caught = _refused(ws, ids["plain.pdf"], None)
        assert "words.json" in caught and "over the 0 MiB Amanah reads" in caught, caught
        assert _no_redaction(ws, ids["plain.pdf"])
    finally:
        ws.close()
