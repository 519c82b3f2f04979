"""QR codes and other barcodes on a page or in a picture, read as the text they hold.

A phone reads a QR code at a glance: a contact card (`BEGIN:VCARD … FN:…`), a link to a
profile, a message. An identity card or a driving licence carries its holder's name in a PDF417
code on its back; a badge, a parcel or a form in a Data Matrix, Aztec or Code 128. Printed on a
statement, a flyer or a screenshot, such a code carries a name that OCR never sees. Each OCR'd
page or picture is also read for codes (zxing-cpp, a library made for exactly this, in C++),
and what they say is added to the page's OCR text, so search, the content inventory and the
leak check read it as they read the page.

Only the kinds of code that can hold letters are read (the retail codes hold digits only).
zxing-cpp reads a page in tens of milliseconds and a hostile one (a checkerboard of 3-pixel
cells over A4) in seconds, linearly in its pixels, so a picture larger than `MAX_PIXELS` is
read smaller. A page says it is "unread" (its inventory incomplete, as a row of ink OCR missed)
when a code of a kind found by strong patterns (QR, PDF417, Aztec) is seen and does not
decode, or when it holds more codes or text than are read.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

#: Pictures of more pixels are read shrunk to this many (A4 at 400 dpi is 15.5 million).
MAX_PIXELS = 20_000_000
#: PDF417 and the linear kinds are read at this many pixels at most: a page of stripes that
#: repeat PDF417's start pattern costs seconds a million pixels (at 300 dpi, A4 is 8.7 million).
SLOW_PIXELS = 9_000_000
#: zxing-cpp reads no picture wider or taller than 65,535 pixels (a long screenshot).
MAX_SIDE = 65_000
#: Different texts read on one page at most: beyond, the page is "unread".
MAX_CODES = 32
MAX_CHARS = 64_000
#: zxing-cpp stops at this many symbols a picture: a page with as many may hold more.
SYMBOL_LIMIT = 255
#: The kinds read, by zxing-cpp's name (spaces and hyphens out, lower case), and what a page's
#: text calls them.
KINDS = {
    "qrcode": "QR code",
    "microqrcode": "QR code",
    "rmqrcode": "QR code",
    "maxicode": "MaxiCode",
    "datamatrix": "Data Matrix code",
    "aztec": "Aztec code",
    "pdf417": "PDF417 code",
    "compactpdf417": "PDF417 code",
    "micropdf417": "PDF417 code",
    "code128": "Code 128 barcode",
    "code39": "Code 39 barcode",
    "code93": "Code 93 barcode",
}
#: Read at full size; the others (`SLOW_PIXELS`) and on a dark page in negative too, which
#: zxing-cpp's own inversion does not cover.
FAST = ("QRCode", "MicroQRCode", "RMQRCode", "MaxiCode", "DataMatrix", "Aztec")
SLOW = ("PDF417", "CompactPDF417", "MicroPDF417", "Code128", "Code39", "Code93")
#: Kinds found by patterns that text and paper do not make (start and stop columns, a bull's
#: eye): one seen that does not decode is a code lost. A QR code counts only with its timing
#: pattern (`_timing`): a form's ticked boxes and a table of numbers make phantom ones.
#: Data Matrix and the linear kinds are seen in lines of Arabic print, so they do not count.
STRONG = {"PDF417", "Aztec"}
#: Share of dark pixels beyond which a page is also read in negative.
DARK = 0.25


class Codes(NamedTuple):
    texts: list[str]
    unread: bool  # a code seen and not read, or too many: the page may lack what they say
    kinds: list[str]  # what each text was read from ("QR code", "PDF417 code" …)
    data: list[bytes] = []  # noqa: RUF012  (each code's bytes as sent; never changed)


def _label(barcode: Any) -> str:
    name = str(barcode.format).replace(" ", "").replace("-", "").lower()
    return KINDS.get(name, "code")


def _shrunk(grey: np.ndarray, pixels: int) -> np.ndarray:
    import cv2

    scale = min(1.0, (pixels / grey.size) ** 0.5, MAX_SIDE / max(grey.shape))
    if scale >= 1.0:
        return grey
    size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def _timing(grey: np.ndarray, barcode: Any) -> bool:
    """Whether a QR code that did not decode has a QR code's timing pattern (row and column 6
    alternate dark and light between the finder patterns), sampled through its corners: a torn
    code keeps it, three ticked boxes or a table's cells seen as finder patterns do not."""
    import cv2

    version = str((getattr(barcode, "extra", None) or {}).get("Version", ""))
    if not version.isdigit():
        return False  # its size could not be read: no symbol
    n = 17 + 4 * int(version)
    pos = barcode.position
    corners = [pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left]
    quad = np.float32([[c.x, c.y] for c in corners])
    grid = np.float32([[0, 0], [n, 0], [n, n], [0, n]])
    to_page = cv2.getPerspectiveTransform(grid, quad)
    steps = np.arange(8, n - 8, dtype=np.float32) + 0.5
    row = np.stack([steps, np.full_like(steps, 6.5)], axis=1)
    col = row[:, ::-1]
    points = cv2.perspectiveTransform(np.concatenate([row, col])[None], to_page)[0]
    x = np.clip(points[:, 0].round().astype(int), 0, grey.shape[1] - 1)
    y = np.clip(points[:, 1].round().astype(int), 0, grey.shape[0] - 1)
    values = grey[y, x].astype(np.int32)
    dark = values < (int(values.max()) + int(values.min())) // 2
    expected = np.tile(np.arange(len(steps)) % 2 == 0, 2)  # dark on even modules
    agree = float(np.mean(dark == expected))
    return max(agree, 1 - agree) >= 0.8  # or light on even modules: a code in negative


