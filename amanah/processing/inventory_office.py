"""The content inventory of Office Open XML (DOCX, XLSX, PPTX) and OpenDocument packages:
every part of the zip, by place."""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
from collections import deque
from pathlib import Path
from typing import Any

from amanah.processing import ocr, sheet_display
from amanah.processing.base64_pictures import kind as base64_kind
from amanah.processing.inventory import (
    ATTRIBUTE_PLACE,
    MAX_PART_BYTES,
    Inventory,
    base64_pictures,
    embedded_pictures,
    nested,
    not_memory,
    ocr_dir,
)

OOXML = "application/vnd.openxmlformats-officedocument."
ODF = "application/vnd.oasis.opendocument."
#: (part name pattern, place), first match wins.
_PACKAGE_PLACES = [
    (r"word/document\d*\.xml$", "the DOCX body"),
    (r"word/header\d*\.xml$", "a DOCX header"),
    (r"word/footer\d*\.xml$", "a DOCX footer"),
    (r"word/footnotes\.xml$", "a DOCX footnote"),
    (r"word/endnotes\.xml$", "a DOCX endnote"),
    (r"word/comments\w*\.xml$", "a DOCX comment"),
    (r"word/people\.xml$", "the DOCX list of reviewers"),
    (r"word/settings\.xml$", "the DOCX settings (document variables)"),
    (r"word/glossary/", "the DOCX glossary"),
    (r"docProps/", "the document properties"),
    (r"xl/sharedStrings\.xml$", "an XLSX cell"),
    (r"xl/comments\d*\.xml$", "an XLSX cell comment"),
    (r"xl/threadedComments/", "an XLSX cell comment"),
    (r"xl/persons/", "the XLSX list of commenters"),
    (r"xl/workbook\.xml$", "the XLSX workbook (sheet and defined names)"),
    (r"xl/worksheets/", "an XLSX sheet"),
    (r"ppt/slides/slide\d+\.xml$", "a PPTX slide"),
    (r"ppt/notesSlides/", "PPTX speaker notes"),
    (r"ppt/comments/|ppt/commentAuthors", "a PPTX comment"),
    (r"ppt/(slideMasters|slideLayouts|notesMasters|handoutMasters)/", "a PPTX master or layout"),
    (r"(^|/)content\.xml$", "the document body"),
    (r"(^|/)styles\.xml$", "a header, footer or style of the document"),
    (r"(^|/)meta\.xml$", "the document properties"),
    (r"(^|/)settings\.xml$", "the document settings"),
]
#: Elements whose text is a place of its own wherever they appear (by local name).
_ELEMENT_PLACES = {
    "del": "a tracked deletion",
    "delText": "a tracked deletion",
    "moveFrom": "a tracked move",
    "ins": "a tracked insertion",
    "txbxContent": "a text box",
    "text-box": "a text box",
    "tbl": "a table",
    "grpSp": "a grouped shape",
    "annotation": "a comment",
    "note": "a footnote or endnote",
    "tracked-changes": "a tracked change",
    "docPr": "an image's alternative text",
    "cNvPr": "a shape's name or alternative text",
    "docVar": "a document variable",
    # Word shows an mc:AlternateContent's Choice; its Fallback is another copy of the same
    # words (read, but apart: glued into the sentence it doubled letters, "al-KhKhatib").
    "Fallback": "the fallback of alternate content",
    # A complex field's instructions (` QUOTE "hatib" `): its result is the running text.
    "instrText": "a field's instructions",
    "delInstrText": "a field's instructions",
}
#: A ruby annotation (Word's w:rt, ODF's text:ruby-text): shown above its base, not inside
#: the word; read as hidden so that the place as shown has the base letters alone.
_RUBY_TEXT = {"rt", "ruby-text"}
#: Attributes that hold words (alt text, titles, authors, names, link targets).
_ATTRS = {"descr", "title", "author", "name", "Target", "alt", "val", "string-value", "href"}
#: Attributes a program shows as words (a link's or a shape's tooltip, alt text, a title, a
#: name, a validation's prompt): read whatever their value looks like (an all-lowercase
#: address is a name too).
TOOLTIPS = frozenset(
    {"tooltip", "tooltipText", "descr", "title", "alt", "name", "display", "prompt",
     "promptTitle", "error", "errorTitle", "screenTip", "tgtFrame", "author"}
)  # fmt: skip
_PARAGRAPHS = {"p", "h", "si", "definedName", "comment", "c", "row", "table-row"}
#: Elements whose text continues the word before it: a run's text (DOCX, PPTX, XLSX rich
#: text), a tracked deletion's, an ODF span or link. A name set in two runs ("Ah" bold,
#: "mad al-Khatib") is one word to its reader.
_GLUED = {"t", "delText", "span", "a"}
#: Elements that stand for white space between words: tabs, line breaks, ODF's spaces.
_SPACES = {"tab", "br", "cr", "s", "line-break", "ptab"}
_GLUE = "\x00"
_HIDDEN = "\x01"  # a piece its reader does not see (Word's vanish, ODF's display none)
#: Places whose text is also read where it stands, inline: a tracked insertion is part of
#: the sentence its reader reads ("Ahmad al-" + inserted "Khatib").
_INLINE_PLACES = {"ins", "moveTo"}


