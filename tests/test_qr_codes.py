"""A QR code or another barcode on a page or in a picture is read as the text it holds, as a
phone reads it: a contact card naming a witness on a scanned statement, a driving licence's
PDF417 code, a Data Matrix or an Aztec code is in the page's OCR text, so search finds it and
the leak check refuses the package. A code seen and not read, or more codes than are read, make
the page unread (its inventory is not complete). Pages without a code, noise, fine patterns
and degenerate pictures read no code, in seconds at most."""

from __future__ import annotations

import base64
import json
import time
import zlib
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
        assert codes.read(grey) == codes.Codes([], False, [])


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
    """More codes than the reader returns (255): those beyond may say anything."""
    page = tiled()
    start = time.process_time()
    said = codes.read(page)
    assert said.unread and said.texts == ["code 12345"]
    assert time.process_time() - start < 10  # OpenCV's detector alone took two minutes
    reading = ocr.OcrPage(page=1, text="text read", confidence=90.0)
    codes.onto(reading, page)  # its inventory is not complete: a row of ink OCR missed
    assert reading.lines_missed and reading.text == "text read\nQR code: code 12345"


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

    # Finer than a page of a statement holds (OpenCV's contour tracing took 25-48 s on the
    # last three): nothing read, and nothing said unread.
    fine = [_checker(1224, 1), _checker(3508, 2)[:, :2480], _checker(3508, 3)[:, :2480]]
    for grey in [*fine, grid(5), grid(12), grid(24), np.asarray(table)]:
        start = time.process_time()
        said = codes.read(grey)
        assert said.texts == [] and time.process_time() - start < 10
        assert not said.unread
    # A code beside such a pattern is read.
    hiding = _checker(3508, 3)[:, :2480]
    hiding[:1700] = _page(_vcard(WITNESS_LATIN))[:1700]
    assert codes.read(hiding).texts == [_vcard(WITNESS_LATIN)]
    # A picture larger than a page at 400 dpi is read smaller, its code still read.
    poster = np.full((6000, 5000), 255, np.uint8)
    poster[1000:2000, 1000:2000] = cv2.resize(
        _qr(_vcard(WITNESS_LATIN), 1), (1000, 1000), interpolation=cv2.INTER_NEAREST
    )
    assert codes.read(poster).texts == [_vcard(WITNESS_LATIN)]


@pytest.mark.parametrize("module", [2, 3])
def test_small_modules_and_light_codes_on_dark_are_read(module: int) -> None:
    """A code of 2 or 3 pixels a module on a 300 dpi scan (under 1 cm wide) is read; white on
    black, as phones read it too."""
    code = cv2.QRCodeEncoder.create().encode(_vcard(WITNESS_LATIN))
    size = code.shape[0] * module
    page = _page()
    page[600 : 600 + size, 250 : 250 + size] = cv2.resize(
        code, (size, size), interpolation=cv2.INTER_AREA
    )
    assert codes.read(page).texts == [_vcard(WITNESS_LATIN)]
    assert codes.read(255 - _page(_vcard(WITNESS_AR))).texts == [_vcard(WITNESS_AR)]


def _symbol(text: str, kind: str, scale: int = 3) -> np.ndarray:
    import zxingcpp

    made = zxingcpp.create_barcode(text, getattr(zxingcpp.BarcodeFormat, kind))
    return np.asarray(made.to_image(scale=scale))


def _on_page(symbol: np.ndarray, turn: int = 0) -> np.ndarray:
    page = _page()
    page[1200 : 1200 + symbol.shape[0], 250 : 250 + symbol.shape[1]] = symbol
    return np.rot90(page, turn).copy()


def _licence(given: str, family: str) -> str:
    """The text of a North American driving licence's PDF417 code (AAMVA card design)."""
    return (
        "@\n\x1e\rANSI 636014090102DL00410279ZC03200024DLDAQD1234562\n"
        f"DCS{family}\nDDEN\nDAC{given}\nDDFN\nDADNONE\nDBD08292023\nDBB01151990\n"
    )


