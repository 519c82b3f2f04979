"""Places and ways a name is written that the leak check read past (an adversary's, stop 52),
each file made here and refused by the package build with the witness named, in one batch
(one processing run), after the same files naming nobody were packaged:

- runs: an Office place (a header, a comment, notes, a table, a text box) whose name is set
  in two runs ("Ah" bold, "mad al-Khatib"): each run ended a line, and pieces were joined
  with spaces; a DOCX body whose name ends inside a tracked insertion, a content control,
  custom XML, a field or a smart tag;
- hidden: text hidden between the letters (Word's hidden runs, an ODF span of a hidden
  style, an HTML element hidden inline, by a style sheet's class, in an email's HTML body),
  a `<bdo dir=rtl>` or U+202E override of the reversed name (in the text and in a file
  name), a tag longer than 200 characters inside the name;
- light markup: Markdown emphasis and links, reST emphasis, LaTeX commands inside the name, a
  terminal's overstrike (`A\bA`), text a style sheet writes (`content`, CSS escapes);
- pixels: glyph outlines on a typed PDF page and in an SVG, letters in the alpha channel
  only, a JPEG's EXIF thumbnail, a PDF page's own thumbnail, one picture placed tiny and then
  large, a DOCX picture stored as `.dat`;
- computed and laid out: Word's symbol characters (`w:sym`), a sheet's formulas without a
  cached value (`CONCATENATE`, `CHAR`) and a number format that adds the family name, letters
  drawn in a shuffled order at their places or a name's pieces drawn last first, letters drawn
  under a replacement text (`/ActualText`), an SVG's `tspan`s and a slide's text boxes
  written in another order than they stand.
- shown, not spelled (stop 53: tests/adv_leak_shown_files.py): OOXML `_x0041_` escapes,
  uuencoding, CDATA, internal entities, a CSV formula, ruby, a DOCX's alternate content and
  field instructions, a flowed mail, `>` in a comment or an attribute, LaTeX's `{}`,
  MediaWiki's `''`, BBCode, LDIF's and GEDCOM's name fields.

Generators: tests/adv_leak_files.py (the adversary's; some make files still read past, listed
in the stop's note)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests import adv_leak_files as f
from tests.adv_leak_shown_files import SHOWN
from tests.test_adv_leak_places import _setup
from tests.test_leak_check import _ids, _ingest, _ok, _request, refused_build

ARABIC_CONTROL = "مركز الاحتجاز"
LATIN_CONTROL = "the centre"


def _text(name: str, make: Callable[[str], str]) -> Callable[[Path, str, str], None]:
    return lambda folder, latin, arabic: (folder / name).write_text(make(latin))


def _file(name: str, make: Callable[[Path, str], None]) -> Callable[[Path, str, str], None]:
    return lambda folder, latin, arabic: make(folder / name, latin)


def _bytes(name: str, make: Callable[[str], bytes]) -> Callable[[Path, str, str], None]:
    return lambda folder, latin, arabic: (folder / name).write_bytes(make(latin))


def _wrapped(how: str) -> Callable[[Path, str, str], None]:
    return lambda folder, latin, arabic: f.docx_wrapped(folder / f"wrap_{how}.docx", latin, how)


LEAKS: dict[str, Callable[[Path, str, str], None]] = {
    # runs
    "runs-docx-header": _file("header_runs.docx", f.docx_header_runs),
    "runs-docx-comment": _file("comment_runs.docx", f.docx_comment_runs),
    "runs-pptx-notes": _file("notes_runs.pptx", f.pptx_notes_runs),
    "runs-docx-footer-arabic": lambda folder, latin, arabic: f.docx_runs_arabic(
        folder / "footer_runs_ar.docx", arabic
    ),
    # hidden
    "hidden-docx-vanish": _file("vanish.docx", f.docx_vanish),
    "hidden-html-inline": _text("hidden_between.html", f.html_hidden_between),
    "hidden-html-class": _text("class_hidden.html", f.html_class_hidden),
    "hidden-odt": _file("hidden.odt", f.odt_hidden_between),
    # markup
    "markup-html-long-tag": _text("longtag.html", f.html_long_tag),
    "markup-svg-long-tspan": _text("long_tspan.svg", f.svg_long_tspan),
    "markup-svg-tspan-order": _text("order.svg", f.svg_order),
    "markup-html-flex-order": _text("flex_order.html", f.html_flex_order),
    "markup-html-bdo": _text("bdo.html", f.html_bdo),
    "markup-text-rlo": _text("rlo.txt", f.rlo_text),
    "markup-css-escape": _text("css_escape.html", f.html_css_escape),
    "markup-css-split": _text("css_split.html", f.html_css_split),
    # computed
    "computed-docx-sym": _file("sym.docx", f.docx_sym),
    "computed-xlsx-concatenate": _file("formula.xlsx", f.xlsx_formula),
    "computed-xlsx-char": _file("charformula.xlsx", f.xlsx_char_formula),
    # pixels
    "pixels-pdf-outlines": _file("vector.pdf", f.pdf_vector_name),
    "pixels-svg-outlines": _text("paths.svg", f.svg_paths),
    "pixels-pdf-letter-tiles": _file("tiles.pdf", f.pdf_letter_tiles),
    "pixels-pdf-image-reused": _file("reused.pdf", f.pdf_image_reused),
    "pixels-png-rotated-40": _bytes("rotated.png", f.png_rotated),
    "pixels-jpeg-exif-thumbnail": lambda folder, latin, arabic: f.jpeg_thumbnail(
        folder / "thumb.jpg", latin, folder.parent
    ),
    "pixels-docx-image-dat": _file("image_dat.docx", f.docx_image_other_extension),
    "pixels-png-noisy-background": _bytes("noisy.png", f.png_noisy),
    # a PDF text layer that says other words than the page shows (no sign `misread` knows)
    "pdf-actualtext": _file("actualtext.pdf", f.pdf_actualtext),
    "pdf-tounicode-off-by-one": _file("tounicode.pdf", f.pdf_tounicode_shift),
    # more places read run by run
    "runs-pptx-table": _file("table_runs.pptx", f.pptx_table_runs),
    "runs-pptx-group": _file("group_runs.pptx", f.pptx_group_runs),
    "runs-docx-textbox": _file("textbox_runs.docx", f.docx_textbox_runs),
    "hidden-eml-html-body": _bytes("hidden.eml", f.eml_html_hidden),
    # a body paragraph whose name ends inside a wrapper python-docx's paragraph text skips
    # (and `_xml_places` reads run by run): a tracked insertion, a content control, custom
    # XML, a simple field's result, a smart tag
    **{
        f"wrapped-docx-{how}": _wrapped(how)
        for how in ("ins", "sdt", "customXml", "fldSimple", "smartTag")
    },
    "computed-xlsx-numfmt-suffix": _file("numfmt_suffix.xlsx", f.xlsx_numfmt_suffix),
    "pixels-pdf-page-thumbnail": _file("thumb.pdf", f.pdf_thumbnail),
    # PDF text drawn out of reading order: the text layer says "ad al-Khatib / Ahm"
    "order-pdf-reversed": lambda folder, latin, arabic: f.pdf_draw_order(
        folder / "order_reversed.pdf", latin, False
    ),
    "order-pdf-shuffled-letters": lambda folder, latin, arabic: f.pdf_draw_order(
        folder / "order_shuffled.pdf", latin, True
    ),
    "order-pptx-two-boxes": _file("two_boxes.pptx", f.pptx_two_boxes),
    # light markup a reader renders (or reads past) inside the name
    "lightmarkup-markdown-bold": lambda folder, latin, arabic: (folder / "bold.md").write_text(
        f"Statement of **{latin[:2]}**{latin[2:]} about the centre.\n"
    ),
    "lightmarkup-markdown-link": lambda folder, latin, arabic: (folder / "link.md").write_text(
        f"Statement of {latin[:2]}[{latin[2:]}](https://example.org) about the centre.\n"
    ),
    "lightmarkup-rst-emphasis": lambda folder, latin, arabic: (folder / "emph.rst").write_text(
        f"Statement of *{latin[:2]}*\\ {latin[2:]} about the centre.\n"
    ),
    "lightmarkup-latex-textbf": lambda folder, latin, arabic: (folder / "bold.tex").write_text(
        "\\documentclass{article}\\begin{document}\n"
        f"Statement of \\textbf{{{latin[:2]}}}{latin[2:]} about the centre.\n\\end{{document}}\n"
    ),
    "lightmarkup-overstrike-bold": lambda folder, latin, arabic: (
        folder / "overstrike.txt"
    ).write_text("Statement of " + "".join(f"{c}\b{c}" for c in latin) + " about the centre.\n"),
    "pixels-png-vertical-letters": _bytes("vertical.png", f.png_vertical_stack),
    "pixels-png-hollow-letters": _bytes("outline.png", f.png_outline),
    "pixels-png-struck-through": _bytes("struck.png", f.png_struck),
    "pixels-png-along-an-arc": _bytes("arc.png", f.png_arc),
    "pixels-png-letters-in-alpha-only": _bytes("alpha.png", f.png_alpha),
    "pixels-rtf-picture": _text("picture.rtf", f.rtf_picture),
    # the Arabic name too
    "pixels-png-noisy-background-arabic": lambda folder, latin, arabic: (
        folder / "noisy_ar.png"
    ).write_bytes(f.png_noisy_ar(arabic)),
    "hidden-html-inline-arabic": lambda folder, latin, arabic: (
        folder / "hidden_ar.html"
    ).write_text(
        f'<html dir="rtl"><body><p>إفادة {arabic[:2]}<span style="display:none">زز</span>'
        f"{arabic[2:]}.</p></body></html>"
    ),
    # a file name shown right to left by its U+202E
    "filename-rlo": lambda folder, latin, arabic: (
        folder / f"statement \u202e{latin[::-1]}\u202c.txt"
    ).write_text("Statement about the centre.\n"),
    # shown by the reader, not spelled by the stored text (stop 53): escapes decoded, a CSV
    # formula computed, ruby and alternate content, flowed mail, light markup, name fields
    **SHOWN,
}


KEPT = [
    "computed-docx-sym",
    "computed-xlsx-char",
    "computed-xlsx-concatenate",
    "computed-xlsx-numfmt-suffix",
    "filename-rlo",
    "hidden-docx-vanish",
    "hidden-eml-html-body",
    "hidden-html-class",
    "hidden-html-inline",
    "hidden-html-inline-arabic",
    "hidden-odt",
    "lightmarkup-latex-textbf",
    "lightmarkup-markdown-bold",
    "lightmarkup-markdown-link",
    "lightmarkup-overstrike-bold",
    "lightmarkup-rst-emphasis",
    "markup-css-escape",
    "markup-css-split",
    "markup-html-bdo",
    "markup-html-long-tag",
    "markup-svg-long-tspan",
    "markup-svg-tspan-order",
    "markup-text-rlo",
    "order-pdf-reversed",
    "order-pdf-shuffled-letters",
    "order-pptx-two-boxes",
    "pdf-actualtext",
    "pixels-docx-image-dat",
    "pixels-jpeg-exif-thumbnail",
    "pixels-pdf-image-reused",
    "pixels-pdf-outlines",
    "pixels-pdf-page-thumbnail",
    "pixels-png-letters-in-alpha-only",
    "pixels-svg-outlines",
    "runs-docx-comment",
    "runs-docx-footer-arabic",
    "runs-docx-header",
    "runs-docx-textbox",
    "runs-pptx-group",
    "runs-pptx-notes",
    "runs-pptx-table",
    "wrapped-docx-customXml",
    "wrapped-docx-fldSimple",
    "wrapped-docx-ins",
    "wrapped-docx-sdt",
    "wrapped-docx-smartTag",
    *sorted(SHOWN),
]


def test_each_place_and_way_of_writing_the_name_is_refused(
    sqlite_home: Path, tmp_path: Path
) -> None:
    from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN

    _setup(sqlite_home)
    for named in (True, False):
        folder = tmp_path / ("named" if named else "clean")
        folder.mkdir()
        for leak in KEPT:
            if named:
                LEAKS[leak](folder, WITNESS_LATIN, WITNESS_AR)
            else:
                LEAKS[leak](folder, LATIN_CONTROL, ARABIC_CONTROL)
        _ingest(sqlite_home, folder, folder.name)
    _ok(sqlite_home, "process")
    controls = _ids(sqlite_home, "clean")
    _request(sqlite_home, "RFA-2", sorted(controls.values()))
    built = json.loads(
        _ok(sqlite_home, "package", "build", "RFA-2", str(tmp_path / "p2"), "--json")
    )
    assert built["items"] == len(controls)  # the same files naming nobody are packaged
    ids = _ids(sqlite_home, "named")
    _, reasons = refused_build(sqlite_home, "RFA-1", sorted(ids.values()), tmp_path / "p1")
    missed = sorted(
        n
        for n, i in ids.items()
        if not reasons.get(i, "").startswith("names protected person Witness A")
    )
    assert not missed, missed