def read(inv: Inventory, path: Path, media_type: str, work: Path, lang: str, d: int) -> None:
    """Every part of the zip: XML parts as text by place, images OCR'd, embedded objects
    read as their own format, any other part's strings."""
    from xml.etree.ElementTree import ParseError  # what defusedxml raises on broken XML

    with zipfile.ZipFile(path) as z:
        names = [i for i in z.infolist() if not i.is_dir()]
        shared: list[str] = []
        if "xl/sharedStrings.xml" in z.namelist():
            shared = _shared_strings(z.read("xl/sharedStrings.xml"))
        hidden = _hidden_sheets(z) if media_type.startswith(OOXML + "spreadsheet") else set()
        formats = _number_formats(inv, z)
        cf_formats = _conditional_formats(inv, z)
        used: set[int] = set()
        for info in names:
            name = info.filename
            if info.file_size > MAX_PART_BYTES:
                inv.incomplete(f"past an unpack limit: part {name} is {info.file_size:,} bytes")
                continue
            data = z.read(info)
            lower = name.lower()
            picture = lower.endswith(_IMAGE_SUFFIXES) or base64_kind(data) is not None
            own_format = lower.endswith(_CHUNK_SUFFIXES + _METAFILE_SUFFIXES) or (
                "embeddings/" in name or "oleobject" in lower or "/embedded" in lower
            )  # read below as a file of its own (which reads its base64 pictures), or not text
            if not picture and not own_format:  # XML, text, binary: pictures in base64
                base64_pictures(inv, data, work, lang, d, name)
            if name == "xl/sharedStrings.xml":
                continue  # read through the sheets that use them, the rest below
            if name.startswith("xl/worksheets/") and lower.endswith(".xml"):
                place = "a hidden XLSX sheet" if name in hidden else "an XLSX sheet"
                attributes: list[str] = []
                conditional = cf_formats if b"conditionalFormatting" in data else []
                display = Display(formats, conditional)
                text, cut = _sheet_text(data, shared, used, attributes, display)
                inv.add(place, _excel_shows(text), name)  # inline strings' escapes too
                inv.add(f"{place}, as a spreadsheet program shows it (formulas computed,"
                        " number formats applied)", display.text(data, shared), name)  # fmt: skip
                cut = cut or display.cut
                inv.add(f"{ATTRIBUTE_PLACE} in {place}", "\n".join(attributes), name)
                if cut:
                    inv.incomplete(
                        f"past an unpack limit: sheet {name} has more than"
                        f" {SHEET_TEXT_CHARS:,} characters"
                    )
            elif lower.endswith(_CHUNK_SUFFIXES) and not name.startswith("[Content_Types]"):
                # A document imported whole (DOCX altChunk: MHT, HTML, RTF, text, another
                # DOCX): Word shows it as the body, encoded as its own format (base64,
                # quoted-printable, RTF escapes), so it is read as that format.
                nested(inv, data, name.rsplit("/", 1)[-1], "a document imported into the document",
                       name, work, lang, d)  # fmt: skip
            elif _SLIDE.match(name):
                _slide(inv, data, name)
            elif lower.endswith(".rels"):
                inv.add("a link of the document", _external_links(data), name)
            elif lower.endswith((".xml", ".vml")) or data[:64].lstrip().startswith(b"<"):
                base = next(
                    (pl for pat, pl in _PACKAGE_PLACES if re.search(pat, name)),
                    "an XML part of the document",
                )
                try:
                    for place, text in _xml_places(data, base).items():
                        inv.add(place, text, name)
                except ParseError:  # empty or broken XML: its readable strings still count
                    inv.add(base, _strings(data), name)
            elif picture:
                _ocr_part(inv, data, name, work, lang)  # a picture by its bytes, any name
            elif lower.endswith(_METAFILE_SUFFIXES) or _metafile(data):
                # A Windows metafile (a pasted chart, an equation, a scan wrapped as EMF): no
                # reader here draws one, so its pictures and outlines are not read; its text
                # records are (UTF-16 strings).
                inv.add("a binary part of the document", _strings(data), name)
                inv.incomplete(f"a picture in a format not read ({_metafile(data) or 'EMF/WMF'}):"
                               f" {name}")  # fmt: skip
            elif "embeddings/" in name or "oleobject" in lower or "/embedded" in lower:
                nested(inv, data, name.rsplit("/", 1)[-1], "an object embedded in the document",
                        name, work, lang, d)  # fmt: skip
            else:
                inv.add("a binary part of the document", _strings(data), name)
        unused = [s for i, s in enumerate(shared) if i not in used]
        inv.add("an XLSX cell no sheet shows", "\n".join(unused), "xl/sharedStrings.xml")


