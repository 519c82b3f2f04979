"""QR codes on a page or in a picture, read as the text they hold.

A phone reads a QR code at a glance: a contact card (`BEGIN:VCARD … FN:…`), a link to a
profile, a message. Printed on a statement, a flyer, a badge or a screenshot, it carries a
name that OCR never sees. Each OCR'd page or picture is also read for QR codes (OpenCV's
detector, already used by the OCR clean-up), and what they say is added to the page's OCR
text, so search, the content inventory and the leak check read it as they read the page.

The detector runs on the page at half size first (about 20 ms on a 300 dpi page without a
code); at full size only when a code was found there but not read, or the picture is small.
Its time grows much faster than the number of codes (5 codes: 0.05 s; 120: 0.5 s; 567: two
minutes), so the finder patterns (the three nested squares of each code) are counted first,
in milliseconds: a page with more than a page of a statement holds is not read, and says so.
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


class Codes(NamedTuple):
    texts: list[str]
    unread: bool  # too many codes to read: the page's text may lack what they say


def _detector() -> Any:
    import cv2

    return cv2.QRCodeDetectorAruco()


def _finders(grey: np.ndarray) -> int:
    """Contours with a contour inside a contour inside them: a code's finder patterns."""
    import cv2

    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    _contours, tree = cv2.findContours(ink, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    if tree is None:
        return 0
    child = tree[0][:, 2]
    inner = child[child >= 0]
    return int(np.count_nonzero(child[inner] >= 0))


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


def read(grey: np.ndarray) -> Codes:
    """The text of every QR code on a greyscale page (uint8), each once, in the order found."""
    import cv2

    if grey.ndim != 2 or min(grey.shape) < 21:  # a code is 21 modules wide at least
        return Codes([], False)
    small = grey.size <= SMALL
    seen = grey if small else cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    if _finders(seen) > MAX_FINDERS:
        return Codes([], True)
    said, unread = _read(seen)
    if unread and not small:
        said = list(dict.fromkeys(said + _read(grey)[0]))
    out, total = [], 0
    for text in dict.fromkeys(said):
        if len(out) >= MAX_CODES or total + len(text) > MAX_CHARS:
            return Codes(out, True)
        out.append(text)
        total += len(text)
    return Codes(out, False)


def as_text(said: list[str]) -> str:
    """The codes as lines of the page's text ("QR code: …"), for search and the leak check."""
    return "\n".join(f"QR code: {text}" for text in said)
