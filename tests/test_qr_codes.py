"""A QR code on a page or in a picture is read as the text it holds, as a phone reads it: a
contact card naming a witness on a scanned statement is in the page's OCR text, so search
finds it and the leak check refuses the package. A page tiled with more codes than a page of
a statement holds is not read for minutes: it is said to be unread (its inventory is not
complete). Pages without a code, noise and degenerate pictures read no code."""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from amanah.processing import codes, ocr
from amanah.sharing.protected import Matcher
from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN
from tests.test_adv_leak_places import refused_then_built
from tests.test_leak_check import _ok

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _vcard(name: str) -> str:
    return f"BEGIN:VCARD\nVERSION:3.0\nFN:{name}\nTEL:+963 944 000 000\nADR:;;Idlib\nEND:VCARD"


def _qr(text: str, module: int = 6) -> np.ndarray:
    code = cv2.QRCodeEncoder.create().encode(text)
    return cv2.resize(code, None, fx=module, fy=module, interpolation=cv2.INTER_NEAREST)


def _page(*texts: str, size: tuple[int, int] = (2480, 3508), module: int = 6) -> np.ndarray:
    """An A4 page at 300 dpi: a typed line, and a code for each text."""
    img = Image.new("L", size, 255)
    ImageDraw.Draw(img).text(
        (250, 250), "Statement taken at the border crossing", font=ImageFont.truetype(FONT, 60)
    )
    page = np.asarray(img).copy()
    for k, text in enumerate(texts):
        code = _qr(text, module)
        y, x = 600 + k * (code.shape[0] + 100), 250
        page[y : y + code.shape[0], x : x + code.shape[1]] = code
    return page


def test_the_codes_on_a_page_are_read_in_either_script() -> None:
    said = codes.read(_page(_vcard(WITNESS_LATIN), WITNESS_AR))
    assert sorted(said.texts) == sorted([_vcard(WITNESS_LATIN), WITNESS_AR]) and not said.unread
    small = codes.read(_qr("https://example.org/p/1234", 3))  # a picture, a small code
    assert small.texts == ["https://example.org/p/1234"]


def test_pages_without_codes_noise_and_degenerate_pictures_read_none() -> None:
    rng = np.random.default_rng(7)
    for grey in (
        _page(),
        (rng.random((1800, 1400)) > 0.5).astype(np.uint8) * 255,
        np.zeros((1, 1), np.uint8),
        np.zeros((20, 5000), np.uint8),
        np.full((3000, 3000), 255, np.uint8),
    ):
        assert codes.read(grey) == codes.Codes([], False)


def tiled() -> np.ndarray:
    """An A4 page at 300 dpi tiled with 540 small codes (the benchmark reads it too)."""
    code = _qr("code 12345", 4)
    page = np.full((3508, 2480), 255, np.uint8)
    step = code.shape[0] + 16
    for y in range(0, 3508 - step, step):
        for x in range(0, 2480 - step, step):
            page[y : y + code.shape[0], x : x + code.shape[1]] = code
    return page


def test_a_page_tiled_with_codes_is_said_unread_at_once() -> None:
    page = tiled()
    start = time.process_time()
    said = codes.read(page)
    assert said.unread and said.texts == []
    assert time.process_time() - start < 10  # the detector alone took two minutes
    reading = ocr.OcrPage(page=1, text="text read", confidence=90.0)
    codes.onto(reading, page)  # its inventory is not complete: a row of ink OCR missed
    assert reading.lines_missed and reading.text == "text read"


def _checker(size: int, cell: int) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size]
    return (((yy // cell) + (xx // cell)) % 2 * 255).astype(np.uint8)


def test_patterns_that_stalled_the_detector_are_read_at_once() -> None:
    """An adversary's pictures: a checkerboard of single pixels (a 1.3 KB PNG took minutes),
    of two and of three pixels over a page, millimetre and finer paper, 2 mm squared paper, and
    a register's table of letters in boxes (its boxed "o"s counted as finder patterns and made
    the page "unread")."""
    table = Image.new("L", (2480, 3508), 255)
    draw = ImageDraw.Draw(table)
    for row in range(30):
        for col in range(5):
            x, y = 150 + col * 440, 200 + row * 100
            draw.rectangle([x, y, x + 440, y + 100], outline=0, width=3)
            draw.text((x + 20, y + 30), "abode", font=ImageFont.truetype(FONT, 36), fill=0)

    def grid(step: int) -> np.ndarray:
        paper = np.full((3508, 2480), 255, np.uint8)
        paper[::step, :], paper[:, ::step] = 0, 0
        return paper

    # Finer than a page of a statement holds: read smaller (contour tracing took 25-48 s on
    # the last three), and nothing read; a photograph's speckle is read smaller the same way.
    fine = [_checker(1224, 1), _checker(3508, 2)[:, :2480], _checker(3508, 3)[:, :2480]]
    for grey in [*fine, grid(5), grid(12), grid(24), np.asarray(table)]:
        start = time.process_time()
        said = codes.read(grey)
        assert said.texts == [] and time.process_time() - start < 10
    assert not codes.read(grid(24)).unread and not codes.read(np.asarray(table)).unread
    # A code beside a pattern that makes the page read smaller: lost, and said so.
    hiding = _checker(3508, 3)[:, :2480]
    hiding[:1700] = _page(_vcard(WITNESS_LATIN))[:1700]
    assert codes.read(hiding).unread


def test_small_modules_and_light_codes_on_dark_are_read() -> None:
    """A code of 3 pixels a module on a 300 dpi scan (1 cm wide) is lost at half size and
    read at full size; white on black, as phones read it too."""
    code = cv2.QRCodeEncoder.create().encode(_vcard(WITNESS_LATIN))
    size = code.shape[0] * 3
    page = _page()
    page[600 : 600 + size, 250 : 250 + size] = cv2.resize(
        code, (size, size), interpolation=cv2.INTER_AREA
    )
    assert codes.read(page).texts == [_vcard(WITNESS_LATIN)]
    assert codes.read(255 - _page(_vcard(WITNESS_AR))).texts == [_vcard(WITNESS_AR)]


def test_ocr_ends_the_page_text_with_what_its_codes_say(tmp_path: Path) -> None:
    page = ocr.ocr_image(Image.fromarray(_page(_vcard(WITNESS_LATIN))), 1, tmp_path, "eng")
    assert "border crossing" in page.text
    assert page.text.endswith("QR code: " + _vcard(WITNESS_LATIN))
    assert page.codes == [_vcard(WITNESS_LATIN)] and not page.lines_missed
    assert Matcher.of([("Witness A", [WITNESS_LATIN])]).names(page.text) == {"Witness A"}


@pytest.mark.slow
def test_a_witness_in_a_qr_code_is_refused_and_the_code_is_searchable(
    sqlite_home: Path, tmp_path: Path
) -> None:
    def write(folder: Path, named: bool) -> None:
        page = Image.fromarray(_page(_vcard(WITNESS_AR if named else "Abu Omar")))
        page.save(folder / "statement-scan.png")
        page.save(folder / "statement-scan.pdf", resolution=300)

    said, reasons = refused_then_built(sqlite_home, tmp_path, write)
    assert set(reasons) == {"statement-scan.png", "statement-scan.pdf"}
    for name, reason in reasons.items():
        assert "Witness A in OCR of" in reason, (name, reasons)
    assert "الخطيب" not in said
    found = json.loads(_ok(sqlite_home, "search", "Idlib", "--json", "--limit", "10"))["hits"]
    assert len(found) == 4  # both handovers, both files: the code's words are searchable
