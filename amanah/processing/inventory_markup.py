"""The content inventory of markup and messages: HTML/SVG text no browser shows, every
email header and body, RTF's hidden groups, and the embedded metadata ExifTool reads."""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from amanah.processing import ocr
from amanah.processing.inventory import Inventory, base64_pictures

_INVISIBLE = {"script", "style", "noscript", "template", "head", "title", "desc", "metadata"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0", re.I)
_WORD_ATTRS = {
    "alt": "an HTML alt attribute",
    "title": "an HTML title attribute",
    "content": "an HTML meta tag",
}


def html(inv: Inventory, markup: str, where: str) -> None:
    """Text no browser shows: comments, title, meta tags, alt and title attributes, other
    attributes that hold words, hidden elements, script and style contents (as text)."""
    from selectolax.lexbor import LexborHTMLParser

    suffix = f" in {where}" if where else ""
    tree = LexborHTMLParser(markup)
    found: dict[str, list[str]] = {}
    for node in tree.root.traverse(include_text=True) if tree.root else []:
        tag = node.tag
        if tag in ("-comment", "_comment", "!comment"):
            found.setdefault("an HTML comment", []).append(node.comment_content or "")
        elif tag == "-text":
            text = node.text_content or ""
            if text.strip() and (why := _invisible(node)):
                found.setdefault(why, []).append(text)
        else:
            for k, v in (node.attributes or {}).items():
                if not v or not v.strip():
                    continue
                if k in _WORD_ATTRS:
                    place = "an HTML meta tag" if tag == "meta" else _WORD_ATTRS[k]
                    found.setdefault(place, []).append(v)
                elif k.startswith(("aria-", "data-")) or k in (
                    "placeholder", "value", "label", "summary", "abbr", "href", "src", "name",
                ):  # fmt: skip
                    found.setdefault("an HTML attribute", []).append(v)
    for place, texts in found.items():
        inv.add(place + suffix, "\n".join(texts))
    if (shown := shown_text(markup)) is not None:
        inv.add(SHOWN_PLACE + suffix, shown)


#: The text a browser shows: hidden elements (inline or by a style sheet's rule) left out,
#: so the letters on either side of one are read together ("Ah<span hidden>zq</span>mad").
SHOWN_PLACE = "the HTML text as a browser shows it (hidden elements left out)"


#: Selectors of rules that hide (`display: none` …) or write text (`content`) looked up at
#: most (a style sheet of thousands costs thousands of passes over the page).
MAX_HIDING_SELECTORS = 200
#: Characters of one `content` declaration read and written, and of all the text a page's
#: style sheets write (past it, the rules' text is not written: a name is written early).
MAX_CONTENT = 1_024
MAX_WRITTEN = 1_000_000
#: A rule's generated text: `content: "Ah" attr(data-x) "\\6d ad"` (a pseudo-element's).
_CONTENT = re.compile(r"(?:^|[;{\s])content\s*:\s*([^;]*)", re.I)
_PSEUDO = re.compile(r"::?(before|after)\s*$", re.I)
_CSS_TOKEN = re.compile(
    r""""((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|attr\(\s*([\w-]+)\s*\)""", re.I | re.S
)
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})\s?|(.))", re.S)


def css_content(value: str, attributes: dict[str, str | None]) -> str:
    """The text a `content` declaration writes: its strings (CSS escapes read) and the
    attributes it copies, joined as a browser joins them; at most MAX_CONTENT characters of
    the declaration are read and written (a name is short; a declaration of thousands of
    escaped quotes made the strings' pattern retry from each one)."""
    out = []
    size = 0
    for m in _CSS_TOKEN.finditer(value[:MAX_CONTENT]):
        if m.group(3) is not None:
            piece = attributes.get(m.group(3).lower()) or ""
        else:
            piece = _CSS_ESCAPE.sub(_css_unescape, m.group(1) or m.group(2) or "")
        out.append(piece[: MAX_CONTENT - size])
        size += len(out[-1])
        if size >= MAX_CONTENT:
            break
    return "".join(out)


def _css_unescape(m: re.Match[str]) -> str:
    if m.group(1) is None:
        return "" if m.group(2) == "\n" else m.group(2)
    n = int(m.group(1), 16)
    return chr(n) if 0 < n < 0x110000 and not 0xD800 <= n < 0xE000 else "\ufffd"


