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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageSequence

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


def _to_grey(image: Image.Image) -> np.ndarray:
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    arr = np.asarray(image)
    return arr if arr.ndim == 2 else cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY)


def skew_angle(grey: np.ndarray) -> float:
    """Degrees to rotate so text lines run level (projection-profile search, ±10°)."""
    h, w = grey.shape
    scale = 1000 / max(h, w)
    small = (
        cv2.resize(grey, (max(1, int(w * scale)), max(1, int(h * scale)))) if scale < 1 else grey
    )
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if cv2.countNonZero(ink) < 50:
        return 0.0
    centre = (ink.shape[1] / 2, ink.shape[0] / 2)

    def sharpness(angle: float) -> float:
        m = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rotated = cv2.warpAffine(ink, m, (ink.shape[1], ink.shape[0]), flags=cv2.INTER_NEAREST)
        return float(np.var(rotated.sum(axis=1, dtype=np.float64)))

    coarse = max(np.arange(-10, 10.5, 1.0), key=sharpness)
    fine = max(np.arange(max(-10, coarse - 1), min(10, coarse + 1) + 0.05, 0.1), key=sharpness)
    # A blank or picture page has no lines to level: turn it only for a clear gain.
    if sharpness(fine) < 1.15 * sharpness(0.0):
        return 0.0
    return round(float(fine), 2)


def binarise(grey: np.ndarray) -> np.ndarray:
    """Even out the lighting, threshold (Otsu), then drop isolated specks (median 3).

    Dividing by the page's own background (a closing with a large ellipse) removes shadows
    and yellowing, so one global threshold fits the whole page.
    """
    background = cv2.morphologyEx(
        grey, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (31, 31))
    )
    flat = cv2.divide(grey, background, scale=255)
    _, ink = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return cv2.medianBlur(ink, 3)


def prepare(image: Image.Image) -> tuple[np.ndarray, float, bool]:
    """A page ready for Tesseract; also the angle it was turned by and whether it is one line.

    A single text line (a cut-out, as in OCR ground-truth sets) is passed as it is: it has no
    skew to measure and Tesseract's own thresholding suits it.
    """
    grey = _to_grey(image)
    h, w = grey.shape
    single_line = h < 200 and w > 4 * h
    if single_line:
        return grey, 0.0, True
    angle = skew_angle(grey)
    if abs(angle) >= 0.3:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        grey = cv2.warpAffine(
            grey, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
    else:
        angle = 0.0
    return binarise(grey), angle, False


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


def ocr_image(image: Image.Image, page: int, work: Path, languages: str) -> OcrPage:
    grey, angle, single_line = prepare(image)
    text, confidence, words = tesseract(grey, work, languages, single_line)
    return OcrPage(page, text, confidence, words, angle)


def image_pages(path: Path, work: Path, languages: str = DEFAULT_LANGUAGES) -> list[OcrPage]:
    """Every frame of an image file (multi-page TIFFs have several)."""
    pages = []
    with Image.open(path) as im:
        for n, frame in enumerate(ImageSequence.Iterator(im), 1):
            if n > MAX_PAGES:
                break
            pages.append(ocr_image(frame.copy(), n, work, languages))
    return pages


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
