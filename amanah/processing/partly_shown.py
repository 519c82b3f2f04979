"""Pictures a PDF page shows only in part: their own pixels hold more than the page shows.

A picture may be cut by a clipping path, placed partly past the page's edge, masked (`/SMask`,
`/Mask`), or covered by a shape drawn after it (a black box drawn over a name is how a
redaction is often faked: the viewer shows the box, the file keeps the picture whole and any
program extracts it). Reading the page as shown (OCR of the rendered page) misses what is
under or outside; such a picture is also read from its own pixels (`inventory_pdf`).

Decided from MuPDF's log of what the page paints, in order (`get_bboxlog`), and its clipping
paths (`get_cdrawings(extended=True)`); a picture is matched to its entry by its box.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Box = tuple[float, float, float, float]

#: What paints over a picture (text drawn over one is read from the text layer; a stroke is
#: a line, not a cover).
_COVERS = frozenset({"fill-path", "fill-image", "fill-imgmask", "fill-shade"})
_PICTURES = frozenset({"fill-image", "fill-imgmask"})
#: A cover smaller than this share of the picture's area is a frame or a mark, not a cover.
MIN_COVER = 0.01
#: Entries of a page's log looked at, at most (a page of a million tiny paths), and pictures
#: of a page looked at (each against every later entry); pictures past these are read as
#: the page shows them only.
MAX_ENTRIES = 20_000
MAX_PICTURES = 200


def _area(r: tuple[float, float, float, float]) -> float:
    return max(0.0, r[2] - r[0]) * max(0.0, r[3] - r[1])


def _meet(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, float, float, float]:
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def _same(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(abs(x - y) <= 1.0 for x, y in zip(a, b, strict=True))


def _inside(inner: tuple[float, ...], outer: tuple[float, ...], slack: float = 1.0) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


@dataclass
class Hidden:
    """Why a picture is shown only in part, and what of its box the page shows: inside
    `shown` (page points) and outside every rectangle of `covered`; `masked`: its soft mask
    hides more."""

    why: str
    box: Box
    transform: tuple[float, ...]
    shown: Box
    covered: list[Box] = field(default_factory=list)
    masked: bool = False


def partly_shown(doc: Any, page: Any, images: list[dict[str, Any]]) -> dict[int, str]:
    """The pictures of `images` (`page.get_image_info(xrefs=True)`) shown only in part, by
    their xref, with why ("covered", "clipped", "past the page's edge", "masked")."""
    return {xref: h.why for xref, h in hidden_parts(doc, page, images).items()}


def hidden_parts(doc: Any, page: Any, images: list[dict[str, Any]]) -> dict[int, Hidden]:
    """The pictures shown only in part, each with what of it the page shows."""
    out: dict[int, Hidden] = {}
    if not images:
        return out
    log = [(kind, tuple(box)) for kind, box in page.get_bboxlog()[:MAX_ENTRIES]]
    scissors = [
        tuple(d["scissor"])
        for d in page.get_cdrawings(extended=True)[:MAX_ENTRIES]
        if d.get("type") == "clip" and d.get("scissor") is not None
    ]
    page_box = tuple(page.rect)
    used: set[int] = set()
    covers = [(i, b) for i, (k, b) in enumerate(log) if k in _COVERS]
    pictures = [(i, b) for i, (k, b) in enumerate(log) if k in _PICTURES]
    for k, info in enumerate(images[:MAX_PICTURES], 1):
        # An inline picture (drawn from the content stream, no object of its own) is keyed
        # by minus its place among the page's pictures: found, but not read whole here.
        xref = info.get("xref") or -k
        if xref in out:
            continue
        box = tuple(info["bbox"])
        if _area(box) <= 0:
            continue
        shown = _meet(box, page_box)
        why = [] if _inside(box, page_box) else ["past the page's edge"]
        for s in scissors:
            if not _inside(box, s) and _area(_meet(box, s)) > 0:
                shown = _meet(shown, s)
                why = why or ["clipped"]
        masked = xref > 0 and (
            doc.xref_get_key(xref, "SMask")[0] != "null"
            or doc.xref_get_key(xref, "Mask")[0] in ("xref", "array")
        )
        covered: list[Box] = []
        at = next((i for i, b in pictures if i not in used and _same(b, box)), None)
        if at is not None:
            used.add(at)
            least = MIN_COVER * _area(box)
            covered = [_meet(b, box) for i, b in covers if i > at and _area(_meet(b, box)) > least]
        if covered:
            why = why or ["covered"]
        if masked:
            why = why or ["masked"]
        if why:
            out[xref] = Hidden(
                why[0], box, tuple(info.get("transform") or ()), shown, covered, masked
            )
    return out


def blank_hidden(doc: Any, page: Any) -> int:
    """Every picture the page shows only in part made blank (white) wherever the page does
    not show it: outside its clipping path and the page, under a shape drawn over it, where
    its soft mask makes it transparent. What a redacted copy must not carry: the page looks
    the same, the picture extracted from it holds no more than the page shows. Returns how
    many pictures were changed; one turned by its placement (not upright) is made blank
    whole, as its hidden part cannot be told apart by rows and columns."""
    import numpy as np
    import pymupdf

    changed = 0
    for xref, part in hidden_parts(doc, page, page.get_image_info(xrefs=True)).items():
        if xref < 0:
            continue  # inline: not replaced here; the copy's inventory then says it is not read
        if doc.xref_get_key(xref, "ImageMask")[1] == "true":
            continue  # a stencil (ink, no pixels of its own): read by the leak check as it is
        pix = pymupdf.Pixmap(doc, xref)
        if pix.alpha:
            pix = pymupdf.Pixmap(pix, 0)
        if pix.colorspace is None or pix.n not in (1, 3):
            pix = pymupdf.Pixmap(pymupdf.csRGB, pix)
        h, w = pix.height, pix.width
        pixels = np.frombuffer(pix.samples, dtype=np.uint8).reshape(h, w, pix.n).copy()
        keep = _shown_pixels(part, w, h)
        if part.masked:
            keep &= _opaque(doc, xref, w, h)
        pixels[~keep] = 255
        blank = pymupdf.Pixmap(pix.colorspace, w, h, pixels.tobytes(), False)
        page.replace_image(xref, pixmap=blank)
        changed += 1
    return changed


def _shown_pixels(part: Hidden, w: int, h: int) -> Any:
    """Which of a picture's pixels the page shows (an upright placement; none otherwise)."""
    import numpy as np

    keep = np.zeros((h, w), dtype=bool)
    a, b, c, d, e, f = (part.transform + (0.0,) * 6)[:6]
    if abs(b) > 1e-9 or abs(c) > 1e-9 or not a or not d:
        return keep

    def span(p0: float, p1: float, origin: float, scale: float, size: int, out: bool) -> slice:
        """Pixels between two page coordinates: every pixel touched (`out`), or only those
        wholly inside (a cover's edge pixel is partly shown, and kept)."""
        lo, hi = sorted(((p0 - origin) / scale * size, (p1 - origin) / scale * size))
        lo, hi = (np.floor(lo), np.ceil(hi)) if out else (np.ceil(lo), np.floor(hi))
        return slice(max(0, int(lo)), min(size, int(hi)))

    x0, y0, x1, y1 = part.shown
    if x1 > x0 and y1 > y0:
        keep[span(y0, y1, f, d, h, True), span(x0, x1, e, a, w, True)] = True
    for x0, y0, x1, y1 in part.covered:
        keep[span(y0, y1, f, d, h, False), span(x0, x1, e, a, w, False)] = False
    return keep