#: Parts that are documents of their own format (what an altChunk imports, and the like).
_CHUNK_SUFFIXES = (".mht", ".mhtml", ".htm", ".html", ".xhtml", ".rtf", ".txt", ".eml", ".docx",
                   ".docm", ".dotx", ".pdf")  # fmt: skip


#: Pictures by name; a picture's first bytes (PNG, JPEG, GIF, BMP, TIFF, WebP: `base64_kind`)
#: tell one stored as `image1.dat` with an image content type, shown as the picture it is.
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")
#: Windows metafiles (EMF, WMF, and compressed): pictures no reader here draws.
_METAFILE_SUFFIXES = (".emf", ".wmf", ".emz", ".wmz")


def _metafile(data: bytes) -> str | None:
    """Which Windows metafile `data` is by its first bytes (EMF, WMF), if it is one."""
    if data[:4] == b"\x01\x00\x00\x00" and data[40:44] == b" EMF":
        return "EMF"
    if data[:4] == b"\xd7\xcd\xc6\x9a" or data[:6] in (
        b"\x01\x00\x09\x00\x00\x03",
        b"\x02\x00\x09\x00\x00\x03",
    ):
        return "WMF"  # placeable, or a standard header (in memory or on disk, version 3)
    return None


def _ocr_part(inv: Inventory, data: bytes, name: str, work: Path, lang: str) -> None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width < 24 or im.height < 8:
                return
            found = ocr.ocr_image(im.copy(), 1, ocr_dir(work), lang)
    except Exception as exc:
        not_memory(exc)
        inv.incomplete(f"OCR failed on an image in the document ({name}): {type(exc).__name__}")
        return
    inv.add("OCR of an image in the document", found.text, name)
    if found.lines_missed:
        inv.incomplete(f"OCR left lines unread: rows of ink of an image in the document ({name})")
    embedded_pictures(inv, data, True, work, lang, name)


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _xml_places(data: bytes, base: str) -> dict[str, str]:
    """The text of one XML part in document order, split by place: text inside a tracked
    deletion, a text box, a table … goes to that place ("a text box in a DOCX header")."""
    from defusedxml.ElementTree import iterparse

    out: dict[str, list[str]] = {}
    # Per open element: [element, its place, its own text read, its last child ended, the
    # place around it when it opens an inline place of its own (a tracked insertion: read
    # there too, where its reader reads it), whether its text is hidden]. A
    # parent's text before a child is known when the child starts, a child's tail when the
    # next one starts or the parent ends: each is read then, so the order is the document's.
    frames: list[list[Any]] = []

    hidden_styles: set[str] = set()
    words: dict[str, list[str]] = {}  # attribute values that hold words (alt text, authors)

    def flush(frame: list[Any]) -> None:
        el, here, taken, last, _, hidden = frame
        local = _local(el.tag)
        bucket = _Both(out, here, frame[4]) if frame[4] else out.setdefault(here, [])
        mark = _HIDDEN if hidden else ""
        if not taken:
            frame[2] = True
            if el.text and (el.text.strip() or local in _GLUED):
                bucket.append(mark + (_GLUE + el.text if local in _GLUED else el.text))
        if last is not None:
            frame[3] = None
            glue = local in _GLUED or local in ("p", "h")
            if last.tail and (last.tail.strip() or glue):
                bucket.append(mark + (_GLUE + last.tail if glue else last.tail))
            last.clear()  # read whole: its text, attributes and tail are let go

    for event, el in iterparse(io.BytesIO(data), events=("start", "end")):
        local = _local(el.tag)
        if event == "start":
            if frames:
                flush(frames[-1])
            here = frames[-1][1] if frames else base
            if local in _ELEMENT_PLACES:
                here = f"{_ELEMENT_PLACES[local]} in {base}"
            around = None
            if frames:
                if here == frames[-1][1]:
                    around = frames[-1][4]
                elif local in _INLINE_PLACES:
                    around = frames[-1][1]
            hidden = bool(frames) and frames[-1][5]
            if local in _RUBY_TEXT and frames and _local(frames[-1][0].tag) == "ruby":
                hidden = True
            if local in ("vanish", "specVanish") and _on(el) and len(frames) >= 2:
                if _local(frames[-2][0].tag) == "r":  # a run's, not a paragraph mark's
                    frames[-2][5] = True
            elif local == "text-properties" and _attr(el, "display") == "none" and frames:
                hidden_styles.add(_attr(frames[-1][0], "name") or "")
            elif hidden_styles and _attr(el, "style-name") in hidden_styles:
                hidden = True
            frames.append([el, here, False, None, around, hidden])
            continue
        frame = frames.pop()
        flush(frame)
        here = frame[1]
        bucket = _Both(out, here, frame[4]) if frame[4] else out.setdefault(here, [])
        if local in _SPACES:
            bucket.append(" ")
        elif local == "sym" and (char := _attr(el, "char")):
            with contextlib.suppress(ValueError):  # a symbol font's code (F0xx) is its ASCII
                code = int(char, 16)
                code = code - 0xF000 if 0xF020 <= code <= 0xF0FF else code
                if 0x20 <= code < 0x110000 and not 0xD800 <= code < 0xE000:
                    bucket.append(_GLUE + chr(code))
        for k, v in el.attrib.items():
            if _local(k) == "formula" and sheet_display.makes_text(v):  # an ODF cell's
                computed = sheet_display.computed(re.sub(r"^[a-z]+:", "", v))
                out.setdefault(f"{here}, its formulas computed", []).append(computed + "\n")
            if (
                (_local(k) in _ATTRS or _local(k) in TOOLTIPS)
                and v.strip()
                and not (_local(k) == "val" and local != "docVar")
            ):
                words.setdefault(here, []).append(v)  # apart: not inside the running text
            elif holds_words(v):  # a number format, a tooltip, a validation message …
                out.setdefault(f"{ATTRIBUTE_PLACE} in {here}", []).append(v + "\n")
        if local in _PARAGRAPHS:
            bucket.append("\n")
        if frames:
            frames[-1][3] = el  # its tail (perhaps not parsed yet) is read with its parent
        del el[:]  # its children are read: dropped (not `clear`, which would drop its tail)
    for k, v in words.items():  # after the place's text, each on a line of its own
        out.setdefault(k, []).extend(f"\n{w}\n" for w in v)
    places = {k: re.sub(r"\n\s*\n+", "\n", _joined(v)).strip() for k, v in out.items()}
    for k, v in out.items():  # hidden text between letters: the place as shown, read too
        if any(p.startswith(_HIDDEN) for p in v):
            places[f"{k}, as shown (hidden text left out)"] = re.sub(
                r"\n\s*\n+", "\n", _joined(v, shown=True)
            ).strip()
    return places