@pytest.mark.parametrize(
    ("kind", "label", "text"),
    [
        ("PDF417", "PDF417 code", _licence("AHMAD", "ALKHATIB")),
        ("DataMatrix", "Data Matrix code", WITNESS_AR),
        ("Aztec", "Aztec code", _vcard(WITNESS_AR)),
        ("Code128", "Code 128 barcode", WITNESS_LATIN),
        ("MicroQRCode", "QR code", "Ahmad"),
    ],
)
def test_other_codes_are_read_turned_blurred_and_named(kind: str, label: str, text: str) -> None:
    """An identity card's or a licence's PDF417, a badge's Data Matrix, a ticket's Aztec code,
    a parcel's Code 128: each read upright, turned a quarter and blurred in a JPEG, and what it
    says names the witness it holds."""
    symbol = _symbol(text, kind)
    blurred = cv2.imdecode(
        cv2.imencode(
            ".jpg", cv2.GaussianBlur(_on_page(symbol), (3, 3), 0), [cv2.IMWRITE_JPEG_QUALITY, 50]
        )[1],
        cv2.IMREAD_GRAYSCALE,
    )
    for grey in (_on_page(symbol), _on_page(symbol, 1), blurred):
        said = codes.read(grey)
        assert said.texts == [text] and said.kinds == [label] and not said.unread
    if kind != "MicroQRCode":
        matcher = Matcher.of([("Witness A", [WITNESS_LATIN, WITNESS_AR])])
        assert matcher.names(codes.as_text(said)) == {"Witness A"}


def test_a_licence_names_its_holder_in_every_form_of_the_standard() -> None:
    """AAMVA's elements: the family name glued to its tag, the full name of the 2000 edition
    ("LAST,FIRST,MIDDLE"), an alias; another holder and a licence without names name no one."""
    matcher = Matcher.of([("Witness A", [WITNESS_LATIN])])
    for text in (
        _licence("AHMAD", "ALKHATIB"),
        _licence("AHMAD", "AL-KHATIB"),
        "ANSI 636000010002DL00390190DLDAQ1234\nDAAALKHATIB,AHMAD,M\nDAG1 MAIN ST\n",
        "ANSI 636000010002DL00390190DLDAQ1234\nDAAALKHATIB$AHMAD$\n",
        "ANSI 636000040002DL00390190DLDAQ12\nDCSHASSAN\nDACOMAR\nDBNALKHATIB\nDBGAHMAD\n",
        _licence("AHMAD", "ALKHATIB").replace("\n", "\r"),  # elements ended otherwise
        _licence("AHMAD", "ALKHATIB").replace("\n", "\x1e"),
    ):
        assert matcher.names(text) == {"Witness A"}, text
    two = [_licence("AHMAD", "HASSAN").replace("DCS", "DAB"), _licence("KHALED", "ALKHATIB")]
    for text in (
        _licence("AHMAD", "HASSAN"),
        _licence("KHALED", "ALKHATIB"),
        "ANSI 636000040002DL00390190DLDAQ12\nDCSNONE\n",
        "\n".join(two),  # two licences on one page lend each other no name
        "DCSALKHATIB\nDACAHMAD\n",  # lines that look like elements, with no licence's header
    ):
        assert matcher.names(text) == set(), text


def test_what_a_code_holds_encoded_or_compressed_is_read_with_it() -> None:
    """A code's payload is often a record compressed and written in base64 or hexadecimal to
    fit (an app's check-in, a pass): its page's text holds it decoded too, said how."""
    record = json.dumps({"v": 2, "holder": WITNESS_AR, "seat": "14C"}, ensure_ascii=False)
    matcher = Matcher.of([("Witness A", [WITNESS_LATIN, WITNESS_AR])])
    for payload, how in (
        (base64.b64encode(zlib.compress(record.encode())).decode(), "base64 decoded, then"),
        ("PASS:" + zlib.compress(record.encode()).hex(), "hexadecimal decoded, then"),
        ("https://example.org/c?d=" + base64.urlsafe_b64encode(record.encode()).decode(), "base64"),
    ):
        said = codes.read(_page(payload))
        assert said.texts == [payload]
        text = codes.as_text(said)
        assert matcher.names(text) == {"Witness A"} and f"QR code, {how}" in text, text
    plain = codes.Codes(
        ["https://example.org/p/1234?session=Zm9vYmFyYmF6cXV4MTIzNDU2"], False, ["QR code"]
    )
    assert codes.as_text(plain) == "QR code: " + plain.texts[0]  # noise decoded is not kept


def test_a_damaged_code_makes_the_page_unread_and_arabic_print_does_not() -> None:
    """A QR code with a corner torn off is seen and not read: its page is unread, so its
    inventory is incomplete until someone attests to it. Lines of Arabic print, in which the
    reader sees Data Matrix codes that are not there, are not."""
    torn = _page(_vcard(WITNESS_LATIN))
    torn[700:790, 300:390] = 0
    assert codes.read(torn) == codes.Codes([], True, [])
    reading = ocr.OcrPage(page=1, text="text read", confidence=90.0)
    codes.onto(reading, torn)
    assert reading.lines_missed and reading.text == "text read"
    lines = Path(__file__).resolve().parents[2] / "shared/data/openiti_arabic_ocr_gs"
    if not lines.is_dir():
        pytest.skip("../shared/data/openiti_arabic_ocr_gs is absent")
    for picture in sorted(lines.glob("book_IbnAthir.Kamil/*.png")):
        grey = np.asarray(Image.open(picture).convert("L"))
        assert codes.read(grey) == codes.Codes([], False, []), picture.name


