"""Redacting a PDF, in the sandbox's child: list the words a page shows, remove the areas
Amanah chose, write the file anew, and say everything the result says as a recipient reads it.

The child never holds the names key nor a name's digest: it parses hostile evidence, so what
it could leak or be made to compute is kept to the file's own words. It lists every word of
each page's text layer in reading order (a word hyphenated across a line end joined) and, on
every page that carries an image or drawn shapes, the words OCR reads in its pixels
(`amanah.processing.wordboxes`: Arabic and Latin), each with the area that would remove it;
Amanah matches the names over those sequences (`amanah.sharing.redaction`) and sends back the
areas. PyMuPDF's apply_redactions deletes the glyphs under each area, blanks the image pixels
under it and removes the shapes it covers. Before that, every picture a page shows only in part
is made blank where the page does not show it (`partly_shown.blank_hidden`): a box drawn over a
name in a scan, a picture cropped by a clipping path, hold the name in the picture's own pixels.

Then nothing but the pages' contents is kept: the pages are copied into a new document with
no outline, annotation of any kind, form field, link, embedded file, JavaScript or action,
page label, optional-content configuration, document information or XMP; every object left
is stripped of metadata streams and private data, optional-content layers are renamed and
marked-content alternate text (/ActualText, /Alt) is cut from the content streams. The file is
written with a garbage-collected full save: no earlier revision survives.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from amanah.processing import drawn_letters, partly_shown, pdftext, wordboxes

#: One word and the areas (x0, y0, x1, y1, page points from the unrotated page's top left)
#: that remove it: a hyphenated word has one per line.
Shown = tuple[str, list[list[float]]]

PAD = 1.0  # points left and right of each text-layer word, so that anti-aliased edges go too
TRIM = 0.15  # of a text-layer word's height, off its top and bottom (see _area)
OCR_PAD = 0.15  # of a box's height around each OCR word (Arabic dots sit outside tight boxes)
MIN_DPI, MAX_DPI, DEFAULT_DPI = 150, 400, 200
DRAWN_TEXT = 20  # a page with this many drawn shapes may carry text as outlines: OCR it
#: Keys dropped from every object of the written file: each can carry words of its own.
DROPPED_KEYS = (
    "Metadata",
    "PieceInfo",
    "Thumb",
    "AA",
    "OpenAction",
    "Names",
    "Dests",
    "Outlines",
    "AcroForm",
    "StructTreeRoot",
    "PageLabels",
    "OCProperties",
    "Annots",
    "B",
    "Threads",
    "AF",
    "Collection",
    "SpiderInfo",
    "Perms",
    "Legal",
    "URI",
    "JS",
    "JavaScript",
    "EmbeddedFiles",
)
_ALTERNATE = re.compile(
    rb"/(?:ActualText|Alt|E|T|Lang)\s*(?:\((?:\\.|[^\\()])*\)|<[0-9A-Fa-f\s]*>)"
)
_HEX = re.compile(r"<([0-9A-Fa-f\s]{4,})>")


def tokens(page: Any) -> list[tuple[str, list[Any]]]:
    """The page's words in reading order (blocks, lines, words) with their rectangles; a word
    hyphenated at a line's end is joined with the next line's first word."""
    import pymupdf

    out: list[tuple[str, list[Any]]] = []
    last_line: int | None = None
    # Words in logical order (Arabic from a browser's or office suite's PDF as written).
    for word, box, line in pdftext.page_words(page):
        rect = pymupdf.Rect(*box)
        new_line = line != last_line
        if new_line and out and out[-1][0].endswith(("-", "\u00ad", "\u2010")):
            text, rects = out[-1]
            out[-1] = (text.rstrip("-\u00ad\u2010") + word, [*rects, rect])
        else:
            out.append((word, [rect]))
        last_line = line
    return out


def _box(rect: Any) -> list[float]:
    return [float(rect.x0), float(rect.y0), float(rect.x1), float(rect.y1)]


def text_words(page: Any) -> list[Shown]:
    """The text layer's words in reading order, each with the areas that remove it."""
    return [(word, [_box(_area(r)) for r in rects]) for word, rects in tokens(page)]


def _area(rect: Any) -> Any:
    """A text-layer word's redaction area: a little wider than the word, and trimmed top and
    bottom, since a line's word boxes (the font's ascent and descent) reach into the lines
    above and below, and MuPDF removes every glyph an area overlaps."""
    import pymupdf

    trim = rect.height * TRIM
    return pymupdf.Rect(rect.x0 - PAD, rect.y0 + trim, rect.x1 + PAD, rect.y1 - trim)


def needs_ocr(page: Any) -> bool:
    if page.get_images(full=True):
        return True
    try:
        return len(page.get_cdrawings()) >= DRAWN_TEXT or drawn_letters.region(page) is not None
    except Exception:  # a page whose drawings cannot be listed is read anyway
        return True