def _on(el: Any) -> bool:
    """A toggle property (`<w:vanish/>`, `<w:vanish w:val="true"/>`) that is on."""
    return (_attr(el, "val") or "true").lower() not in ("0", "false", "off")


def _attr(el: Any, name: str) -> str | None:
    for k, v in el.attrib.items():
        if _local(k) == name:
            return str(v)
    return None


class _Both:
    """Appends to a place and, for an inline place, to the place around it as well."""

    def __init__(self, out: dict[str, list[str]], here: str, around: str | None) -> None:
        self.lists = [out.setdefault(here, [])]
        if around is not None:
            self.lists.append(out.setdefault(around, []))

    def append(self, piece: str) -> None:
        for pieces in self.lists:
            pieces.append(piece)


def _joined(pieces: list[str], shown: bool = False) -> str:
    """The pieces of one place as its reader reads them: a glued piece (`_GLUE`) continues
    the one before it, any other is a word apart; `shown`: without hidden pieces (`_HIDDEN`:
    a run Word hides, an ODF span of a hidden style), as the reader sees the place."""
    out = []
    for p in pieces:
        if p.startswith(_HIDDEN):
            if shown:
                continue
            p = p[1:]
        out.append(p[1:] if p.startswith(_GLUE) else f" {p}")
    return "".join(out)