def shown_text(markup: str) -> str | None:
    """The page's text as shown, when something hidden stands in it (None otherwise): every
    element hidden by an attribute, its style or a rule of the page's style sheets removed,
    `<bdo dir=rtl>` written as the right-to-left override it is (read in display order by
    the protected-name readings), the text a style sheet's `::before` and `::after` write
    (`content`) in its place."""
    from selectolax.lexbor import LexborHTMLParser

    from amanah.processing.extract import html_text

    tree = LexborHTMLParser(markup)
    hidden = []
    selectors: list[str] = []
    written: list[tuple[str, bool, str]] = []  # (selector, after, CSS `content` of a rule)
    for style in tree.css("style"):
        for block in (style.text() or "").split("}"):  # a rule: selectors { declarations
            chosen, _, body = block.partition("{")
            if _HIDDEN_STYLE.search(body):
                selectors += [c.strip() for c in chosen.split(",") if c.strip()]
            if (content := _CONTENT.search(body)) is not None:
                for c in chosen.split(","):
                    if (pseudo := _PSEUDO.search(c)) is not None:
                        after = pseudo.group(1).lower() == "after"
                        written.append((c[: pseudo.start()].strip() or "*", after, content[1]))
    for selector in list(dict.fromkeys(selectors))[:MAX_HIDING_SELECTORS]:
        try:
            hidden.extend(tree.css(selector))
        except Exception:  # noqa: S112 - a selector the parser does not take
            continue
    # Rules that write text have a budget of their own: hiding rules (a page can hold any
    # number of them) must not use it up and so turn this reading off.
    written_total = 0
    for selector, after, content in list(dict.fromkeys(written))[:MAX_HIDING_SELECTORS]:
        try:
            nodes = tree.css(selector)
        except Exception:  # noqa: S112 - a selector the parser does not take
            continue
        for node in nodes[:MAX_HIDING_SELECTORS]:
            text = css_content(content, node.attributes or {})
            written_total += len(text)
            if written_total > MAX_WRITTEN:
                break
            if after or node.child is None:
                node.insert_child(text)
            else:
                node.child.insert_before(text)
    hidden += [
        n
        for n in tree.css("[hidden], [aria-hidden=true], [style]")
        if "hidden" in (n.attributes or {})
        or (n.attributes or {}).get("aria-hidden") == "true"
        or _HIDDEN_STYLE.search((n.attributes or {}).get("style") or "")
    ]
    # A ruby annotation stands above its base, not inside the word: `K<ruby>ha<rt>1</rt>
    # </ruby>tib` shows "Khatib".
    hidden += tree.css("ruby rt, ruby rp")
    bdo = [n for n in tree.css("bdo") if ((n.attributes or {}).get("dir") or "").lower() == "rtl"]
    if not hidden and not bdo and not written:
        return None
    for node in bdo:
        node.insert_before("\u202e")
        node.insert_after("\u202c")
    # Each hidden element once, and not one inside another taken away (its node is freed with
    # it); the page's root, head and body stay.
    hidden = [n for n in hidden if n.tag not in ("html", "head", "body")]
    ids = {n.mem_id for n in hidden}
    top, seen = [], set()
    for node in hidden:
        parent, inside = node.parent, False
        while parent is not None and not inside:
            inside = parent.mem_id in ids
            parent = parent.parent
        if not inside and node.mem_id not in seen:
            seen.add(node.mem_id)
            top.append(node)
    for node in top:
        node.decompose(recursive=True)
    return html_text(tree.html or "")[0]


#: A file written inside markup as a `data:` URI (an image a saved page or a mail inlines, an
#: SVG's picture, a frame's page): base64 or percent-encoded.
_DATA_URI = re.compile(
    r"data:([\w.+-]+/[\w.+-]+)?((?:;[\w.+-]+=[^;,\"'\s]*)*)(;base64)?,([^\"'()\s<>]{16,})",
    re.IGNORECASE,
)
#: A page that draws its text with a font it carries (`@font-face` with a `url(…)` of a
#: `data:` URI or a font file beside it; an SVG font's `<glyph>`s): the font may draw any
#: letter for any code point (a cmap remapped), so the text read is not what is shown, and no
#: reader here draws the page to read it. A font fetched from the web (`https:`, `//`) is not
#: carried: a saved page naming a web font service is read as it is.
_OWN_FONT = re.compile(
    r"@font-face\s*\{[^}]{0,4096}?\burl\s*\((?!\s*['\"]?\s*(?:https?:|//))|<(?:\w+:)?glyph\b",
    re.IGNORECASE,
)
OWN_FONT = "draws its text with a font it carries: what it shows may differ from its text"
#: At most this many inlined files of one page are read (each a file of its own).
MAX_DATA_URIS = 200


