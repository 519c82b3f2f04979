"""Text and document properties from each readable format, page by page where pages exist.

Runs inside the sandbox (processing/sandbox.py): a hostile file may crash or exhaust these
libraries, and only its own sandboxed process pays for it.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

from amanah.processing.sheetbudget import (
    FILE_CELL_BUDGET as FILE_CELL_BUDGET,
)
from amanah.processing.sheetbudget import (
    SHEET_CELL_BUDGET as SHEET_CELL_BUDGET,
)
from amanah.processing.sheetbudget import (
    XLSX_SHARED_STRINGS_LIMIT,
    SheetBudget,
)
from amanah.processing.textfile import (
    LIKELY_ENCODINGS as LIKELY_ENCODINGS,
)
from amanah.processing.textfile import (
    MAX_MARKUP_CHARS,
    MAX_TEXT_CHARS,
    cut_flag,
    read_text,
)
from amanah.processing.textfile import (
    decode_text as decode_text,
)
from amanah.text import codepages, escapes


class Encrypted(Exception):
    """The content is protected by a password; it is preserved but cannot be read."""


@dataclass
class Extraction:
    pages: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    flags: list[dict[str, str]] = field(default_factory=list)
    #: 1-based pages with no text layer: candidates for OCR.
    pages_without_text: list[int] = field(default_factory=list)
    #: Attachments and archive members, written by the unpackers.
    children: list[dict[str, Any]] = field(default_factory=list)


def readable(text: str) -> bool:
    """Whether a text layer reads as text: fonts without a Unicode map yield control codes."""
    # Counted by distinct character (a page holds a few dozen), not character by character.
    counts = Counter(text)
    visible = sum(n for c, n in counts.items() if not c.isspace())
    if not visible:
        return False
    good = sum(n for c, n in counts.items() if _good_character(c))
    return good / visible >= 0.6


@lru_cache(maxsize=4096)
def _good_character(c: str) -> bool:
    return not c.isspace() and (c.isalnum() or unicodedata.category(c)[0] in "PS")


#: A letter struck over by the next (`A\bA` bold, `_\bA` underlined, as terminals and
#: manual pages print): a reader sees one letter, so the one struck over goes.
_OVERSTRUCK = re.compile(r"[^\x08\n]\x08")


def _clean(text: str) -> str:
    # Form feed separates pages in the stored text; NUL and other C0 controls are noise.
    if "\x08" in text:
        text = _OVERSTRUCK.sub("", text)
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", " ", text)


# -- plain text in any encoding ------------------------------------------------------------


def plain_text(path: Path) -> Extraction:
    """Read a chunk at a time up to the item's budget of characters (`textfile.read_text`)."""
    read = read_text(path)
    text = codepages.mojibake_undone(read.text)
    out = Extraction(pages=[_clean(text)], metadata={"encoding": read.encoding})
    if text != read.text:
        out.metadata["text_reading"] = "Arabic decoded twice (UTF-8 read as Windows-1252), undone"
    if read.cut:
        out.flags.append(cut_flag("text", MAX_TEXT_CHARS))
    return out


def json_file(path: Path) -> Extraction:
    """JSON read as plain text with its `\\u` escapes decoded (`escapes.json_text`): an export
    that escapes every letter (Python's default, Facebook's data download) is searchable in
    the words it holds, not in `\\u0623\\u062d…`."""
    out = plain_text(path)
    out.pages = [escapes.json_text(p) for p in out.pages]
    return out


def _markup(path: Path, out: Extraction) -> tuple[str, str]:
    """Markup (HTML, RTF) read up to its budget; past it, flagged as cut."""
    read = read_text(path, MAX_MARKUP_CHARS)
    if read.cut:
        out.flags.append(cut_flag("markup", MAX_MARKUP_CHARS))
    return read.text, read.encoding


# -- PDF -------------------------------------------------------------------------------------


