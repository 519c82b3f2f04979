"""QR codes on a page or in a picture, read as the text they hold.

A phone reads a QR code at a glance: a contact card (`BEGIN:VCARD … FN:…`), a link to a
profile, a message. Printed on a statement, a flyer, a badge or a screenshot, it carries a
name that OCR never sees. Each OCR'd page or picture is also read for QR codes (OpenCV's
detector, already used by the OCR clean-up), and what they say is added to the page's OCR
text, so search, the content inventory and the leak check read it as they read the page.

OpenCV's detector runs only where a code can be: on a page with three finder patterns or more
(the nested squares at a code's corners, counted in milliseconds), at half size first and at
full size when that reads nothing (small modules); on a dark page, light codes on dark too.
Its time grows much faster than the number of codes (5 codes: 0.05 s; 120: 0.5 s; 567: two
minutes), and contour tracing's on patterns finer than any code (a checkerboard of single
pixels: minutes), so too-fine tiles are blanked, a page of too many regions of paper is read
smaller, and a page with more finder patterns or codes than a page of a statement holds is not
read, and says so.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

#: Pictures of this many pixels or fewer are read at full size at once.
SMALL = 1_500_000
#: Codes read on one page at most: beyond, the page is "unread" (its inventory incomplete).
MAX_CODES = 32
#: Nested-square candidates allowed (three a code, and some from boxes and letters).
MAX_FINDERS = 3 * MAX_CODES + 24
MAX_CHARS = 64_000
#: Tiles where ink changes at more than this share of pixels are finer than any code.
FINE_TILE = 32
FINE_RATE = 0.35
#: Paper regions on a page beyond which it is read at half size (a page of text has hundreds,
#: squared paper of 2 mm fifteen thousand, millimetre paper sixty thousand).
MAX_HOLES = 40_000
#: Share of dark pixels beyond which a page is also read for light codes on dark.
DARK = 0.25


class Codes(NamedTuple):
    texts: list[str]
    unread: bool  # too many codes to read: the page's text may lack what they say


def _detector() -> Any:
    import cv2

    return cv2.QRCodeDetectorAruco()


def _ink(grey: np.ndarray) -> np.ndarray:
    """Dark pixels as 255 (Otsu's threshold); light ones on a dark page are its complement."""
    import cv2

    return cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1]