def _opaque(doc: Any, xref: int, w: int, h: int) -> Any:
    """Where a picture's soft mask (or stencil mask) lets it show, at the picture's size."""
    import numpy as np
    import pymupdf
    from PIL import Image

    kind, value = doc.xref_get_key(xref, "SMask")
    if kind != "xref":
        kind, value = doc.xref_get_key(xref, "Mask")
    if kind != "xref":
        return np.ones((h, w), dtype=bool)  # a colour-key mask: the picture is kept whole
    mask = pymupdf.Pixmap(doc, int(value.split()[0]))
    if mask.n != 1:
        mask = pymupdf.Pixmap(pymupdf.csGRAY, mask)
    image = Image.frombytes("L", (mask.width, mask.height), mask.samples).resize((w, h))
    return np.asarray(image) > 0


def own_pixels(doc: Any, xref: int, most: int = 40_000_000) -> Any:
    """A picture's own pixels, whole, in grey (its mask not applied), scaled down past `most`
    pixels."""
    import pymupdf
    from PIL import Image

    pix = pymupdf.Pixmap(doc, xref)
    if pix.alpha:
        pix = pymupdf.Pixmap(pix, 0)
    if pix.n != 1:
        pix = pymupdf.Pixmap(pymupdf.csGRAY, pix)
    image = Image.frombytes("L", (pix.width, pix.height), pix.samples)
    if image.width * image.height > most:
        scale = (most / (image.width * image.height)) ** 0.5
        image = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))))
    return image