def xml_text(data: bytes) -> str:
    try:
        return "\n".join(t for t in _xml_places(data, "x").values())
    except Exception:
        from amanah.processing.extract import decode_text

        return decode_text(data)[0]


def _external_links(data: bytes) -> str:
    """Targets of relationships that point outside the package (hyperlinks, e-mail)."""
    from defusedxml.ElementTree import fromstring

    return "\n".join(
        r.get("Target", "") for r in fromstring(data) if r.get("TargetMode") == "External"
    )


def _shared_strings(data: bytes) -> list[str]:
    from defusedxml.ElementTree import fromstring

    root = fromstring(data)
    return [_excel_shows("".join(si.itertext())) for si in root if _local(si.tag) == "si"]


def _excel_shows(text: str) -> str:
    """A string with OOXML's `_x0041_` escapes decoded, as Excel shows it (`_x005F_` is how
    Excel writes an underscore that begins one, so `_x005F_x0041_` stays `_x0041_`)."""
    from amanah.text.markupread import ooxml_unescaped

    return ooxml_unescaped(text) or text


_SLIDE = re.compile(r"ppt/(?:slides|notesSlides|slideLayouts|slideMasters)/[^/]+\.xml$")


def _slide(inv: Inventory, data: bytes, name: str) -> None:
    """A slide's places (as every XML part), and its text boxes read as laid out: boxes
    written in one order may stand in another ("ad al-Khatib" written first, placed after
    "Ahm")."""
    from xml.etree.ElementTree import ParseError

    from defusedxml.ElementTree import fromstring

    from amanah.processing import pdftext

    base = next((pl for pat, pl in _PACKAGE_PLACES if re.search(pat, name)), "a PPTX slide")
    try:
        for place, text in _xml_places(data, base).items():
            inv.add(place, text, name)
        root = fromstring(data)
    except ParseError:
        inv.add(base, _strings(data), name)
        return
    pieces = []
    for shape in root.iter():
        if _local(shape.tag) != "sp":
            continue
        off = ext = None
        paragraphs: list[str] = []
        for el in shape.iter():
            local = _local(el.tag)
            if local == "off" and off is None:
                off = el
            elif local == "ext" and ext is None and el.get("cx") is not None:
                ext = el
            elif local == "p" and el.tag.startswith("{http://schemas.openxmlformats.org/drawingml"):
                paragraphs.append("".join(t.text or "" for t in el.iter() if _local(t.tag) == "t"))
        text = " ".join(p for p in paragraphs if p.strip())
        if off is None or ext is None or not text:
            continue
        try:
            x, y = float(off.get("x") or 0), float(off.get("y") or 0)
            box = (x, y, x + float(ext.get("cx") or 0), y + float(ext.get("cy") or 0))
        except ValueError:
            continue
        pieces.append((box, text))
    if len(pieces) > 1:
        inv.add(f"{base}, its text boxes as laid out", pdftext.read_as_laid_out(pieces), name)