def _zxing(grey: np.ndarray, kinds: tuple[str, ...]) -> list[Any] | None:
    """What zxing-cpp reads of `kinds` (errors too); None when it refuses the picture."""
    import zxingcpp

    try:
        return list(
            zxingcpp.read_barcodes(
                np.ascontiguousarray(grey),
                formats=zxingcpp.barcode_formats_from_str(",".join(kinds)),
                text_mode=zxingcpp.TextMode.Plain,  # as sent: lines stay lines
                return_errors=True,
            )
        )
    except Exception:  # a picture it cannot take: not read, and said so
        return None


def read(grey: np.ndarray) -> Codes:
    """The text of every code on a greyscale page (uint8), each once, in the order found:
    dark codes on light and light on dark, turned any way (phones read them all)."""
    if grey.ndim != 2 or min(grey.shape) < 11:  # the smallest code is 11 modules wide
        return Codes([], False, [])
    if grey.dtype != np.uint8:
        grey = np.clip(grey, 0, 255).astype(np.uint8)
    full = _shrunk(grey, MAX_PIXELS)
    small = _shrunk(full, SLOW_PIXELS)
    passes = [(full, FAST), (small, SLOW)]
    if np.count_nonzero(small < 128) > DARK * small.size:
        passes.append((255 - small, SLOW))
    unread = False
    texts: dict[str, tuple[str, bytes]] = {}
    for picture, kinds in passes:
        found = _zxing(picture, kinds)
        if found is None:
            unread = True
            continue
        unread = unread or len(found) >= SYMBOL_LIMIT
        for barcode in found:
            if not barcode.valid:
                name = str(barcode.format)
                unread = (
                    unread or name in STRONG or (name == "QR Code" and _timing(picture, barcode))
                )
            elif barcode.text:
                texts.setdefault(barcode.text, (_label(barcode), bytes(barcode.bytes)))
    out: list[str] = []
    kinds_read: list[str] = []
    data: list[bytes] = []
    total = 0
    for text, (kind, sent) in texts.items():
        if len(out) >= MAX_CODES or total + len(text) > MAX_CHARS:
            return Codes(out, True, kinds_read, data)
        out.append(text)
        kinds_read.append(kind)
        data.append(sent)
        total += len(text)
    return Codes(out, unread, kinds_read, data)


def decoded(text: str, sent: bytes = b"") -> tuple[list[tuple[str, str]], bool]:
    """What a code holds that its text does not show, as the raw readings of a file's bytes
    read it: base64 or hexadecimal, compressed or not (a record squeezed to fit), and bytes
    that are no UTF-8 (a code page, UTF-16: zxing-cpp guesses Latin-1) in every encoding;
    (how, text) pairs, such as ("base64 decoded, then UTF-8", …), and whether something
    compressed inflated past the readings' budget (a few kilobytes of a code can inflate to
    megabytes): then the code is not read whole, and its page is said unread."""
    from amanah.text import rawtext

    raw = sent or text.encode("utf-8", "replace")
    out: list[tuple[str, str]] = []
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = False
    else:
        utf8 = b"\x00" not in raw  # UTF-16 of Latin letters is valid UTF-8 too
    budget = rawtext.Inflating()  # one budget for all the code's readings, as for a chunk's
    for enc, reading in rawtext.chunk_readings(raw, 0, budget):
        encoded_run = bool({rawtext.BASE64, rawtext.HEX} & set(enc.split("/")))
        other_bytes = not utf8 and enc != "utf-8" and reading != text
        if encoded_run or (other_bytes and rawtext.named(reading)):
            out.append((rawtext.label(enc), reading))
    if (inflated := budget.inflate(raw)) is not None:  # compressed bytes sent as they are
        how = rawtext.label(rawtext.INFLATED)
        out += [
            (f"{how}, then {rawtext.label(enc)}", t)
            for enc, t in rawtext.chunk_readings(inflated, 0, budget)
        ]
    return out, budget.cut


def as_text(said: Codes) -> str:
    """The codes as lines of the page's text (`reading`)."""
    return reading(said)[0]


def reading(said: Codes) -> tuple[str, bool]:
    """The codes as lines of the page's text ("QR code: …"), each followed by what it holds
    that its text does not show (`decoded`), and, with several, all of them joined (a message
    split over several codes: QR's structured append, PDF417's macro), for search and the leak
    check; and whether any code's readings were cut (`decoded`)."""
    lines = []
    cut = False
    sent = said.data or [b""] * len(said.texts)
    for text, kind, data in zip(said.texts, said.kinds, sent, strict=True):
        lines.append(f"{kind}: {text}")
        readings, code_cut = decoded(text, data)
        lines += [f"{kind}, {how}: {t}" for how, t in readings]
        cut = cut or code_cut
    if len(said.texts) > 1:
        lines.append("codes joined: " + "".join(said.texts))
    return "\n".join(lines), cut


def onto(page: Any, grey: np.ndarray) -> None:
    """Read a page's codes (`read`) onto its OCR reading (`ocr.OcrPage`): what they say ends
    its text; a code not read, or read only in part, counts as a row of ink OCR missed
    (`lines_missed`)."""
    said = read(grey)
    cut = False
    if said.texts:
        page.codes = said.texts
        text, cut = reading(said)
        page.text = "\n".join(t for t in (page.text.rstrip("\n"), text) if t)
    if said.unread or cut:
        page.rows = (page.rows or 0) + 1
        page.rows_read = page.rows_read or 0
