"""Letters drawn as shapes: a signature line, a stamp or a heading that a design tool or a
print driver turned into outlines is text to its reader but not in the page's text layer.
A page holding shapes that look like letters (filled, no taller than a line of large print,
with curves or many sides: not a table's ruled cells or shaded rectangles) has that region
read as an image (OCR) by the leak check and by redaction."""

from __future__ import annotations

from typing import Any

#: The tallest filled shape (points) taken for a letter or a word drawn as outlines.
MAX_HEIGHT = 72.0
#: Letter-like shapes on a page before their region is read (a name is a dozen of them).
MIN_LETTERS = 3
#: Margin (points) around the shapes' region, so that the OCR sees whole letters.
MARGIN = 6.0


def _letter_like(d: dict[str, Any]) -> bool:
    if "f" not in (d.get("type") or ""):
        return False
    x0, y0, x1, y1 = d["rect"]
    if not (0.5 < y1 - y0 <= MAX_HEIGHT and x1 - x0 > 0.5):
        return False
    items = d.get("items") or ()
    return any(i[0] == "c" for i in items) or len(items) >= 4


def region(page: Any) -> Any:
    """The region (a pymupdf.Rect) of the page's letter-like shapes, or None when it has
    fewer than MIN_LETTERS of them."""
    import pymupdf

    boxes = [d["rect"] for d in page.get_cdrawings() if _letter_like(d)]
    if len(boxes) < MIN_LETTERS:
        return None
    area = pymupdf.Rect(
        min(b[0] for b in boxes) - MARGIN,
        min(b[1] for b in boxes) - MARGIN,
        max(b[2] for b in boxes) + MARGIN,
        max(b[3] for b in boxes) + MARGIN,
    )
    area &= page.rect
    return None if area.is_empty else area
