"""Lines of text set at an angle on an upright page, read one by one.

Tesseract reads the lines of a page that run level (after the page's own skew is put right,
and a page turned a quarter or upside down is turned back as a whole). A line set at another
angle on the same page — a diagonal watermark, a stamp, a caption turned 30°, a name written
up the margin — it reads as noise or not at all, and a name written that way passed the leak
check. Here the page's ink is merged into blobs about a word long; the words tilted off the
page's lines by `MIN_TILT` or more give at most `MAX_ANGLES` angles; at each, the ink is merged
again along that direction only (so the words of a line join and the lines of a stamp do
not), and every line long and thin enough is cut out level and read both ways up (a line at
135° reads upside down at -45°). Pages with none (nearly all) cost two passes of connected
components. The work is linear in the page's marks, and bounded (`MAX_BLOBS`, `MAX_LINES`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

#: Degrees a line must lie off the page's lines to be read on its own (Tesseract reads lines
#: a little off level itself; a word's dots and tails turn a short blob's axis by a few).
MIN_TILT = 12.0
#: A word giving an angle is this many times longer than thick, and holds two marks at least.
WORD_ASPECT = 1.8
#: A line is this many times longer than it is thick, and than the page's letters are high,
#: at least, and holds `MIN_MARKS` marks (letters), which noise in a row does not.
MIN_ASPECT = 3.0
MIN_LETTERS_LONG = 5.0
MIN_MARKS = 4
#: Lines whose angles differ by no more than this are one direction.
SAME = 4.0
#: The most directions one page is read at, blobs looked at, and lines read (each line costs
#: two Tesseract runs of one line).
MAX_ANGLES = 3
MAX_BLOBS = 4000
MAX_LINES = 16
#: The page is looked at no wider than this (letters stay several pixels high).
SIDE = 2000
#: A line cut out is enlarged (at most 3 times, and never past the page's size) to about this
#: many pixels thick: resampled small letters lose what tells h from n.
TARGET_THICK = 80.0


@dataclass
class Tilted:
    """A line of ink at an angle: its rotated rectangle on the page as given."""

    centre: tuple[float, float]
    size: tuple[float, float]  # length along the line, thickness across it
    angle: float  # the line's direction in image axes (y down): degrees, -90 to 90


@dataclass
class _Page:
    ink: np.ndarray  # 255 where ink, on the page seen at most SIDE wide
    scale: float
    letter: float  # the median height of its marks
    marks: np.ndarray  # the marks' centres (x, y), integers


def _seen(grey: np.ndarray) -> _Page | None:
    h, w = grey.shape
    scale = min(1.0, SIDE / max(h, w))
    small = (
        cv2.resize(grey, (max(1, int(w * scale)), max(1, int(h * scale))), cv2.INTER_AREA)
        if scale < 1
        else grey
    )
    if min(small.shape) < 8:
        return None
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    _n, _labels, stats, centroids = cv2.connectedComponentsWithStats(ink, connectivity=8)
    keep = (stats[1:, cv2.CC_STAT_AREA] >= 6) & (stats[1:, cv2.CC_STAT_HEIGHT] >= 4)
    if int(keep.sum()) < MIN_MARKS:
        return None
    letter = float(np.median(stats[1:, cv2.CC_STAT_HEIGHT][keep]))
    if letter > small.shape[0] / 3:
        return None  # one large shape: a drawing, not a page of letters
    marks = np.rint(centroids[1:][keep]).astype(np.int64)
    marks[:, 0] = np.clip(marks[:, 0], 0, small.shape[1] - 1)
    marks[:, 1] = np.clip(marks[:, 1], 0, small.shape[0] - 1)
    return _Page(ink, scale, letter, marks)


def _blobs(page: _Page, merged: np.ndarray, least_marks: int) -> list[tuple[np.ndarray, int]]:
    """The merged blobs holding `least_marks` marks or more (their pixels' coordinates, x y),
    the largest first, at most `MAX_BLOBS`: counted in one pass, not blob by mark."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(merged, connectivity=8)
    held = np.bincount(labels[page.marks[:, 1], page.marks[:, 0]], minlength=count)
    chosen = [n for n in range(1, count) if held[n] >= least_marks]
    chosen.sort(key=lambda n: -int(stats[n, cv2.CC_STAT_AREA]))
    out = []
    for n in chosen[:MAX_BLOBS]:
        x, y = stats[n, cv2.CC_STAT_LEFT], stats[n, cv2.CC_STAT_TOP]
        w, h = stats[n, cv2.CC_STAT_WIDTH], stats[n, cv2.CC_STAT_HEIGHT]
        ys, xs = np.nonzero(labels[y : y + h, x : x + w] == n)
        out.append((np.column_stack([xs + x, ys + y]).astype(np.float32), int(held[n])))
    return out


def _shape(points: np.ndarray) -> tuple[tuple[float, float], float, float, float]:
    """Centre, length, thickness and direction (image axes, -90 to 90) of a blob."""
    (cx, cy), (rw, rh), _ = cv2.minAreaRect(points)
    vx, vy = cv2.fitLine(points, cv2.DIST_L2, 0, 0.01, 0.01).ravel()[:2]
    along = (float(np.degrees(np.arctan2(vy, vx))) + 90.0) % 180.0 - 90.0
    return (cx, cy), max(rw, rh), min(rw, rh), along


def _off(a: float, b: float) -> float:
    return abs((a - b + 90.0) % 180.0 - 90.0)


def find(grey: np.ndarray, page_skew: float = 0.0) -> list[Tilted]:
    """The lines of `grey` (dark ink on light) tilted off the page's lines."""
    page = _seen(grey)
    if page is None:
        return []
    reach = max(3, int(page.letter * 0.6)) | 1
    words = cv2.dilate(page.ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach)))
    directions: list[list[float]] = []  # [angle, weight]
    for points, _held in _blobs(page, words, 2):
        _, length, thick, along = _shape(points)
        if thick <= 0 or length < WORD_ASPECT * thick or thick > 3.5 * page.letter:
            continue
        if _off(along, page_skew) < MIN_TILT:
            continue
        for d in directions:
            if _off(along, d[0]) <= SAME:
                d[1] += length
                break
        else:
            directions.append([along, length])
    directions.sort(key=lambda d: -d[1])
    found: list[Tilted] = []
    for angle, _weight in directions[:MAX_ANGLES]:
        found += _lines_at(page, angle)
    return found[:MAX_LINES]


