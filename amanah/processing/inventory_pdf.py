"""The content inventory of a PDF: every string of every object, each page's text layer,
OCR of images on pages that have text, embedded files, and every earlier revision."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from amanah.processing import ocr, pdftext
from amanah.processing.inventory import Inventory, base64_pictures, nested, not_memory, ocr_dir
from amanah.processing.inventory_office import xml_text

#: String keys that are machinery, not words (annotation ids, fonts, byte ranges).
_PDF_SKIP_KEYS = {"NM", "DA", "DS", "ID", "ByteRange", "Filter", "SubFilter", "M", "CreationDate"}
_PDF_PLACES = [
    ("Widget", "a PDF form field"),
    ("FileAttachment", "a PDF file attachment annotation"),
    ("Popup", "a PDF popup note"),
]
_REF = re.compile(r"(\d+) 0 R")
#: The tokens of an object's source that matter to finding its names: strings (skipped, so
#: that a `/` inside one is not taken for a name) and names.
_NAME_TOKEN = re.compile(r"\((?:[^()\\]|\\.)*\)|<[0-9A-Fa-f\s]*>|/([^\s/<>\[\](){}%]*)")
#: Names the PDF format itself defines, as keys or values (ISO 32000's common vocabulary): not
#: words anyone wrote. Every other name, a key or a value, is read as text (a custom key of the
#: document information, a font's name, a named destination), decoded.
_PDF_NAMES = frozenset(
    re.findall(
        r"\S+",
        """AA AcroForm ActualText AF AFRelationship Alt Annot Annots AP AS Ascent AvgWidth
    BaseEncoding BaseFont BaseState BBox BitsPerComponent BitsPerCoordinate BitsPerFlag BM
    Border BS Btn C
    CA CapHeight Catalog Ch CharProcs CharSet CIDFontType0 CIDFontType2 CIDSystemInfo
    CIDToGIDMap Collection ColorSpace Colors Columns Contents Count CreationDate Creator
    CropBox D DA Decode DecodeParms DescendantFonts Descent Dest Dests DeviceCMYK DeviceGray
    DeviceN DeviceRGB Differences DR DW E EF EmbeddedFile EmbeddedFiles Encoding Extend
    ExtGState F FT Ff Fields Filespec Filter First FirstChar Fit FitB FitH FitR FitV Flags
    FlateDecode Font FontBBox FontDescriptor FontFile FontFile2 FontFile3 FontFamily
    FontMatrix FontName FontStretch FontWeight Form Functions FunctionType Group H Height
    I ID Identity Identity-H Identity-V ImageB ImageC ImageI Image Index Info IRT
    ItalicAngle JavaScript JS K Kids L Lang Last LastChar Leading Length Length1 Length2
    Length3 Limits Link M Mask Matrix MarkInfo Marked MaxWidth MediaBox Metadata MissingWidth
    MCID MK ModDate N Names Next NM Normal O OC OCG OCGs OCProperties OFF ON Off OpenAction Opt
    Ordering Outlines P Page PageLabels PageLayout PageMode Pages Parent ParentTree
    ParentTreeNextKey Pattern PatternType PDF Perms Popup Prev Predictor ProcSet Producer
    Properties Q R Range RC Rect Registry Resources RoleMap Root Rotate S Shading ShadingType
    Size SMask Stemh StemV StructParent StructParents StructTreeRoot Subject Subtype
    Supplement T Tabs Text Title ToUnicode TR TrimBox Trapped Tx Type Type0 Type1
    Type3 TrueType U UF URI V Version W W2 Widths Widget WinAnsiEncoding Width X XFA XHeight
    XML XObject XRef XStep YStep Yes""",
    )
)


def read(
    inv: Inventory, data: bytes, work: Path, lang: str, ocr_done: set[int], depth: int
) -> None:
    import pymupdf

    doc = pymupdf.open(stream=data, filetype="pdf")
    try:
        if doc.needs_pass:
            inv.incomplete("encrypted: the PDF needs a password")
            return
        _pdf_objects(inv, doc)
        _marked_properties(inv, doc)
        # XMP's thumbnails (`xmpGImg:image`) are pictures written in it as base64
        base64_pictures(inv, doc.get_xml_metadata() or "", work, lang, depth, "XMP packet")
        _pdf_pages(inv, doc, work, lang, ocr_done)
        _hidden_layers(inv, doc)
        files_read: set[bytes] = set()  # digests of the files read as embedded or attached
        for n, name in enumerate(doc.embfile_names(), 1):
            info = doc.embfile_info(name)
            inv.add(
                "the name of a file embedded in the PDF",
                "\n".join(str(info.get(k) or "") for k in ("name", "ufilename", "description")),
                f"embedded file {n}",
            )
            content = doc.embfile_get(name)
            files_read.add(hashlib.sha256(content).digest())
            nested(
                inv,
                content,
                str(info.get("ufilename") or name),
                "a file embedded in the PDF",
                f"embedded file {n}",
                work,
                lang,
                depth,
            )
        for page in doc:
            for k, annot in enumerate(page.annots(types=[pymupdf.PDF_ANNOT_FILE_ATTACHMENT]), 1):
                info = annot.file_info
                content = annot.get_file()
                files_read.add(hashlib.sha256(content).digest())
                nested(
                    inv,
                    content,
                    str(info.get("filename") or "attachment"),
                    "a file attached to a PDF annotation",
                    f"page {page.number + 1}, attachment {k}",
                    work,
                    lang,
                    depth,
                )
        _pdf_streams(inv, doc, work, lang, depth, files_read)
        _appearances(inv, doc)  # last: it adds a scratch page to the document read
    finally:
        doc.close()
    if depth == 0:
        _pdf_revisions(inv, data, work, lang)


def svg_drawn(inv: Inventory, data: bytes, work: Path, lang: str) -> None:
    """An SVG as drawn (MuPDF): its text as laid out, and its letters drawn as paths (text
    converted to outlines, as design tools export it): the region of its letter-like shapes
    read (OCR)."""
    import pymupdf

    try:
        doc = pymupdf.open(stream=data, filetype="svg")
    except Exception as exc:
        not_memory(exc)
        inv.incomplete(f"the SVG could not be drawn to read its shapes: {type(exc).__name__}")
        return
    try:
        for page in doc:
            n = page.number + 1
            # Its text placed where it stands (`tspan`s written in another order, moved by
            # their x and y): read as laid out.
            laid: list[str] = []
            _text_layer(page, pymupdf.TEXTFLAGS_TEXT & ~pymupdf.TEXT_MEDIABOX_CLIP, inv, n, laid)
            inv.add("an SVG's text as it is laid out", laid[0] if laid else "")
            if (drawn := _drawn_region(inv, page, n)) is not None:
                _ocr_into(
                    inv,
                    lambda p=page, b=drawn: _render(p, b),
                    n,
                    "an SVG's drawn letters",
                    work,
                    lang,
                )
    finally:
        doc.close()


def _pdf_objects(inv: Inventory, doc: Any) -> None:
    """Every string of every object: info, bookmarks, annotations and their popups, form
    fields, structure alt text, JavaScript, names; then the XMP packet."""
    info_ref = doc.xref_get_key(-1, "Info")
    info_xref = int(_REF.match(info_ref[1]).group(1)) if info_ref[0] == "xref" else -1  # type: ignore[union-attr]
    seen_names: set[str] = set()
    for xref in range(1, doc.xref_length()):
        try:
            keys = doc.xref_get_keys(xref)
        except Exception:  # noqa: S112  a damaged object no reader can open; the raw scan reads its bytes
            continue
        if not keys:
            continue
        values = {k: doc.xref_get_key(xref, k) for k in keys}
        _pdf_names(inv, doc, xref, seen_names)
        texts = []
        for key, (typ, val) in values.items():
            if key in _PDF_SKIP_KEYS:
                continue
            if typ == "string" and val:
                texts.append(val)
            elif typ in ("array", "dict") and ("(" in val or "<" in val):
                texts.extend(_array_strings(val))
        if not texts:
            continue
        subtype = values.get("Subtype", ("", ""))[1].lstrip("/")
        kind = values.get("Type", ("", ""))[1].lstrip("/")
        if xref == info_xref:
            place = "the PDF's document information"
        elif subtype in dict(_PDF_PLACES):
            place = dict(_PDF_PLACES)[subtype]
        elif kind == "Annot" or ("Contents" in keys and "Rect" in keys):
            place = "a PDF annotation"
        elif "Title" in keys and ("Parent" in keys or "First" in keys):
            place = "a PDF bookmark"
        elif "Alt" in keys or "ActualText" in keys:
            place = "alternative text in the PDF's structure"
        elif "JS" in keys:
            place = "PDF JavaScript"
        elif "FT" in keys or ("T" in keys and "V" in keys):
            place = "a PDF form field"
        else:
            place = "a string in the PDF's objects"
        inv.add(place, "\n".join(texts), f"object {xref}")
    for page in doc:
        for w in page.widgets() or []:
            inv.add(
                "a PDF form field",
                "\n".join(
                    str(x)
                    for x in (w.field_name, w.field_label, w.field_value, w.button_caption)
                    if x
                ),
                f"page {page.number + 1}",
                page.number + 1,
            )
    xmp = doc.get_xml_metadata()
    if xmp:
        inv.add("the PDF's XMP metadata", xml_text(xmp.encode("utf-8")), "XMP packet")


#: Bounds on reading a PDF's other streams: how many, each's size and all of them together
#: (decoded bytes); past any, the inventory is incomplete.
MAX_STREAMS = 5_000
MAX_STREAM_BYTES = 16 * 1024 * 1024
MAX_STREAMS_BYTES = 128 * 1024 * 1024


def _font_program(data: bytes) -> bool:
    """Bytes that are a font program (TrueType, OpenType, Type 1 as text or PFB, bare CFF)."""
    head = data[:4]
    return (
        head in (b"\x00\x01\x00\x00", b"OTTO", b"true", b"typ1", b"ttcf")
        or data[:2] in (b"%!", b"\x80\x01")
        or (data[:1] == b"\x01" and data[1:2] == b"\x00" and data[2:3] in (b"\x04", b"\x03"))
    )


#: Filters whose output is an image's samples, not bytes to read as text.
_IMAGE_CODECS = ("/DCTDecode", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode")


def _pixels(doc: Any, xref: int) -> bool:
    """Whether a stream marked as an image holds an image's samples: coded by an image codec,
    or exactly the rows its width, height and depth make. A stream marked as an image whose
    bytes are not (a page's metadata labelled `/Subtype /Image`) is read as text."""
    if doc.xref_get_key(xref, "Subtype")[1] != "/Image":
        return False
    if any(codec in doc.xref_get_key(xref, "Filter")[1] for codec in _IMAGE_CODECS):
        return True
    try:
        width = int(doc.xref_get_key(xref, "Width")[1])
        height = int(doc.xref_get_key(xref, "Height")[1])
        bits = int(doc.xref_get_key(xref, "BitsPerComponent")[1] or 1)
    except ValueError:
        return False
    mask = doc.xref_get_key(xref, "ImageMask")[1] == "true"
    if not (0 < width <= 100_000 and 0 < height <= 100_000):
        return False
    depth = 1 if mask else bits
    channels = (1,) if mask else (1, 3, 4)  # a colour space may be an object of its own
    sizes = {((width * c * depth + 7) // 8) * height for c in channels}
    if min(sizes) > MAX_STREAM_BYTES:
        return True  # too large to be read as text anyway: the page's OCR reads what it shows
    return len(doc.xref_stream(xref) or b"") in sizes


#: Where a PDF stream other than page content, an image or a font program is read.
STREAM_PLACE = "a PDF stream (metadata, script, form data, rich text, …)"
_FONT_FILES = ("FontFile", "FontFile2", "FontFile3")


def _pdf_streams(
    inv: Inventory, doc: Any, work: Path, lang: str, depth: int, files_read: set[bytes]
) -> None:
    """Every stream of the file that is not a page's content, a form drawn as page content,
    an image or a font program, decoded and read as text (markup with its element and
    attribute names too: an XMP property named with the name): a page's own XMP, JavaScript
    written as a stream, XFA form data, an annotation's rich text, a glyph procedure. A stream
    that is a file (`/Type /EmbeddedFile`, or under a file specification's `/EF`: an associated
    file, `/AF`, outside the embedded-files tree) is read as its own format unless the same
    file was read already."""
    skip: set[int] = set()
    for page in doc:
        skip.update(page.get_contents())
        skip.update(x[0] for x in page.get_xobjects())  # forms it draws: read as its text
    fonts: set[int] = set()  # named as a font program: skipped only if its bytes are one
    files: set[int] = set()
    for xref in range(1, doc.xref_length()):
        try:
            for key in _FONT_FILES:
                kind, val = doc.xref_get_key(xref, key)
                if kind == "xref":
                    fonts.add(int(val.split()[0]))
            kind, val = doc.xref_get_key(xref, "EF")
            if kind == "dict":
                files.update(int(m.group(1)) for m in _REF.finditer(val))
        except Exception:  # noqa: S112  a damaged object: the raw scan reads its bytes
            continue
    count = total = 0
    for xref in range(1, doc.xref_length()):
        try:
            if xref in skip or not doc.xref_is_stream(xref):
                continue
            kind = doc.xref_get_key(xref, "Type")[1]
            if kind in ("/XRef", "/ObjStm"):  # the file's own structure, read as objects
                continue
            count += 1
            if count > MAX_STREAMS:
                inv.incomplete(
                    f"a PDF has more than {MAX_STREAMS} other streams: the rest are not read"
                )
                return
            if len(doc.xref_stream_raw(xref) or b"") > MAX_STREAM_BYTES:
                inv.incomplete(
                    f"PDF stream {xref} is larger than {MAX_STREAM_BYTES} bytes: not read"
                )
                continue
            if _pixels(doc, xref):
                continue  # an image's samples, read by OCR where a page shows it
            data = doc.xref_stream(xref) or b""
        except Exception as exc:
            not_memory(exc)
            inv.incomplete(f"PDF stream {xref} could not be decoded: {type(exc).__name__}")
            continue
        if _font_program(data) and (
            xref in fonts or doc.xref_get_key(xref, "Length1")[0] != "null"
        ):
            continue  # a font's glyphs, not text (whatever keys a stream claims, its bytes say)
        if len(data) > MAX_STREAM_BYTES:
            inv.incomplete(
                f"PDF stream {xref} is larger than {MAX_STREAM_BYTES} bytes decoded: not read"
            )
            continue
        total += len(data)
        if total > MAX_STREAMS_BYTES:
            inv.incomplete(
                f"a PDF's other streams hold more than {MAX_STREAMS_BYTES} bytes:"
                " the rest are not read"
            )
            return
        if xref in files or kind == "/EmbeddedFile":
            if hashlib.sha256(data).digest() not in files_read:
                files_read.add(hashlib.sha256(data).digest())
                nested(
                    inv,
                    data,
                    f"stream-{xref}",
                    "a file in a PDF stream (an associated file)",
                    f"object {xref}",
                    work,
                    lang,
                    depth,
                )
            continue
        text = stream_text(data)
        if text.strip():
            inv.add(STREAM_PLACE, text, f"object {xref}")


_TAG_NAME = re.compile(r"<[\s/]*+([^\s<>/=!?\"']+)|\s([^\s<>/=\"']++)\s*+=\s*+[\"']")


def stream_text(data: bytes) -> str:
    """A stream's bytes as text, and when it holds markup, the markup read as text and the
    names of its elements and attributes (local part, `_` read as a space), which a reader of
    XMP shows as property names."""
    from amanah.processing.textfile import decode_text

    text = decode_text(data)[0].replace("\x00", " ")  # binary read as text: no NUL kept
    if "<" not in text or ">" not in text:
        return text
    names = []
    for m in _TAG_NAME.finditer(text):
        name = (m.group(1) or m.group(2) or "").rsplit(":", 1)[-1]
        if name:
            names.append(name.replace("_", " "))
    return "\n".join([text, xml_text(data), " ".join(dict.fromkeys(names))])


#: At most this many annotation appearances are read per file; past it, incomplete.
MAX_APPEARANCES = 2_000
#: Where the appearances of annotations are read, every one of them.
APPEARANCE_PLACE = "an appearance of a PDF annotation (normal, rollover, down, every state)"
_ANY_REF = re.compile(r"(\d+) \d+ R")


def _appearances(inv: Inventory, doc: Any) -> None:
    """Every appearance of every annotation (`/AP`: `/N`, `/R`, `/D` and each state of each,
    a checkbox's on state while it is off, a button's rollover): a viewer shows them when the
    reader moves, presses or clicks; the page's text reads only the one shown. Each is drawn
    alone on a scratch page added to the document and its text read as MuPDF lays it out."""
    import pymupdf

    forms: list[int] = []
    for xref in range(1, doc.xref_length()):
        try:
            kind, val = doc.xref_get_key(xref, "AP")
            if kind == "xref":
                val = doc.xref_object(int(val.split()[0]), compressed=True)
            elif kind != "dict":
                continue
            todo = [int(m.group(1)) for m in _ANY_REF.finditer(val)]
            for ref in todo[:64]:
                if doc.xref_is_stream(ref):
                    forms.append(ref)
                else:  # a dictionary of states written as an object of its own
                    sub = doc.xref_object(ref, compressed=True)
                    forms.extend(
                        int(m.group(1))
                        for m in _ANY_REF.finditer(sub)
                        if doc.xref_is_stream(int(m.group(1)))
                    )
        except Exception:  # noqa: S112  a damaged object: the raw scan reads its bytes
            continue
    forms = list(dict.fromkeys(forms))
    if not forms:
        return
    if len(forms) > MAX_APPEARANCES:
        inv.incomplete(
            f"a PDF has more than {MAX_APPEARANCES} annotation appearances: the rest are not read"
        )
        forms = forms[:MAX_APPEARANCES]
    flags = pymupdf.TEXTFLAGS_TEXT & ~pymupdf.TEXT_MEDIABOX_CLIP
    try:
        scratch = doc.new_page(width=612, height=792)
        number = scratch.number
        doc.xref_set_key(scratch.xref, "Resources", "<< /XObject << /AmanahAP 0 0 R >> >>")
        contents = doc.get_new_xref()
        doc.update_object(contents, "<< >>")
        doc.update_stream(contents, b"/AmanahAP Do")
        doc.xref_set_key(scratch.xref, "Contents", f"{contents} 0 R")
        page_xref = scratch.xref
        del scratch  # each appearance is read from the page loaded afresh
    except Exception as exc:
        not_memory(exc)
        inv.incomplete(
            f"the appearances of a PDF's annotations could not be drawn: {type(exc).__name__}"
        )
        return
    for form in forms:
        try:
            doc.xref_set_key(page_xref, "Resources/XObject/AmanahAP", f"{form} 0 R")
            page = doc.load_page(number)
            text = pdftext.scalar(str(page.get_text(flags=flags)))
            del page
        except Exception as exc:
            not_memory(exc)
            inv.incomplete(
                f"appearance {form} of a PDF annotation could not be drawn: {type(exc).__name__}"
            )
            continue
        if text.strip():
            inv.add(APPEARANCE_PLACE, text, f"object {form}")


#: Where the property lists of marked content are read.
MARKED_PLACE = "a property of marked content in a PDF page or form (`BDC`, `DP`: /Alt, /E …)"
_CONTENT_TOKEN = re.compile(rb"<<|>>|\(|<([0-9A-Fa-f\s]*)>|/([^\s/<>\[\](){}%]*)")


def _marked_properties(inv: Inventory, doc: Any) -> None:
    """Every string and name of every property list written inline in content (`/Figure
    << /Alt (…) >> BDC`, `<< … >> DP`): a figure's alternative text, an abbreviation's
    expansion (`/E`), any key a tool reads, in each page's content and each form. Content holds
    dictionaries only there (an inline image's dictionary is `BI … ID`), so every `<< … >>` of a
    content stream is read. Property lists named from `/Properties` are objects, read with the
    file's other strings."""
    streams: list[tuple[int, str]] = []
    for page in doc:
        streams.extend((x, f"page {page.number + 1}") for x in page.get_contents())
    for xref in range(1, doc.xref_length()):
        try:
            if doc.xref_is_stream(xref) and doc.xref_get_key(xref, "Subtype")[1] == "/Form":
                streams.append((xref, f"form {xref}"))
        except Exception:  # noqa: S112  a damaged object: the raw scan reads its bytes
            continue
    total = 0
    for xref, where in streams:
        try:
            data = doc.xref_stream(xref) or b""
        except Exception as exc:
            not_memory(exc)
            inv.incomplete(f"PDF content stream {xref} could not be decoded: {type(exc).__name__}")
            continue
        total += len(data)
        if total > MAX_STREAMS_BYTES:
            inv.incomplete(
                f"a PDF's content holds more than {MAX_STREAMS_BYTES} bytes: the property lists"
                " of the rest are not read"
            )
            return
        found = content_dict_text(data)
        if found:
            inv.add(MARKED_PLACE, "\n".join(found), where)


def content_dict_text(data: bytes) -> list[str]:
    """The strings (escapes undone, UTF-16 with a byte order mark, else PDFDocEncoding read as
    Latin-1) and the names the format does not define, of every `<< … >>` in content."""
    out: list[str] = []
    pos = data.find(b"<<")
    while pos >= 0:
        depth = 0
        while pos < len(data):
            m = _CONTENT_TOKEN.search(data, pos)
            if m is None:
                return out
            token = m.group(0)
            pos = m.end()
            if token == b"<<":
                depth += 1
            elif token == b">>":
                depth -= 1
                if depth <= 0:
                    break
            elif token == b"(":
                raw, pos = _literal(data, pos)
                out.append(_pdf_string(raw))
            elif m.group(1) is not None:
                hexed = re.sub(rb"\s", b"", m.group(1))
                out.append(_pdf_string(bytes.fromhex((hexed + b"0" * (len(hexed) % 2)).decode())))
            elif m.group(2) and m.group(2).decode("latin-1") not in _PDF_NAMES:
                out.append(pdf_name_text(m.group(2).decode("latin-1")))
        pos = data.find(b"<<", pos)
    return [t for t in out if t.strip()]


_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _literal(data: bytes, pos: int) -> tuple[bytes, int]:
    """A literal string from just after its `(`: its bytes with escapes undone, and the
    position after its `)` (balanced parentheses nest, as the format says)."""
    out = bytearray()
    depth = 1
    while pos < len(data):
        c = data[pos : pos + 1]
        pos += 1
        if c == b"\\":
            nxt = data[pos : pos + 1]
            pos += 1
            if nxt in _ESCAPES:
                out += _ESCAPES[nxt]
            elif nxt.isdigit():
                digits = nxt
                while len(digits) < 3 and data[pos : pos + 1].isdigit():
                    digits += data[pos : pos + 1]
                    pos += 1
                out.append(int(digits, 8) & 0xFF)
            elif nxt in (b"\r", b"\n"):
                if nxt == b"\r" and data[pos : pos + 1] == b"\n":
                    pos += 1
            else:
                out += nxt
            continue
        if c == b"(":
            depth += 1
        elif c == b")":
            depth -= 1
            if depth == 0:
                break
        out += c
    return bytes(out), pos


def _pdf_string(raw: bytes) -> str:
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be", "replace")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", "replace")
    return raw.decode("latin-1")


#: Where the names of a PDF's objects are read.
NAMES_PLACE = "a PDF name (a dictionary key or a name value)"


def _pdf_names(inv: Inventory, doc: Any, xref: int, seen: set[str]) -> None:
    """The names of an object (keys and values, at any depth of its dictionaries and arrays)
    that the format does not define, decoded as a reader shows them: `#xx` escapes undone,
    the bytes read as UTF-8, else Latin-1. Each name is read once per file, in the first
    object that has it."""
    try:
        source = doc.xref_object(xref, compressed=True)
    except Exception:  # a damaged object no reader can open; the raw scan reads its bytes
        return
    found = []
    for m in _NAME_TOKEN.finditer(source):
        raw = m.group(1)
        if not raw or raw in _PDF_NAMES or raw in seen:
            continue
        seen.add(raw)
        found.append(pdf_name_text(raw))
    if found:
        inv.add(NAMES_PLACE, "\n".join(found), f"object {xref}")


def pdf_name_text(raw: str) -> str:
    """A PDF name as written (without its `/`) as text: `#xx` escapes undone, its bytes read
    as UTF-8, else Latin-1 (PDF 1.7: names are bytes, UTF-8 by convention)."""
    data = re.sub(
        rb"#([0-9A-Fa-f]{2})",
        lambda m: bytes([int(m.group(1), 16)]),
        raw.encode("latin-1", "replace"),
    )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _array_strings(val: str) -> list[str]:
    out = [m.group(1) for m in re.finditer(r"\(((?:[^()\\]|\\.)*)\)", val)]
    for m in re.finditer(r"<([0-9A-Fa-f\s]+)>", val):
        raw = bytes.fromhex(re.sub(r"\s", "", m.group(1)) + ("0" * (len(m.group(1)) % 2)))
        out.append(
            raw[2:].decode("utf-16-be", "replace")
            if raw.startswith(b"\xfe\xff")
            else raw.decode("latin-1")
        )
    return out


def _pdf_pages(inv: Inventory, doc: Any, work: Path, lang: str, ocr_done: set[int]) -> None:
    """The text layer of each page (text outside the visible page too), and OCR of each image
    on a page that also has text, and of each page without text not already OCR'd."""
    import pymupdf

    flags = pymupdf.TEXTFLAGS_TEXT & ~pymupdf.TEXT_MEDIABOX_CLIP
    seen: dict[Any, float] = {}  # an image's largest placement read so far (its area)
    whole: set[int] = set()  # pictures read from their own pixels
    remapped: dict[int, bool] = {}  # per embedded font: whether its cmap draws one letter for two
    for page in doc:
        n = page.number + 1
        laid: list[str] = []
        text = _text_layer(page, flags, inv, n, laid)
        inv.add("the text layer of a PDF page", text, f"page {n}", n)
        _page_thumbnail(inv, doc, page, n, work, lang)
        # Drawn out of reading order ("ad al-Khatib" drawn before "Ahm"): as laid out.
        if laid and " ".join(laid[0].split()) != " ".join(text.split()):
            inv.add("the text layer of a PDF page, in the order it is laid out", laid[0],
                    f"page {n}", n)  # fmt: skip
        if text.strip() and (drawn := _drawn_under_actual_text(page, flags, text)) is not None:
            inv.add("the letters a PDF page draws under its replacement text (ActualText)",
                    drawn, f"page {n}", n)  # fmt: skip
        infos = page.get_image_info(xrefs=True)
        _partly_shown(inv, doc, page, infos, n, work, lang, whole)
        if not text.strip():
            if n not in ocr_done:
                _ocr_into(inv, lambda p=page: _render(p, None), n, "a PDF page", work, lang)
            continue
        if n not in ocr_done and misread(text):  # the letters drawn are not those it says
            _ocr_into(inv, lambda p=page: _render(p, None), n, MISREAD_PAGE, work, lang)
        elif n not in ocr_done and _type3(page):  # its glyphs are drawings of anything
            _ocr_into(inv, lambda p=page: _render(p, None), n, TYPE3_PAGE, work, lang)
        elif n not in ocr_done and _remapped(doc, page, remapped):
            _ocr_into(inv, lambda p=page: _render(p, None), n, REMAPPED_PAGE, work, lang)
        if n not in ocr_done and (drawn := _drawn_region(inv, page, n)) is not None:
            _ocr_into(inv, lambda p=page, b=drawn: _render(p, b), n, DRAWN_PLACE, work, lang)
        tiles = []
        for k, info in enumerate(infos, 1):
            box = pymupdf.Rect(info["bbox"]) & page.rect
            if box.is_empty:
                continue
            if info["width"] < 24 or info["height"] < 8:
                tiles.append(box)  # too small alone; a row of them may spell a word
                continue
            key = info.get("xref") or (n, tuple(box))
            if seen.get(key, 0.0) * 1.5 >= box.width * box.height:
                continue  # the same image (a logo on every page) is read once, at its largest
            seen[key] = box.width * box.height
            _ocr_into(
                inv,
                lambda p=page, b=box: _render(p, b),
                n,
                "an image on a PDF page",
                work,
                lang,
                f"image {k}",
            )
        if len(tiles) >= 3 and n not in ocr_done:  # a word set one small picture a letter
            area = pymupdf.Rect(tiles[0])
            for box in tiles[1:]:
                area |= box
            _ocr_into(
                inv, lambda p=page, b=area: _render(p, b), n, "small images on a PDF page",
                work, lang, "together",
            )  # fmt: skip


def _partly_shown(
    inv: Inventory, doc: Any, page: Any, infos: list[Any], n: int, work: Path, lang: str,
    whole: set[int],
) -> None:  # fmt: skip
    """Each picture the page shows only in part (covered, clipped, masked, past the edge:
    `partly_shown`) read from its own pixels too, once per file."""
    from amanah.processing import partly_shown

    try:
        hidden = partly_shown.partly_shown(doc, page, infos)
    except Exception as exc:
        not_memory(exc)
        inv.incomplete(f"what page {n} paints could not be listed: {type(exc).__name__}")
        return
    for xref, why in hidden.items():
        if xref < 0:  # an inline picture: its own pixels are not read here, so said
            inv.incomplete(
                f"an inline picture on page {n} is shown only in part ({why}): what the page"
                " hides of it is not read"
            )
            continue
        if xref in whole:
            continue
        whole.add(xref)
        _ocr_into(
            inv, lambda x=xref: partly_shown.own_pixels(doc, x), n, PARTLY_SHOWN, work, lang,
            f"picture {xref}, {why}",
        )  # fmt: skip


#: Where a picture a page shows only in part is read whole (`partly_shown`).
PARTLY_SHOWN = "the whole of a picture a PDF page shows only in part"
#: Where letters drawn as shapes on a page with a text layer are read (`drawn_letters`).
DRAWN_PLACE = "letters drawn as shapes on a PDF page"


def _page_thumbnail(inv: Inventory, doc: Any, page: Any, n: int, work: Path, lang: str) -> None:
    """A page's own thumbnail (`/Thumb`), which a viewer shows in its side bar and which an
    editor may leave as it was before the page was changed: OCR'd."""
    import pymupdf
    from PIL import Image

    kind, value = doc.xref_get_key(page.xref, "Thumb")
    if kind != "xref":
        return
    try:
        pix = pymupdf.Pixmap(doc, int(value.split()[0]))
        if pix.n - pix.alpha != 1:
            pix = pymupdf.Pixmap(pymupdf.csGRAY, pix)
        if pix.alpha:
            pix = pymupdf.Pixmap(pix, 0)
        image = Image.frombytes("L", (pix.width, pix.height), pix.samples)
    except Exception as exc:
        not_memory(exc)
        inv.incomplete(f"page {n}'s thumbnail could not be drawn: {type(exc).__name__}")
        return
    if image.width >= 24 and image.height >= 8:
        _ocr_into(inv, lambda: image, n, "a PDF page's thumbnail", work, lang)


def _drawn_region(inv: Inventory, page: Any, n: int) -> Any:
    from amanah.processing import drawn_letters

    try:
        return drawn_letters.region(page)
    except Exception as exc:  # a page whose drawings cannot be listed: said, not skipped
        not_memory(exc)
        inv.incomplete(f"the drawings of page {n} could not be listed: {type(exc).__name__}")
        return None


def _hidden_layers(inv: Inventory, doc: Any) -> None:
    """The text of layers (optional content) a viewer hides by default: a recipient turns them
    on with one click. Read from a copy with every layer on (the default configuration and
    every alternate one), page by page where it says more than the page as shown."""
    import pymupdf

    try:
        ocgs = list(doc.get_ocgs() or {})
    except Exception as exc:  # a damaged configuration: say so rather than pass it
        not_memory(exc)
        inv.incomplete(f"the PDF's layers could not be read: {type(exc).__name__}: {exc}")
        return
    if not ocgs:
        return
    shown = pymupdf.open(stream=doc.tobytes(), filetype="pdf")
    try:
        for config in range(-1, len(shown.get_layers() or [])):
            shown.set_layer(config, on=ocgs, off=[], basestate="ON")
        shown = pymupdf.open(stream=shown.tobytes(), filetype="pdf")
        flags = pymupdf.TEXTFLAGS_TEXT & ~pymupdf.TEXT_MEDIABOX_CLIP
        for page, hidden in zip(doc, shown, strict=True):
            n = page.number + 1
            every = _text_layer(hidden, flags)
            if every != _text_layer(page, flags):
                inv.add("a hidden layer (optional content) of a PDF page", every, f"page {n}", n)
    finally:
        shown.close()


#: Where the OCR of a page drawn with a Type3 font is placed.
TYPE3_PAGE = "a PDF page drawn with a Type3 font (its glyphs may draw other letters)"


def _type3(page: Any) -> bool:
    """Whether the page (or a form it draws) uses a Type3 font: each of its glyphs is a
    drawing that may be anything, a whole word for the code of `x`, so its text layer says
    nothing of what it shows. Rare; such a page is read by OCR too."""
    try:
        return any(f[2] == "Type3" for f in page.get_fonts(full=True))
    except Exception as exc:  # fonts that cannot be listed: read it by OCR
        not_memory(exc)
        return True


#: Where the OCR of a page drawn with a font whose letters were remapped is placed.
REMAPPED_PAGE = "a PDF page drawn with a font that draws one letter for two (a remapped cmap)"
#: The letters checked: Latin and Arabic base letters (a glyph shared by two of them, other
#: than a letter and its other case, is a remapped cmap: `W` drawing `A`).
_LETTERS = (
    [chr(c) for c in range(0x41, 0x5B)]
    + [chr(c) for c in range(0x61, 0x7B)]
    + [chr(c) for c in range(0x0621, 0x064B)]
)


def _remapped(doc: Any, page: Any, seen: dict[int, bool]) -> bool:
    """Whether the page uses an embedded font whose own character map sends two different
    letters to one glyph (an editor's remapped font: the text says `Whsnr`, the page shows
    `Ahmad`). Checked once per font; the letters it cannot tell about (a subset without its
    character map) are not a sign."""
    import pymupdf

    try:
        fonts = page.get_fonts(full=True)
    except Exception as exc:
        not_memory(exc)
        return False
    for font in fonts:
        xref = font[0]
        if xref not in seen:
            seen[xref] = False
            try:
                _name, ext, _kind, buffer = doc.extract_font(xref)
                if buffer and ext in ("ttf", "otf", "cff"):
                    program = pymupdf.Font(fontbuffer=buffer)
                    owner: dict[int, str] = {}
                    for letter in _LETTERS:
                        gid = program.has_glyph(ord(letter))
                        if gid <= 0:
                            continue
                        other = owner.setdefault(gid, letter)
                        if other != letter and other.lower() != letter.lower():
                            seen[xref] = True
                            break
            except Exception as exc:  # a font program MuPDF cannot load draws nothing
                not_memory(exc)
        if seen[xref]:
            return True
    return False


#: Where the OCR of a page whose text layer cannot be trusted is placed.
MISREAD_PAGE = "a PDF page whose text layer misreads its letters"
#: Signs that a text layer does not say the letters its page shows (a font whose ToUnicode
#: map is wrong or missing, common in Arabic PDFs): a character with no mapping (U+FFFD),
#: a private-use one, or an Arabic letter glued to a letter of another script in one word
#: (`اǄخطيب`: the lam's glyph mapped to a Latin letter).
_MISREAD = re.compile(
    "[\ufffd\ue000-\uf8ff]"
    "|[\u0620-\u064a\u066e-\u06d3\ufb50-\ufdff\ufe70-\ufefc]"
    "[a-zA-Z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]"
    "|[a-zA-Z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]"
    "[\u0620-\u064a\u066e-\u06d3\ufb50-\ufdff\ufe70-\ufefc]"
)


def misread(text: str) -> bool:
    """Whether a page's text layer shows signs of saying other letters than the page shows:
    then the page is read by OCR too, so that a name drawn there is found."""
    return _MISREAD.search(text) is not None


def _drawn_under_actual_text(page: Any, flags: int, text: str) -> str | None:
    """The letters a page draws where marked content replaces them by its `/ActualText`
    (in the page's content or any form it draws, inline or by a named property): a reader's
    text layer, and a copy and paste, say the replacement; the page shows the letters. Read
    on every page with text (the extraction `get_text(sort=True)` did before `laid_out`)."""
    import pymupdf

    drawn = pdftext.scalar(str(page.get_text(flags=flags | pymupdf.TEXT_IGNORE_ACTUALTEXT)))
    return drawn if " ".join(drawn.split()) != " ".join(text.split()) else None


def _text_layer(
    page: Any, flags: int, inv: Inventory | None = None, n: int = 0, laid: list[str] | None = None
) -> str:
    """The page's text in logical order (Arabic as written, lam-alef whole): the same text
    search reads, so that the leak check sees a name printed by a browser or office suite.
    Lines not read in logical order give their other readings as a part of their own; a page
    the reader fails on is read as MuPDF reads it and the inventory is incomplete, naming
    the page: MuPDF splits lam-alef in visual-order Arabic, so a name may hide there."""
    from amanah.processing import pdftext

    try:
        read = pdftext.read_page(page, flags)
    except MemoryError:
        raise
    except Exception as exc:  # a page the repair cannot lay out is read as MuPDF reads it
        if inv is not None:
            inv.incomplete(
                f"page {n} of a PDF could not be read in logical order"
                f" ({type(exc).__name__}): a name in right-to-left text may not be found"
            )
        return pdftext.scalar(str(page.get_text(flags=flags)))
    if laid is not None:
        laid.append(pdftext.laid_out(read, page, flags))
    if inv is not None and read.other_readings:
        inv.add(
            "other readings of PDF lines not read in logical order",
            "\n".join(read.other_readings),
            f"page {n}",
            n,
        )
    return read.text


def _render(page: Any, clip: Any) -> Any:
    import pymupdf
    from PIL import Image

    area = clip if clip is not None else page.rect
    dpi, most = 300, (40_000_000 if clip is None else 8_000_000)
    while (area.width * dpi / 72) * (area.height * dpi / 72) > most and dpi > 72:
        dpi -= 36
    pix = page.get_pixmap(clip=clip, dpi=dpi, colorspace=pymupdf.csGRAY)
    return Image.frombytes("L", (pix.width, pix.height), pix.samples)


def _ocr_into(
    inv: Inventory,
    image: Any,
    page: int,
    what: str,
    work: Path,
    lang: str,
    locator: str = "",
) -> None:
    try:
        found = ocr.ocr_image(image(), page, ocr_dir(work), lang)
    except Exception as exc:
        not_memory(exc)
        inv.incomplete(f"OCR failed on {what} (page {page}): {type(exc).__name__}: {exc}"[:300])
        return
    where = f"page {page}" + (f", {locator}" if locator else "")
    inv.add(f"OCR of {what}", found.text, where, page)
    if found.lines_missed:
        inv.incomplete(f"OCR left lines unread: rows of ink of {what} ({where}) were not read")


def _pdf_revisions(inv: Inventory, data: bytes, work: Path, lang: str) -> None:
    """Each earlier revision of an incrementally updated PDF: every prefix of the file that
    ends at an %%EOF and opens as a PDF is read as its own document."""
    import pymupdf

    ends = [m.end() for m in re.finditer(rb"%%EOF", data)]
    ends = [e for e in ends if data[e:].strip(b"\r\n\x00 \t")]
    for n, end in enumerate(ends, 1):
        try:
            old = pymupdf.open(stream=data[:end], filetype="pdf")
        except Exception:  # noqa: S112
            continue  # not a PDF by itself (e.g. the first part of a linearized file)
        try:
            if old.needs_pass or old.page_count == 0:
                continue
            rev = Inventory()
            _pdf_objects(rev, old)
            _pdf_pages(rev, old, work, lang, set())
        finally:
            old.close()
        inv.nest(rev, "an earlier revision of the PDF", f"revision {n} of {len(ends) + 1}")
