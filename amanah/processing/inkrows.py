"""The rows of ink on a cleaned page, counted without Tesseract, and which of them it read.

Tesseract sometimes leaves out a whole line and is confident about the rest (a line inside a
drawn box, which its layout analysis takes for a picture), so its confidence cannot tell that
a line of evidence is missing; search and the leak check would never see that line. The
rows are counted here from the binary image Tesseract read: its ink split into connected
components, the letter-sized ones (not specks, dots, rules, boxes or pictures) grouped into
rows by the middle of their height, each row into pieces by the wide gaps between them (a
second column). A piece is read when most of its letters lie inside Tesseract's word boxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

#: Of the text height: the smallest letter body counted (dots, hamzas and specks are smaller),
#: the tallest (a stamp, a picture or a drawn box is taller), the widest (a rule).
MIN_HEIGHT, MAX_HEIGHT, MAX_WIDTH = 0.35, 3.0, 12.0
#: Of the text height: a horizontal gap that starts another piece of a row (a column gutter),
#: and the least width of ink a piece needs (two specks side by side are no line).
PIECE_GAP, MIN_INK_WIDTH = 4.0, 1.5
#: Of the text height: a letter's strokes are thinner than this; ink still there after an
#: erosion this wide is a blot of a picture or a stamp, not a letter.
MAX_STROKE = 0.4
#: A line of text stands on clear paper: at least this share of the ink across the page's
#: width at a row's height is its letters and their dots; among the blots of a picture (or
#: beside one) it is less, and such a row is not counted.
MIN_OWN_INK = 0.5
#: Of the text height: the middles of one line's letters closer than this are one row (a
#: blurred line whose letters' middles do not all overlap).
ROW_GAP = 0.3
#: Of the text height: how far outside a word box a letter's centre still counts as read.
BOX_SLACK = 0.25


@dataclass
class Piece:
    """A row of ink (or the part of it between wide gaps), in the image's pixels."""

    left: int
    top: int
    right: int
    bottom: int
    labels: list[int]  # its letter-sized components
    read: bool = False


@dataclass
class Rows:
    """The components of a page's ink and the pieces of its rows."""

    labels: np.ndarray  # component label per pixel (0: paper)
    stats: np.ndarray  # cv2 stats per label
    height: float  # the text height the filters were scaled by
    rows: list[list[Piece]]

    @property
    def count(self) -> int:
        return len(self.rows)

    def unread(self) -> list[Piece]:
        return [p for row in self.rows for p in row if not p.read]

    @property
    def read_count(self) -> int:
        return sum(all(p.read for p in row) for row in self.rows)