def _conditional_formats(inv: Inventory, z: zipfile.ZipFile) -> list[str]:
    from xml.etree.ElementTree import ParseError

    if "xl/styles.xml" not in z.namelist():
        return []
    try:
        return sheet_display.conditional_formats(z.read("xl/styles.xml"))
    except (ParseError, ValueError):
        return []  # said by `_number_formats`


def _number_formats(inv: Inventory, z: zipfile.ZipFile) -> dict[int, str]:
    from xml.etree.ElementTree import ParseError

    if "xl/styles.xml" not in z.namelist():
        return {}
    try:
        return sheet_display.number_formats(z.read("xl/styles.xml"))
    except (ParseError, ValueError) as exc:
        inv.incomplete(f"the number formats of the workbook could not be read: {exc}")
        return {}


class Display:
    """A sheet's cells as a spreadsheet program shows them where that differs from what
    they store (`sheet_display`): rows of formulas computed and values formatted.

    A formula's cells are looked up as the sheet is read: in its own row and the last
    `WINDOW` rows, or when a later row holds them; only cells further back are read in a
    second pass over the sheet."""

    WINDOW = 64

    def __init__(self, formats: dict[int, str], conditional: list[str] | None = None) -> None:
        self._formats = formats
        self._conditional = conditional or []  # read through each too (`conditional_formats`)
        self._row: list[str | tuple[str, str]] = []
        self._changed = False
        self.rows: list[list[str | tuple[str, str]]] = []
        self._recent: deque[dict[str, str]] = deque([{}], maxlen=self.WINDOW + 1)
        self._values: dict[str, str] = {}
        self._formulas: dict[str, str] = {}
        self._pending: set[str] = set()  # named by a formula, not yet read
        self._missing: set[str] = set()  # named by a formula, passed before it
        self._size = 0
        self.cut = False  # past SHEET_TEXT_CHARS: the rows after are not shown

    def cell(self, ref: str | None, value: str, kind: str, style: str | None,
             formula: str | None) -> None:  # fmt: skip
        if ref:
            self._recent[-1][ref] = value
            if ref in self._pending:
                self._pending.discard(ref)
                self._values[ref] = value
        if formula is not None and sheet_display.makes_text(formula):
            self._row.append((ref or "", formula))
            if ref:
                self._formulas[ref] = formula
            row = _row_number(ref)
            for named in sheet_display.references(formula):
                if named in self._values:
                    continue
                seen = next((r[named] for r in self._recent if named in r), None)
                if seen is not None:
                    self._values[named] = seen
                elif _row_number(named) >= row:
                    self._pending.add(named)
                else:
                    self._missing.add(named)
            self._changed = True
            return
        code = self._formats.get(int(style)) if style and style.isdigit() else None
        is_text = kind in ("s", "str", "inlineStr")
        for other in self._conditional:  # as a conditional format may show it
            self._row.append(sheet_display.shown(value, other, is_text))
            self._changed = True
        if code is not None:
            value = sheet_display.shown(value, code, is_text)
            self._changed = True
        self._row.append(value)

    def end_row(self) -> None:
        if self._changed and not self.cut:
            self._size += sum(len(c if isinstance(c, str) else c[1]) + 1 for c in self._row)
            self.cut = self._size > SHEET_TEXT_CHARS
            if not self.cut:
                self.rows.append(self._row)
        self._row, self._changed = [], False
        self._recent.append({})

    def text(self, data: bytes, shared: list[str]) -> str:
        """The rows, each formula computed with the values of the cells it names (a formula
        that names another formula's cell takes what that one makes, three deep)."""
        self.end_row()
        if not self.rows:
            return ""
        if self._missing:
            self._values.update(_cell_values(data, self._missing, shared))
        made: dict[tuple[str, int], str] = {}  # a formula cell's text, made once per depth

        def compute(formula: str, value_of: Any) -> str:
            # a cell shows at most this much (formulas of formulas grow as a power)
            return sheet_display.computed(formula, value_of)[: sheet_display.MAX_SHOWN]

        def value_of(ref: str, depth: int = 0) -> str:
            if ref in self._formulas and depth < 3:
                if (ref, depth) not in made:
                    made[(ref, depth)] = compute(
                        self._formulas[ref], lambda r: value_of(r, depth + 1)
                    )
                return made[(ref, depth)]
            return self._values.get(ref, "")

        return "\n".join(
            "\t".join(c if isinstance(c, str) else compute(c[1], value_of) for c in row)
            for row in self.rows
        )