def _table_of_numbers() -> np.ndarray:
    rng = np.random.default_rng(3)
    page = Image.new("L", (2480, 3508), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 34)
    for r in range(50):
        draw.line([(100, 100 + r * 65), (2380, 100 + r * 65)], fill=0, width=4)
    for c in range(12):
        draw.line([(100 + c * 190, 100), (100 + c * 190, 100 + 49 * 65)], fill=0, width=4)
    for r in range(49):
        for c in range(11):
            number = str(rng.integers(1000, 99999))
            draw.text((110 + c * 190, 110 + r * 65), number, font=font, fill=0)
    return np.asarray(page).copy()


def _ticked_form() -> np.ndarray:
    """A questionnaire: boxes with filled squares in them, which look like finder patterns."""
    page = Image.new("L", (2480, 3508), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 36)
    for r in range(40):
        for c in range(4):
            x, y = 200 + c * 550, 200 + r * 80
            draw.rectangle([x, y, x + 42, y + 42], outline=0, width=4)
            if (r + c) % 3 == 0:
                draw.rectangle([x + 10, y + 10, x + 32, y + 32], fill=0)
            draw.text((x + 60, y), f"Option {r * 4 + c}", font=font, fill=0)
    return np.asarray(page).copy()


def test_a_table_of_numbers_and_a_ticked_form_are_not_said_unread() -> None:
    """An adversary's pages: the reader saw QR codes that do not decode in a ruled table of
    numbers (10 pages of 10) and in a form's ticked boxes; without a QR code's timing pattern
    they are no code, and the page's inventory stays complete."""
    for page in (_table_of_numbers(), _ticked_form()):
        assert codes.read(page) == codes.Codes([], False, [])
        jpeg = cv2.imdecode(cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, 60])[1], 0)
        assert codes.read(jpeg) == codes.Codes([], False, [])


def test_pictures_the_reader_refuses_are_read_smaller_or_said_unread() -> None:
    """A long screenshot (taller than the reader's 65,535 pixels), a thin strip, a picture
    not of bytes: no error, and a page's OCR is never lost to one."""
    tall = np.full((70_000, 300), 255, np.uint8)
    tall[1000 : 1000 + 222, 20:242] = _qr(_vcard(WITNESS_LATIN), 6)[:222, :222]
    for picture in (tall, np.full((11, 66_000), 255, np.uint8), _page().astype(np.float32)):
        said = codes.read(picture)
        assert isinstance(said, codes.Codes)


def test_bytes_sent_in_another_encoding_and_messages_split_over_codes_are_read() -> None:
    """zxing-cpp reads bytes with no encoding marker as Latin-1: a name sent in Windows-1256,
    ISO-8859-6 or UTF-16 (with no byte-order mark, too) is read from the bytes as a file's are;
    compressed bytes sent as they are, too. A message split over two QR codes (structured
    append) is also read joined."""
    import zxingcpp

    matcher = Matcher.of([("Witness A", [WITNESS_LATIN, WITNESS_AR])])
    sent = [
        ("Name: " + WITNESS_AR).encode("cp1256"),
        WITNESS_AR.encode("iso8859_6"),
        WITNESS_AR.encode("utf-16-le"),
        b"\xfe\xff" + ("FN:" + WITNESS_AR).encode("utf-16-be"),
        zlib.compress(json.dumps({"holder": WITNESS_AR}, ensure_ascii=False).encode()),
    ]
    for data in sent:
        made = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.QRCode)
        page = _page()
        code = np.asarray(made.to_image(scale=6, add_quiet_zones=True))
        page[600 : 600 + code.shape[0], 250 : 250 + code.shape[1]] = code
        said = codes.read(page)
        assert len(said.texts) == 1 and matcher.names(codes.as_text(said)) == {"Witness A"}, data
    params = cv2.QRCodeEncoder_Params()
    params.structure_number = 2
    message = f"BEGIN:VCARD\nVERSION:3.0\nFN:{WITNESS_LATIN}\nTEL:+963944000000\nEND:VCARD"
    parts = cv2.QRCodeEncoder.create(params).encodeStructuredAppend(message)  # "…FN:Ahmad al"
    page = _page()
    for k, part in enumerate(parts):
        code = cv2.resize(part, None, fx=6, fy=6, interpolation=cv2.INTER_NEAREST)
        x = 250 + k * (code.shape[1] + 80)
        page[600 : 600 + code.shape[0], x : x + code.shape[1]] = code
    said = codes.read(page)
    assert len(said.texts) == 2 and not any(matcher.names(t) for t in said.texts)
    assert matcher.names(codes.as_text(said)) == {"Witness A"}


