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
#: Different texts read on one page at most: beyond, the page is "unread".
MAX_CODES = 32
MAX_CHARS = 64_000
#: zxing-cpp stops at this many symbols a picture: a page with as many may hold more.
SYMBOL_LIMIT = 255
#: The kinds read, by zxing-cpp's name, and what a page's text calls them.
KINDS = {
    "QRCode": "QR code",
    "MicroQRCode": "QR code",
    "RMQRCode": "QR code",
    "PDF417": "PDF417 code",
    "CompactPDF417": "PDF417 code",
    "MicroPDF417": "PDF417 code",
    "DataMatrix": "Data Matrix code",
    "Aztec": "Aztec code",
    "MaxiCode": "MaxiCode",
    "Code128": "Code 128 barcode",
    "Code39": "Code 39 barcode",
    "Code93": "Code 93 barcode",
}
#: Kinds found by patterns that text and paper do not make (finder squares, start and stop
#: columns, a bull's eye): one seen that does not decode is a code lost, not a false sighting.
#: Data Matrix and the linear kinds are seen in lines of Arabic print, so they do not count.
STRONG = {"QR Code", "PDF417", "Aztec"}


class Codes(NamedTuple):
    texts: list[str]
    unread: bool  # a code seen and not read, or too many: the page may lack what they say
    kinds: list[str]  # what each text was read from ("QR code", "PDF417 code" …)


def _formats() -> Any:
    import zxingcpp

    return zxingcpp.barcode_formats_from_str(",".join(KINDS))


def _label(barcode: Any) -> str:
    name = str(barcode.format).replace(" ", "").replace("-", "")
    return KINDS.get(name, "code")


def read(grey: np.ndarray) -> Codes:
    """The text of every code on a greyscale page (uint8), each once, in the order found:
    dark codes on light and light on dark, turned any way (phones read them all)."""
    import cv2
    import zxingcpp

    if grey.ndim != 2 or min(grey.shape) < 11:  # the smallest code is 11 modules wide
        return Codes([], False, [])
    if grey.size > MAX_PIXELS:
        scale = (MAX_PIXELS / grey.size) ** 0.5
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = zxingcpp.read_barcodes(
        np.ascontiguousarray(grey),
        formats=_formats(),
        text_mode=zxingcpp.TextMode.Plain,  # as sent: lines stay lines
        return_errors=True,
    )
    unread = len(found) >= SYMBOL_LIMIT
    texts: dict[str, str] = {}
    for barcode in found:
        if not barcode.valid:
            unread = unread or str(barcode.format) in STRONG
        elif barcode.text:
            texts.setdefault(barcode.text, _label(barcode))
    out: list[str] = []
    kinds: list[str] = []
    total = 0
    for text, kind in texts.items():
        if len(out) >= MAX_CODES or total + len(text) > MAX_CHARS:
            return Codes(out, True, kinds)
        out.append(text)
        kinds.append(kind)
        total += len(text)
    return Codes(out, unread, kinds)


def decoded(text: str) -> list[tuple[str, str]]:
    """What a code's text holds written in base64 or hexadecimal, compressed or not (a token,
    a JSON record deflated and encoded to fit the code), decoded as the raw readings of a
    file's bytes decode it: (how, text) pairs, such as ("base64 decoded, then UTF-8", …)."""
    from amanah.text import rawtext

    return [
        (rawtext.label(enc), reading)
        for enc, reading in rawtext.chunk_readings(text.encode("utf-8", "replace"))
        if {rawtext.BASE64, rawtext.HEX} & set(enc.split("/"))
    ]


def as_text(said: Codes) -> str:
    """The codes as lines of the page's text ("QR code: …"), each followed by what it holds
    encoded (`decoded`), for search and the leak check."""
    lines = []
    for text, kind in zip(said.texts, said.kinds, strict=True):
        lines.append(f"{kind}: {text}")
        lines += [f"{kind}, {how}: {reading}" for how, reading in decoded(text)]
    return "\n".join(lines)


def onto(page: Any, grey: np.ndarray) -> None:
    """Read a page's codes (`read`) onto its OCR reading (`ocr.OcrPage`): what they say ends
    its text; a code not read counts as a row of ink OCR missed (`lines_missed`)."""
    said = read(grey)
    if said.texts:
        page.codes = said.texts
        page.text = "\n".join(t for t in (page.text.rstrip("\n"), as_text(said)) if t)
    if said.unread:
        page.rows = (page.rows or 0) + 1
        page.rows_read = page.rows_read or 0