def pdf(path: Path) -> Extraction:
    """Each page's text layer in logical order (processing/pdftext.py), with pdfium's reading
    kept for a page where it reads better as Arabic; which reading and repair each page got
    is recorded (metadata "text_reading") for the derivation event."""
    import pymupdf
    import pypdfium2 as pdfium

    from amanah.processing import pdftext

    try:
        doc = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise Encrypted("PDF is password-protected") from exc
        raise
    out = Extraction()
    garbled: list[int] = []
    chosen: dict[str, list[int]] = {}
    drawn: dict[str, list[int]] = {}
    why: dict[str, list[str]] = {}
    repairs = {"lines reordered": 0, "lines kept as read": 0, "presentation forms": 0}
    try:
        meta = {k: v for k, v in doc.get_metadata_dict(skip_empty=True).items()}
        out.metadata = {"pages": len(doc), **{f"pdf_{k.lower()}": v for k, v in meta.items()}}
        layout = pymupdf.open(str(path))
        try:
            for i in range(len(doc)):
                text, engine = _pdf_page(doc, layout, i, pdftext, repairs, drawn, why)
                chosen.setdefault(engine, []).append(i + 1)
                if text.strip() and not readable(text):
                    garbled.append(i + 1)
                    text = ""
                out.pages.append(_clean(text))
                if not text.strip():
                    out.pages_without_text.append(i + 1)
        finally:
            layout.close()
    finally:
        doc.close()
    out.metadata["text_reading"] = {
        "pages by reader": {k: _ranges(v) for k, v in chosen.items()},
        "right-to-left lines drawn in": {k: _ranges(v) for k, v in drawn.items()},
        "repairs": repairs,
    }
    if why:  # pages (or lines) not read by the logical-order reader, and why: the examiner
        out.metadata["text_reading"]["not read in logical order"] = why
    if garbled:
        out.flags.append(
            {
                "code": "unreadable_text_layer",
                "message": f"the text layer of {len(garbled)} page(s) does not decode to text"
                f" (fonts without a Unicode map); pages {_ranges(garbled)} need OCR",
            }
        )
    return out


def _pdf_page(
    doc: Any,
    layout: Any,
    i: int,
    pdftext: Any,
    repairs: dict[str, int],
    drawn: dict[str, list[int]],
    why: dict[str, list[str]] | None = None,
) -> tuple[str, str]:
    """One page's text and the reader chosen: the rebuilt reading, unless the repair kept
    some right-to-left lines as MuPDF read them (or read nothing) and pdfium's reading reads
    better as Arabic (more words begin with the article than end with it reversed). `why`
    gets, by page, each reason a page or line was not read in logical order (never text)."""
    reasons: list[str] = []

    def pdfium_text() -> str:
        page = doc[i]
        textpage = page.get_textpage()
        text = textpage.get_text_bounded()
        textpage.close()
        page.close()
        return str(pdftext.scalar(str(text)))

    def chosen(text: str, engine: str) -> tuple[str, str]:
        if reasons and why is not None:
            why[f"page {i + 1}"] = reasons
        return text, engine

    try:
        read = pdftext.read_page(layout[i])
    except MemoryError:
        raise
    except Exception as exc:  # a page MuPDF cannot lay out: pdfium's reading is what there is
        reasons.append(f"the logical-order reader failed ({type(exc).__name__}): pdfium's reading")
        return chosen(pdfium_text(), "pdfium")
    reasons.extend(read.unread)
    repairs["lines reordered"] += read.rebuilt_lines
    repairs["lines kept as read"] += read.kept_lines
    repairs["presentation forms"] += read.presentation_forms
    if read.drawn_order:
        drawn.setdefault(read.drawn_order, []).append(i + 1)
    if read.text.strip() and not read.kept_lines:
        return chosen(read.text, pdftext.ENGINE)
    plain = pdfium_text()
    if not read.text.strip() and plain.strip():
        reasons.append("the logical-order reader read no text: pdfium's reading")
        return chosen(plain, "pdfium")
    if pdftext.has_rtl(plain) and pdftext.reads_arabic(plain) > pdftext.reads_arabic(read.text):
        reasons.append(
            f"{read.kept_lines} line(s) kept as MuPDF read them, and pdfium's reading reads"
            " better as Arabic: pdfium's reading"
        )
        return chosen(pdftext.letters(plain), "pdfium")
    return chosen(read.text, pdftext.ENGINE)


def _ranges(pages: list[int]) -> str:
    out: list[str] = []
    start = prev = pages[0]
    for p in [*pages[1:], None]:
        if p is not None and p == prev + 1:
            prev = p
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if p is not None:
            start = prev = p
    return ", ".join(out)


# -- Office Open XML -------------------------------------------------------------------------


def _core_properties(props: Any) -> dict[str, Any]:
    fields = ("author", "title", "subject", "created", "modified", "last_modified_by", "keywords")
    out = {}
    for name in fields:
        value = getattr(props, name, None)
        if value:
            out[name] = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return out


