"""A PDF stream is skipped by what its bytes are, not by the keys it claims (review of stop 54):
a page's metadata naming the witness was left unread when its dictionary also said
`/Length1` (a font program's key), `/Subtype /Form` (no page draws it) or `/Subtype /Image`
(its bytes are not the samples its size makes). A real image and the page's own text are not
read as streams."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from amanah.processing import inventory_pdf
from amanah.processing.inventory import Inventory

NAME = "Witness Ahmad Khatib"
CLAIMS = {
    "no claim": "",
    "a font program's length": "/Length1 5",
    "a form no page draws": "/Subtype /Form /BBox [0 0 1 1]",
    "an image of other bytes": "/Subtype /Image /Width 10 /Height 10 /BitsPerComponent 8"
    " /ColorSpace /DeviceGray",
}


def _pdf(claim: str) -> bytes:
    import pymupdf
    from PIL import Image

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "A statement about the river")
    picture = io.BytesIO()
    Image.new("L", (40, 30), 200).save(picture, "PNG")
    page.insert_image(pymupdf.Rect(72, 100, 112, 130), stream=picture.getvalue())
    xref = doc.get_new_xref()
    doc.update_object(xref, f"<< /Type /Metadata /Subtype /XML {claim} >>")
    doc.update_stream(
        xref, f"<x:xmpmeta><rdf:Description>{NAME}</rdf:Description></x:xmpmeta>".encode()
    )
    doc.xref_set_key(page.xref, "Metadata", f"{xref} 0 R")
    return doc.tobytes()


@pytest.mark.parametrize("claim", CLAIMS)
def test_a_stream_claiming_to_be_a_font_form_or_image_is_read(claim: str, tmp_path: Path) -> None:
    import pymupdf

    doc = pymupdf.open(stream=_pdf(CLAIMS[claim]))
    inv = Inventory()
    inventory_pdf._pdf_streams(inv, doc, tmp_path, "eng", 0, set())
    read = {p.locator: p.text for p in inv.parts if p.place == inventory_pdf.STREAM_PLACE}
    assert any(NAME in text for text in read.values()), read
    pictures = [x for x in range(1, doc.xref_length()) if doc.xref_get_key(x, "Width")[1] == "40"]
    assert pictures and not {f"object {x}" for x in pictures} & set(read)  # samples not read
