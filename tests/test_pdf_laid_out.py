"""A PDF page read as it is laid out (`pdftext.laid_out`), not as its content stream draws it:
a producer, or an adversary, may draw a name's pieces in any order, each a line of its own to
MuPDF; the eye reads them where they stand. And the letters a page draws under a replacement
text (`/ActualText`), which a text layer reports instead of them."""

from __future__ import annotations

import random
from pathlib import Path

import pymupdf

from amanah.processing import inventory, pdftext

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
NAME = "Ahmad al-Khatib"


def _page(pieces: list[tuple[str, float, float]], size: float = 20) -> pymupdf.Document:
    doc = pymupdf.open()
    page = doc.new_page()
    for text, x, y in pieces:
        page.insert_text((x, y), text, fontfile=FONT, fontname="dv", fontsize=size)
    return doc


def _at(text: str, size: float = 20, x: float = 72.0) -> list[float]:
    font = pymupdf.Font(fontfile=FONT)
    out = []
    for ch in text:
        out.append(x)
        x += font.text_length(ch, fontsize=size)
    return out


def test_pieces_drawn_last_first_read_as_one_name() -> None:
    xs = _at(NAME)
    doc = _page([(NAME[3:], xs[3], 120), (NAME[:3], xs[0], 120)])
    read = pdftext.read_page(doc[0])
    assert NAME not in read.text  # MuPDF's reading: "ad al-Khatib" then "Ahm"
    assert pdftext.laid_out(read, doc[0]) == NAME


def test_letters_drawn_in_a_shuffled_order_read_in_place() -> None:
    xs = _at(NAME)
    order = list(range(len(NAME)))
    random.Random(3).shuffle(order)
    doc = _page([(NAME[i], xs[i], 120) for i in order if NAME[i] != " "])
    assert pdftext.laid_out(pdftext.read_page(doc[0]), doc[0]) == NAME


def test_columns_and_rows_stay_apart() -> None:
    doc = _page(
        [("Left column", 72, 100), ("Right column", 320, 100), ("Next row", 72, 160)], size=12
    )
    assert pdftext.laid_out(pdftext.read_page(doc[0]), doc[0]) == (
        "Left column Right column\nNext row"
    )


def test_a_name_drawn_under_a_replacement_text_is_in_the_inventory(tmp_path: Path) -> None:
    doc = _page([("Statement about the centre.", 72, 72), (NAME, 72, 120)])
    page = doc[0]
    last = page.get_contents()[-1]
    body = doc.xref_stream(last)
    # The replacement by a named property in the page's resources, not inline.
    doc.update_stream(last, b"/Span /P0 BDC\n" + body + b"\nEMC\n")
    props = doc.get_new_xref()
    doc.update_object(props, "<< /ActualText (signed) >>")
    kind, value = doc.xref_get_key(page.xref, "Resources")
    resources = int(value.split()[0]) if kind == "xref" else page.xref
    key = "Properties" if kind == "xref" else "Resources/Properties"
    doc.xref_set_key(resources, key, f"<< /P0 {props} 0 R >>")
    path = tmp_path / "replaced.pdf"
    doc.save(path)
    assert NAME not in pymupdf.open(path)[0].get_text()
    inv = inventory.of_file(path, path.name, tmp_path)
    under = [p for p in inv.parts if "ActualText" in p.place]
    assert [NAME in p.text for p in under] == [True]