def docx(path: Path) -> Extraction:
    import docx as python_docx

    doc = python_docx.Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    return Extraction(
        pages=[_clean("\n".join(parts))], metadata=_core_properties(doc.core_properties)
    )


def xlsx(path: Path) -> Extraction:
    import openpyxl

    # openpyxl reads the shared strings whole, even in read-only mode: a few megabytes of zip
    # that unpack to gigabytes of strings would die at the sandbox's memory limit unread.
    with zipfile.ZipFile(path) if zipfile.is_zipfile(path) else contextlib.nullcontext() as z:
        for info in z.infolist() if z is not None else []:
            if info.filename.lower().endswith("sharedstrings.xml") and (
                info.file_size > XLSX_SHARED_STRINGS_LIMIT
            ):
                raise ValueError(
                    f"its shared strings unpack to {info.file_size:,} bytes, more than the"
                    f" {XLSX_SHARED_STRINGS_LIMIT:,} this reader takes"
                )
    # A file object, not a path: openpyxl refuses paths without an .xlsx ending (blobs have none).
    with path.open("rb") as f:
        wb = openpyxl.load_workbook(io.BytesIO(f.read()), read_only=True, data_only=True)
    out = Extraction(metadata=_core_properties(wb.properties))
    out.metadata["sheets"] = wb.sheetnames
    budget = SheetBudget(out.flags)
    for number, ws in enumerate(wb.worksheets, 1):
        budget.start(number)
        # Read-only mode stops at the extent a sheet claims (<dimension ref="A1:A1">): one
        # that understates it, carelessly or on purpose, would hide its other cells from
        # search. The sheet's own rows are read instead.
        ws.reset_dimensions()
        lines = []
        # openpyxl pads a row to the widest column any row uses: one cell far right makes
        # every row that wide, so the padding is what the budget counts.
        for row in ws.iter_rows(values_only=True):
            if (line := budget.line(row)) is None:
                break
            if line:
                lines.append(line)
        out.pages.append(_clean(f"{ws.title}\n" + "\n".join(lines)))
    wb.close()
    return out


def pptx(path: Path) -> Extraction:
    import pptx as python_pptx

    deck = python_pptx.Presentation(str(path))
    out = Extraction(metadata=_core_properties(deck.core_properties))
    for slide in deck.slides:
        texts = [
            shape.text_frame.text for shape in slide.shapes if getattr(shape, "has_text_frame", 0)
        ]
        out.pages.append(_clean("\n".join(texts)))
    return out


# -- OpenDocument ----------------------------------------------------------------------------

_ODF_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_ODF_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_ODF_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


def odf(path: Path) -> Extraction:
    with zipfile.ZipFile(path) as z:
        manifest = (
            z.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in z.namelist() else b""
        )
        if b"encryption-data" in manifest:
            raise Encrypted("OpenDocument file is password-protected")
        size = z.getinfo("content.xml").file_size
        if size > ODF_CONTENT_LIMIT:
            raise ValueError(
                f"its content.xml unpacks to {size:,} bytes, more than the"
                f" {ODF_CONTENT_LIMIT:,} this reader takes"
            )
        root = ElementTree.fromstring(z.read("content.xml"))
    out = Extraction()
    if root.find(f".//{{{_ODF_OFFICE}}}spreadsheet") is not None:
        budget = SheetBudget(out.flags)
        for number, t in enumerate(root.iter(f"{{{_ODF_TABLE}}}table"), 1):
            budget.start(number)
            lines = _ods_rows(t, budget)
            out.pages.append(_clean(t.get(f"{{{_ODF_TABLE}}}name", "") + "\n" + "\n".join(lines)))
        return out
    paragraphs = [
        _odf_text(el) for el in root.iter() if el.tag in (f"{{{_ODF_TEXT}}}p", f"{{{_ODF_TEXT}}}h")
    ]
    out.pages.append(_clean("\n".join(paragraphs)))
    return out


#: OpenDocument's elements that stand for characters: a manual line break (Shift+Enter), a
#: tab, runs of spaces. `itertext` drops them, gluing the words on either side
#: ("Ahmad<text:line-break/>al-Khatib" read "Ahmadal-Khatib").
_ODF_CHARACTERS = {
    f"{{{_ODF_TEXT}}}line-break": "\n",
    f"{{{_ODF_TEXT}}}tab": "\t",
    f"{{{_ODF_TEXT}}}s": " ",
}


