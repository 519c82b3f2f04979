"""How evidence bytes leave the server: always as attachments, never as a live page.

Only media a browser shows without running anything (raster images, audio, video, plain
text) keep their type so the item page can play or show them; everything else, HTML and SVG
included, is application/octet-stream. Each response also carries a sandboxing CSP.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

from amanah.display import reveal

SAFE_MEDIA = {
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "audio/mpeg",
    "audio/ogg",
    "audio/wav",
    "audio/x-wav",
    "audio/flac",
    "audio/mp4",
    "video/mp4",
    "video/webm",
    "video/ogg",
    "text/plain",
}
#: What the item page plays from the original itself (its image, audio and video players):
#: the only media whose bytes are recorded as a view rather than a download.
PLAYABLE = frozenset(SAFE_MEDIA - {"text/plain"})
CONTENT_CSP = "sandbox; default-src 'none'"


def inline_media(media_type: str | None) -> str:
    base = (media_type or "").split(";")[0].strip().lower()
    if base == "text/plain":
        return "text/plain; charset=utf-8"
    return base if base in SAFE_MEDIA else "application/octet-stream"


def attachment(filename: str, sha256: str) -> dict[str, str]:
    """Headers for evidence bytes: a download with its name in any script, and its digest.

    The name's bidi controls are written out (`report⟨U+202E⟩txt.exe`), so the saved file
    cannot pass for another type in a file manager; the bytes are exact (Repr-Digest)."""
    filename = reveal(filename)
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename
    )
    return {
        "Content-Disposition": (
            f"attachment; filename=\"{fallback or 'item'}\"; filename*=UTF-8''{quote(filename)}"
        ),
        "Content-Security-Policy": CONTENT_CSP,
        "Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(sha256)).decode()}:",
        "Cache-Control": "private, no-store",
    }
