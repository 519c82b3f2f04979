"""Which way up a scanned page is: Tesseract's orientation detection, and words read standing
on their side.

A page scanned upside down or sideways reads poorly, or (turned a quarter) confidently but in
pieces; `ocr.ocr_image` asks these to read it turned instead (docs/processing.md, OCR step 8).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import cv2
import numpy as np

#: Tesseract's orientation detection is taken at or above this confidence (its own scale: a
#: page of text upright or turned says 15-25; under 2 it is guessing).
OSD_CONFIDENCE = 2.0
#: A page this large (pixels on its shorter side) is halved for orientation detection: the
#: detection needs letters, not 300 dpi, and costs half as much (2.5 s -> 1.4 s a page).
OSD_HALVE = 2000


def orientation(grey: np.ndarray, work: Path) -> int | None:
    """Quarter turns (as `np.rot90` counts them) that bring the page upright, by Tesseract's
    orientation detection (`--psm 0`); None when it cannot tell: a page of a line or two has
    too few letters for it (it then fails), or its confidence is low."""
    h, w = grey.shape
    if min(h, w) >= OSD_HALVE:
        grey = cv2.resize(grey, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    src = work / "osd-input.png"
    cv2.imwrite(str(src), grey)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    cmd = ["tesseract", str(src), "-", "--psm", "0"]
    proc = subprocess.run(cmd, capture_output=True, timeout=600, check=False, env=env)
    said = proc.stdout.decode("utf-8", "replace")
    rotate = re.search(r"^Rotate: (0|90|180|270)$", said, re.M)
    sure = re.search(r"^Orientation confidence: ([0-9.]+)$", said, re.M)
    if proc.returncode != 0 or rotate is None or sure is None:
        return None
    if float(sure.group(1)) < OSD_CONFIDENCE:
        return None
    # "Rotate: 90" is a clockwise quarter turn; np.rot90 turns anticlockwise.
    return (4 - int(rotate.group(1)) // 90) % 4


#: A page whose words of three letters or more stand on their side (a box 1.5 times taller
#: than wide), SIDEWAYS_WORDS of them at least and this share of those that stand or lie,
#: was read sideways: Tesseract reads the lines of a page turned a quarter, often
#: confidently, but cuts each line into pieces that it puts in separate blocks (a name at a
#: cut is then in two places of the text); turned Arabic reads as squarish fragments, a
#: third of them standing and hardly any lying.
SIDEWAYS_SHARE = 0.75
SIDEWAYS_WORDS = 5


def sideways(words: list[dict[str, Any]]) -> bool:
    """Whether a page's words were read standing on their side (its lines run up or down)."""
    boxes = [w["box"] for w in words if len(w["text"]) >= 3]
    standing = sum(height > 1.5 * width for _left, _top, width, height in boxes)
    lying = sum(width > 1.5 * height for _left, _top, width, height in boxes)
    return standing >= SIDEWAYS_WORDS and standing >= SIDEWAYS_SHARE * (standing + lying)