def _odf_text(el: ElementTree.Element) -> str:
    """An ODF paragraph's text, its line breaks, tabs and spaces written as characters (with
    a stack, not recursion: a hostile file nests spans thousands deep)."""
    out: list[str] = []
    stack: list[tuple[ElementTree.Element, bool]] = [(el, False)]
    while stack:
        node, after = stack.pop()
        if after:
            if node.tail and node is not el:
                out.append(node.tail)
            continue
        if (char := _ODF_CHARACTERS.get(node.tag)) is not None:
            count = node.get(f"{{{_ODF_TEXT}}}c", "1") if char == " " else "1"
            out.append(char * (min(int(count), 100) if count.isdigit() else 1))
        elif node.text:
            out.append(node.text)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node))
    return "".join(out)


#: How many times one ODS cell or row is written out at most: a spreadsheet marks the unused
#: rest of a sheet as one empty cell "repeated" 16,384 times (or a row 1,048,576 times).
ODS_REPEAT_CAP = 1000
#: An OpenDocument file's content.xml is parsed whole; larger than this it is not read.
ODF_CONTENT_LIMIT = 512 << 20


def _repeat(el: ElementTree.Element, attr: str) -> int:
    try:
        return max(1, min(int(el.get(f"{{{_ODF_TABLE}}}{attr}", "1")), ODS_REPEAT_CAP))
    except ValueError:
        return 1


def _ods_rows(table: ElementTree.Element, budget: SheetBudget) -> list[str]:
    """A sheet's rows as tab-separated lines, cells where the spreadsheet shows them:
    repeated cells and rows are written out (a run of empty cells would otherwise shift the
    cells after it into the wrong column), covered cells of a merge kept as empty, a cell's
    paragraphs joined by a space. Empty cells and rows are written only when something
    follows them, so the unused rest of a sheet costs nothing; up to the budget."""
    cells_tags = (f"{{{_ODF_TABLE}}}table-cell", f"{{{_ODF_TABLE}}}covered-table-cell")
    lines: list[str] = []
    empty_rows = 0
    for row in table.iter(f"{{{_ODF_TABLE}}}table-row"):
        cells: list[str] = []
        empty_cells = 0
        for c in row:
            if c.tag not in cells_tags:
                continue
            paragraphs = [_odf_text(p) for p in c.iter(f"{{{_ODF_TEXT}}}p")]
            value = " ".join(paragraphs) if paragraphs else "".join(c.itertext())
            times = _repeat(c, "number-columns-repeated")
            if not value:
                empty_cells += times
                continue
            if not budget.take(empty_cells):
                break
            cells += [""] * empty_cells
            empty_cells = 0
            n = budget.fits(1, times, len(value))
            budget.take(1, n, len(value))
            cells += [value] * n
            if n < times:
                budget.take(1, times - n, len(value))  # past the budget: flags, stops the sheet
                break
        times = _repeat(row, "number-rows-repeated")
        if not cells:
            empty_rows += times
        else:
            line = "\t".join(cells)
            # Empty rows before it count a cell each; the row's first writing was counted cell
            # by cell, its repeats are counted here.
            if not budget.take(empty_rows):
                break
            lines += [""] * empty_rows + [line]
            empty_rows = 0
            n = budget.fits(len(cells), times - 1, len(line))
            budget.take(len(cells), n, len(line))
            lines += [line] * n
            if n < times - 1:
                budget.take(len(cells), times - 1 - n, len(line))
                break
        if budget.cut:
            break
    return lines


# -- legacy binary Office ----------------------------------------------------------------------


def run_tool(cmd: list[str], *, output_despite_errors: bool = False, timeout: int = 120) -> bytes:
    """Run an external reader; its failure becomes a ValueError naming the tool and why.

    Some readers (ExifTool) exit non-zero on minor problems yet print what they read:
    `output_despite_errors` keeps that output. Only the readers the cage lets a child execute
    may run (`cage.TOOLS`), so a reader missing from that list fails here on every machine,
    not only where the kernel has Landlock.
    """
    from amanah.processing.cage import TOOLS

    if cmd[0] not in TOOLS:
        raise ValueError(f"{cmd[0]} is not among the readers the sandbox may run")
    proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    if proc.returncode != 0 and not (output_despite_errors and proc.stdout):
        err = proc.stderr.decode("utf-8", "replace").strip()[:300]
        raise ValueError(f"{cmd[0]} could not read it: {err or f'exit {proc.returncode}'}")
    return proc.stdout


