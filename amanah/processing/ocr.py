"""OCR of scanned pages and images with Tesseract (Arabic and English), after clean-up.

Seized paper archives arrive as skewed, noisy, JPEG-compressed scans, often photocopied
under uneven light. Each page is turned to grey, straightened when it is visibly skewed,
evened out and binarised, and cleared of specks. Tesseract gives text and word boxes with
confidences; the boxes are kept for redaction and highlighting.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageSequence

from amanah.processing import cleanup, codes, ground, inkrows, tilted_lines
from amanah.processing.orientation import orientation, sideways

DEFAULT_LANGUAGES = "ara+eng"


def _engine() -> str:
    try:
        out = subprocess.run(
            ["tesseract", "--version"], capture_output=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return "tesseract (not found)"
    return (out.stdout or out.stderr).decode("utf-8", "replace").splitlines()[0].strip()


ENGINE = _engine()


def installed_languages() -> set[str]:
    try:
        out = subprocess.run(
            ["tesseract", "--list-langs"], capture_output=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return set()
    lines = out.stdout.decode("utf-8", "replace").splitlines()
    return {line.strip() for line in lines[1:] if line.strip() and line.strip() != "osd"}


def check_languages(spec: str) -> str:
    """A Tesseract language list ('ara+eng'), each installed; a clear error otherwise."""
    parts = [p for p in spec.strip().split("+") if p]
    if not parts or not all(re.fullmatch(r"[a-z]{3}(_[a-z]+)?", p) for p in parts):
        raise ValueError(
            f"OCR languages {spec!r}: expected Tesseract codes joined by +, e.g. ara+eng"
        )
    have = installed_languages()
    missing = [p for p in parts if have and p not in have]
    if missing:
        pkgs = " ".join(f"tesseract-ocr-{m.replace('_', '-')}" for m in missing)
        raise ValueError(
            f"OCR languages {spec!r}: Tesseract has no data for {', '.join(missing)}"
            f" (install with: apt-get install {pkgs})"
        )
    return "+".join(parts)


RENDER_DPI = 300
_BIDI_MARKS = {0x200E: None, 0x200F: None}
MAX_PAGES = 2000


@dataclass
class OcrPage:
    page: int
    text: str
    confidence: float | None  # mean word confidence, 0 to 100
    words: list[dict[str, Any]] = field(default_factory=list)
    deskewed: float = 0.0
    scaled: float = 1.0
    variant: str = ""  # the clean-up whose reading was kept
    psm: str = ""
    tried: dict[str, float | None] = field(default_factory=dict)  # variant -> mean confidence
    steps: dict[str, float] = field(default_factory=dict)  # clean-up step -> milliseconds
    rows: int | None = None  # rows of ink on the page (None: not counted, no text measured)
    rows_read: int | None = None  # of them, the rows Tesseract's words cover
    rules_erased: int = 0  # rules and cell frames the clean-up erased (`cleanup.unrule`)
    codes: list[str] = field(default_factory=list)  # what its barcodes say (`codes.read`)

    @property
    def lines_missed(self) -> bool:
        """A row of ink stayed unread: the text may lack a whole line."""
        return self.rows is not None and (self.rows_read or 0) < self.rows


def _to_grey(image: Image.Image) -> np.ndarray:
    """The image as a reader sees it, in 8-bit grey. Deep images (16-bit scans, 32-bit and float
    TIFFs) are scaled, not clipped (Pillow's "L" clips 16-bit ink at 8000/65535 to white), and
    a transparent image is laid on a background its ink stands out from (dropping the alpha
    leaves black letters on the black that transparent pixels hold: nothing to read)."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        arr = np.asarray(image, dtype=np.float64)
        low, high = (0.0, 65535.0) if image.mode.startswith("I;16") else (arr.min(), arr.max())
        if image.mode.startswith("I;16") and arr.max() <= 255:
            high = 255.0  # 8-bit values stored in 16 bits
        span = high - low if high > low else 1.0
        image = Image.fromarray(np.clip((arr - low) * (255.0 / span), 0, 255).astype(np.uint8))
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float64)
        alpha = rgba[..., 3:4] / 255.0
        grey = rgba[..., :3] @ np.array([0.299, 0.587, 0.114])
        shown = alpha[..., 0] > 0.5
        ink_is_light = bool(shown.any()) and float(grey[shown].mean()) > 160.0
        backdrop = 0.0 if ink_is_light else 255.0
        image = Image.fromarray(
            np.clip(grey * alpha[..., 0] + backdrop * (1 - alpha[..., 0]), 0, 255).astype(np.uint8)
        )
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    arr = np.asarray(image)
    return arr if arr.ndim == 2 else cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY)