def test_a_licence_in_negative_and_a_rmqr_code_are_read_and_labelled() -> None:
    licence = _symbol(_licence("AHMAD", "ALKHATIB"), "PDF417")
    page = 255 - _on_page(licence)  # printed white on black: zxing-cpp inverts no PDF417
    said = codes.read(page)
    assert said.kinds == ["PDF417 code"] and said.texts == [_licence("AHMAD", "ALKHATIB")]
    assert codes.read(_on_page(_symbol("Ahmad", "RMQRCode"))).kinds == ["QR code"]


def test_ocr_ends_the_page_text_with_what_its_codes_say(tmp_path: Path) -> None:
    page = ocr.ocr_image(Image.fromarray(_page(_vcard(WITNESS_LATIN))), 1, tmp_path, "eng")
    assert "border crossing" in page.text
    assert page.text.endswith("QR code: " + _vcard(WITNESS_LATIN))
    assert page.codes == [_vcard(WITNESS_LATIN)] and not page.lines_missed
    assert Matcher.of([("Witness A", [WITNESS_LATIN])]).names(page.text) == {"Witness A"}


@pytest.mark.slow
def test_a_witness_in_a_code_is_refused_and_the_code_is_searchable(
    sqlite_home: Path, tmp_path: Path
) -> None:
    def write(folder: Path, named: bool) -> None:
        page = Image.fromarray(_page(_vcard(WITNESS_AR if named else "Abu Omar")))
        page.save(folder / "statement-scan.png")
        page.save(folder / "statement-scan.pdf", resolution=300)
        # The back of a driving licence (its PDF417) and a badge (a Data Matrix), photographed.
        given, family = ("AHMAD", "ALKHATIB") if named else ("OMAR", "HADDAD")
        card = np.pad(_symbol(_licence(given, family), "PDF417"), 60, constant_values=255)
        Image.fromarray(card).save(folder / "licence-back.jpg", quality=85)
        badge = np.pad(
            _symbol(WITNESS_AR if named else "أبو عمر", "DataMatrix"), 40, constant_values=255
        )
        Image.fromarray(badge).save(folder / "badge.png")

    said, reasons = refused_then_built(sqlite_home, tmp_path, write)
    assert set(reasons) == {
        "statement-scan.png",
        "statement-scan.pdf",
        "licence-back.jpg",
        "badge.png",
    }
    for name, reason in reasons.items():
        assert "Witness A in OCR of" in reason, (name, reasons)
    assert "الخطيب" not in said
    found = json.loads(_ok(sqlite_home, "search", "Idlib", "--json", "--limit", "10"))["hits"]
    assert len(found) == 4  # both handovers, both files: the code's words are searchable


def _padded_code(padding: int) -> np.ndarray:
    """A QR code (low error correction, the most it holds) of base64 of zlib: `padding` spaces,
    then a statement naming the witness (a kilobyte of a code inflates to a megabyte)."""
    said = b" " * padding + f"Statement of {WITNESS_LATIN}".encode()
    payload = base64.b64encode(zlib.compress(said, 9)).decode()
    params = cv2.QRCodeEncoder_Params()
    params.correction_level = cv2.QRCodeEncoder_CORRECT_LEVEL_L
    code = cv2.QRCodeEncoder.create(params).encode(payload)
    code = cv2.resize(code, None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST)
    return cv2.copyMakeBorder(code, 100, 100, 100, 100, cv2.BORDER_CONSTANT, value=255)


def test_a_code_whose_payload_inflates_past_the_budget_leaves_its_page_unread() -> None:
    """A code's compressed payload is inflated within the raw readings' budget. One that holds
    the name past it is not read whole, and says so: its page's inventory is not complete
    (before, the page was read as complete without the name)."""
    matcher = Matcher.of([("W-1", [WITNESS_LATIN])])
    for padding, whole in ((1 << 19, True), (3 << 19, False)):
        page = ocr.OcrPage(page=1, text="text read", confidence=90.0)
        codes.onto(page, _padded_code(padding))
        assert len(page.codes) == 1, padding
        assert page.lines_missed is not whole, padding
        assert (matcher.names(page.text) == {"W-1"}) is whole, padding