def _text_of(cmd: list[str], path: Path) -> str:
    return run_tool([*cmd, str(path)]).decode("utf-8", "replace")


def doc(path: Path) -> Extraction:
    try:
        text = _text_of(["antiword", "-w", "0", "-m", "UTF-8.txt"], path)
    except (ValueError, FileNotFoundError):
        text = _text_of(["catdoc", "-d", "utf-8", "-w"], path)
    return Extraction(pages=[_clean(text)])


def xls(path: Path) -> Extraction:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True, ragged_rows=True)
    except xlrd.XLRDError as exc:
        if "encrypt" in str(exc).lower():
            raise Encrypted("spreadsheet is password-protected") from exc
        raise
    out = Extraction(metadata={"sheets": book.sheet_names()})
    budget = SheetBudget(out.flags)
    try:
        for number in range(book.nsheets):
            if budget.spent():  # one flag for every sheet left, however many it claims
                out.flags.append(budget.rest_not_read(number + 1, book.nsheets))
                break
            # One sheet in memory at a time; rows as stored, not padded to the widest (a
            # crafted sheet claims 65,536 rows of 256 columns in a few records).
            sheet = book.sheet_by_index(number)
            budget.start(number + 1)
            lines = []
            for r in range(sheet.nrows):
                if (line := budget.line(sheet.row_values(r))) is None:
                    break
                lines.append(line)
            out.pages.append(_clean(sheet.name + "\n" + "\n".join(lines)))
            book.unload_sheet(number)
    finally:
        book.release_resources()
    return out


def ppt(path: Path) -> Extraction:
    text = _text_of(["catppt", "-d", "utf-8"], path)
    return Extraction(pages=[_clean(p) for p in text.split("\f")] or [""])


def rtf(path: Path) -> Extraction:
    from striprtf.striprtf import rtf_to_text

    out = Extraction()
    raw, _ = _markup(path, out)
    out.pages.append(_clean(rtf_to_text(raw, errors="ignore")))
    return out


# -- HTML and XML: visible text only -----------------------------------------------------------


def html_text(markup: str) -> tuple[str, str]:
    """Visible text and title; scripts, styles and templates are dropped, never run."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(markup)
    title = tree.css_first("title")
    title_text = title.text(strip=True) if title else ""
    for node in tree.css("script, style, noscript, template, head"):
        node.decompose()
    body = tree.body or tree.root
    if body is None:
        return "", title_text
    # Blocks (paragraphs, cells, line breaks) part lines; inline elements (a bold letter,
    # a link, a span with a long attribute) continue the word they are in, as a browser
    # shows them: "Ah<b>mad</b>" is one word.
    for node in body.css(_BLOCKS):
        node.insert_before("\n")
        node.insert_after("\n")
    text = re.sub(r"\n\s*\n+", "\n\n", body.text(separator=""))
    return text.strip(), title_text


#: The HTML elements a browser draws as blocks or breaks (each on its own line).
_BLOCKS = (
    "address, article, aside, blockquote, br, caption, dd, details, dialog, div, dl, dt,"
    " fieldset, figcaption, figure, footer, form, h1, h2, h3, h4, h5, h6, header, hr, li,"
    " main, nav, ol, p, pre, section, summary, table, tbody, td, tfoot, th, thead, tr, ul,"
    " option, legend, button, label, img, input, select, textarea, iframe, object, video,"
    " center, menu, dir, hgroup, search, rt, rp, text"
)


def html(path: Path) -> Extraction:
    out = Extraction()
    markup, encoding = _markup(path, out)
    text, title = html_text(markup)
    out.metadata["encoding"] = encoding
    if title:
        out.metadata["title"] = title
    out.pages.append(_clean(text))
    return out


EXTRACTORS: dict[str, Callable[[Path], Extraction]] = {
    "application/pdf": pdf,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": docx,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": xlsx,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": pptx,
    "application/vnd.oasis.opendocument.text": odf,
    "application/vnd.oasis.opendocument.spreadsheet": odf,
    "application/vnd.oasis.opendocument.presentation": odf,
    "application/msword": doc,
    "application/vnd.ms-excel": xls,
    "application/vnd.ms-powerpoint": ppt,
    "text/rtf": rtf,
    "application/rtf": rtf,
    "text/html": html,
    "application/xhtml+xml": html,
    "image/svg+xml": html,
}
