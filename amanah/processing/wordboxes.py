"""Word boxes from OCR, in Arabic and Latin script, for redaction and for re-reading its output.

One Tesseract call on the page as given loses Arabic words in ordinary scans; tried here on
pages made with real Arabic shaping (Tesseract 5.3, `ara+eng`, TSV output):
- a low-contrast or yellowed scan gives no words at all with Sauvola thresholding alone, so
  the page is first flattened against its own background and binarised (no pixel moves);
- a page skewed by a few degrees loses whole words of a line, so it is straightened, read,
  and each box turned back onto the page (the box that holds the turned word);
- text whose letters are smaller than ~20 px (a 75-100 dpi scan, a small print, a photo of a
  page) loses words, and very large text is read as pictures, so the page is scaled until its
  letters are about 30 px high, the size Tesseract's models were trained at;
- text outside Tesseract's layout (a caption, a stamp, a line alone) is found by a second,
  sparse-text reading (`--psm 11`) of the page as given, and both readings are kept.
Words come back in Tesseract's reading order (logical order for Arabic: the TSV lists a
right-to-left line's words from the right), so a name is matched over a page's whole word
sequence, across line ends, not line by line. The languages are always at least `ara+eng`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from amanah.processing import ocr

#: px: the height of a page's taller letters (the upper quartile of its ink's connected
#: components: Latin letters with ascenders, joined Arabic words) that Tesseract reads best.
TARGET_HEIGHT = 40.0
MIN_SCALE, MAX_SCALE = 0.5, 4.0
MAX_PIXELS = 60_000_000  # a scaled page larger than this is not scaled further


@dataclass(frozen=True)
class Word:
    text: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the pixels given
    conf: float
    reading: int  # which reading found it (0: prepared page, 1: sparse reading)


def languages(collection: str | None) -> str:
    """The collection's OCR languages, always with Arabic and English."""
    parts = [p for p in (collection or "").split("+") if p]
    for must in ("ara", "eng"):
        if must not in parts:
            parts.append(must)
    return "+".join(parts)


def without_blocks(grey: np.ndarray) -> np.ndarray:
    """The page with solid dark rectangles (redaction boxes, black bars) painted in the page's
    background tone: a black box pulls Otsu's threshold down until grey ink reads as paper, so
    a page already redacted once would otherwise read as blank, and a name left beside the box
    would be missed when the output is read back."""
    dark = (grey < 40).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=4)
    if count < 2:
        return grey
    w = stats[1:, cv2.CC_STAT_WIDTH]
    h = stats[1:, cv2.CC_STAT_HEIGHT]
    solid = (stats[1:, cv2.CC_STAT_AREA] >= 0.9 * w * h) & (w >= 12) & (h >= 8)
    if not solid.any():
        return grey
    out = grey.copy()
    out[np.isin(labels, np.flatnonzero(solid) + 1)] = int(np.median(grey))
    return out


def letter_height(grey: np.ndarray) -> float | None:
    """Upper-quartile height of the ink's connected components that look like letters (Latin
    letters, or joined Arabic letters: dots and harakat fall in the lower quartiles)."""
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count < 2:
        return None
    h = stats[1:, cv2.CC_STAT_HEIGHT]
    w = stats[1:, cv2.CC_STAT_WIDTH]
    area = stats[1:, cv2.CC_STAT_AREA]
    page_h, page_w = grey.shape
    keep = (h >= 4) & (h < page_h / 8) & (w < page_w / 3) & (area >= 8)
    if keep.sum() < 5:
        return None
    return float(np.percentile(h[keep], 75))


def scale_for(grey: np.ndarray) -> float:
    """How much to scale the page so its letters are about TARGET_HEIGHT pixels high."""
    height = letter_height(grey)
    if not height:
        return 1.0
    scale = min(MAX_SCALE, max(MIN_SCALE, TARGET_HEIGHT / height))
    pixels = grey.shape[0] * grey.shape[1]
    scale = min(scale, (MAX_PIXELS / pixels) ** 0.5) if pixels else scale
    return 1.0 if 0.85 <= scale <= 1.15 else scale


def _read(
    grey: np.ndarray, work: Path, langs: str, psm: str
) -> list[tuple[str, float, tuple[int, int, int, int]]]:
    _, _, found = ocr.tesseract(grey, work, langs, single_line=False, psm=psm)
    return [(w["text"], float(w["conf"]), tuple(w["box"])) for w in found]  # type: ignore[misc]


def words(grey: np.ndarray, work: Path, langs: str, sparse: bool = True) -> list[Word]:
    """Every word OCR reads on a grey page, with its box in the page's own pixels."""
    work.mkdir(parents=True, exist_ok=True)
    langs = languages(langs)
    grey = without_blocks(grey)
    scale = scale_for(grey)
    page = grey
    if scale != 1.0:
        interp = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        page = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=interp)
    found: list[Word] = []
    # Reading 0: flattened, binarised and straightened; boxes turned back onto the page.
    angle = ocr.skew_angle(page)
    prepared = ocr.binarise(page)
    back = None
    if abs(angle) >= 0.3:
        h, w = prepared.shape
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        prepared = cv2.warpAffine(prepared, turn, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
        back = cv2.invertAffineTransform(turn)
    for text, conf, (left, top, width, height) in _read(prepared, work, langs, "3"):
        corners = np.array(
            [[left, top], [left + width, top], [left, top + height], [left + width, top + height]],
            dtype=np.float64,
        )
        if back is not None:
            corners = corners @ back[:, :2].T + back[:, 2]
        x0, y0 = corners.min(axis=0) / scale
        x1, y1 = corners.max(axis=0) / scale
        found.append(Word(text, (x0, y0, x1, y1), conf, 0))
    # Reading 1: sparse text on the page as given (captions, stamps, lines alone, photos).
    if sparse:
        for text, conf, (left, top, width, height) in _read(page, work, langs, "11"):
            box = (left / scale, top / scale, (left + width) / scale, (top + height) / scale)
            found.append(Word(text, box, conf, 1))
    return found


def readings(found: list[Word]) -> list[list[Word]]:
    """The words of each reading, in reading order: a name is looked for in each sequence."""
    by: dict[int, list[Word]] = {}
    for w in found:
        by.setdefault(w.reading, []).append(w)
    return [by[k] for k in sorted(by)]
