"""An item's text shaped for reading: pages with their lines, languages and directions, tables
as rows and cells, an email as headers and body.

Everything here is plain data for the item page's template, which escapes every value; nothing
is parsed from the original bytes (those are only read in the processing cage): the shapes come
from the text derivative, whose pages are separated by form feeds and whose lines are kept.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from amanah.search import snippets

#: Pages shown at once; the rest are a link away, so a 500-page document's page stays small.
PAGES_SHOWN = 20
#: Characters of one page shown (a plain text file is one page, and may be very long).
PAGE_CHARS = 100_000
#: Rows and columns of a table shown on the page; the original and the API have all of them.
TABLE_ROWS = 200
TABLE_COLUMNS = 40
CELL_CHARS = 500
#: Controls that could steer the display, blanked (bidi controls are shown by `reveal`).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SCRIPTS = (
    ("arabic", re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")),
    ("cyrillic", re.compile("[\u0400-\u04ff]")),
    ("latin", re.compile("[A-Za-z\u00c0-\u024f]")),
)
#: The script each language the processing detects is written in; the default language of a
#: script when the item's own languages say nothing of it.
SCRIPT_OF = {
    "ar": "arabic",
    "fa": "arabic",
    "ckb": "arabic",
    "ru": "cyrillic",
    "en": "latin",
    "fr": "latin",
    "de": "latin",
    "tr": "latin",
    "kmr": "latin",
}
_RTL_SCRIPTS = {"arabic"}


@dataclass
class Page:
    """One page as the reader sees it: numbered lines, each a list of (piece, highlighted)."""

    number: int
    lines: list[list[tuple[str, bool]]]
    languages: list[str]  # language codes, most of the page first; empty when unknown
    direction: str  # rtl or ltr, from the page's main script
    source: str  # "text" (read from the file) or "ocr" (read from a picture of the page)
    confidence: float | None = None  # OCR's mean word confidence, 0 to 100
    image: int | None = None  # the page image derivative's id
    clipped: bool = False


@dataclass
class Reading:
    """The pages of an item shown in this view, and where they sit among all of them."""

    pages: list[Page] = field(default_factory=list)
    total: int = 0
    first: int = 1  # number of the first page shown

    @property
    def last(self) -> int:
        return self.first + len(self.pages) - 1 if self.pages else 0


def _clean(line: str) -> str:
    return _CONTROLS.sub(" ", line)


def _scripts(text: str) -> list[tuple[str, int]]:
    counts = [(name, len(pattern.findall(text))) for name, pattern in _SCRIPTS]
    return sorted(((n, c) for n, c in counts if c), key=lambda nc: -nc[1])


def page_languages(text: str, item_languages: list[str]) -> tuple[list[str], str]:
    """The languages of one page (each script with a fifth of its letters or more, named by the
    item's detected language in that script) and the page's direction."""
    found = _scripts(text[:20_000])
    total = sum(c for _, c in found)
    if not total:
        return [], "ltr"
    langs = []
    for script, count in found:
        if count / total < 0.2:
            continue
        code = next((lang for lang in item_languages if SCRIPT_OF.get(lang) == script), None)
        if code is None:
            code = {"arabic": "ar", "cyrillic": "ru"}.get(script)
        if code and code not in langs:
            langs.append(code)
    return langs, "rtl" if found[0][0] in _RTL_SCRIPTS else "ltr"


def _ocr_confidence(derivatives: list[dict[str, Any]]) -> dict[int, float | None]:
    ocr = next((d for d in derivatives if d["kind"] == "ocr"), None)
    pages = (ocr or {}).get("pages")
    if not isinstance(pages, list):
        return {}
    return {p["page"]: p.get("confidence") for p in pages if isinstance(p, dict) and "page" in p}


def pages(
    texts: dict[str, str],
    derivatives: list[dict[str, Any]],
    item_languages: list[str],
    first: int = 1,
    query: str = "",
) -> Reading:
    """Pages `first` … `first + PAGES_SHOWN - 1` of the item's text: each page as the file
    said it, or as OCR read it where the file has no text there (a scanned page, a photo)."""
    text_pages = texts["text"].split("\f") if texts.get("text") else []
    ocr_pages = texts["ocr"].split("\f") if texts.get("ocr") else []
    total = max(len(text_pages), len(ocr_pages))
    if not total:
        return Reading()
    first = min(max(1, first), total)
    confidence = _ocr_confidence(derivatives)
    images = {d["page"]: d["id"] for d in derivatives if d["kind"] == "page_image"}
    out = Reading(total=total, first=first)
    for n in range(first, min(total, first + PAGES_SHOWN - 1) + 1):
        said = text_pages[n - 1] if n <= len(text_pages) else ""
        read = ocr_pages[n - 1] if n <= len(ocr_pages) else ""
        source, body = ("text", said) if said.strip() or not read.strip() else ("ocr", read)
        clipped = len(body) > PAGE_CHARS
        body = _clean(body[:PAGE_CHARS].strip("\n"))
        langs, direction = page_languages(body, item_languages)
        lines = []
        for line in body.split("\n"):
            marks = snippets.marks(line, query) if query and line.strip() else []
            lines.append(snippets.segments(line, marks))
        out.pages.append(
            Page(
                number=n,
                lines=lines,
                languages=langs,
                direction=direction,
                source=source,
                confidence=confidence.get(n) if source == "ocr" else None,
                image=images.get(n),
                clipped=clipped,
            )
        )
    return out


# --- tables ---------------------------------------------------------------------------------

TABLE_TYPES = {
    "text/csv": ",",
    "application/csv": ",",
    "text/tab-separated-values": "\t",
}
#: Workbooks whose text derivative holds one sheet a page (its name, then tab-separated rows).
SHEET_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel.sheet.macroenabled.12",
    "application/vnd.ms-excel",
    "application/vnd.oasis.opendocument.spreadsheet",
}


@dataclass
class Table:
    """One table: a sheet of a workbook or a delimited text file, its first rows."""

    name: str
    rows: list[list[str]]
    total_rows: int
    clipped_columns: bool = False


def is_table(media_type: str, path: str) -> bool:
    """A delimited text (by its type, or a plain text file named .csv/.tsv) or a workbook."""
    if media_type in TABLE_TYPES or media_type in SHEET_TYPES:
        return True
    return media_type == "text/plain" and path.lower().endswith((".csv", ".tsv"))


def _cells(row: list[str]) -> tuple[list[str], bool]:
    cells = [_clean(c[:CELL_CHARS]) for c in row[:TABLE_COLUMNS]]
    return cells, len(row) > TABLE_COLUMNS


def tables(text: str, media_type: str, path: str) -> list[Table]:
    """The tables of the item's text: one for a delimited file, one per sheet of a workbook
    (the text derivative writes each sheet as a page: its name, then tab-separated rows)."""
    if media_type in SHEET_TYPES:
        out = []
        for page in text.split("\f"):
            name, _, body = page.partition("\n")
            rows = [line.split("\t") for line in body.split("\n") if line.strip()]
            out.append(_table(name, rows, len(rows)))
        return out
    delimiter = TABLE_TYPES.get(media_type) or ("\t" if path.lower().endswith(".tsv") else None)
    sample = text[:8192]
    dialect: Any = csv.excel
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        if delimiter == "\t":
            dialect = csv.excel_tab
    rows: list[list[str]] = []
    count = 0
    try:
        for row in csv.reader(io.StringIO(text), dialect):
            count += 1
            if len(rows) < TABLE_ROWS:
                rows.append(row)
    except csv.Error:  # a malformed file: the rows read so far; the original has them all
        pass
    return [_table("", rows, count)]


def _table(name: str, rows: list[list[str]], total: int) -> Table:
    shown, wide = [], False
    for row in rows[:TABLE_ROWS]:
        cells, more = _cells(row)
        wide = wide or more
        shown.append(cells)
    return Table(name=_clean(name), rows=shown, total_rows=total, clipped_columns=wide)


# --- email ----------------------------------------------------------------------------------

EMAIL_TYPES = {"message/rfc822", "application/vnd.ms-outlook", "emlx"}
#: The headers shown, in order, from the item's metadata (as processing read them).
EMAIL_HEADERS = ("from", "to", "cc", "date", "subject")


@dataclass
class Email:
    headers: list[tuple[str, str]]  # (header key, value)
    body: list[list[tuple[str, bool]]]


def email(metadata: dict[str, Any], text: str, query: str = "") -> Email:
    """An email's headers from its metadata, and its body: the text after the header block
    that extraction wrote before it."""
    headers = [
        (key, _clean(str(metadata[f"email_{key}"])))
        for key in EMAIL_HEADERS
        if metadata.get(f"email_{key}")
    ]
    first = text.split("\f")[0]
    head, sep, body = first.partition("\n\n")
    if not sep or not re.match(r"^[A-Za-z-]+: ", head):
        body = first
    body = _clean(body[:PAGE_CHARS].strip("\n"))
    lines = [
        snippets.segments(line, snippets.marks(line, query) if query and line.strip() else [])
        for line in body.split("\n")
    ]
    return Email(headers=headers, body=lines)