def render_dpi(page: Any) -> int:
    """The page's images' own resolution (a scan at 400 dpi is read at 400), within bounds."""
    best = 0.0
    for info in page.get_image_info():
        x0, _, x1, _ = info.get("bbox", (0, 0, 0, 0))
        if x1 - x0 > 1 and info.get("width"):
            best = max(best, info["width"] / ((x1 - x0) / 72))
    return int(min(MAX_DPI, max(MIN_DPI, best))) if best else DEFAULT_DPI


def _grey(pix: Any) -> Any:
    import numpy as np

    data = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)
    return np.ascontiguousarray(data[:, : pix.width])


def page_words(page: Any, work: Path, langs: str) -> tuple[list[wordboxes.Word], float]:
    """OCR word boxes of the page as shown, and the zoom from points to their pixels."""
    import pymupdf

    zoom = render_dpi(page) / 72
    pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), colorspace=pymupdf.csGRAY)
    return wordboxes.words(_grey(pix), work, langs), zoom


def ocr_words(page: Any, work: Path, langs: str) -> list[list[Shown]]:
    """The words OCR reads in the page as shown, reading by reading, each with the area (page
    points, padded: Arabic dots sit outside tight boxes) that removes it."""
    import pymupdf

    found, zoom = page_words(page, work, langs)
    out = []
    for reading in wordboxes.readings(found):
        shown: list[Shown] = []
        for w in reading:
            x0, y0, x1, y1 = w.box
            pad = (y1 - y0) * OCR_PAD
            r = pymupdf.Rect(
                (x0 - pad) / zoom, (y0 - pad) / zoom, (x1 + pad) / zoom, (y1 + pad) / zoom
            )
            shown.append((w.text, [_box(r * page.derotation_matrix)]))
        out.append(shown)
    return out


def words(path: Path, work: Path, langs: str, ocr: bool = True) -> dict[str, Any]:
    """Every word each page shows, with the areas that would remove it: the text layer's
    sequence, and (`ocr`) the OCR readings of every page that carries an image or drawn
    shapes. Amanah looks for the names in them."""
    import pymupdf

    doc = pymupdf.open(path)
    try:
        if doc.needs_pass or doc.is_encrypted:
            raise ValueError("the PDF is encrypted: it cannot be redacted without its password")
        pages = []
        for page in doc:
            pages.append(
                {
                    "text": text_words(page),
                    "ocr": ocr_words(page, work, langs) if ocr and needs_ocr(page) else None,
                }
            )
    finally:
        doc.close()
    return {"page_count": len(pages), "pages": pages}


def apply(path: Path, target: Path, areas: list[list[float]]) -> dict[str, Any]:
    """Write the copy of `path` with every area (page, x0, y0, x1, y1) removed to `target`."""
    import pymupdf

    doc = pymupdf.open(path)
    try:
        if doc.needs_pass or doc.is_encrypted:
            raise ValueError("the PDF is encrypted: it cannot be redacted without its password")
        by_page: dict[int, list[list[float]]] = {}
        for number, *box in areas:
            by_page.setdefault(int(number), []).append(box)
        for page in doc:
            partly_shown.blank_hidden(doc, page)  # what the page hides of a picture goes
            for box in by_page.get(page.number + 1, []):
                page.add_redact_annot(pymupdf.Rect(*box), fill=(0, 0, 0))
            if page.number + 1 in by_page:
                page.apply_redactions(
                    images=pymupdf.PDF_REDACT_IMAGE_PIXELS,
                    graphics=pymupdf.PDF_REDACT_LINE_ART_REMOVE_IF_COVERED,
                    text=pymupdf.PDF_REDACT_TEXT_REMOVE,
                )
        doc.scrub()  # metadata, XMP, hidden text, attachments, scripts, links, thumbnails
        write_anew(doc, target)
    finally:
        doc.close()
    return {"media_type": "application/pdf"}


def method() -> str:
    """How a PDF was redacted, for its derivation event (said by Amanah, not by the child)."""
    from importlib.metadata import version

    return (
        f"PyMuPDF {version('pymupdf')} apply_redactions (text removed, image pixels"
        " blanked, covered shapes removed); pictures shown only in part (clipped, covered,"
        " masked, past the page's edge) blanked where the page does not show them;"
        " Tesseract word boxes (Arabic and Latin) on images;"
        " pages copied into a new document written in full: outlines, annotations, form"
        " fields, links, embedded files, scripts and actions, page labels, optional-content"
        " configuration, document information and XMP all dropped"
    )


def write_anew(doc: Any, target: Path) -> None:
    """Only the pages' contents, in a new document, saved in full (no incremental update)."""
    import pymupdf

    new = pymupdf.open()
    new.insert_pdf(doc, links=False, annots=False, widgets=False)
    for page in new:
        for annot in list(page.annots() or []):
            page.delete_annot(annot)
        for link in page.get_links():
            page.delete_link(link)
    for xref in range(1, new.xref_length()):
        try:
            keys = new.xref_get_keys(xref)
        except Exception:  # noqa: S112 - a free object: nothing to strip
            continue
        for key in DROPPED_KEYS:
            if key in keys:
                new.xref_set_key(xref, key, "null")
        if new.xref_get_key(xref, "Type") == ("name", "/OCG"):
            new.xref_set_key(xref, "Name", f"(layer {xref})")
        if new.xref_get_key(xref, "Filter") in (("name", "/DCTDecode"), ("array", "[/DCTDecode]")):
            _strip_jpeg(new, xref)
        if new.xref_is_stream(xref) and "Length1" not in keys and "Subtype" not in keys:
            data = new.xref_stream(xref) or b""
            if b"BDC" in data:
                new.update_stream(xref, _ALTERNATE.sub(b"", data))
    new.set_metadata({})
    new.del_xml_metadata()
    new.save(target, garbage=4, deflate=True, clean=True, incremental=False)
    new.close()