def _lines_at(page: _Page, angle: float) -> list[Tilted]:
    """The lines at `angle`: the page's ink merged along that direction only."""
    span = max(5, int(page.letter * 1.6)) | 1
    kernel = np.zeros((span, span), np.uint8)
    c, r = span // 2, span / 2
    dx, dy = r * np.cos(np.radians(angle)), r * np.sin(np.radians(angle))
    cv2.line(kernel, (int(c - dx), int(c - dy)), (int(c + dx), int(c + dy)), 1, 1)
    dot = max(3, int(page.letter * 0.3)) | 1
    merged = cv2.dilate(
        cv2.dilate(page.ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (dot, dot))), kernel
    )
    out: list[Tilted] = []
    for points, _held in _blobs(page, merged, MIN_MARKS):
        (cx, cy), length, thick, along = _shape(points)
        if thick <= 0 or length < MIN_ASPECT * thick or thick > 3.5 * page.letter:
            continue
        if length < MIN_LETTERS_LONG * page.letter or _off(along, angle) > SAME:
            continue
        s = page.scale
        out.append(Tilted((cx / s, cy / s), (length / s, thick / s), along))
        if len(out) >= MAX_LINES:
            break
    return out


def cut_level(grey: np.ndarray, line: Tilted, turn: float) -> np.ndarray:
    """The line cut out of the page, turned by `turn` degrees (image axes) so that it runs
    level, enlarged toward `TARGET_THICK`, with a margin; the rest of the page left out."""
    h, w = grey.shape
    length, thick = line.size
    zoom = float(np.clip(TARGET_THICK / max(thick, 1.0), 1.0, 3.0))
    zoom = min(zoom, 2.0 * max(h, w) / max(length + 2.0 * thick, 1.0))  # never past the page
    zoom = max(zoom, 0.1)
    margin = max(8.0, thick * zoom * 0.5)
    out_w = max(1, int(length * zoom + 2 * margin))
    out_h = max(1, int(thick * zoom + 2 * margin))
    m = cv2.getRotationMatrix2D(line.centre, turn, zoom)
    m[0, 2] += out_w / 2 - line.centre[0]
    m[1, 2] += out_h / 2 - line.centre[1]
    return cv2.warpAffine(grey, m, (out_w, out_h), flags=cv2.INTER_CUBIC, borderValue=255)


def read(
    grey: np.ndarray,
    page_skew: float,
    read_part: Callable[[np.ndarray], tuple[str, float | None]],
) -> list[str]:
    """What each tilted line says, cut out level and read both ways up, the better reading
    kept; the lines of one direction in the order they stand (a name broken over two lines
    of a stamp reads on)."""
    by_angle: dict[float, list[tuple[float, str]]] = {}
    for line in find(grey, page_skew):
        best = ("", -1.0)
        for turn in (line.angle, line.angle + 180.0):
            text, confidence = read_part(cut_level(grey, line, turn))
            if text.strip() and (confidence or 0.0) > best[1]:
                best = (text.strip(), confidence or 0.0)
        if best[0]:
            key = next((a for a in by_angle if _off(a, line.angle) <= SAME), line.angle)
            across = (
                -np.sin(np.radians(line.angle)) * line.centre[0]
                + np.cos(np.radians(line.angle)) * line.centre[1]
            )
            by_angle.setdefault(key, []).append((float(across), best[0]))
    return ["\n".join(text for _, text in sorted(lines)) for lines in by_angle.values()]