def data_uris(inv: Inventory, markup: str, work: Path, lang: str, depth: int) -> None:
    """Every file a page inlines as a `data:` URI, read as its own format (an image OCR'd)."""
    import base64
    from urllib.parse import unquote_to_bytes

    from amanah.processing.base64_pictures import kind as base64_kind
    from amanah.processing.inventory import nested

    if _OWN_FONT.search(markup):
        inv.incomplete(OWN_FONT)
    for n, m in enumerate(_DATA_URI.finditer(markup), 1):
        if n > MAX_DATA_URIS:
            inv.incomplete(f"past an unpack limit: more than {MAX_DATA_URIS} inlined files")
            return
        media, _params, b64, payload = m.groups()
        if media and "font" in media.lower():
            continue  # a web font's glyphs: no reader for them, and nothing they say
        try:
            data = (
                base64.b64decode(re.sub(r"\s|%0[aAdD]", "", payload) + "==", validate=False)
                if b64
                else unquote_to_bytes(payload)
            )
        except ValueError:
            inv.incomplete(f"an inlined file (data: URI {n}) could not be decoded")
            continue
        if b64 and base64_kind(data) is not None:
            continue  # a picture: read where every picture written as base64 is (`base64_pictures`)
        ext = (media or "text/plain").split("/")[-1].split("+")[0]
        nested(inv, data, f"inlined-{n}.{ext}", "a file inlined in the page (data: URI)",
               f"data: URI {n}", work, lang, depth)  # fmt: skip


def _invisible(node: Any) -> str | None:
    parent = node.parent
    while parent is not None:
        tag = parent.tag
        if tag == "title":
            return "the HTML title"
        if tag in _INVISIBLE:
            return f"non-visible HTML text ({tag})"
        attrs = parent.attributes or {}
        if "hidden" in attrs or attrs.get("aria-hidden") == "true":
            return "a hidden HTML element"
        if _HIDDEN_STYLE.search(attrs.get("style") or ""):
            return "a hidden HTML element"
        parent = parent.parent
    return None


# -- email --------------------------------------------------------------------------------------


def eml(
    inv: Inventory,
    source: Path | bytes,
    work: Path | None = None,
    lang: str = ocr.DEFAULT_LANGUAGES,
    depth: int = 0,
) -> None:
    """Every header (not only From/To/Subject), every text and HTML body and the pictures
    they write as base64 (a `data:` URI); attachments are the item's parts and have their own
    inventories. `source`: the file, or an .emlx's message bytes (read as `analyze` reads
    them: `unpack.read_email`); `work`: where pictures are read (a temporary folder if None)."""
    from amanah.processing.unpack import bound_headers, nesting_bounded, read_email

    with nesting_bounded(), _work(work) as folder:
        msg = read_email(source)
        for said in bound_headers(msg):
            inv.incomplete(f"email {said}")
        _eml(inv, msg, folder, lang, depth)


@contextlib.contextmanager
def _work(work: Path | None) -> Iterator[Path]:
    if work is not None:
        yield work
        return
    with tempfile.TemporaryDirectory(prefix="amanah-inventory-") as tmp:
        yield Path(tmp)


def _eml(inv: Inventory, msg: Any, work: Path, lang: str, depth: int) -> None:
    from amanah.processing.textfile import MAX_MARKUP_CHARS
    from amanah.processing.unpack import bounded_content

    for k, v in msg.items():
        inv.add("an email header", f"{k}: {v}", k)
    for n, part in enumerate(_leaves(msg), 1):
        ctype = part.get_content_type()
        filename = part.get_filename()
        if filename:
            inv.add("an email attachment's name", filename, f"part {n}")
        if part.get_content_disposition() == "attachment":
            continue
        try:  # a text to its budget; any other part is an item of its own, read as such
            content, cut = (
                bounded_content(part, MAX_MARKUP_CHARS)
                if ctype.startswith("text/")
                else (part.get_content(), False)
            )
        except (LookupError, ValueError) as exc:
            inv.incomplete(f"email body could not be decoded: part {n}: {exc}")
            continue
        if cut:
            inv.incomplete(f"email body part {n} read to its first {len(content):,} characters")
        if ctype == "text/html":
            from amanah.processing.extract import html_text

            inv.add("the HTML body of an email", html_text(str(content))[0], f"part {n}")
            html(inv, str(content), "the HTML body of an email")
            data_uris(inv, str(content), work, lang, depth)
        elif ctype.startswith("text/"):
            text = str(content)
            if ctype == "text/plain" and str(part.get_param("format", "")).lower() == "flowed":
                delsp = str(part.get_param("delsp", "")).lower() == "yes"
                text = unflowed(text, delsp)  # as a mail client shows it (RFC 3676)
            inv.add("the text body of an email", text, f"part {n}")
        if ctype.startswith("text/"):
            base64_pictures(inv, str(content), work, lang, depth, f"email body part {n}")
        if n > 1:
            for k, v in part.items():
                inv.add("an email part header", f"{k}: {v}", f"part {n}")


