"""A picture a PDF page shows only in part still names the witness in its own pixels (stop 53):
cut by a clipping path, placed partly past the page's edge, made transparent by its soft mask,
or covered by a box drawn over it (how a redaction is faked). The page as shown hides the name;
any program that extracts the picture shows it. Each is read whole (`partly_shown`), and the
same files naming nobody read clean."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pymupdf
import pytest
from PIL import Image, ImageDraw, ImageFont

from amanah.processing import inventory
from amanah.processing.inventory_pdf import PARTLY_SHOWN
from amanah.sharing.matcher import Matcher
from tests.sharingfixtures import WITNESS_LATIN

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
BOX = pymupdf.Rect(72, 100, 472, 153)  # the picture's place: its first fifth shows "Statement"


def _picture(text: str) -> bytes:
    image = Image.new("L", (900, 120), 255)
    ImageDraw.Draw(image).text((10, 20), text, font=ImageFont.truetype(FONT, 64), fill=0)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _page(text: str, place: pymupdf.Rect = BOX, typed: bool = True) -> tuple[Any, Any]:
    doc = pymupdf.open()
    page = doc.new_page()
    if typed:
        page.insert_text((72, 72), "Statement about the centre.", fontfile=FONT, fontname="dv")
    page.insert_image(place, stream=_picture(f"Statement {text}"))
    return doc, page


def clipped(path: Path, text: str) -> None:
    doc, page = _page(text)
    last = page.get_contents()[-1]
    # a clipping path around the picture's first 140 points (PDF space: y up)
    doc.update_stream(last, b"q 72 689 140 53 re W n\n" + doc.xref_stream(last) + b"\nQ\n")
    doc.save(path)


def past_the_edge(path: Path, text: str) -> None:
    doc, _ = _page(text, pymupdf.Rect(450, 100, 850, 153))
    doc.save(path)


def covered(path: Path, text: str) -> None:
    doc, page = _page(text)
    page.draw_rect(pymupdf.Rect(150, 98, 472, 155), color=(0, 0, 0), fill=(0, 0, 0))
    doc.save(path)


def covered_scan(path: Path, text: str) -> None:
    doc, page = _page(text, typed=False)  # no text layer: the page is OCR'd as shown
    page.draw_rect(pymupdf.Rect(150, 98, 472, 155), color=(1, 1, 1), fill=(1, 1, 1))
    doc.save(path)


def masked(path: Path, text: str) -> None:
    doc, page = _page(text)
    xref = page.get_image_info(xrefs=True)[0]["xref"]
    mask = doc.get_new_xref()
    doc.update_object(
        mask,
        "<< /Type /XObject /Subtype /Image /Width 900 /Height 120"
        " /ColorSpace /DeviceGray /BitsPerComponent 8 >>",
    )
    doc.update_stream(mask, bytes(255 if x < 300 else 0 for _ in range(120) for x in range(900)))
    doc.xref_set_key(xref, "SMask", f"{mask} 0 R")
    doc.save(path)


CASES: dict[str, Callable[[Path, str], None]] = {
    "clipped": clipped,
    "past the page's edge": past_the_edge,
    "covered": covered,
    "covered scan": covered_scan,
    "masked": masked,
}


@pytest.mark.parametrize("case", CASES)
def test_a_picture_shown_in_part_is_read_whole(case: str, tmp_path: Path) -> None:
    matcher = Matcher.of([("Witness A", [WITNESS_LATIN])])
    for text, named in ((WITNESS_LATIN, True), ("the centre", False)):
        path = tmp_path / f"{named}.pdf"
        CASES[case](path, text)
        shown = pymupdf.open(path)[0].get_pixmap(dpi=150)
        assert shown.width  # the page renders
        inv = inventory.of_file(path, path.name, tmp_path)
        assert inv.complete, inv.reasons
        found = [p for p in inv.parts if matcher.names(p.text)]
        if named:
            assert [p.place for p in found] == [f"OCR of {PARTLY_SHOWN}"], case
            assert case.split()[0] in found[0].locator
        else:
            assert found == []
            assert any(p.place == f"OCR of {PARTLY_SHOWN}" for p in inv.parts)  # read, clean


def test_a_picture_wholly_shown_is_read_once(tmp_path: Path) -> None:
    doc, _ = _page("the centre")
    path = tmp_path / "whole.pdf"
    doc.save(path)
    inv = inventory.of_file(path, path.name, tmp_path)
    assert not any(p.place == f"OCR of {PARTLY_SHOWN}" for p in inv.parts)


@pytest.mark.parametrize("case", CASES)
def test_a_redacted_copy_keeps_no_more_of_a_picture_than_the_page_shows(
    case: str, tmp_path: Path
) -> None:
    """Redaction blanks what the page hides of each such picture (`blank_hidden`): the copy
    reads clean and looks as the original did."""
    from amanah.sharing import redact_pdf

    path, copy = tmp_path / "named.pdf", tmp_path / "redacted.pdf"
    CASES[case](path, WITNESS_LATIN)
    redact_pdf.apply(path, copy, [])  # no name on the page as shown: no area to remove
    matcher = Matcher.of([("Witness A", [WITNESS_LATIN])])
    inv = inventory.of_file(copy, copy.name, tmp_path)
    assert [p.place for p in inv.parts if matcher.names(p.text)] == []
    before = pymupdf.open(path)[0].get_pixmap(dpi=72, colorspace=pymupdf.csGRAY).samples
    after = pymupdf.open(copy)[0].get_pixmap(dpi=72, colorspace=pymupdf.csGRAY).samples
    assert len(before) == len(after)
    assert sum(abs(x - y) > 40 for x, y in zip(before, after, strict=True)) == 0