def find(binary: np.ndarray, height: float) -> Rows:
    """The rows of ink of a binary page (ink black on white) whose text is `height` px high."""
    ink = (binary < 128).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    hs, ws = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    letter = (hs >= MIN_HEIGHT * height) & (hs <= MAX_HEIGHT * height) & (ws <= MAX_WIDTH * height)
    letter[0] = False
    k = max(3, round(MAX_STROKE * height) | 1)
    solid = cv2.erode(ink, np.ones((k, k), np.uint8))
    letter[np.unique(labels[solid > 0])] = False
    idx = np.flatnonzero(letter)
    # The middle half of each letter's height: lines close together do not touch there.
    cores = np.zeros(binary.shape[0] + 1, dtype=np.int32)
    tops, hts = stats[idx, cv2.CC_STAT_TOP], hs[idx]
    np.add.at(cores, tops + hts // 4, 1)
    np.add.at(cores, tops + (3 * hts) // 4 + 1, -1)
    covered = np.cumsum(cores)[:-1] > 0
    edges = np.flatnonzero(np.diff(np.concatenate(([0], covered.astype(np.int8), [0]))))
    bands: list[tuple[int, int]] = []
    for y0, y1 in zip(edges[::2], edges[1::2], strict=True):
        if bands and y0 - bands[-1][1] < ROW_GAP * height:
            bands[-1] = (bands[-1][0], int(y1))
        else:
            bands.append((int(y0), int(y1)))
    centres = tops + hts // 2
    rows: list[list[Piece]] = []
    for y0, y1 in bands:
        members = idx[(centres >= y0) & (centres < y1)]
        pieces = _pieces(stats, members, height)
        if pieces and _on_paper(labels, stats, pieces, height):
            rows.append(pieces)
    return Rows(labels, stats, height, rows)


def _pieces(stats: np.ndarray, members: np.ndarray, height: float) -> list[Piece]:
    """A row's letters split where a gap is wider than PIECE_GAP; pieces too thin dropped."""
    order = members[np.argsort(stats[members, cv2.CC_STAT_LEFT])]
    groups: list[list[int]] = []
    reach = -1
    for k in order:
        left = int(stats[k, cv2.CC_STAT_LEFT])
        if not groups or left - reach > PIECE_GAP * height:
            groups.append([])
        groups[-1].append(int(k))
        reach = max(reach, left + int(stats[k, cv2.CC_STAT_WIDTH]))
    out = []
    for g in groups:
        s = stats[g]
        if len(g) < 2 or s[:, cv2.CC_STAT_WIDTH].sum() < MIN_INK_WIDTH * height:
            continue
        out.append(
            Piece(
                int(s[:, cv2.CC_STAT_LEFT].min()),
                int(s[:, cv2.CC_STAT_TOP].min()),
                int((s[:, cv2.CC_STAT_LEFT] + s[:, cv2.CC_STAT_WIDTH]).max()),
                int((s[:, cv2.CC_STAT_TOP] + s[:, cv2.CC_STAT_HEIGHT]).max()),
                g,
            )
        )
    return out


def _marks(stats: np.ndarray, height: float) -> np.ndarray:
    """Per label: a dot, hamza or other mark beside letters (short and narrow; not a rule)."""
    small = (stats[:, cv2.CC_STAT_HEIGHT] < MIN_HEIGHT * height) & (
        stats[:, cv2.CC_STAT_WIDTH] < height
    )
    small[0] = False
    return small


def _on_paper(labels: np.ndarray, stats: np.ndarray, row: list[Piece], height: float) -> bool:
    """Whether the ink across the page at the row's height is mostly its letters and marks."""
    top, bottom = min(p.top for p in row), max(p.bottom for p in row)
    band = labels[top:bottom]
    ink = band[band > 0]
    if not ink.size:
        return False
    own = np.isin(ink, [k for p in row for k in p.labels]) | _marks(stats, height)[ink]
    return bool(own.mean() >= MIN_OWN_INK)


def mark_read(found: Rows, words: list[dict[str, Any]]) -> None:
    """Mark each piece read when at least half of its letters' centres lie in a word box."""
    if not words:
        for row in found.rows:
            for p in row:
                p.read = False
        return
    slack = BOX_SLACK * found.height
    boxes = np.array([w["box"] for w in words], dtype=np.float64)
    x0, y0 = boxes[:, 0] - slack, boxes[:, 1] - slack
    x1, y1 = boxes[:, 0] + boxes[:, 2] + slack, boxes[:, 1] + boxes[:, 3] + slack
    for row in found.rows:
        for p in row:
            s = found.stats[p.labels]
            cx = s[:, cv2.CC_STAT_LEFT] + s[:, cv2.CC_STAT_WIDTH] / 2
            cy = s[:, cv2.CC_STAT_TOP] + s[:, cv2.CC_STAT_HEIGHT] / 2
            in_x = (cx[:, None] >= x0) & (cx[:, None] <= x1)
            inside = (in_x & (cy[:, None] >= y0) & (cy[:, None] <= y1)).any(axis=1)
            p.read = bool(2 * int(inside.sum()) >= len(p.labels))


def band(found: Rows, piece: Piece) -> tuple[np.ndarray, int, int]:
    """The piece alone on white paper, with the dots and marks around its letters and nothing
    else (no rule, box or neighbouring line): the image to read it from as one line, and the
    offset of that image on the page."""
    h = found.height
    pad = round(h)
    top, bottom = max(0, piece.top - pad // 2), piece.bottom + pad // 2
    left, right = max(0, piece.left - pad // 2), piece.right + pad // 2
    crop = found.labels[top:bottom, left:right]
    marks = np.flatnonzero(_marks(found.stats, h))
    keep = np.isin(crop, np.concatenate([np.asarray(piece.labels), marks]))
    image = np.full((crop.shape[0] + 2 * pad, crop.shape[1] + 2 * pad), 255, dtype=np.uint8)
    image[pad : pad + crop.shape[0], pad : pad + crop.shape[1]][keep] = 0
    return image, left - pad, top - pad