def _row_number(ref: str | None) -> int:
    digits = re.sub(r"\D", "", ref or "")
    return int(digits) if digits else 0


def _cell_values(data: bytes, wanted: set[str], shared: list[str]) -> dict[str, str]:
    """The stored values of the named cells of a sheet (shared strings by their index)."""
    from defusedxml.ElementTree import iterparse

    out: dict[str, str] = {}
    for _, el in iterparse(io.BytesIO(data), events=("end",)):
        if _local(el.tag) == "c":
            ref = el.get("r")
            if ref in wanted:
                text = "".join(
                    "".join(child.itertext()) for child in el if _local(child.tag) in ("v", "is")
                )
                if el.get("t") == "s" and text.strip().isdigit():
                    text = shared[int(text)] if int(text) < len(shared) else ""
                out[ref] = text
            el.clear()
    return out


def _hidden_sheets(z: zipfile.ZipFile) -> set[str]:
    from defusedxml.ElementTree import fromstring

    try:
        book = fromstring(z.read("xl/workbook.xml"))
        rels = fromstring(z.read("xl/_rels/workbook.xml.rels"))
    except KeyError:
        return set()
    target = {r.get("Id"): r.get("Target", "") for r in rels}
    hidden = set()
    for sheet in book.iter():
        if _local(sheet.tag) == "sheet" and sheet.get("state") in ("hidden", "veryHidden"):
            rid = next((v for k, v in sheet.attrib.items() if _local(k) == "id"), None)
            t = target.get(rid, "")
            hidden.add(t.lstrip("/") if t.startswith("/") else f"xl/{t}")
    return hidden


#: Characters one XLSX sheet's text may hold in the inventory: cells that each point at the
#: same long shared string make a few hundred kilobytes into gigabytes once joined.
SHEET_TEXT_CHARS = 50_000_000


#: Codes of an XLSX header or footer: sections (&L &C &R) and fields (&P page, &D date …)
#: read as a space, formatting (&B bold, &"Arial,Bold" font, &12 size, &K colour) as nothing.
_HEADER_SECTION = re.compile(r"&[LCRPNDTZFAG]")
_HEADER_FORMAT = re.compile(r'&(?:"[^"]*"|\d+|K[0-9A-Fa-f]{6}|K\d\d[+-]\d{3}|[BIUESXYOH])')


def header_text(code: str) -> str:
    """The words of an XLSX header or footer as printed, its codes taken out."""
    code = code.replace("&&", "\0")
    return _HEADER_FORMAT.sub("", _HEADER_SECTION.sub(" ", code)).replace("\0", "&")


_JOINED_WORDS = re.compile(r"(?<![^\W\d_])[^\W\d_]{2,}+[._@-]++[^\W\d_]{2}")


