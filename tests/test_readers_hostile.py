"""The stop's new readers against what a reviewer threw at them (stop 52): hostile input read
in one pass, markers that never leak into text, a picture hidden behind decoys, attribute
values that do not split a name, and a redacted JPEG cut at its end."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from amanah.processing import embedded_pictures
from amanah.processing.extract import html_text
from amanah.processing.inventory_markup import shown_text
from amanah.processing.inventory_office import _xml_places
from amanah.sharing import protected_readings
from amanah.sharing.protected import Matcher


def _jpeg(size: tuple[int, int] = (200, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("L", size, 255).save(out, "JPEG")
    return out.getvalue()


def test_light_markup_of_a_run_of_stars_is_read_in_one_pass() -> None:
    # "a* " then 200,000 stars: every star started a match that ate to the end (quadratic)
    said = protected_readings.readings("a* " + "*" * 200_000)
    assert said  # read, within the suite's time-out per test
    m = Matcher.of([("Witness A", ["Ahmad al-Khatib"])])
    assert m.names("**Ah**mad al-Khatib " + "*" * 50_000) == {"Witness A"}


def test_style_sheets_that_hide_everything_or_everything_twice() -> None:
    assert shown_text("<style>*{display:none}</style><p>Ahmad</p>") == ""  # no root removed
    page = "<style>" + "p," * 3000 + "p{display:none}</style>" + "<p>x</p>" * 3000 + "<i>y</i>"
    assert shown_text(page) == "y"
    nested = '<style>.x{display:none}</style><p>Ah<span class="x">q<b class="x">z</b></span>mad</p>'
    assert shown_text(nested) == "Ahmad"
    assert shown_text("<style>" + "a" * 300_000 + "</style><p hidden>x</p><p>y</p>") == "y"


def test_a_picture_behind_decoy_starts_leaves_the_reading_cut() -> None:
    """70 JPEG starts that decode to nothing, then a real picture: the reading says it
    stopped (the inventory is then incomplete), it does not pass over the picture."""
    decoys = b"\xff\xd8\xff" * 70
    com = b"\xff\xfe" + (len(decoys) + 2).to_bytes(2, "big") + decoys
    inner = _jpeg()
    app3 = b"\xff\xe3" + (len(inner) + 2).to_bytes(2, "big") + inner
    data = _jpeg()[:2] + com + app3 + _jpeg()[2:]
    found = list(embedded_pictures.pictures(data, False))
    assert found and found[-1][1] is None
    alone = list(embedded_pictures.pictures(_jpeg()[:2] + app3 + _jpeg()[2:], False))
    assert len(alone) == 1 and alone[0][1] is not None and alone[0][1].size == (200, 60)


def test_starts_chained_to_the_end_of_a_file_are_read_in_one_pass() -> None:
    block = b"\xff\xd8\xff\xfe\x00\x04\x00\x00" + b"\xff\xfe\x00\x02" * 32_000
    assert list(embedded_pictures.candidates(block * 32, False)) == []


def test_a_redacted_jpeg_keeps_nothing_after_its_end() -> None:
    picture = _jpeg()
    appended = picture + _jpeg((400, 100))
    kept = embedded_pictures.jpeg_without_metadata(appended)
    assert kept == picture
    assert Image.open(io.BytesIO(kept)).size == (200, 60)


def test_attribute_values_do_not_split_the_running_text() -> None:
    docx = (
        b'<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>Ahmad al-Kha</w:t></w:r>'
        b'<w:ins w:author="Editor"><w:r><w:t>ti</w:t></w:r></w:ins><w:r><w:t>b said</w:t>'
        b'</w:r></w:p><w:p><w:r><w:sym w:char="D800"/><w:sym w:char="F041"/></w:r></w:p>'
        b"</w:body></w:document>"
    )
    places = _xml_places(docx, "x")
    assert places["x"].startswith("Ahmad al-Khatib said") and "Editor" not in places["x"][:25]
    assert "A" in places["x"] and "\ud800" not in "".join(places.values())
    assert not any(c in "".join(places.values()) for c in "\x00\x01")
    odt = (
        b'<office:document-content xmlns:office="o" xmlns:text="t" xmlns:xlink="l">'
        b'<office:body><office:text><text:p>al-Kha<text:a xlink:href="http://e.org">ti'
        b"</text:a>b said</text:p></office:text></office:body></office:document-content>"
    )
    assert _xml_places(odt, "x")["x"].startswith("al-Khatib said")


def test_blocks_part_lines_and_inline_elements_do_not() -> None:
    page = "<center>Ahmad</center><center>Khatib</center><p>Ah<b>mad</b> al-<wbr>Khatib</p>"
    text = html_text(page)[0]
    assert "Ahmad\n" in text and "Ahmad al-Khatib" in text
    assert "AhmadKhatib" not in text


def test_a_scanners_tiff_of_many_jpeg_strips_is_no_picture_carried(tmp_path: Path) -> None:
    """A TIFF compressed as JPEG holds a JPEG start a strip: its own picture, not pictures
    it carries (they were tried, and past the tries the inventory was called incomplete)."""
    from amanah.processing import inventory

    path = tmp_path / "scan.tif"
    Image.new("RGB", (600, 900), "white").save(path, compression="tiff_jpeg", strip_size=4096)
    assert path.read_bytes().count(b"\xff\xd8\xff") > 4 * embedded_pictures.MAX_PICTURES
    (tmp_path / "work").mkdir()
    found = inventory.of_file(path, "scan.tif", tmp_path / "work")
    assert found.complete, found.reasons


def test_text_a_style_sheet_writes_is_read_in_its_place() -> None:
    """`content` of `::before`/`::after` (stop 53): strings with CSS escapes, copied
    attributes, inside the element before or after its text; the rules looked up are
    bounded like the hiding ones."""
    page = (
        '<style>.n::before{content:"\\41 \\68 mad "} .t:after { content: attr(data-f) }</style>'
        '<p>Statement of <span class="n"></span>al-<b class="t" data-f="Khatib"></b>.</p>'
    )
    assert shown_text(page) == "Statement of Ahmad al-Khatib."
    assert shown_text('<style>b::before{content:"\\110000\\D800 x"}</style><b>y</b>') == (
        "\ufffd\ufffdxy"
    )
    many = "<style>" + "".join(f".c{i}::before{{content:'z'}}" for i in range(5000)) + "</style>"
    shown = shown_text(many + "<p>" + "".join(f'<i class="c{i}">.</i>' for i in range(5000)))
    assert shown is not None and shown.count("z") == 200  # MAX_HIDING_SELECTORS rules


# -- a reviewer's read of stop 53's readers ----------------------------------------------------


def test_formulas_of_formulas_show_a_bounded_text_once_each() -> None:
    """D1 a name, C1 = D1&D1&… (80 times), B1 = C1&…, A1 = B1&…: each cell's text grew as the
    fourth power of the formulas' length (8 MB a cell, seconds each); a cell now shows at
    most MAX_SHOWN characters and each formula's cell is made once."""
    from amanah.processing import sheet_display
    from amanah.processing.inventory_office import Display

    display = Display({})
    refs = {"D1": None, "C1": "D1", "B1": "C1", "A1": "B1"}
    display.cell("D1", "Ahmad al-Khatib", "str", None, None)
    for ref in ("C1", "B1", "A1"):
        display.cell(ref, "", "str", None, "=" + "&".join([refs[ref] or ""] * 80))
    display.end_row()
    for r in range(2, 22):
        display.cell(f"A{r}", "", "str", None, "=" + "&".join(["A1"] * 80))
        display.end_row()
    shown = display.text(b"<worksheet/>", [])
    assert all(
        len(cell) <= sheet_display.MAX_SHOWN
        for row in shown.split("\n")
        for cell in row.split("\t")
    )
    assert "Ahmad al-KhatibAhmad al-Khatib" in shown


