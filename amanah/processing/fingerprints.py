"""Fingerprints for near-duplicates: perceptual hashes of images, MinHash of texts.

The same photo re-saved, resized or re-compressed, and the same statement retyped or OCR'd
twice, are different bytes but one piece of evidence seen twice; analysts need to see that.
Each fingerprint is cut into bands; items sharing a band are compared in full (LSH).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

PHASH_BANDS = 8  # 8 bands of 8 bits: any two hashes within 7 bits share at least one band
PHASH_MAX_DISTANCE = 10
MINHASH_PERMUTATIONS = 128
MINHASH_BANDS = 32  # 4 rows a band: pairs above ~0.6 Jaccard almost surely meet
MINHASH_MIN_SIMILARITY = 0.8
SHINGLE = 5
_PHASH_NEAR = 1.0 - PHASH_MAX_DISTANCE / 64
#: An image (or a video frame) whose grey levels span less than this has no structure for a
#: perceptual hash to describe: every flat or nearly flat picture hashes alike
#: (8000000000000000), so its hash would call any two blank photos the same photo.
FLAT_RANGE = 16
_WORD = re.compile(r"\w+", re.UNICODE)
_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u0640]")  # harakat, superscript alef, tatweel


def image_phash(path: Path) -> str | None:
    import imagehash
    from PIL import Image

    with Image.open(path) as im:
        im.seek(0)
        return _structured_phash(im.convert("L"), imagehash)


def _structured_phash(grey: Any, imagehash: Any) -> str | None:
    """The perceptual hash of a picture with something in it; None for a flat one, which no
    hash can tell from another flat one (too flat to tell a copy from a coincidence)."""
    low, high = grey.getextrema()
    if high - low < FLAT_RANGE:
        return None
    return str(imagehash.phash(grey))


def video_keyframe_hashes(path: Path, work: Path, frames: int = 8) -> list[str] | None:
    """Perceptual hashes of the first keyframes: a re-encoded or resized copy keeps them."""
    import subprocess

    import imagehash
    from PIL import Image

    out = work / "keyframes"
    out.mkdir(exist_ok=True)
    proc = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-nostdin",
            "-skip_frame",
            "nokey",
            "-i",
            str(path),
            "-frames:v",
            str(frames),
            "-fps_mode",
            "vfr",
            "-vf",
            "scale=256:-2",
            str(out / "kf-%02d.png"),
        ],
        capture_output=True,
        timeout=300,
        check=False,
    )
    shots = sorted(out.glob("kf-*.png"))
    if proc.returncode != 0 and not shots:
        raise ValueError(proc.stderr.decode("utf-8", "replace").strip()[-200:] or "ffmpeg failed")
    hashes = []
    for shot in shots:
        with Image.open(shot) as im:
            found = _structured_phash(im.convert("L"), imagehash)
        if found is not None:  # a black or blank keyframe tells nothing
            hashes.append(found)
    return hashes or None


def text_minhash(text: str) -> list[int] | None:
    words = _WORD.findall(_DIACRITICS.sub("", text.lower()))
    if len(words) < SHINGLE * 4:
        return None  # too short to tell a copy from a coincidence
    from datasketch import MinHash  # 0.4 s to import (scipy): only for a text that has one

    mh = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=1)
    # A MinHash is of the set of shingles: each distinct one hashed once, all in one numpy
    # batch (one `update` per shingle cost 90 µs; a repetitive table has few distinct ones).
    shingles = {" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}
    mh.update_batch([s.encode() for s in sorted(shingles)])
    return [int(v) for v in mh.hashvalues]


def compute(
    src: Path, media_type: str, texts: list[Path], work: Path | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if media_type.startswith("video/") and work is not None:
        try:
            out["vphash"] = video_keyframe_hashes(src, work)
        except Exception as exc:  # an unreadable video has been flagged by ffprobe already
            out["vphash_error"] = f"{type(exc).__name__}: {exc}"[:200]
        if out.get("vphash") is None:
            out.pop("vphash", None)
    if media_type.startswith("image/") and media_type not in ("image/svg+xml", "image/vnd.djvu"):
        try:
            out["phash"] = image_phash(src)
        except Exception as exc:  # an image Pillow cannot open has been flagged elsewhere
            out["phash_error"] = f"{type(exc).__name__}: {exc}"[:200]
        if out.get("phash") is None:
            out.pop("phash", None)
    if texts:
        values = text_minhash(texts[0].read_text(encoding="utf-8"))
        if values:
            out["minhash"] = values
    return out


def bands(kind: str, value: Any) -> list[str]:
    """Band keys for the LSH index: items sharing one are compared in full."""
    if kind == "vphash":
        return sorted({b for h in value for b in bands("phash", h)})
    if kind == "phash":
        return [f"{i}:{value[2 * i : 2 * i + 2]}" for i in range(PHASH_BANDS)]
    rows = MINHASH_PERMUTATIONS // MINHASH_BANDS
    return [
        f"{b}:" + ".".join(str(v) for v in value[b * rows : (b + 1) * rows])
        for b in range(MINHASH_BANDS)
    ]


def similarity(kind: str, a: Any, b: Any) -> float:
    if kind == "vphash":
        # share of the shorter video's keyframes with a near twin in the other
        short, other = (a, b) if len(a) <= len(b) else (b, a)
        close = sum(
            1 for h in short if max(similarity("phash", h, g) for g in other) >= _PHASH_NEAR
        )
        return close / len(short)
    if kind == "phash":
        distance = bin(int(a, 16) ^ int(b, 16)).count("1")
        return 1.0 - distance / 64
    same = sum(1 for x, y in zip(a, b, strict=True) if x == y)
    return same / len(a)


def is_near(kind: str, score: float) -> bool:
    if kind == "vphash":
        return score >= 0.5
    if kind == "phash":
        return score >= 1.0 - PHASH_MAX_DISTANCE / 64
    return score >= MINHASH_MIN_SIMILARITY
