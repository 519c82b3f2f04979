"""DjVu documents: the text layer page by page, annotations, and OCR of pages without text.

Read with Debian's `djvulibre-bin` in the cage: `djvused` counts pages and prints metadata
and annotations (hyperlink comments and XMP hide there), `djvutxt` gives each page's hidden
text layer, and `ddjvu` renders a page with no text layer as a TIFF for the OCR every other
scan gets.
"""

from __future__ import annotations

import re
from pathlib import Path

from amanah.processing import ocr
from amanah.processing.extract import Extraction, _clean, readable, run_tool

MAX_PAGES = ocr.MAX_PAGES


def _sed(path: Path, script: str) -> str:
    return run_tool(["djvused", "-e", script, str(path)]).decode("utf-8", "replace")


def page_count(path: Path) -> int:
    out = _sed(path, "n").strip()
    if not out.isdigit():
        raise ValueError(f"djvused could not count the pages: {out[:100]!r}")
    return int(out)


def text(path: Path) -> Extraction:
    """Each page's text layer; pages without one are listed for OCR."""
    pages = page_count(path)
    out = Extraction(metadata={"pages": pages})
    for n in range(1, min(pages, MAX_PAGES) + 1):
        page = run_tool(["djvutxt", f"--page={n}", str(path)]).decode("utf-8", "replace")
        if page.strip() and not readable(page):
            page = ""
        out.pages.append(_clean(page.replace("\f", " ")))
        if not page.strip():
            out.pages_without_text.append(n)
    if pages > MAX_PAGES:
        out.flags.append(
            {"code": "unpack_limit", "message": f"only the first {MAX_PAGES} pages were read"}
        )
    out.metadata.update(_annotations(path, pages))
    return out


def _annotations(path: Path, pages: int) -> dict[str, str]:
    """Document metadata (Author, Title …) and the annotations of the document and its pages."""
    found: dict[str, str] = {}
    page_scripts = "; ".join(f"select {n}; print-ant" for n in range(1, min(pages, MAX_PAGES) + 1))
    notes = []
    for script in ("print-meta", "select-shared-ant; print-ant", page_scripts):
        try:
            said = _sed(path, script)
        except ValueError:
            continue  # e.g. no shared annotations: djvused says so and stops
        if script == "print-meta":
            for line in said.splitlines():
                key, _, value = line.partition("\t")
                if key and value:
                    found[f"djvu_{key.lower()}"] = value.strip().strip('"')
        elif said.strip():
            notes.append(re.sub(r"\s+", " ", said.strip()))
    if notes:
        found["djvu_annotations"] = "\n".join(notes)
    return found


def ocr_pages(
    path: Path, page_numbers: list[int], work: Path, languages: str = ocr.DEFAULT_LANGUAGES
) -> list[ocr.OcrPage]:
    """Render each page at its own resolution (ddjvu) and read it like any scan."""
    from PIL import Image

    pages = []
    for number in page_numbers[:MAX_PAGES]:
        tiff = work / f"djvu-page-{number}.tif"
        run_tool(["ddjvu", "-format=tiff", f"-page={number}", str(path), str(tiff)])
        with Image.open(tiff) as image:
            pages.append(ocr.ocr_image(image.copy(), number, work, languages))
        tiff.unlink()
    return pages