def _finders(ink: np.ndarray) -> int:
    """Finder patterns: a square of ink, a square hole in it, a square of ink in that, the
    inner a seventh to a third of the outer's width (a box holding a letter "o" in a table's
    cell is no square, or its letter is too small)."""
    import cv2

    contours, tree = cv2.findContours(ink, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    if tree is None:
        return 0
    child = tree[0][:, 2]
    found = 0
    for outer in np.flatnonzero((child >= 0) & (child[np.maximum(child, 0)] >= 0)):
        inner = child[child[outer]]
        _, _, w, h = cv2.boundingRect(contours[outer])
        _, _, iw, ih = cv2.boundingRect(contours[inner])
        if 0.6 < w / h < 1.7 and 0.6 < iw / ih < 1.7 and 2 <= w / max(iw, 1) <= 7 and w >= 7:
            found += 1
    return found


def _fine(ink: np.ndarray) -> np.ndarray:
    """The tiles of the page (32 px) where ink changes at more than a third of the pixels: a
    pattern finer than any code's modules (a checkerboard of single pixels), on which the
    detector's time grows for minutes. They are blanked before it runs."""
    tile = FINE_TILE
    h, w = (ink.shape[0] // tile) * tile, (ink.shape[1] // tile) * tile
    if not h or not w:
        return np.zeros((0, 0), bool)
    on = ink[:h, :w] > 0
    changes = np.zeros((h, w), np.uint8)
    changes[:, 1:] += on[:, 1:] != on[:, :-1]
    changes[1:, :] += on[1:, :] != on[:-1, :]
    rate = changes.reshape(h // tile, tile, w // tile, tile).sum(axis=(1, 3)) / (2 * tile * tile)
    return rate > FINE_RATE


def _plain(grey: np.ndarray, ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The page and its ink with the too-fine tiles blanked (`_fine`)."""
    fine = _fine(ink)
    if not fine.any():
        return grey, ink
    grey = grey.copy()
    for y, x in zip(*np.nonzero(fine), strict=True):
        grey[y * FINE_TILE : (y + 1) * FINE_TILE, x * FINE_TILE : (x + 1) * FINE_TILE] = 255
    return grey, _ink(grey)


def _read(grey: np.ndarray) -> tuple[list[str], bool]:
    """The texts of the codes found, and whether a code was found that did not read."""
    try:
        ok, texts, _points, _ = _detector().detectAndDecodeMulti(grey)
    except Exception:  # cv2.error on degenerate input: no code read, never a failed page
        return [], False
    if not ok:
        return [], False
    said = [t for t in texts if t]
    return said, len(said) < len(texts)


def _holes(ink: np.ndarray) -> int:
    """Regions of paper between the ink (4-connected), counted in C in tens of milliseconds:
    contour tracing, which finds the finder patterns, slows past linear on hundreds of
    thousands of them (a 3-pixel checkerboard, millimetre paper: 25-48 s a page)."""
    import cv2

    return int(cv2.connectedComponents(255 - ink, connectivity=4)[0])


def _codes(grey: np.ndarray, ink: np.ndarray) -> tuple[list[str], bool] | None:
    """The codes of dark modules on light read on the page (`ink` its dark pixels), and
    whether there were more than can be read; None when it has no code (no three finder
    patterns)."""
    import cv2

    finders = _finders(ink)
    if finders > MAX_FINDERS:
        return [], True
    if finders < 3:
        return None
    if grey.size <= SMALL:
        return _read(grey)[0], False
    said, unread = _read(cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
    if unread or not said:  # half size first; full size for small modules
        said = list(dict.fromkeys(said + _read(grey)[0]))
    return said, False


def read(grey: np.ndarray) -> Codes:
    """The text of every QR code on a greyscale page (uint8), each once, in the order found:
    dark codes on light, and on a dark page light codes on dark too (phones read both)."""
    import cv2

    if grey.ndim != 2 or min(grey.shape) < 21:  # a code is 21 modules wide at least
        return Codes([], False)
    ink, shrunk = _ink(grey), False  # a page of too fine a pattern is read smaller
    while _holes(ink) > MAX_HOLES and min(grey.shape) >= 84:
        grey, shrunk = cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), True
        ink = _ink(grey)
    grey, ink = _plain(grey, ink)
    found = _codes(grey, ink)
    dark = np.count_nonzero(ink) > DARK * ink.size
    if (found is None or not (found[0] or found[1])) and dark and _holes(255 - ink) <= MAX_HOLES:
        found = _codes(255 - grey, 255 - ink) or found
    if found is None:
        return Codes([], False)  # no finder patterns: no code (a photograph read smaller too)
    said, unread = found
    # Finder patterns on a page read smaller, and no code read: one may have been lost.
    unread = unread or (shrunk and not said)
    out, total = [], 0
    for text in dict.fromkeys(said):
        if len(out) >= MAX_CODES or total + len(text) > MAX_CHARS:
            return Codes(out, True)
        out.append(text)
        total += len(text)
    return Codes(out, unread)


def as_text(said: list[str]) -> str:
    """The codes as lines of the page's text ("QR code: …"), for search and the leak check."""
    return "\n".join(f"QR code: {text}" for text in said)


def onto(page: Any, grey: np.ndarray) -> None:
    """Read a page's codes (`read`) onto its OCR reading (`ocr.OcrPage`): what they say ends
    its text; too many to read count as a row of ink OCR missed (`lines_missed`)."""
    said = read(grey)
    if said.texts:
        page.codes = said.texts
        page.text = "\n".join(t for t in (page.text.rstrip("\n"), as_text(said.texts)) if t)
    if said.unread:
        page.rows = (page.rows or 0) + 1
        page.rows_read = page.rows_read or 0
