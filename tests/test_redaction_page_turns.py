"""A protected name whose words fall on two pages, where OCR read one side or both: stop 33
matched the text layer as one sequence over every page, but each page's OCR readings alone,
so a scanned statement ending "... told by Ahmad" on page 1 and beginning "al-Khatib ..." on
page 2 kept the name for whoever turns the page. Amanah now also reads every pair of readings
across each page turn, in the words it sends areas for and in the written file's re-reading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from amanah.access import local_administrator
from amanah.sharing import name_areas, protected, redaction
from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN
from tests.test_adversary_stop33 import _pdf
from tests.test_redaction import _blob, _ocr, _page_grey, _workspace_with

MATCHER = protected.Matcher.of([("Witness A", [WITNESS_AR, WITNESS_LATIN])])


def _words(text: str, y: float) -> list[list[Any]]:
    """A reading of one line: each word with the one area that would remove it."""
    return [[w, [[10.0 * i, y, 10.0 * i + 9, y + 9]]] for i, w in enumerate(text.split())]


def _page(text: str = "", ocr: list[str] | None = None) -> dict[str, Any]:
    return {
        "text": _words(text, 1.0) if text else [],
        "ocr": None if ocr is None else [_words(line, 2.0) for line in ocr],
    }


@pytest.mark.parametrize(
    ("pages", "expected_pages"),
    [
        # both pages scanned, the name across the turn; two readings of page 2 (Arabic, Latin)
        ([_page(ocr=["was told by Ahmad"]), _page(ocr=["al-Khatib that", "ال ال"])], {1, 2}),
        # typed page 1, scanned page 2
        ([_page("the hearing was told by Ahmad"), _page(ocr=["al-Khatib that"])], {1, 2}),
        # scanned page 1, typed page 2; in Arabic
        ([_page(ocr=["قال أحمد"]), _page("الخطيب إن الزنزانة")], {1, 2}),
        # page 2 blank between: the turn from 1 to 3 is not a turn a reader makes
        ([_page(ocr=["told by Ahmad"]), _page(), _page(ocr=["al-Khatib that"])], set()),
    ],
)
def test_the_words_of_a_name_across_a_scanned_page_turn_get_areas(
    pages: list[dict[str, Any]], expected_pages: set[int]
) -> None:
    areas, names = name_areas.areas({"pages": pages, "page_count": len(pages)}, MATCHER)
    assert {a[0] for a in areas} == expected_pages
    assert names == ({"Witness A": len(areas)} if expected_pages else {})
    assert len({tuple(a) for a in areas}) == len(areas), "an area listed twice"


def test_a_name_left_across_a_turn_in_the_written_files_re_reading_is_found(
    tmp_path: Path,
) -> None:
    written = tmp_path / "out.pdf"
    written.write_bytes(b"%PDF-1.7 nothing to see")
    said = {
        "texts": [],
        "sequences": [
            ("page 1 text", []),
            ("page 1 image (OCR)", ["the", "hearing", "was", "told", "by", "Ahmad"]),
            ("page 2 text", []),
            ("page 2 image (OCR)", ["al-Khatib", "that", "the", "cell", "was", "full"]),
        ],
    }
    left = name_areas.left(said, MATCHER, written)
    assert left == {"Witness A": ["page 1 image (OCR)", "page 2 image (OCR)"]}
    # The same words on pages 1 and 3 are not read together, nor is an image's one reading.
    said["sequences"][3] = ("page 3 image (OCR)", said["sequences"][3][1])
    assert name_areas.left(said, MATCHER, written) == {}
    # A page the re-reading leaves out is not a turn either (pages are paired by number).
    del said["sequences"][2]
    assert name_areas.left(said, MATCHER, written) == {}


@pytest.mark.slow
def test_a_scanned_statement_with_the_name_across_a_page_turn_is_redacted(
    sqlite_home: Path, tmp_path: Path
) -> None:
    """End to end with the real sandbox and Tesseract: two scanned pages, the name split by the
    turn; neither part is read in the redacted file's pixels, the rest of the text is."""
    import pymupdf

    typed = _pdf(
        tmp_path / "typed.pdf",
        [
            [(100, "Minutes of the hearing."), (700, "The hearing was told by Ahmad")],
            [(72, "al-Khatib that the cell was full."), (120, "The guards spoke.")],
        ],
    )
    folder = tmp_path / "in"
    folder.mkdir()
    scale = 200 / 72
    with pymupdf.open(typed) as src, pymupdf.open() as scan:
        for page in src:
            pix = page.get_pixmap(matrix=pymupdf.Matrix(scale, scale), colorspace=pymupdf.csGRAY)
            out = scan.new_page(width=page.rect.width, height=page.rect.height)
            out.insert_image(out.rect, stream=pix.tobytes("png"))
        scan.save(folder / "scanned-turn.pdf")
    ws, ids = _workspace_with(sqlite_home, folder)
    try:
        done = redaction.redact(ws, local_administrator(ws), ids["scanned-turn.pdf"])
        assert done["protected"] == ["Witness A"] and done["ocr_pages"] == [1, 2]
        assert {a[0] for a in done["areas"]} == {1, 2}
        red = _blob(ws, done["sha256"], tmp_path / "red.pdf")
        with pymupdf.open(red) as doc:
            read = " ".join(_ocr(_page_grey(page, scale)) for page in doc)
    finally:
        ws.close()
    assert "Ahmad" not in read and "Khatib" not in read, "a part of the name is still read"
    assert "hearing" in read and "guards" in read  # the rest of the statement is kept