#: A flowed line's quote depth (`>>`) and its text after the space a sender stuffed in.
_FLOWED_LINE = re.compile(r"(>*+) ?+(.*)", re.S)


def unflowed(text: str, delsp: bool) -> str:
    """A `format=flowed` body as a mail client shows it (RFC 3676): a line ending in a space
    runs on into the next of the same quote depth, the space deleted too when `delsp=yes`
    ("al-Kha ⏎tib" is "al-Khatib"); a stuffed space undone, the signature line kept apart."""
    out: list[str] = []
    held: list[str] | None = None  # a flowed paragraph's lines so far, joined at its end
    depth = ""
    for raw in text.replace("\r\n", "\n").split("\n"):
        m = _FLOWED_LINE.match(raw)
        quote, line = (m.group(1), m.group(2)) if m else ("", raw)
        if held is not None and quote != depth:
            out.append(depth + "".join(held))
            held = None
        flowed = line.endswith(" ") and line != "-- "
        if flowed and delsp:
            line = line[:-1]
        if held is None:
            held, depth = [], (quote if flowed else depth)
        held.append(line)
        if not flowed:
            out.append(quote + "".join(held))
            held = None
    if held is not None:
        out.append(depth + "".join(held))
    return "\n".join(out)


def _leaves(msg: Any) -> Any:
    if msg.is_multipart():
        for part in msg.iter_parts():
            if part.get_content_type() == "message/rfc822":
                continue  # an attached message is a part item of its own
            yield from _leaves(part)
    else:
        yield msg


def msg(
    inv: Inventory, path: Path, work: Path, lang: str = ocr.DEFAULT_LANGUAGES, depth: int = 0
) -> None:
    import extract_msg

    message = extract_msg.openMsg(str(path))
    try:
        header = message.header
        for k, v in header.items() if header is not None else []:
            inv.add("an email header", f"{k}: {v}", k)
        for label, value in (
            ("From", message.sender),
            ("To", message.to),
            ("Cc", message.cc),
            ("Bcc", getattr(message, "bcc", None)),
            ("Subject", message.subject),
        ):
            inv.add("an email header", f"{label}: {value}" if value else "", label)
        body = message.body
        inv.add("the text body of an email", body)
        base64_pictures(inv, body or "", work, lang, depth, "the text body")
        if message.htmlBody:
            from amanah.processing.extract import decode_text, html_text

            markup = decode_text(message.htmlBody)[0]
            inv.add("the HTML body of an email", html_text(markup)[0])
            html(inv, markup, "the HTML body of an email")
            data_uris(inv, markup, work, lang, depth)
            base64_pictures(inv, markup, work, lang, depth, "the HTML body")
        for n, att in enumerate(message.attachments, 1):
            inv.add(
                "an email attachment's name",
                att.longFilename or att.shortFilename or "",
                f"attachment {n}",
            )
    finally:
        message.close()


# -- RTF, images and everything else ------------------------------------------------------------


def bounded(inv: Inventory, path: Path) -> str:
    """A markup file's characters up to its budget, read a chunk at a time; past it the
    inventory is incomplete (what was not read cannot be said to hold no name)."""
    from amanah.processing.textfile import MAX_MARKUP_CHARS, read_text

    read = read_text(path, MAX_MARKUP_CHARS)
    if read.cut:
        inv.incomplete(
            f"past an unpack limit: the markup has more than {MAX_MARKUP_CHARS:,} characters;"
            " the rest was not read"
        )
    return read.text


def rtf(inv: Inventory, path: Path) -> None:
    """RTF groups a reader skips (comments, hidden fields) read as text too."""
    from striprtf.striprtf import rtf_to_text

    raw = _RTF_DESTINATION.sub(_rtf_shown, bounded(inv, path).replace("{\\*", "{"))
    # As the groups run on, and with each group ended by a space (an author's name and the
    # title after it are two groups, not one word).
    inv.add(
        "RTF text in hidden groups (comments, fields)",
        rtf_to_text(raw, errors="ignore")
        + "\n"
        + rtf_to_text(raw.replace("}", " }"), errors="ignore"),
    )
    # The names of styles, fonts and lists (`{\\stylesheet{\\s15 Ahmad…;}}`): a reader shows
    # them in its menus, and their `\\uN?` escapes are letters like the body's.
    tables = _RTF_DESTINATION.sub(_rtf_tables_shown, bounded(inv, path).replace("{\\*", "{"))
    inv.add(RTF_TABLES_PLACE, rtf_to_text(tables.replace("}", " }"), errors="ignore"))


