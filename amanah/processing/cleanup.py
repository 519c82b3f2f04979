"""Clean-up of a scanned page before Tesseract, one measured step at a time.

Seized paper archives arrive skewed, speckled, unevenly lit, JPEG-compressed and often scanned
at a low resolution. Each step here undoes one of those: scale the text to the size
Tesseract's models were trained on, level the lines, divide out the background, remove
specks, and binarise. The steps are kept apart so that the variants OCR tries (see
`amanah.processing.ocr`) share the costly ones, and so that each step's time is recorded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

#: Median height, in pixels, of the ink components of a line of print at which Tesseract reads
#: best (an x-height of about 20-30 px for Latin; Arabic word parts measured the same way).
TARGET_TEXT_HEIGHT = 30
#: Pixels: the closing that finds the background must be wider than any stroke of text at
#: TARGET_TEXT_HEIGHT, and small enough to follow a shadow.
FLATTEN_SIZE = 31
#: Pixels: the longest side of the copy the skew is measured on (a 0.2° step still moves a
#: line's end by 2 px; 4 times fewer pixels to turn 30 times than at 1000).
SKEW_SIDE = 600
#: Never scale a page beyond this many pixels on its longest side (memory, time).
MAX_SIDE = 7000
#: Pixels: a rule or a cell's frame is thinner than this (a 1 pt rule at 300 dpi is 4 px);
#: a stroke of a letter as large as a rule is long is thicker, and stays.
RULE_THICKNESS = 5
#: Share of a part's ink on straight runs (horizontal ones two text heights long, vertical ones
#: 1.2) for it to be a rule or frame: letters have curves and short strokes.
RULE_STRAIGHT = 0.9
#: Text heights: a lying rule, or a frame, is at least this long; a standing rule this high
#: (no letter of the text is, and a standing line of a large letter, an alef or an I, must
#: be far taller than a cell's side).
RULE_LENGTH = 4.0
RULE_UPRIGHT = 6.0
RULE_TALL = 8.0


@dataclass
class Prepared:
    """A page's grey image after the shared steps, and what was done to it."""

    grey: np.ndarray
    angle: float = 0.0
    scale: float = 1.0
    text_height: float | None = None
    single_line: bool = False
    layout: str = "block"  # "line", "sparse" or "block"
    rules: int = 0  # rules and cell frames erased (`unrule`)
    steps: dict[str, float] = field(default_factory=dict)  # step -> milliseconds

    def timed(self, step: str, started: float) -> None:
        self.steps[step] = round(
            self.steps.get(step, 0.0) + (time.perf_counter() - started) * 1e3, 1
        )


def _ink(grey: np.ndarray) -> np.ndarray:
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return ink


def text_height(grey: np.ndarray) -> float | None:
    """The median height of the page's letter-sized ink components, None without text.

    Specks (a few pixels), rules and pictures (a large share of the page) are left out; what
    remains is letters and word parts, whose median height follows the font size.
    """
    h, w = grey.shape
    ink = _ink(flatten(cv2.medianBlur(grey, 3), FLATTEN_SIZE, coarse=True))
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if n <= 1:
        return None
    hs, ws, areas = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH], stats[1:, 4]
    keep = (areas >= 12) & (hs >= 4) & (hs < h / 4) & (ws < w / 3)
    if int(keep.sum()) < 8:
        return None
    return float(np.median(hs[keep]))


def rescale(grey: np.ndarray, height: float | None) -> tuple[np.ndarray, float]:
    """Bring the text to TARGET_TEXT_HEIGHT: enlarge small print (up to 4x), shrink huge print.

    Tesseract's own scaling is tuned for its training size; low-resolution scans (150 dpi, or
    a phone photo of a page) lose strokes in binarisation unless enlarged first.
    """
    if height is None:
        return grey, 1.0
    factor = TARGET_TEXT_HEIGHT / height
    if 0.8 <= factor <= 1.25:
        return grey, 1.0
    factor = min(4.0, max(0.5, factor))
    h, w = grey.shape
    factor = min(factor, MAX_SIDE / max(h, w)) if factor > 1 else factor
    if abs(factor - 1.0) < 0.05:
        return grey, 1.0
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    interp = cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA
    return cv2.resize(grey, size, interpolation=interp), round(factor, 3)


def skew_angle(grey: np.ndarray, side: int = 1000) -> float:
    """Degrees to rotate so text lines run level (projection-profile search, ±10°), measured
    on a copy at most `side` pixels long."""
    h, w = grey.shape
    scale = side / max(h, w)
    small = (
        cv2.resize(
            grey, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA
        )
        if scale < 1
        else grey
    )
    ink = _ink(cv2.medianBlur(small, 3))
    if cv2.countNonZero(ink) < 50:
        return 0.0
    centre = (ink.shape[1] / 2, ink.shape[0] / 2)

    def sharpness(angle: float) -> float:
        m = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rotated = cv2.warpAffine(ink, m, (ink.shape[1], ink.shape[0]), flags=cv2.INTER_NEAREST)
        return float(np.var(rotated.sum(axis=1, dtype=np.float64)))

    coarse = max(np.arange(-10, 10.5, 1.0), key=sharpness)
    fine = max(np.arange(max(-10, coarse - 1), min(10, coarse + 1) + 0.05, 0.2), key=sharpness)
    # A blank or picture page has no lines to level: turn it only for a clear gain.
    if sharpness(fine) < 1.15 * sharpness(0.0):
        return 0.0
    return round(float(fine), 2)


