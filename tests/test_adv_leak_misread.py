"""A PDF whose text layer says other letters than its page shows (a font's ToUnicode map
wrong, common in Arabic PDFs): the page is read by OCR too, so a name drawn there is found
and the package build refuses the file. Made here with PyMuPDF's HTML box, whose Arabic
font maps the lam's glyph to a Latin letter (`ﺍǄﺨﻄﻴﺐ` for الخطيب)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sharingfixtures import WITNESS_AR
from tests.test_adv_leak_places import _setup
from tests.test_leak_check import _ingest, _ok, refused_build


def _html_pdf(path: Path, words: str) -> str:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_htmlbox(
        pymupdf.Rect(72, 72, 520, 200),
        "<p dir='rtl' style='font-family:sans-serif;font-size:20px'>"
        f"قال {words} إنه رأى المعتقلين</p>",
    )
    doc.save(path)
    return doc[0].get_text()


@pytest.mark.slow
def test_a_page_whose_text_layer_misreads_its_letters_is_read_by_ocr(
    sqlite_home: Path, tmp_path: Path
) -> None:
    from amanah.sharing.protected import Matcher

    home = sqlite_home
    _setup(home)
    folder = tmp_path / "h"
    folder.mkdir()
    layer = _html_pdf(folder / "statement.pdf", WITNESS_AR)
    if Matcher.of([("W", [WITNESS_AR])]).names(layer):
        pytest.skip("this PyMuPDF writes a correct text layer: nothing misread to test")
    _html_pdf(folder / "control.pdf", "مدير السجن")
    ids = _ingest(home, folder, "h")
    _ok(home, "process")
    _, reasons = refused_build(home, "RFA-1", sorted(ids.values()), tmp_path / "p1")
    # OCR reads the name (other readings of the misread lines may find it too).
    said = reasons[ids["statement.pdf"]]
    assert said.startswith("names protected person Witness A in "), reasons
    assert "Witness A in OCR of a PDF page whose text layer misreads" in said, reasons
    assert ids["control.pdf"] not in reasons, reasons