def test_hiding_rules_do_not_switch_off_the_text_a_style_sheet_writes() -> None:
    page = (
        "<style>" + ".z{display:none}" * 200 + 'span.n::before{content:"Ah"}</style>'
        '<p>Witness <span class="n">mad al-Khatib</span></p>'
    )
    assert shown_text(page) == "Witness Ahmad al-Khatib"
    escaped = '<style>b::before{content:"' + '\\"' * 8000 + '"}</style><b>x</b>'
    said = shown_text(escaped)
    assert said is not None and len(said) <= 1_100  # MAX_CONTENT read and written


def test_a_row_mixing_scripts_is_read_in_both_directions() -> None:
    from amanah.processing.pdftext import read_as_laid_out

    pieces = [
        ((300.0, 100.0, 330.0, 120.0), "أح"),
        ((240.0, 100.0, 300.0, 120.0), "مد الخطيب"),
        ((10.0, 100.0, 20.0, 120.0), "x"),
        ((30.0, 100.0, 40.0, 120.0), "y"),
    ]
    assert "أحمد الخطيب" in read_as_laid_out(pieces)


def test_base64_uuencode_and_too_many_blocks() -> None:
    import base64

    from amanah.text.markupread import MAX_UU_BLOCKS, uu_files_cut

    block = base64.encodebytes(b"Statement of Ahmad al-Khatib\n").decode()
    assert uu_files_cut(f"begin-base64 644 w.txt\n{block}====\n") == (
        [("w.txt", b"Statement of Ahmad al-Khatib\n")],
        False,
    )
    decoys = "".join(f"begin 644 d{i}\n`\nend\n" for i in range(MAX_UU_BLOCKS + 1))
    assert uu_files_cut(decoys)[1] is True


def test_an_inline_picture_shown_in_part_leaves_the_inventory_incomplete(tmp_path: Path) -> None:
    import pymupdf

    from amanah.processing import inventory

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Statement about the centre.")
    content = (
        b"q 100 0 0 50 50 50 cm BI /W 2 /H 1 /CS /G /BPC 8 ID \x00\xff EI Q 0 g 50 50 100 50 re f\n"
    )
    xref = doc.get_new_xref()
    doc.update_object(xref, "<<>>")
    doc.update_stream(xref, content)
    doc.xref_set_key(page.xref, "Contents", f"[{page.get_contents()[0]} 0 R {xref} 0 R]")
    path = tmp_path / "inline.pdf"
    doc.save(path)
    inv = inventory.of_file(path, path.name, tmp_path)
    assert any(
        "an inline picture on page 1 is shown only in part (covered)" in r for r in inv.reasons
    )