def rotate(grey: np.ndarray, angle: float) -> np.ndarray:
    h, w = grey.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(grey, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def flatten(grey: np.ndarray, size: int, coarse: bool = False) -> np.ndarray:
    """Divide by the page's own background (a closing wider than any stroke): shadows,
    yellowing and uneven light go, so one threshold fits the whole page.

    `coarse` finds the background at half the resolution (an eighth of the work; light
    varies slowly across a page); the division itself is at full resolution.
    """
    size = max(15, size | 1)
    h, w = grey.shape
    if coarse and min(h, w) >= 400:
        half = cv2.resize(grey, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size // 2 | 1, size // 2 | 1))
        background = cv2.resize(
            cv2.morphologyEx(half, cv2.MORPH_CLOSE, kernel), (w, h), interpolation=cv2.INTER_LINEAR
        )
        background = np.maximum(background, grey)  # never darker than the page itself
    else:
        background = cv2.morphologyEx(
            grey, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        )
    return cv2.divide(grey, background, scale=255)


def unrule(grey: np.ndarray, height: float | None) -> tuple[np.ndarray, int]:
    """Tables and forms: their rules and cell frames erased (turned to paper), and how many.

    Seized registers, lists and forms are tables. Tesseract takes a cell's border for a letter
    (`[`, `|`, `l`) or leaves a framed line out, and reads such a page at a confidence of
    about 50, where the same page without its frames reads at about 88. A connected part of
    the ink is erased when it is thin (an erosion RULE_THICKNESS wide leaves nothing of it),
    lies on straight runs (RULE_STRAIGHT of its ink), and is a rule or a frame by its shape:
    a line lying RULE_LENGTH text heights long, a line standing RULE_UPRIGHT high, or a part
    RULE_LENGTH wide that is twice as wide as high, RULE_TALL high, or around a hole (a
    cell, a field). A letter is not: a large one has thick strokes, and even a hairline one
    (E, L, T, H, I) is none of these shapes; a letter touching its line makes the part not
    straight, and both stay. No pixel moves, so word boxes read on the result are boxes on
    the page.
    """
    if height is None:
        return grey, 0
    ink = _ink(grey)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    w, h, area = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT], stats[:, 4]
    wide = w >= RULE_LENGTH * height
    framed = wide & (h > height / 2)
    shaped = wide | ((h >= RULE_UPRIGHT * height) & (w <= height / 2))
    shaped[0] = False  # the paper
    out = grey
    erased = 0
    lying = np.ones((1, max(3, round(2 * height))), np.uint8)
    standing = np.ones((max(3, round(1.2 * height)), 1), np.uint8)
    core = np.ones((RULE_THICKNESS, RULE_THICKNESS), np.uint8)
    pad = max(lying.shape[1], standing.shape[0])
    # Part by part, on its own box (a page's worth of morphology cost 0.43 s on an A4 page of
    # Arabic, whose long words are candidates; its parts' boxes are a small share of it).
    for i in np.flatnonzero(shaped):
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        part = labels[y : y + bh, x : x + bw] == i
        alone = cv2.copyMakeBorder(
            part.astype(np.uint8) * 255, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0
        )
        if cv2.countNonZero(cv2.erode(alone, core)):
            continue  # not thin
        runs = cv2.max(
            cv2.morphologyEx(alone, cv2.MORPH_OPEN, lying),
            cv2.morphologyEx(alone, cv2.MORPH_OPEN, standing),
        )
        if cv2.countNonZero(runs) < RULE_STRAIGHT * area[i]:
            continue  # not straight
        # A frame is twice as wide as high, or taller than any letter, or around a hole; a
        # frame cut by the page's edge (a table going on over the page) has lost its hole.
        if framed[i] and bw < 2 * bh and bh < RULE_TALL * height and not _encloses(part, height**2):
            continue
        if out is grey:
            out = grey.copy()
        out[y : y + bh, x : x + bw][part] = 255
        erased += 1
    return out, erased


def _encloses(part: np.ndarray, least: float) -> bool:
    """Whether a part's ink encloses a hole of `least` pixels."""
    contours, hierarchy = cv2.findContours(
        part.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE
    )
    if hierarchy is None:
        return False
    return any(
        parent >= 0 and cv2.contourArea(contour) >= least
        for contour, (_, _, _, parent) in zip(contours, hierarchy[0], strict=True)
    )


def layout(grey: np.ndarray, height: float | None) -> str:
    """'line' for a cut-out single line, 'sparse' for a few words scattered over a picture or
    a form, 'block' for running text: what decides Tesseract's page segmentation mode."""
    h, w = grey.shape
    if h < 200 and w > 4 * h:
        return "line"
    if height is None:
        return "sparse"
    ink = _ink(grey)
    rows = np.count_nonzero(ink.sum(axis=1) > 0.002 * 255 * w)
    # Running text covers a good share of the page's rows with ink; scattered labels do not.
    return "block" if rows > 0.15 * h else "sparse"


def prepare(grey: np.ndarray) -> Prepared:
    """The shared steps: measure the text, rescale, flatten the background, deskew."""
    h, w = grey.shape
    if h < 200 and w > 4 * h:  # a cut-out line (as in OCR ground-truth sets): as it is
        return Prepared(grey, single_line=True, layout="line")
    out = Prepared(grey)
    t = time.perf_counter()
    out.text_height = text_height(grey)
    out.grey, out.scale = rescale(grey, out.text_height)
    out.timed("rescale", t)
    t = time.perf_counter()
    out.grey = flatten(out.grey, FLATTEN_SIZE, coarse=True)
    out.timed("flatten", t)
    t = time.perf_counter()
    angle = skew_angle(out.grey, SKEW_SIDE)
    if abs(angle) >= 0.3:
        out.grey, out.angle = rotate(out.grey, angle), angle
    out.timed("deskew", t)
    t = time.perf_counter()
    height = None if out.text_height is None else out.text_height * out.scale
    out.grey, out.rules = unrule(out.grey, height)
    out.timed("rules", t)
    t = time.perf_counter()
    out.layout = layout(out.grey, out.text_height)
    out.timed("layout", t)
    return out


def otsu(p: Prepared) -> np.ndarray:
    """Variant 1: one global threshold, then specks removed (median 3)."""
    t = time.perf_counter()
    _, ink = cv2.threshold(p.grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    out = cv2.medianBlur(ink, 3)
    p.timed("otsu", t)
    return out


#: Pixels at TARGET_TEXT_HEIGHT: the Gaussian that averages grain out before the global
#: threshold. Chosen by `python -m benchmarks.ocr_degraded` (docs/benchmarks.md): 0.7 read a
#: faint page at 0.058, 1.2 and 1.5 lost a line of the clean or the light page, 1.5 read the
#: faint photocopy at 0.058; a sigma grown with the enlargement read no better.
GRAIN_SIGMA = 1.0


def gaussian(grey: np.ndarray) -> np.ndarray:
    """Grain is independent from pixel to pixel and strokes are not: a small Gaussian averages
    the grain away and keeps a stroke's middle dark, and unlike a median it keeps the dots."""
    return cv2.GaussianBlur(grey, (0, 0), GRAIN_SIGMA)


def median(grey: np.ndarray) -> np.ndarray:
    """A median 5 (the benchmark's comparison for grain: it erodes the dots of faint print)."""
    return cv2.medianBlur(grey, 5)


def denoised_otsu(p: Prepared, denoiser: str | None = None) -> np.ndarray:
    """Variant 2, for faint print under grain (a photocopy of a photocopy): denoise (a small
    Gaussian), then one global (Otsu) threshold on the flattened page, with no median after
    it (the dots of faint letters are only a few pixels). Otsu alone turns the grain into
    specks; a local threshold drops the dots and the thin strokes."""
    t = time.perf_counter()
    clean = DENOISERS[denoiser or GRAIN_DENOISER](p.grey)
    _, out = cv2.threshold(clean, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    p.timed("denoised_otsu", t)
    return out


def bilateral(grey: np.ndarray) -> np.ndarray:
    """Two edge-keeping bilateral passes: grain and JPEG blocks smoothed, strokes kept sharp.

    Chosen by `python -m benchmarks.ocr` (its denoiser part) for the local threshold: behind
    it, it reads every degraded level as well as non-local means did, at a tenth to a
    twentieth of the time (a 300 dpi A4 page: about 1 s against 18-65 s).
    """
    once = cv2.bilateralFilter(grey, 7, 40, 5)
    return cv2.bilateralFilter(once, 7, 40, 5)


def nlmeans(grey: np.ndarray) -> np.ndarray:
    """Non-local means (the local threshold's denoiser until the benchmark above replaced it);
    kept so that the benchmarks compare it in the same session."""
    return cv2.fastNlMeansDenoising(grey, None, h=15, templateWindowSize=7, searchWindowSize=21)


#: The denoisers the benchmarks compare, by name; DENOISER is the one the local threshold
#: (`adaptive`) uses, GRAIN_DENOISER the one `denoised_otsu` uses.
DENOISERS = {"bilateral": bilateral, "nlmeans": nlmeans, "gaussian": gaussian, "median": median}
DENOISER = "bilateral"
GRAIN_DENOISER = "gaussian"


def adaptive(p: Prepared, denoiser: str | None = None) -> np.ndarray:
    """Variant 3, for light that flattening left uneven: denoise (edge-keeping), then a local
    (Gaussian-weighted) threshold over a window of about two lines."""
    t = time.perf_counter()
    clean = DENOISERS[denoiser or DENOISER](p.grey)
    block = max(15, int(2 * TARGET_TEXT_HEIGHT) | 1)
    ink = cv2.adaptiveThreshold(
        clean, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, 15
    )
    out = cv2.medianBlur(ink, 3)
    p.timed("adaptive", t)
    return out
