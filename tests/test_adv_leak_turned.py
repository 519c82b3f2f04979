"""A page scanned upside down or sideways names a protected person in its pixels: OCR reads
it turned back, so the package build refuses it (Tesseract's layout analysis reads no turned
text, and its orientation detection gives up on a page with a line or two)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.sharingfixtures import WITNESS_LATIN
from tests.test_adv_leak_places import _setup
from tests.test_leak_check import _ingest, _ok, refused_build

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _line(text: str):  # type: ignore[no-untyped-def]
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (1240, 420), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 40)
    draw.text((40, 100), "Statement taken at the centre", font=font, fill=0)
    draw.text((40, 220), f"Interview of {text}", font=font, fill=0)
    return page


def _scanned_pdf(path: Path, image) -> None:  # type: ignore[no-untyped-def]
    import pymupdf

    buf = io.BytesIO()
    image.save(buf, "PNG")
    doc = pymupdf.open()
    page = doc.new_page(width=image.width * 72 / 150, height=image.height * 72 / 150)
    page.insert_image(page.rect, stream=buf.getvalue())
    doc.save(path)


@pytest.mark.slow
def test_a_page_scanned_upside_down_or_sideways_is_read_turned_back(
    sqlite_home: Path, tmp_path: Path
) -> None:
    home = sqlite_home
    _setup(home)
    folder = tmp_path / "h"
    folder.mkdir()
    _line(WITNESS_LATIN).rotate(180).save(folder / "upside-down.png")
    _scanned_pdf(folder / "sideways.pdf", _line(WITNESS_LATIN).rotate(90, expand=True))
    _line("the archive office").rotate(180).save(folder / "control.png")
    ids = _ingest(home, folder, "h")
    _ok(home, "process")
    _, reasons = refused_build(home, "RFA-1", sorted(ids.values()), tmp_path / "p1")
    assert reasons.get(ids["upside-down.png"], "").startswith("names protected person Witness A")
    assert reasons.get(ids["sideways.pdf"], "").startswith("names protected person Witness A")
    assert ids["control.png"] not in reasons, reasons
