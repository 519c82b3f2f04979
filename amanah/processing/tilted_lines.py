"""Lines of text set at an angle on an upright page, read one by one.

Tesseract reads the lines of a page that run level (after the page's own skew is put right,
and a page turned a quarter or upside down is turned back as a whole). A line set at another
angle on the same page — a diagonal watermark, a stamp, a caption turned 30°, a name written
up the margin — it reads as noise or not at all, and a name written that way passed the leak
check. Here the page's ink is merged into blobs a few letters wide; blobs long and thin like
a word or line of letters, tilted from the page's lines by more than `MIN_TILT`, give the
angles (at most `MAX_ANGLES`) at which the whole page is read again turned level, both ways up
(a line at 135° reads upside down at -45°). Pages with none (nearly all) cost one pass of
connected components.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

#: Degrees a line must lie off the page's lines to be read on its own (Tesseract reads lines
#: a little off level itself; a word's dots and tails turn a short blob's axis by a few).
MIN_TILT = 12.0
#: The most tilted lines looked at on one page.
MAX_LINES = 64
#: A line is this many times longer than it is thick, and than the page's letters are high,
#: at least ...
MIN_ASPECT = 3.0
MIN_LETTERS_LONG = 5.0
#: ... and holds at least this many marks (letters), which noise in a row does not.
MIN_MARKS = 4
#: The page is looked at no wider than this (letters stay several pixels high).
SIDE = 2000


@dataclass
class Tilted:
    """A line of ink at an angle: its rotated rectangle on the page as given."""

    centre: tuple[float, float]
    size: tuple[float, float]  # length along the line, thickness across it
    angle: float  # the line's direction in image axes (y down): degrees, -90 to 90
    outline: np.ndarray  # its blob's outline on the page as given (N×2)


def find(grey: np.ndarray, page_skew: float = 0.0) -> list[Tilted]:
    """The lines of `grey` (dark ink on light) tilted off the page's lines."""
    h, w = grey.shape
    scale = min(1.0, SIDE / max(h, w))
    small = (
        cv2.resize(grey, (max(1, int(w * scale)), max(1, int(h * scale))), cv2.INTER_AREA)
        if scale < 1
        else grey
    )
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    count, _labels, stats, centroids = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    areas = stats[1:, cv2.CC_STAT_AREA]
    marks = heights[(areas >= 6) & (heights >= 4)]
    if count < MIN_MARKS + 1 or len(marks) < MIN_MARKS:
        return []
    letter = float(np.median(marks))
    if letter > small.shape[0] / 3:
        return []  # one large shape: a drawing, not a page of letters
    reach = max(3, int(letter * 0.6)) | 1
    merged = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach)))
    contours, _ = cv2.findContours(merged, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    points = centroids[1:][(areas >= 6) & (heights >= 4)]
    found: list[Tilted] = []
    for contour in contours:
        (cx, cy), (rw, rh), _ = cv2.minAreaRect(contour)
        length, thick = max(rw, rh), min(rw, rh)
        if thick <= 0 or length < MIN_ASPECT * thick or thick > 3.5 * letter:
            continue
        if length < MIN_LETTERS_LONG * letter:
            continue
        vx, vy = cv2.fitLine(contour, cv2.DIST_L2, 0, 0.01, 0.01).ravel()[:2]
        along = float(np.degrees(np.arctan2(vy, vx)))  # image axes: y runs down
        along = (along + 90.0) % 180.0 - 90.0
        if abs((along - page_skew + 90.0) % 180.0 - 90.0) < MIN_TILT:
            continue
        inside = cv2.pointPolygonTest
        held = sum(1 for p in points if inside(contour, (float(p[0]), float(p[1])), False) >= 0)
        if held < MIN_MARKS:
            continue
        found.append(
            Tilted(
                (cx / scale, cy / scale),
                (length / scale, thick / scale),
                along,
                contour.reshape(-1, 2).astype(np.float64) / scale,
            )
        )
        if len(found) >= MAX_LINES:
            break
    return found


def groups(lines: list[Tilted]) -> list[list[Tilted]]:
    """`lines` by angle (within `SAME` degrees is one group), the most ink first, at most
    `MAX_ANGLES`: each group is cut out and read once turned level."""
    out: list[list[Tilted]] = []
    for line in sorted(lines, key=lambda x: -x.size[0]):
        for group in out:
            if abs((line.angle - group[0].angle + 90.0) % 180.0 - 90.0) <= SAME:
                group.append(line)
                break
        else:
            out.append([line])
    out.sort(key=lambda g: -sum(x.size[0] for x in g))
    return out[:MAX_ANGLES]


#: Lines whose angles differ by no more than this are read in one turn of the page.
SAME = 4.0
#: A line cut out is enlarged (at most 3 times) to about this many pixels thick: resampled
#: small letters lose what tells h from n.
TARGET_THICK = 80.0
#: The most turns one page is read at (each costs two Tesseract runs of the part cut out).
MAX_ANGLES = 3


def cut_level(grey: np.ndarray, group: list[Tilted], turn: float) -> np.ndarray:
    """The part of the page the group's lines cover, turned by `turn` degrees (image axes) so
    that they run level, with a margin; the rest of the page is left out (its upright lines,
    read turned, would only be noise)."""
    h, w = grey.shape
    thick = float(np.median([x.size[1] for x in group]))
    zoom = float(np.clip(TARGET_THICK / max(thick, 1.0), 1.0, 3.0))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), turn, zoom)
    points = np.concatenate([x.outline for x in group])
    moved = points @ m[:, :2].T + m[:, 2]
    margin = max(8.0, thick * zoom * 0.5)
    x0, y0 = moved.min(axis=0) - margin
    x1, y1 = moved.max(axis=0) + margin
    m[0, 2] -= x0
    m[1, 2] -= y0
    size = (max(1, int(x1 - x0)), max(1, int(y1 - y0)))
    return cv2.warpAffine(grey, m, size, flags=cv2.INTER_CUBIC, borderValue=255)


def read(
    grey: np.ndarray,
    page_skew: float,
    read_part: Callable[[np.ndarray], tuple[str, float | None]],
) -> list[str]:
    """What each group of tilted lines says, cut out turned level and read both ways up (a
    line at 135° reads upside down at -45°), the better reading of each kept."""
    out: list[str] = []
    for group in groups(find(grey, page_skew)):
        angle = float(np.average([x.angle for x in group], weights=[x.size[0] for x in group]))
        best = ("", -1.0)
        for turn in (angle, angle + 180.0):
            text, confidence = read_part(cut_level(grey, group, turn))
            if text.strip() and (confidence or 0.0) > best[1]:
                best = (text.strip(), confidence or 0.0)
        if best[0]:
            out.append(best[0])
    return out
