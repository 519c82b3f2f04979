"""A full page of text scanned turned: Tesseract's orientation detection finds the turn in one
quick pass (the quarter-turn readings are kept for pages with too few letters for it), and
the page is read turned back, so the leak check finds a name in its middle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from amanah.processing import ocr, orientation
from tests.sharingfixtures import WITNESS_LATIN
from tests.test_adv_leak_places import _setup
from tests.test_adv_leak_turned import FONT, _line, _scanned_pdf
from tests.test_leak_check import _ingest, _ok, refused_build

PROSE = (
    "The committee met in the northern district to hear the accounts of the families",
    "who had waited at the gate since the early morning, and the clerk wrote down",
    "each name, each date and each place they gave, as the rules of the hearing ask.",
)


def _page(name: str):  # type: ignore[no-untyped-def]
    """A typed A4 page at 150 dpi: thirty lines of prose, the name on the fifteenth."""
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 26)
    for n in range(30):
        text = f"The statement names {name} as present." if n == 14 else PROSE[n % 3]
        draw.text((90, 110 + 50 * n), text, font=font, fill=0)
    return page


def test_orientation_names_each_quarter_turn_and_none_where_too_few_letters(
    tmp_path: Path,
) -> None:
    upright = np.asarray(_page("the archive office"))
    for k in (0, 1, 2, 3):
        turned = np.ascontiguousarray(np.rot90(upright, k))
        assert orientation.orientation(turned, tmp_path) == (4 - k) % 4, k
    # Two lines of large print are enough for it: the statement's page turned upside down.
    assert (
        orientation.orientation(np.asarray(_line("the archive office").rotate(180)), tmp_path) == 2
    )
    # One word is not: it says so (Tesseract fails the page) rather than guess.
    from PIL import Image, ImageDraw, ImageFont

    word = Image.new("L", (1240, 420), 255)
    ImageDraw.Draw(word).text((40, 100), "Yes", font=ImageFont.truetype(FONT, 40), fill=0)
    assert orientation.orientation(np.asarray(word.rotate(180)), tmp_path) is None


def test_a_full_page_upside_down_is_read_turned_back_with_its_boxes_on_the_page(
    tmp_path: Path,
) -> None:
    page = _page("Yusuf Haddad").rotate(180)
    read = ocr.ocr_image(page, 1, tmp_path, "eng")
    assert read.variant.endswith("turned 180 degrees"), read.variant
    assert "Yusuf Haddad" in read.text
    assert (read.confidence or 0) >= ocr.POOR_CONFIDENCE
    (word,) = [w for w in read.words if w["text"] == "Yusuf"]
    left, top, width, _height = word["box"]
    # Upside down, the fifteenth line's words lie in the lower half, on the right.
    assert page.height / 2 < top < page.height and page.width / 2 < left + width <= page.width
    # Asked as soon as the first variant read poorly: no other clean-up is read upright (two
    # full readings of a page none of them makes legible), the page is read turned at once.
    assert list(read.tried) == ["otsu", "turned 180: otsu"], read.tried


def test_a_register_read_well_sideways_is_read_turned_so_its_lines_stay_whole(
    tmp_path: Path,
) -> None:
    """Turned a quarter, a typed register reads confidently, but Tesseract takes the gaps
    that line up from entry to entry for columns and cuts every entry into pieces in
    separate blocks: before, not one of the 30 entries was whole in the text, so a name at a
    cut would be in two places of it (and neither a phrase search nor the leak check would
    find it). Its words stand on their side: the page is read turned, every entry whole."""
    from PIL import Image, ImageDraw, ImageFont

    entry = "The clerk wrote down line {n} of the hearing held in the northern district office."
    page = Image.new("L", (2480, 3508), 255)  # A4 at 300 dpi
    draw = ImageDraw.Draw(page)
    for n in range(1, 31):
        draw.text(
            (180, 150 + 105 * n), entry.format(n=n), font=ImageFont.truetype(FONT, 46), fill=0
        )
    read = ocr.ocr_image(page.rotate(270, expand=True), 1, tmp_path, "eng")
    assert read.variant == "otsu, turned 90 degrees", read.variant
    assert list(read.tried) == ["otsu", "turned 90: otsu"], read.tried
    text = " ".join(read.text.split())
    assert all(entry.format(n=n) in text for n in range(1, 31)), read.text
    assert orientation.sideways(read.words)  # the boxes, turned back, stand on the page as given
    assert not orientation.sideways(ocr.ocr_image(page, 1, tmp_path, "eng").words)


def test_an_arabic_register_turned_a_quarter_is_read_turned_after_one_upright_reading(
    tmp_path: Path,
) -> None:
    """Tesseract's orientation detection says nothing useful on Arabic print; turned a
    quarter, Arabic reads poorly as squarish fragments, a third of them standing and hardly
    any lying, which is enough to skip the other variants upright (before, three full upright
    readings, then the quarter turns). Every entry, and the name in it, is read whole."""
    from PIL import Image, ImageDraw, ImageFont

    entry = "قيد السجل رقم {n} باسم الموقوف يوسف حداد في فرع المنطقة الشمالية"
    page = Image.new("L", (1240, 1754), 255)  # A4 at 150 dpi
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 30)
    for n in range(1, 26):
        kw = {"anchor": "ra", "direction": "rtl", "language": "ar"}
        draw.text((1150, 60 + 64 * n), entry.format(n=n), font=font, fill=0, **kw)
    for turn, back in ((90, 270), (270, 90)):
        read = ocr.ocr_image(page.rotate(turn, expand=True), 1, tmp_path, "ara+eng")
        assert list(read.tried) == ["otsu", f"turned {back}: otsu"], (turn, read.tried)
        text = " ".join(read.text.split())
        assert all(entry.format(n=n) in text for n in range(1, 26)), (turn, read.text)


def test_a_page_the_detection_calls_turned_wrongly_is_still_read_upright_in_every_variant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tesseract's orientation detection can be wrong. A page of Greek, which the languages
    asked for read poorly in every variant, said to be upside down: read turned, it reads
    worse, so it is read upright in every variant, as it would be without the detection."""
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(page)
    for n in range(20):
        draw.text(
            (90, 110 + 60 * n),
            "Η επιτροπή συνεδρίασε στη βόρεια περιφέρεια.",
            font=ImageFont.truetype(FONT, 30),
            fill=0,
        )
    asked = []
    monkeypatch.setattr(ocr, "orientation", lambda grey, work: asked.append(1) or 2)
    read = ocr.ocr_image(page, 1, tmp_path, "eng")
    assert asked == [1]
    assert read.variant in {name for name, _ in ocr.VARIANTS}, read.variant  # not turned
    assert list(read.tried) == [name for name, _ in ocr.VARIANTS], read.tried
    assert (read.confidence or 0) < ocr.POOR_CONFIDENCE and read.words


@pytest.mark.slow
def test_full_pages_scanned_turned_are_refused_by_the_leak_check(
    sqlite_home: Path, tmp_path: Path
) -> None:
    home = sqlite_home
    _setup(home)
    folder = tmp_path / "h"
    folder.mkdir()
    _page(WITNESS_LATIN).rotate(180).save(folder / "upside-down.png")
    _scanned_pdf(folder / "sideways.pdf", _page(WITNESS_LATIN).rotate(270, expand=True))
    _page("the archive office").rotate(180).save(folder / "control.png")
    ids = _ingest(home, folder, "h")
    _ok(home, "process")
    _, reasons = refused_build(home, "RFA-1", sorted(ids.values()), tmp_path / "p1")
    assert reasons.get(ids["upside-down.png"], "").startswith("names protected person Witness A")
    assert reasons.get(ids["sideways.pdf"], "").startswith("names protected person Witness A")
    assert ids["control.png"] not in reasons, reasons
