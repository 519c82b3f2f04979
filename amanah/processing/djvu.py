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
from amanah.processing.extract import Extraction, _clean, _ranges, readable, run_tool

MAX_PAGES = ocr.MAX_PAGES


def _tool(cmd: list[str]) -> bytes:
    """A djvulibre program; its failure as one readable line (no C++ frames, no paths)."""
    try:
        return run_tool(cmd)
    except ValueError as exc:
        raise ValueError(reason(str(exc))) from exc


def reason(text: str) -> str:
    lines: list[str] = []
    for line in text.splitlines():
        line = re.sub(r"\*\*\*\s*|\[\d+-\d+\]\s*", "", line).strip()
        if not line or ".cpp:" in line or line.startswith("'"):
            continue
        line = re.sub(r"'?(file://)?(localhost)?/\S+", "the file", line)
        if line not in lines:
            lines.append(line)
    return "; ".join(lines)[:300] or "djvulibre could not read it"


def _sed(path: Path, script: str) -> str:
    return _tool(["djvused", "-e", script, str(path)]).decode("utf-8", "replace")


def page_count(path: Path) -> int:
    out = _sed(path, "n").strip()
    if not out.isdigit():
        raise ValueError(f"djvused could not count the pages: {out[:100]!r}")
    return int(out)


def text(path: Path) -> Extraction:
    """Each page's text layer; pages without one are listed for OCR."""
    pages = page_count(path)
    out = Extraction(metadata={"pages": pages})
    unreadable: list[str] = []
    for n in range(1, min(pages, MAX_PAGES) + 1):
        try:
            page = _tool(["djvutxt", f"--page={n}", str(path)]).decode("utf-8", "replace")
        except ValueError as exc:  # one damaged page: say which, read the others
            unreadable.append(f"page {n}: {exc}")
            page = ""
        if page.strip() and not readable(page):
            page = ""
        out.pages.append(_clean(page.replace("\f", " ")))
        if not page.strip():
            out.pages_without_text.append(n)
    if unreadable:
        out.flags.append(
            {"code": "unreadable", "message": "text layer not read: " + "; ".join(unreadable)}
        )
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
    path: Path,
    page_numbers: list[int],
    work: Path,
    languages: str = ocr.DEFAULT_LANGUAGES,
    flags: list[dict[str, str]] | None = None,
) -> list[ocr.OcrPage]:
    """Render each page at its own resolution (ddjvu) and read it like any scan; a page that
    cannot be rendered is named in an `ocr_failed` flag and the others are still read."""
    from PIL import Image

    pages: list[ocr.OcrPage] = []
    failed: list[int] = []
    why = ""
    for number in page_numbers[:MAX_PAGES]:
        tiff = work / f"djvu-page-{number}.tif"
        try:
            _tool(["ddjvu", "-format=tiff", f"-page={number}", str(path), str(tiff)])
        except ValueError as exc:
            failed.append(number)
            why = why or str(exc).split("; ")[0]
            continue
        with Image.open(tiff) as image:
            pages.append(ocr.ocr_image(image.copy(), number, work, languages))
        tiff.unlink()
    if failed:
        said = f"page(s) {_ranges(failed)} could not be rendered: {why}"
        if flags is None:
            raise ValueError(said)
        flags.append({"code": "ocr_failed", "message": f"OCR failed: {said}"})
    return pages
