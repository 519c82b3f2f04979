"""Ink is what stands out from the page's ground, whatever their colours.

A reader is given grey pixels, dark ink on a light ground: that is how a scan prints. White
letters on black (a screenshot in a dark theme, a slide, a negative), red on blue, grey on
black, or white letters in a coloured box on a white page turn into a page Tesseract reads as
nothing or as noise, and a name written that way was not found by the leak check. So the
ground is found first (the commonest colour of the page, seen small), and when it is not light
and neutral each pixel's grey becomes its distance from the ground. Then the ground near each
pixel (a median over a few lines' height): where a box or band of the page is darker than
paper, each pixel's grey becomes its distance from the ground around it, stretched to the
contrast around it. Ink of any colour on any ground reads dark on white. A page of dark ink on
a light, neutral ground everywhere (nearly every scan) is left exactly as it was.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

#: A ground this light and this little coloured is paper: the usual grey reading is kept.
LIGHT = 160.0
NEUTRAL = 48.0
#: A ground covers at least this share of the page (a photograph has none: it is left alone).
GROUND_SHARE = 0.35
#: The page is seen at most this wide to find its ground (cheap on a 600 dpi scan).
SEEN = 96
_LUMA = np.array([0.299, 0.587, 0.114])


def ground(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The commonest colour of an H×W×3 (or H×W) page, in its channels, and the share of the
    page it covers."""
    arr = rgb if rgb.ndim == 3 else rgb[..., None]
    step = max(1, max(arr.shape[0], arr.shape[1]) // SEEN)
    small = arr[::step, ::step].reshape(-1, arr.shape[2]).astype(np.int64)
    bins = small // 32
    keys = np.zeros(len(bins), dtype=np.int64)
    for c in range(bins.shape[1]):
        keys = keys * 8 + bins[:, c]
    values, counts = np.unique(keys, return_counts=True)
    best = int(np.argmax(counts))
    common = small[keys == values[best]]
    return common.mean(axis=0), float(counts[best]) / len(keys)


def is_paper(colour: np.ndarray) -> bool:
    if colour.shape[0] == 1:
        return float(colour[0]) >= LIGHT
    return float(colour @ _LUMA) >= LIGHT and float(colour.max() - colour.min()) < NEUTRAL


def as_ink_on_paper(image: Image.Image) -> np.ndarray | None:
    """The page's grey with its ink dark on white when its ground, or the ground of a box or
    band of it, is not paper; else None. `image` is "L" or "RGB". Computed in 8 bits (a
    large photograph costs a few bytes a pixel, not a float array of each)."""
    arr = np.ascontiguousarray(np.asarray(image))
    colour, share = ground(arr)
    grey: np.ndarray | None = None
    if share >= GROUND_SHARE and not is_paper(colour):
        grey = _from(arr, colour)
        if grey is None:
            return None  # a page of one colour: nothing stands out from it
    base = grey if grey is not None else (arr if arr.ndim == 2 else _luma(arr))
    local = _in_boxes(base)
    return local if local is not None else grey


def _from(arr: np.ndarray, colour: np.ndarray) -> np.ndarray | None:
    """Each pixel's distance from `colour` (the largest of its channels'), stretched so the
    strongest ink is black: dark ink on white."""
    values = np.clip(np.rint(colour), 0, 255).astype(int)
    planes = cv2.split(arr) if arr.ndim == 3 else [arr]
    distance = cv2.absdiff(planes[0], np.full_like(planes[0], values[0]))
    for plane, value in zip(planes[1:], values[1:], strict=True):
        np.maximum(distance, cv2.absdiff(plane, np.full_like(plane, value)), out=distance)
    return _stretched(distance, distance)


def _stretched(distance: np.ndarray, among: np.ndarray) -> np.ndarray | None:
    """`distance` as dark on white, 255 at no distance and 0 at the 99.5th percentile of
    `among` (None when that is under 8: nothing stands out)."""
    counts = np.cumsum(np.bincount(among.ravel(), minlength=256))
    if counts[-1] == 0:
        return None
    top = int(np.searchsorted(counts, 0.995 * counts[-1]))
    if top < 8:
        return None
    table = np.clip(255.0 - np.arange(256) * (255.0 / top), 0, 255).astype(np.uint8)
    return cv2.LUT(distance, table)


#: A part of the page whose ground is darker than this may be a box or band of light ink ...
DARK_PART = 130
#: ... when it covers at least this share of the page, fills this share of the rectangle
#: around it (a box or band; a shadow or a photograph's dark parts are of no shape),
PART_SHARE = 0.004
BOX_FILL = 0.75
#: its ground is even (this share of it within `EVEN` of the ground near it),
EVEN_SHARE = 0.65
EVEN = 24
#: and it holds ink lighter than its ground by `LIGHTER` (this share of it at least).
LIGHT_INK_SHARE = 0.015
LIGHTER = 60
#: The smallest contrast stretched to full: below it, the grain of a blank part.
FLOOR_U8 = 40


def _luma(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY))


def _in_boxes(grey: np.ndarray) -> np.ndarray | None:
    """The page with its boxes and bands of light ink on a dark, even ground turned dark on
    white; None when it has none (the page stays as it is)."""
    h, w = grey.shape
    if min(h, w) < 16:
        return None
    scale = max(1, max(h, w) // 400)
    small = cv2.resize(grey, (max(1, w // scale), max(1, h // scale)), interpolation=cv2.INTER_AREA)
    window = max(3, min(31, (min(small.shape) // 2) | 1))
    near = cv2.medianBlur(small, window)
    dark = (near < DARK_PART).astype(np.uint8)
    if float(dark.mean()) < PART_SHARE:
        return None
    deviation = small.astype(np.int16) - near.astype(np.int16)
    _count, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    out: np.ndarray | None = None
    boxes = 0
    for n in np.argsort(-stats[1:, cv2.CC_STAT_AREA]) + 1:
        area = stats[n, cv2.CC_STAT_AREA]
        if area < PART_SHARE * dark.size or boxes >= MAX_BOXES:
            break
        if area < BOX_FILL * stats[n, cv2.CC_STAT_WIDTH] * stats[n, cv2.CC_STAT_HEIGHT]:
            continue
        part = labels == n
        if float((np.abs(deviation[part]) <= EVEN).mean()) < EVEN_SHARE:
            continue
        if float((deviation[part] >= LIGHTER).mean()) < LIGHT_INK_SHARE:
            continue
        boxes += 1
        out = _box_on_paper(grey if out is None else out, grey, part, int(np.median(near[part])))
    return out


#: The most boxes of one page turned (the largest first).
MAX_BOXES = 16


def _box_on_paper(page: np.ndarray, grey: np.ndarray, part: np.ndarray, colour: int) -> np.ndarray:
    """One box of light ink (`part`, seen small) turned dark ink on white in `page`: its pixels
    by their distance from the box's ground, stretched; its ground at the rim (which the
    median seen small cuts short) made paper, so the box leaves no frame to read as letters."""
    h, w = grey.shape
    inside = cv2.resize(part.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    rim = max(3, min(h, w) // 40) | 1
    around = cv2.dilate(inside.astype(np.uint8), np.ones((rim, rim), np.uint8)) > 0
    distance = cv2.absdiff(grey, np.full_like(grey, colour))
    seen = _stretched(distance, np.maximum(distance[inside], FLOOR_U8))
    out = page.copy()
    if seen is not None:
        out[inside] = seen[inside]
    out[around & ~inside & (distance <= EVEN * 2)] = 255
    return out