skew_angle = cleanup.skew_angle


def binarise(grey: np.ndarray) -> np.ndarray:
    """Even out the lighting, threshold (Otsu), then drop isolated specks (median 3); no pixel
    moves, so boxes read on the result are boxes on the page (what redaction needs)."""
    _, ink = cv2.threshold(cleanup.flatten(grey, 31), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return cv2.medianBlur(ink, 3)


#: Below this mean word confidence the first reading is poor, and the other variants are tried.
POOR_CONFIDENCE = 85.0
#: Tesseract's page segmentation mode for each layout `cleanup.layout` tells apart.
PSM = {"line": "7", "sparse": "11", "block": "3"}
#: The clean-up variants, tried in this order; the first suffices on most pages, the second
#: reads faint print under grain, the third light that flattening left uneven
#: (`python -m benchmarks.ocr_degraded`; docs/benchmarks.md).
VARIANTS = (
    ("otsu", cleanup.otsu),
    ("denoised_otsu", cleanup.denoised_otsu),
    ("adaptive", cleanup.adaptive),
)


def tesseract(
    grey: np.ndarray, work: Path, languages: str, single_line: bool, psm: str | None = None
) -> tuple[str, float | None, list[dict[str, Any]]]:
    src = work / "ocr-input.png"
    cv2.imwrite(str(src), grey)
    base = work / "ocr-output"
    cmd = [
        "tesseract",
        str(src),
        str(base),
        "-l",
        languages,
        "--psm",
        psm or ("7" if single_line else "3"),
        "-c",
        "thresholding_method=2",
        "txt",
        "tsv",
    ]
    # One thread per page: OpenMP's spinning makes tesseract 2-3x slower on shared cores.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    proc = subprocess.run(cmd, capture_output=True, timeout=600, check=False, env=env)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"tesseract failed: {err[-1] if err else proc.returncode}")
    # Tesseract marks direction runs with LRM/RLM; the words are already in logical order.
    text = base.with_suffix(".txt").read_text(encoding="utf-8").translate(_BIDI_MARKS)
    words = []
    reader = csv.DictReader(
        io.StringIO(base.with_suffix(".tsv").read_text(encoding="utf-8")),
        delimiter="\t",
        quoting=csv.QUOTE_NONE,
    )
    for row in reader:
        word = (row.get("text") or "").translate(_BIDI_MARKS).strip()
        conf = float(row.get("conf") or -1)
        if row.get("level") == "5" and word and conf >= 0:
            words.append(
                {
                    "text": word,
                    "conf": round(conf, 1),
                    "box": [
                        int(row["left"]),
                        int(row["top"]),
                        int(row["width"]),
                        int(row["height"]),
                    ],
                    "line": [int(row["block_num"]), int(row["par_num"]), int(row["line_num"])],
                }
            )
    confidence = round(sum(w["conf"] for w in words) / len(words), 1) if words else None
    return text.strip(), confidence, words


def _to_page(words: list[dict[str, Any]], p: cleanup.Prepared, shape: tuple[int, int]) -> None:
    """Boxes read on the prepared image, turned back and scaled onto the page as given."""
    if p.angle == 0.0 and p.scale == 1.0:
        return
    h, w = p.grey.shape
    back = cv2.invertAffineTransform(cv2.getRotationMatrix2D((w / 2, h / 2), p.angle, 1.0))
    for word in words:
        left, top, width, height = word["box"]
        corners = np.array(
            [[left, top], [left + width, top], [left, top + height], [left + width, top + height]],
            dtype=np.float64,
        )
        corners = (corners @ back[:, :2].T + back[:, 2]) / p.scale
        x0, y0 = np.clip(corners.min(axis=0), 0, None)
        x1, y1 = corners.max(axis=0)
        x1, y1 = min(x1, shape[1]), min(y1, shape[0])
        word["box"] = [int(x0), int(y0), max(1, round(x1 - x0)), max(1, round(y1 - y0))]


def _score(confidence: float | None, words: list[dict[str, Any]]) -> float:
    """A reading's worth: its mean confidence, a little less when it found fewer words (a
    variant that drops the hard words has a higher mean over the easy ones it kept)."""
    return (confidence or 0.0) + 2.0 * np.log1p(len(words))


#: At most this many unread pieces of rows are read again one by one (`--psm 7`); a reading
#: that left more is poor as a whole, and the next variant is tried instead.
MAX_REREAD = 12


@dataclass
class _Reading:
    """One variant's reading, and the rows of ink of the image it was read from."""

    name: str
    text: str
    confidence: float | None
    words: list[dict[str, Any]]
    rows: inkrows.Rows | None
    reread: bool = False

    @property
    def missed(self) -> int:
        return len(self.rows.unread()) if self.rows is not None else 0

    def key(self) -> tuple[int, float]:
        """Better: more rows of ink read whatever the confidence, then the confidence (not
        fewer rows unread: a variant that lost the ink of a line has none left to miss)."""
        read = self.rows.read_count if self.rows is not None else 0
        return (read, _score(self.confidence, self.words))


def _mean(words: list[dict[str, Any]]) -> float | None:
    return round(sum(w["conf"] for w in words) / len(words), 1) if words else None


def _reread(r: _Reading, work: Path, languages: str) -> None:
    """Read each unread piece of a row again alone, as one line, and put its words and text
    in their place (the line of text before the first line that starts below it)."""
    assert r.rows is not None
    r.reread = True
    added: list[tuple[float, str]] = []
    for n, piece in enumerate(r.rows.unread()[:MAX_REREAD], 1):
        image, dx, dy = inkrows.band(r.rows, piece)
        text, words, f = _read_line(image, work, languages)
        if not words:
            continue
        for w in words:
            x, y, bw, bh = (v / f for v in w["box"])
            w["box"] = [round(x) + dx, round(y) + dy, max(1, round(bw)), max(1, round(bh))]
            w["line"] = [0, 0, n]  # block 0: a line the page's layout analysis missed
        r.words += words
        added.append(((piece.top + piece.bottom) / 2, " ".join(text.split())))
    if added:
        r.text = _insert(r.text, r.words, added)
        r.confidence = _mean(r.words)
        inkrows.mark_read(r.rows, r.words)


#: The sizes a piece of a row is read at, one after the other until words come back: Tesseract
#: reading one line (`--psm 7`) returns nothing at all for some lines at some sizes (a boxed
#: line after deskew read at full size, but at 0.7 and 0.5; `tests/test_ocr_lines.py`).
LINE_SCALES = (1.0, 0.7, 0.5)


def _read_line(
    image: np.ndarray, work: Path, languages: str
) -> tuple[str, list[dict[str, Any]], float]:
    """One line's text and words, and the scale they were read at."""
    text, words, f = "", [], 1.0
    for f in LINE_SCALES:
        scaled = (
            image if f == 1.0 else cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        )
        text, _, words = tesseract(scaled, work, languages, True, PSM["line"])
        if words:
            break
    return text, words, f


def _insert(text: str, words: list[dict[str, Any]], added: list[tuple[float, str]]) -> str:
    """Tesseract's text with lines added, each before the first line of it (in its reading
    order) whose words start below the added line's middle; at the end when Tesseract's text
    lines cannot be matched to its words' lines."""
    lines = text.split("\n")
    filled = [i for i, line in enumerate(lines) if line.strip()]
    tops: dict[tuple[int, ...], int] = {}
    for w in words:
        if w["line"][0] != 0:
            key = tuple(w["line"])
            tops[key] = min(tops.get(key, w["box"][1]), w["box"][1])
    starts = list(tops.values())
    at: dict[int, list[str]] = {}
    for middle, line in sorted(added):
        k = next((i for i, top in enumerate(starts) if top > middle), len(starts))
        place = len(lines) if len(starts) != len(filled) or k == len(filled) else filled[k]
        at.setdefault(place, []).append(line)
    out: list[str] = []
    for i in range(len(lines) + 1):
        out += at.get(i, [])
        if i < len(lines):
            out.append(lines[i])
    return "\n".join(out).strip()


#: A turned page (scanned upside down or sideways) reads as poor, confident-less words: each
#: quarter turn is read once, quickly, and the page is read in full at the one that reads
#: this much more confidently than the page as given.
TURN_MARGIN = 15.0


def ocr_image(image: Image.Image, page: int, work: Path, languages: str) -> OcrPage:
    """Read one page (`_read_page`); then what it may hide from that reading: its ink read
    again dark on white when its ground, or a box's, is not paper (`ground`: white on black,
    red on blue), its lines set at an angle (`tilted_lines`), and its barcodes (`codes`). What
    they say ends the page's text; the page's own reading and word boxes stay as they were."""
    found = _read_page(image, page, work, languages)
    grey = _to_grey(image)
    started = time.perf_counter()
    shown = image if image.mode in ("L", "RGB") else Image.fromarray(grey)
    seen = ground.as_ink_on_paper(shown)
    found.steps["ground"] = round((time.perf_counter() - started) * 1000, 1)
    more: list[str] = []
    if seen is not None:
        text, _confidence, _words = tesseract(seen, work, languages, False, "3")
        more.append(text)
    if "turned" not in found.variant:  # a page read turned: its lines all lie at that angle
        started = time.perf_counter()
        more += tilted_lines.read(
            seen if seen is not None else grey,
            found.deskewed,
            lambda part: tesseract(part, work, languages, False, "6")[:2],
        )
        found.steps["tilted_lines"] = round((time.perf_counter() - started) * 1000, 1)
    if any(m.strip() for m in more):
        found.text = "\n\n".join(
            [found.text.rstrip("\n"), *(m.strip() for m in more if m.strip())]
        ).lstrip("\n")
    codes.onto(found, grey)  # the decoder tries codes light on dark itself
    return found


def _read_page(image: Image.Image, page: int, work: Path, languages: str) -> OcrPage:
    """Read one page (`_ocr_upright`); a poor reading with words may be a page scanned upside
    down or sideways (Tesseract's layout analysis reads no turned text). Tesseract's
    orientation detection decides on a page with enough letters (one quick pass), asked as
    soon as the first clean-up variant reads poorly: a turned page is then read turned at
    once, not in every variant upright first (three full readings of a page that no clean-up
    makes legible). On a page with too few letters for it, each quarter turn is read once,
    quickly, which costs little on a page that holds little. A page read well but with its
    words standing on their side (`orientation.sideways`) was turned a quarter too: Tesseract
    reads its lines in pieces. The page is read in full at the turn found, its word boxes
    turned back onto the page as given, and kept when it reads better (upright words, for a
    page read sideways)."""
    grey = _to_grey(image)
    said: list[int | None] = []  # the detection, when asked after the first variant
    stopped: list[bool] = []  # whether the upright reading stopped there

    def turned(words: list[dict[str, Any]]) -> bool:
        said.append(orientation(grey, work))
        stopped.append(bool(said[0]) or sideways(words))
        return stopped[0]

    def upright() -> OcrPage:
        """The reading upright, every variant read if it stopped early for a turn."""
        return _ocr_upright(image, page, work, languages) if stopped and stopped[0] else found

    found = _ocr_upright(image, page, work, languages, turned)
    if found.variant == "line" or not found.words:
        return found
    on_side = sideways(found.words)
    if (found.confidence or 0.0) >= POOR_CONFIDENCE and not on_side:
        return found
    best_k = said[0] if said else orientation(grey, work)
    if on_side and best_k not in (1, 3):
        best_k = None  # read sideways, so turned a quarter: the detection did not say which
    if best_k is None:
        best_k, best_conf = 0, (found.confidence or 0.0) + TURN_MARGIN
        if on_side:  # its confidence may be high: the turn that reads upright words
            best_conf = (found.confidence or 0.0) - TURN_MARGIN
        for k in (1, 3) if on_side else (2, 1, 3):  # upside down first: the commonest turn
            prep = cleanup.prepare(np.ascontiguousarray(np.rot90(grey, k)))
            _text, conf, _words = tesseract(
                VARIANTS[0][1](prep), work, languages, False, PSM[prep.layout]
            )
            if conf is not None and conf > best_conf and not (on_side and sideways(_words)):
                best_k, best_conf = k, conf
    if not best_k:
        return upright()
    again = _ocr_upright(
        Image.fromarray(np.ascontiguousarray(np.rot90(grey, best_k))), page, work, languages
    )
    if sideways(again.words) or (again.confidence or 0.0) <= (found.confidence or 0.0) - (
        TURN_MARGIN if on_side else 0.0
    ):
        return upright()  # the turn was wrong: the page is read upright after all
    h, w = grey.shape
    for word in again.words:
        left, top, width, height = word["box"]
        xs, ys = (left, left + width), (top, top + height)
        if best_k == 1:  # rotated[i, j] = grey[j, w - 1 - i]
            xs, ys = tuple(w - y for y in ys), xs
        elif best_k == 2:
            xs, ys = tuple(w - x for x in xs), tuple(h - y for y in ys)
        else:  # rotated[i, j] = grey[h - 1 - j, i]
            xs, ys = ys, tuple(h - x for x in xs)
        x0, x1, y0, y1 = max(0, min(xs)), min(w, max(xs)), max(0, min(ys)), min(h, max(ys))
        word["box"] = [int(x0), int(y0), max(1, int(x1 - x0)), max(1, int(y1 - y0))]
    again.variant = f"{again.variant}, turned {90 * best_k} degrees"
    again.tried = {
        **found.tried,
        **{f"turned {90 * best_k}: {k}": v for k, v in again.tried.items()},
    }
    return again


def _ocr_upright(
    image: Image.Image,
    page: int,
    work: Path,
    languages: str,
    turned: Callable[[list[dict[str, Any]]], bool] | None = None,
) -> OcrPage:
    """Read one page: clean it up, read it; when that reading is poor (by Tesseract's own word
    confidences, or because a row of ink on the page has no word of it), read the other
    clean-up variants too and keep the best: the one that read most rows of ink, then the
    most confident. Unread rows are read again alone, as single lines, before giving up.
    `turned`: asked with the words once the first variant reads poorly; True (the page is
    turned) ends the reading there, for the caller to read the page turned."""
    grey = _to_grey(image)
    prep = cleanup.prepare(grey)
    psm = PSM[prep.layout]
    if prep.single_line:  # a cut-out line: Tesseract's own thresholding suits it
        text, confidence, words = tesseract(prep.grey, work, languages, True, psm)
        return OcrPage(page, text, confidence, words, 0.0, 1.0, "line", psm, {"line": confidence})
    best: _Reading | None = None
    tried: dict[str, float | None] = {}
    stopped = False
    height = prep.text_height * prep.scale if prep.text_height else None
    for name, variant in VARIANTS:
        image_in = variant(prep)
        t = time.perf_counter()
        text, confidence, words = tesseract(image_in, work, languages, False, psm)
        prep.timed(f"tesseract_{name}", t)
        t = time.perf_counter()
        reading = _Reading(name, text, confidence, words, None)
        if height is not None:
            reading.rows = inkrows.find(image_in, height)
            inkrows.mark_read(reading.rows, words)
        prep.timed("rows", t)
        good = confidence is not None and confidence >= POOR_CONFIDENCE
        if good and 0 < reading.missed <= MAX_REREAD:
            t = time.perf_counter()
            _reread(reading, work, languages)
            prep.timed(f"reread_{name}", t)
        tried[name] = reading.confidence
        if best is None or reading.key() > best.key():
            best = reading
        if good and not reading.missed:
            break
        if confidence is None and not words and name == VARIANTS[0][0] and prep.layout == "sparse":
            break  # nothing to read on a picture without text: no other variant will help
        if not good and words and name == VARIANTS[0][0] and turned is not None and turned(words):
            stopped = True
            break
    assert best is not None
    if 0 < best.missed <= MAX_REREAD and not best.reread and not stopped:  # poor readings' best
        t = time.perf_counter()
        _reread(best, work, languages)
        prep.timed(f"reread_{best.name}", t)
        tried[best.name] = best.confidence
    _to_page(best.words, prep, grey.shape)
    rows = best.rows
    return OcrPage(
        page,
        best.text,
        best.confidence,
        best.words,
        prep.angle,
        prep.scale,
        best.name,
        psm,
        tried,
        prep.steps,
        rows.count if rows is not None else None,
        rows.read_count if rows is not None else None,
        prep.rules,
    )


def image_pages(
    path: Path, work: Path, languages: str = DEFAULT_LANGUAGES, only: list[int] | None = None
) -> list[OcrPage]:
    """Every frame of an image file (multi-page TIFFs have several), or the frames `only`."""
    pages = []
    wanted = set(only) if only is not None else None
    with Image.open(path) as im:
        for n, frame in enumerate(ImageSequence.Iterator(im), 1):
            if n > MAX_PAGES or (wanted is not None and n > max(wanted, default=0)):
                break
            if wanted is None or n in wanted:
                pages.append(ocr_image(frame.copy(), n, work, languages))
    return pages


def frame_count(path: Path) -> int:
    """How many pages an image file holds (a multi-page TIFF), without decoding them."""
    with Image.open(path) as im:
        return min(MAX_PAGES, int(getattr(im, "n_frames", 1) or 1))


def summary(p: OcrPage) -> dict[str, Any]:
    """What the OCR derivative's details and event say of one page: how it was read."""
    return {
        "page": p.page,
        "confidence": p.confidence,
        "words": len(p.words),
        "deskewed_degrees": p.deskewed,
        "scaled": p.scaled,
        "variant": p.variant,
        "psm": p.psm,
        "variants_tried": p.tried,
        "rows": p.rows,
        "rows_read": p.rows_read,
        "rules_erased": p.rules_erased,
    }


def missed_pages(summaries: list[dict[str, Any]]) -> list[int]:
    """The pages (by their summaries) with a row of ink that no word of the reading covers."""
    return [
        int(s["page"])
        for s in summaries
        if s.get("rows") is not None and (s.get("rows_read") or 0) < s["rows"]
    ]


def lines_missed_flag(pages: list[int]) -> dict[str, str] | None:
    """The processing flag of a file whose OCR left rows of ink unread: its text may lack a
    whole line, so its content inventory is not complete (the leak check holds it back for
    an attestation, as it does a spreadsheet cut at its budget)."""
    if not pages:
        return None
    listed = ", ".join(str(n) for n in pages[:50]) + (" …" if len(pages) > 50 else "")
    return {
        "code": "ocr_lines_missed",
        "message": f"rows of ink OCR did not read on page(s) {listed}"
        " (a line may be missing from the text)",
    }


#: A scanned file with at least this many pages to OCR is split into page jobs, so that every
#: worker reads some of its pages; fewer are read in the item's own job.
SPLIT_FROM = int(os.environ.get("AMANAH_OCR_SPLIT_FROM", "8"))
#: Pages per page job when their cost is not known (the analysis deferred pages no plan saw),
#: or for every job when set in the environment; a planned scan's parts are sized by what
#: their pages cost (processing/pagejobs.py, `chunks`).
PAGES_PER_JOB = int(os.environ.get("AMANAH_OCR_PAGES_PER_JOB", "2"))
PAGES_PER_JOB_SET = "AMANAH_OCR_PAGES_PER_JOB" in os.environ
#: In a page job's folder: what to read (written by the worker), and what was read.
PART_SPEC = "ocr-spec.json"
PART_FILE = "ocr-part.json"


def ocr_task(path: str, out_dir: str) -> dict[str, Any]:
    """The sandbox task of a page job: OCR the pages its spec names, write them as JSON."""
    import json

    out = Path(out_dir)
    spec = json.loads((out / PART_SPEC).read_text(encoding="utf-8"))
    languages = check_languages(spec.get("languages") or DEFAULT_LANGUAGES)
    pages = [int(n) for n in spec["pages"]][:MAX_PAGES]
    work = out / "ocr-work"
    work.mkdir(exist_ok=True)
    if spec.get("kind") == "image":
        found = image_pages(Path(path), work, languages, pages)
    else:
        found = pdf_pages(Path(path), pages, work, languages)
    doc = {
        "engine": ENGINE,
        "languages": languages,
        "pages": [{**summary(p), "text": p.text, "word_boxes": p.words} for p in found],
    }
    (out / PART_FILE).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return {"file": PART_FILE, "pages": [p.page for p in found]}


def _scan_of(page: Any) -> Image.Image | None:
    """The scanner's own pixels when a page is one image, instead of a resampled rendering."""
    import pypdfium2.raw as pdfium_c

    images = list(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=1))
    if len(images) != 1:
        return None
    try:
        meta = images[0].get_metadata()
        if meta.width < 600 or meta.height < 600:
            return None  # a logo or a stamp, not a scanned page
        return images[0].get_bitmap(render=False).to_pil()
    except Exception:  # an image pdfium cannot decode raw: fall back to rendering
        return None


def pdf_pages(
    path: Path, page_numbers: list[int], work: Path, languages: str = DEFAULT_LANGUAGES
) -> list[OcrPage]:
    """Render the given 1-based pages at 300 dpi and read them."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    pages = []
    try:
        for number in page_numbers[:MAX_PAGES]:
            page = doc[number - 1]
            image = _scan_of(page) or page.render(scale=RENDER_DPI / 72, grayscale=True).to_pil()
            page.close()
            pages.append(ocr_image(image, number, work, languages))
    finally:
        doc.close()
    return pages