RTF_TABLES_PLACE = "RTF names of styles, fonts and lists"
#: The tables whose entries are names: shown in that place.
_RTF_TABLES = frozenset(
    {"fonttbl", "stylesheet", "listtable", "listoverridetable", "filetbl", "generator",
     "revtbl", "listname"}
)  # fmt: skip


#: Destinations the RTF reader skips whose words are the document's: comments and their
#: authors, headers and footers, footnotes, document information, fields, form fields, bookmarks,
#: text boxes … Only font and colour tables, pictures and binary data stay skipped.
_RTF_DESTINATION = re.compile(r"\\([a-zA-Z]{1,32})(?=[^a-zA-Z])")
_RTF_KEEP_SKIPPED = frozenset(
    {"fonttbl", "colortbl", "pict", "objdata", "datastore", "themedata", "fontemb", "fontfile",
     "blipuid", "colorschememapping", "latentstyles", "bin", "listtable", "listoverridetable",
     "filetbl", "gridtbl", "stylesheet", "rsidtbl", "generator", "xmlnstbl", "mmathPr"}
)  # fmt: skip


def _rtf_shown(m: re.Match[str]) -> str:
    """A destination control word renamed (to one no reader knows) so that its group is read."""
    from striprtf.striprtf import destinations

    word = m.group(1)
    if word in destinations and word not in _RTF_KEEP_SKIPPED:
        return "\\amanahshown" + word
    return m.group()


def _rtf_tables_shown(m: re.Match[str]) -> str:
    from striprtf.striprtf import destinations

    word = m.group(1)
    if word in destinations and (word not in _RTF_KEEP_SKIPPED or word in _RTF_TABLES):
        return "\\amanahshown" + word
    return m.group()


_RTF_OBJDATA = re.compile(r"\\objdata\b[^0-9a-fA-F}]{0,64}+([0-9a-fA-F\s]{16,})")
#: What an embedded object's bytes may open with: a zip (DOCX, XLSX …), an OLE compound file
#: (DOC, XLS, an equation), a PDF, an RTF, pictures.
_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"%PDF-", b"{\\rtf",
               b"\x89PNG", b"\xff\xd8\xff", b"GIF8")  # fmt: skip
MAX_RTF_OBJECTS = 50


def rtf_objects(text: str) -> tuple[list[bytes], int]:
    """The files an RTF's objects (`{\\object …{\\*\\objdata <hex>}}`) hold: each object's
    hex decoded and its OLE1 wrapper (a "Package", an embedded document) taken off by finding
    the file's own signature; and how many objects held none found."""
    found: list[bytes] = []
    unknown = 0
    for n, m in enumerate(_RTF_OBJDATA.finditer(text)):
        if n >= MAX_RTF_OBJECTS:
            unknown += 1
            break
        hexed = re.sub(r"\s+", "", m.group(1))
        try:
            data = bytes.fromhex(hexed[: len(hexed) // 2 * 2])
        except ValueError:
            unknown += 1
            continue
        starts = [i for sig in _SIGNATURES if (i := data.find(sig)) >= 0]
        if not starts:
            unknown += 1
            continue
        found.append(data[min(starts) :])
    return found, unknown


#: ExifTool groups that describe the file system or ExifTool itself, not the file's content.
_EXIF_SKIP = ("System:", "File:", "ExifTool:", "Composite:")


def exif(inv: Inventory, path: Path) -> None:
    """Every text field ExifTool reads (EXIF, XMP, IPTC, ICC, maker notes, tags)."""
    from amanah.processing.extract import run_tool

    out = run_tool(
        ["exiftool", "-j", "-a", "-u", "-G1", "-charset", "filename=utf8", str(path)],
        output_despite_errors=True,
    )
    try:
        found = json.loads(out.decode("utf-8", "replace"))[0]
    except (ValueError, IndexError):
        inv.incomplete("ExifTool could not read the embedded metadata")
        return
    lines = [
        f"{k}: {v}"
        for k, v in found.items()
        if not k.startswith(_EXIF_SKIP) and k != "SourceFile" and isinstance(v, str)
    ]
    inv.add("the file's embedded metadata (EXIF, XMP, IPTC)", "\n".join(lines), "exiftool")
