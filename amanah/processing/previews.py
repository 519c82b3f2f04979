"""Thumbnails and page images: what the viewer shows instead of the evidence file itself.

A browser never opens evidence directly (it could carry script or exploit a decoder); it
is shown pictures made here, in the sandbox, as plain JPEGs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

THUMBNAIL_PX = 320
PAGE_DPI = 100
MAX_PAGE_IMAGES = 200  # beyond this a viewer renders on demand (later), the original stays


def _save(image: Any, path: Path, quality: int) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.save(path, "JPEG", quality=quality, optimize=True)
    return str(path.name if path.parent.name != "pages" else f"pages/{path.name}")


def _thumbnail(image: Any, out: Path) -> str:
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    return _save(thumb, out / "thumbnail.jpg", 80)


def make(src: Path, media_type: str, out: Path) -> dict[str, Any]:
    """Write previews into `out`; returns their names (relative to `out`)."""
    from PIL import Image

    found: dict[str, Any] = {}
    if media_type == "application/pdf":
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(str(src))
        try:
            page = doc[0]
            found["thumbnail"] = _thumbnail(page.render(scale=PAGE_DPI / 72).to_pil(), out)
            page.close()
        finally:
            doc.close()
    elif media_type.startswith("image/") and media_type not in ("image/svg+xml", "image/vnd.djvu"):
        with Image.open(src) as im:
            im.seek(0)
            found["thumbnail"] = _thumbnail(im, out)
    elif media_type.startswith("video/"):
        frames = sorted((out / "keyframes").glob("kf-*.png"))
        if frames:
            with Image.open(frames[0]) as im:
                found["thumbnail"] = _thumbnail(im, out)
    return found


def pages(src: Path, out: Path) -> dict[str, Any]:
    """Every page of a PDF as a JPEG for the viewer (a job of its own, after text and OCR)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(src))
    try:
        names = []
        for i in range(min(len(doc), MAX_PAGE_IMAGES)):
            page = doc[i]
            image = page.render(scale=PAGE_DPI / 72).to_pil()
            page.close()
            names.append(_save(image, out / "pages" / f"{i + 1:04d}.jpg", 70))
        return {"pages": names, "pages_total": len(doc)}
    finally:
        doc.close()