def _strip_jpeg(doc: Any, xref: int) -> None:
    """A JPEG image's metadata (EXIF with its thumbnail of the unredacted picture, XMP,
    Photoshop's preview, comments) dropped; the picture drawn is the same."""
    from amanah.processing.embedded_pictures import jpeg_without_metadata

    raw = doc.xref_stream_raw(xref) or b""
    kept = jpeg_without_metadata(raw)
    if kept != raw:
        doc.update_stream(xref, kept, compress=False)
        doc.xref_set_key(xref, "Filter", "/DCTDecode")


def _strings(doc: Any, xref: int) -> list[str]:
    """What one object says: its syntax, its hex strings decoded, and its decoded stream."""
    out = [doc.xref_object(xref, compressed=False)]
    for hexa in _HEX.findall(out[0]):
        raw = bytes.fromhex(re.sub(r"\s", "", hexa) + ("0" if len(hexa) % 2 else ""))
        out.append(
            raw[2:].decode("utf-16-be", "replace")
            if raw[:2] == b"\xfe\xff"
            else raw.decode("latin-1")
        )
    keys = doc.xref_get_keys(xref)
    for key in keys:
        kind, value = doc.xref_get_key(xref, key)
        if kind == "string":
            out.append(value)
    if doc.xref_is_stream(xref) and doc.xref_get_key(xref, "Subtype")[1] != "/Image":
        data = doc.xref_stream(xref) or b""
        if "Length1" not in keys and "Length2" not in keys:
            out.append(data.decode("latin-1"))
            if data[:2] == b"\xfe\xff":
                out.append(data[2:].decode("utf-16-be", "replace"))
            else:
                out.append(data.decode("utf-8", "replace"))
    return out


def reread(path: Path, work: Path, langs: str) -> dict[str, Any]:
    """Everything the written file says, read back from the file itself: its text layer per
    page (every reading of its lines, and its word sequence), OCR of every page that carries
    an image or drawn shapes, its metadata and XMP, and every object and decoded stream; each
    with where it was read. Amanah looks for the names in it."""
    import json

    import pymupdf

    texts: list[tuple[str, str]] = []
    sequences: list[tuple[str, list[str]]] = []
    doc = pymupdf.open(path)
    try:
        for page in doc:
            where = f"page {page.number + 1} text"
            read = pdftext.read_page(page)
            texts.append((where, read.text))
            # Lines not read in logical order: their other readings too (issue 14).
            if read.other_readings:
                texts.append((where, "\n".join(read.other_readings)))
            sequences.append((where, [t for t, _ in tokens(page)]))
            if needs_ocr(page):
                for reading in ocr_words(page, work, langs):
                    seq = [t for t, _ in reading]
                    sequences.append((f"page {page.number + 1} image (OCR)", seq))
                    texts.append(("", " ".join(seq)))  # what was read, not searched again
        texts.append(
            (
                "document information or XMP",
                json.dumps(doc.metadata, ensure_ascii=False) + (doc.get_xml_metadata() or ""),
            )
        )
        for xref in range(1, doc.xref_length()):
            try:
                parts = _strings(doc, xref)
            except Exception as exc:  # our own output must read back whole
                raise ValueError(f"object {xref} of the written PDF cannot be read back") from exc
            texts.extend((f"PDF object {xref}", part) for part in parts)
        if doc.embfile_count() or doc.get_toc() or doc.is_form_pdf:
            raise ValueError("the written PDF still has embedded files, an outline or a form")
    finally:
        doc.close()
    said = "\n".join(t for w, t in texts if not w.startswith("PDF object"))
    return {"texts": [t for t in texts if t[0]], "sequences": sequences, "said": said}


def preview(path: Path, target: Path, page_number: int, width: int) -> dict[str, Any]:
    """One page as a PNG `width` pixels wide, shown unrotated so that its pixels map to the page
    points used for regions; and every page's size in points."""
    import pymupdf

    doc = pymupdf.open(path)
    try:
        if doc.needs_pass:
            raise ValueError("the PDF is encrypted")
        sizes = []
        for page in doc:
            page.set_rotation(0)  # in memory only: the file is not written
            sizes.append([round(page.rect.width, 2), round(page.rect.height, 2)])
        if not 1 <= page_number <= len(doc):
            raise ValueError(f"page {page_number} is not between 1 and {len(doc)}")
        page = doc[page_number - 1]
        zoom = width / max(page.rect.width, 1)
        page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom)).save(target)
    finally:
        doc.close()
    return {"unit": "pt", "sizes": sizes}
