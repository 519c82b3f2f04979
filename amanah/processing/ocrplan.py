"""The plan of a long scan's OCR, made before its analysis so that its page jobs start at once.

The item's analysis loads every reader and reads every page's text layer before it can say
which pages need OCR: on a long scan, that is the time the other workers stood idle before
any page job existed. The plan is a small sandbox task with pypdfium2 (and Pillow for
multi-page images) only: how many pages, and which have no usable text layer (the test of
`extract.readable`, on pdfium's reading). The item's job records the plan's parts and page
jobs in a short transaction of their own, then runs the analysis while other workers read.

The analysis stays the authority: when it defers other pages (or none), its job replaces the
planned parts in the same transaction as the rest of its processing (`pagejobs.reconcile`),
and a page job whose part changed under it reads the new part or, withdrawn, does nothing.

The plan also says what each page to OCR will cost: its pixels (a page that is one scanned
image: the image's own; any other: its size rendered at `ocr.RENDER_DPI`), read from the page
objects without decoding an image. Page jobs are sized by it (`pagejobs.chunks`): forty light
pages are not twenty jobs each paying a job's fixed cost.

A plan never trusts the file: it reads at most `ocr.MAX_PAGES` pages, and a file whose page
count lies (a page that cannot be loaded), that is encrypted or that cannot be opened plans
nothing; the analysis then records why, as for any file. A page's pixels are capped at
`MAX_PAGE_PIXELS`: a page claiming more only gets a job of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amanah.processing import ocr

#: The first bytes of the files worth a plan: PDF, and the multi-page image formats of
#: scanners (TIFF) and GIF. Any other file waits for its analysis, as before.
SCAN_MAGIC = (b"II*\x00", b"MM\x00*", b"GIF87a", b"GIF89a")
#: Pixels a page may count for at most (the sandbox's decompression-bomb limit).
MAX_PAGE_PIXELS = 180_000_000


def worth_planning(path: Path) -> bool:
    """Whether the file may be a long scan (read by the worker: its first bytes only), so that
    no other file pays for a plan (a fork, and a copy of the file into the cage)."""
    with path.open("rb") as f:
        head = f.read(1024)
    return b"%PDF-" in head or head.startswith(SCAN_MAGIC)


def plan_task(path: str, out_dir: str) -> dict[str, Any]:
    """In the sandbox: {"kind", "pages" without a usable text layer, "pixels" of each of
    them (same order), "count", "problem"}."""
    src = Path(path)
    with src.open("rb") as f:
        head = f.read(1024)
    if b"%PDF-" in head:
        return _pdf(src)
    return _image(src)


def _pdf(src: Path) -> dict[str, Any]:
    import pypdfium2 as pdfium

    from amanah.processing.extract import readable

    try:
        doc = pdfium.PdfDocument(str(src))
    except pdfium.PdfiumError as exc:
        return _nothing("pdf", f"cannot be opened: {exc}")
    try:
        count = len(doc)
        without, pixels = [], []
        for i in range(min(count, ocr.MAX_PAGES)):
            try:
                page = doc[i]
            except pdfium.PdfiumError:
                return _nothing(
                    "pdf", f"the file says it has {count} pages, and page {i + 1} cannot be loaded"
                )
            try:
                textpage = page.get_textpage()
                text = str(textpage.get_text_bounded())
                textpage.close()
                if not readable(text):
                    without.append(i + 1)
                    pixels.append(_page_pixels(page))
            finally:
                page.close()
    finally:
        doc.close()
    return {"kind": "pdf", "pages": without, "pixels": pixels, "count": count, "problem": ""}


def _page_pixels(page: Any) -> int:
    """The pixels OCR will read on a PDF page (`ocr.pdf_pages`): the scan's own when the page
    is one large image, else the page rendered at `ocr.RENDER_DPI`."""
    import pypdfium2.raw as pdfium_c

    try:
        images = list(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=1))
        if len(images) == 1:
            meta = images[0].get_metadata()
            if meta.width >= 600 and meta.height >= 600:  # as `ocr._scan_of` decides
                return _capped(meta.width * meta.height)
        width, height = page.get_size()
    except Exception:  # a page object pdfium cannot describe: a typical page's cost
        return _capped(int(8.27 * 11.69 * ocr.RENDER_DPI**2))
    return _capped(int(width * height * (ocr.RENDER_DPI / 72) ** 2))


def _capped(pixels: int) -> int:
    return max(1, min(int(pixels), MAX_PAGE_PIXELS))


def _image(src: Path) -> dict[str, Any]:
    from PIL import Image

    try:
        with Image.open(src) as im:
            count = ocr.frame_count(src)
            pixels = []
            for n in range(count):  # each frame's header only: nothing is decoded
                im.seek(n)
                pixels.append(_capped(im.width * im.height))
    except Exception as exc:  # not an image Pillow reads: the analysis decides what it is
        return _nothing("image", f"not an image: {type(exc).__name__}")
    pages = list(range(1, count + 1))
    return {"kind": "image", "pages": pages, "pixels": pixels, "count": count, "problem": ""}


def _nothing(kind: str, problem: str) -> dict[str, Any]:
    return {"kind": kind, "pages": [], "pixels": [], "count": 0, "problem": problem[:300]}