def holds_words(value: str) -> bool:
    """Whether an attribute's value may hold a name: words with a space, letters other than
    ASCII, a capitalised word, or words joined by `.`, `_`, `-` or `@` (an address,
    `ahmad.alkhatib@example.org`); not a one-word enumeration (`portrait`, `greaterThan`), a
    relationship id or a cell reference."""
    value = value.strip()
    if len(value) < 2 or value.isdigit():
        return False
    if any(ord(c) > 127 and c.isalpha() for c in value) or re.search(r"[^\W\d_]\s+[^\W\d_]", value):
        return True
    if _JOINED_WORDS.search(value):
        return True
    return bool(re.search(r"[A-Z][a-z]{2,}", value)) and not re.fullmatch(r"rId\d+", value)


def _sheet_text(
    data: bytes,
    shared: list[str],
    used: set[int],
    attributes: list[str] | None = None,
    display: Display | None = None,
) -> tuple[str, bool]:
    """Cells (shared strings resolved, inline strings, formulas) row by row, up to
    SHEET_TEXT_CHARS; and whether the sheet was cut there (counted before a row is joined).
    Outside the cells, the text of every element (headers and footers without their codes,
    the formulas of data validation) and, into `attributes`, every value of an attribute
    that may hold words (data validation's prompt and error message, a link's tooltip)."""
    from defusedxml.ElementTree import iterparse

    lines: list[str] = []
    row: list[str] = []
    total = 0
    cells = 0  # inside sheetData
    for event, el in iterparse(io.BytesIO(data), events=("start", "end")):
        local = _local(el.tag)
        if event == "start":
            cells += local == "sheetData"
            continue
        if local == "sheetData":
            cells -= 1
        elif not cells and local not in ("oddHeader", "oddFooter", "evenHeader", "evenFooter",
                                         "firstHeader", "firstFooter"):  # fmt: skip
            if el.text and el.text.strip():
                lines.append(el.text)
            if attributes is not None:
                attributes.extend(
                    v
                    for k, v in el.attrib.items()
                    if holds_words(v) or (_local(k) in TOOLTIPS and v.strip())
                )
            continue
        if local == "c":
            kind = el.get("t", "")
            formula = None
            cached = ""
            for child in el:
                cl = _local(child.tag)
                if cl == "v" and child.text is not None:
                    if kind == "s" and child.text.strip().isdigit():
                        i = int(child.text)
                        used.add(i)
                        cached = shared[i] if i < len(shared) else ""
                    else:
                        cached = child.text
                    row.append(cached)
                elif cl == "f" and child.text:
                    row.append(child.text)
                    formula = child.text
                elif cl == "is":
                    cached = "".join(child.itertext())
                    row.append(cached)
            if display is not None:
                display.cell(el.get("r"), cached, kind, el.get("s"), formula)
            el.clear()
        elif local == "row":
            total += sum(map(len, row)) + len(row)
            if total > SHEET_TEXT_CHARS:
                return "\n".join(x for x in lines if x.strip()), True
            lines.append("\t".join(row))
            row = []
            if display is not None:
                display.end_row()
            el.clear()
        elif local.endswith(("Header", "Footer")) and el.text:
            lines.append(header_text(el.text))
    return "\n".join(x for x in lines if x.strip()), False


_PRINTABLE = re.compile(rb"(?:[\x20-\x7e\t]|[\xc2-\xf4][\x80-\xbf]{1,3}){4,}")
_PRINTABLE16 = re.compile(rb"(?:[\x20-\x7e]\x00|[\x00-\xff][\x06\x05\x20]){4,}")


def _strings(data: bytes) -> str:
    """Runs of readable text in binary data (UTF-8 and UTF-16-LE), as `strings` finds them."""
    out = [m.group().decode("utf-8", "ignore") for m in _PRINTABLE.finditer(data)]
    out += [m.group().decode("utf-16-le", "ignore") for m in _PRINTABLE16.finditer(data)]
    return "\n".join(out)
