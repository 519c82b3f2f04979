"""The content inventory: everything a file says, wherever it says it, and whether that is all.

Search, the leak check and redaction read this one inventory, so a place where text can hide
is added here once. It is taken in the processing sandbox (from `analyze`, and as the task
`inventory` for a file made later, such as a redacted copy) and stored as a JSON derivative:

    {"version": 2, "media_type": ..., "complete": bool, "reasons": [...], "raw": true,
     "parts": [{"place": "a DOCX header", "page": null, "locator": "word/header1.xml",
                "text": "..."}]}

Since version 2 (`"raw": true`) the inventory also holds the raw readings of the file's bytes
(`amanah.text.rawtext`: UTF-8, UTF-16 LE/BE, Windows-1256/1252), as parts placed "its raw
bytes (UTF-16-LE)" …: the leak check's last net is read from storage at build time like every
other place. An older inventory has no such parts, and the build scans its bytes live.

`place` reads after "in" ("names protected person W-1 in a DOCX header"); `locator` says
where exactly, never quoting the content. An inventory is complete only when every place of
the format was read: anything encrypted, past an unpack limit, of a format with no reader,
or whose OCR failed makes it incomplete, with the reason. Parts of an item (archive members,
attachments) have inventories of their own; the leak check reads them all.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from amanah.processing import ocr

VERSION = 2
#: Where the raw readings of a file's bytes are placed: "its raw bytes (UTF-8)" ….
RAW_PLACE = "its raw bytes"
#: Where the values of markup attributes no reader names are placed ("a value of an XML
#: attribute in a DOCX header"): read by the leak check, not indexed (font names, styles).
ATTRIBUTE_PLACE = "a value of an XML attribute"
FILE = "inventory.json"
SPEC = "inventory-spec.json"
#: Places whose text is already the item's extracted text or OCR text (search has it).
ARCHIVE_NAMES = "the names of an archive's members"
BODY_PLACES = frozenset(
    {"the body text", "OCR of the file's images or scanned pages", ARCHIVE_NAMES}
)
MAX_NESTING = 4  # files embedded in files embedded in … beyond this: incomplete
MAX_PART_BYTES = 256 << 20  # one part of an Office package or PDF read into memory
#: Flags of processing that mean something was not read, and how the reason starts.
INCOMPLETE_FLAGS = {
    "encrypted": "encrypted",
    "unpack_limit": "past an unpack limit",
    "unreadable": "could not be read",
    "unsupported_format": "unsupported format",
    "ocr_failed": "OCR failed",
    "ocr_lines_missed": "OCR left lines unread",
    "damaged_archive": "damaged archive",
    "text_truncated": "text cut short",
    "sheet_cut": "a spreadsheet read only to its budget",
    "unreadable_body": "email body could not be decoded",
    "header_cut": "an email header read to its head",
    "processing_failed": "processing failed",
}
AV_PREFIXES = ("audio/", "video/")


@dataclass
class Part:
    place: str
    locator: str
    text: str
    page: int | None = None


@dataclass
class Inventory:
    media_type: str = ""
    parts: list[Part] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    raw: bool = False  # the raw readings of the bytes were taken

    @property
    def complete(self) -> bool:
        return not self.reasons

    def add(self, place: str, text: Any, locator: str = "", page: int | None = None) -> None:
        text = "" if text is None else str(text)
        if text.strip():
            self.parts.append(Part(place, locator, text, page))

    def incomplete(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)

    def nest(self, inner: Inventory, where: str, locator: str) -> None:
        """Take in the inventory of a file inside this one (embedded, earlier revision)."""
        for p in inner.parts:
            loc = f"{locator}; {p.locator}" if p.locator else locator
            self.parts.append(Part(f"{p.place} in {where}", loc, p.text, p.page))
        for r in inner.reasons:
            self.incomplete(f"{where} ({locator}): {r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "media_type": self.media_type,
            "complete": self.complete,
            "reasons": list(self.reasons),
            "raw": self.raw,
            "parts": [asdict(p) for p in self.parts],
        }


#: The place of a picture a file carries besides the one it shows (a thumbnail, a preview).
EMBEDDED_PICTURE = "OCR of a picture inside the file (a thumbnail, a preview)"


def not_memory(exc: BaseException) -> None:
    """Raise again when a reader failed for want of memory (a MemoryError, or a reader in C that
    wrapped its failed allocation, as `analyze.out_of_memory` tells): the job must fail with
    the limit and be retried with room, not finish with an inventory called incomplete."""
    if isinstance(exc, MemoryError):
        raise exc
    from amanah.processing.analyze import out_of_memory

    if out_of_memory():
        raise MemoryError(f"at the memory limit ({type(exc).__name__}: {exc})"[:300]) from exc


def reasons_from_flags(flags: list[dict[str, str]]) -> list[str]:
    return [
        f"{INCOMPLETE_FLAGS[f['code']]}: {f['message']}"
        for f in flags
        if f.get("code") in INCOMPLETE_FLAGS
    ]


def finish(doc: dict[str, Any], flags: list[dict[str, str]]) -> dict[str, Any]:
    """The stored inventory with the processing flags' reasons added (idempotent)."""
    reasons = list(doc.get("reasons", []))
    for r in reasons_from_flags(flags):
        if r not in reasons:
            reasons.append(r)
    return {**doc, "reasons": reasons, "complete": not reasons}


def searchable_text(doc: dict[str, Any]) -> str:
    """Text of the places search does not already get from the extracted and OCR text."""
    return "\n".join(
        p["text"]
        for p in doc.get("parts", [])
        if p["place"] not in BODY_PLACES and not p["place"].startswith((RAW_PLACE, ATTRIBUTE_PLACE))
    )


def raw_readings(inv: Inventory, path: Path) -> None:
    """The raw readings of a file's bytes, as parts (the leak check's last net)."""
    from amanah.text import rawtext

    try:
        for label, text in rawtext.of_file(path).items():
            if label == rawtext.label(rawtext.INFLATE_CUT):
                inv.incomplete(rawtext.INFLATE_CUT_REASON)
                continue
            inv.add(f"{RAW_PLACE} ({label})", text)
    except Exception as exc:  # say so: the build then scans the bytes itself
        not_memory(exc)
        inv.incomplete(f"the raw reading of its bytes failed: {type(exc).__name__}: {exc}")
        return
    inv.raw = True


# -- taking an inventory ----------------------------------------------------------------------


def take(
    path: Path,
    media_type: str,
    kind: str,
    body_pages: list[str],
    metadata: dict[str, Any],
    work: Path,
    languages: str = ocr.DEFAULT_LANGUAGES,
    ocr_text: dict[int, str] | None = None,
    flags: list[dict[str, str]] | None = None,
    depth: int = 0,
) -> Inventory:
    """The inventory of one file whose extraction already ran (body pages, metadata, OCR).

    `kind` is the extractor chosen by `analyze` ("" when no reader exists).
    """
    inv = Inventory(media_type=media_type)
    body = ARCHIVE_NAMES if kind == "archive" else "the body text"
    for n, text in enumerate(body_pages, 1):
        inv.add(body, text, f"page {n}" if len(body_pages) > 1 else "", n)
    for n, text in sorted((ocr_text or {}).items()):
        inv.add("OCR of the file's images or scanned pages", text, f"page {n}", n)
    for key, value in metadata.items():
        if key not in ("captured_at",):
            inv.add("the file's metadata", _flat(value), key)
    for reason in reasons_from_flags(flags or []):
        inv.incomplete(reason)
    if not any(f.get("code") == "encrypted" for f in flags or []):
        try:
            _places(inv, path, media_type, kind, work, languages, set(ocr_text or {}), depth)
        except Exception as exc:  # a hostile part stops this reader: say so, never silently
            not_memory(exc)
            inv.incomplete(f"the inventory could not read every place: {type(exc).__name__}: {exc}")
    if depth == 0:  # last: the places a reader names come first in a refusal
        raw_readings(inv, path)
    return inv


def embedded_pictures(
    inv: Inventory, data: bytes, whole_file: bool, work: Path, languages: str, where: str = ""
) -> None:
    """OCR of each picture a file carries besides the one it shows (`embedded_pictures`: an
    EXIF thumbnail, a preview, an appended image), each a part of its own."""
    from amanah.processing import embedded_pictures as pictures

    for n, (at, image) in enumerate(pictures.pictures(data, whole_file), 1):
        locator = f"{where}, " if where else ""
        if image is None or n > pictures.MAX_PICTURES:
            inv.incomplete(
                f"more pictures inside {where or 'the file'} (thumbnails, previews) than are"
                f" read ({pictures.MAX_PICTURES}): the others were not read"
            )
            return
        try:
            found = ocr.ocr_image(image, n, ocr_dir(work), languages)
        except Exception as exc:
            not_memory(exc)
            inv.incomplete(f"OCR failed on a picture inside the file ({locator}at byte {at})")
            continue
        inv.add(EMBEDDED_PICTURE, found.text, f"{locator}at byte {at}")
        if found.lines_missed:
            inv.incomplete(
                f"OCR left lines unread: a picture inside the file ({locator}at byte {at})"
            )


#: The place of a picture written into a text as base64 (a `data:` URI, a vCard's PHOTO, a
#: notebook's output), read as a file of its own: "OCR of the file's images … in" it.
BASE64_PICTURE = "a picture written in the file as base64"


def base64_pictures(
    inv: Inventory, text: str | bytes, work: Path, languages: str, depth: int, where: str = ""
) -> None:
    """Each picture `text` (or bytes read as ASCII) holds as base64 (`base64_pictures`), read
    as its own format (OCR, metadata, the pictures it carries): a reader shows it; past the
    scan's bounds the inventory is incomplete."""
    from amanah.processing import base64_pictures as b64

    for n, found in enumerate(b64.find(text), 1):
        locator = f"{where}, " if where else ""
        locator += f"base64 at character {found.at}"
        if found.data is None:
            inv.incomplete(f"past an unpack limit: {found.why} ({locator})")
            continue
        name = f"picture-{n}.{b64.kind(found.data)}"
        nested(inv, found.data, name, BASE64_PICTURE, locator, work, languages, depth)


def _places(
    inv: Inventory,
    path: Path,
    media_type: str,
    kind: str,
    work: Path,
    languages: str,
    ocr_done: set[int],
    depth: int,
) -> None:
    """Every place beyond the body text, by the reader `analyze` chose (then by type)."""
    from amanah.processing import inventory_markup as markup
    from amanah.processing import inventory_office as office
    from amanah.processing import inventory_pdf as pdf

    if kind == "message/rfc822":
        # parsed from the file a chunk at a time (`unpack.read_email`)
        markup.eml(inv, path, work, languages, depth)
    elif kind == "emlx":
        first, _, rest = path.read_bytes().partition(b"\n")
        markup.eml(inv, rest[: int(first.strip() or 0)], work, languages, depth)
    elif kind == "application/vnd.ms-outlook":
        markup.msg(inv, path, work, languages, depth)
    elif media_type == "application/pdf":
        pdf.read(inv, path.read_bytes(), work, languages, ocr_done, depth)
    elif media_type.startswith((office.OOXML, office.ODF)):
        office.read(inv, path, media_type, work, languages, depth)
    elif kind in ("text/html", "application/xhtml+xml", "image/svg+xml"):
        page = markup.bounded(inv, path)
        markup.html(inv, page, "")
        markup.data_uris(inv, page, work, languages, depth)
        base64_pictures(inv, page, work, languages, depth)
        if kind == "image/svg+xml" or media_type == "image/svg+xml":
            pdf.svg_drawn(inv, path.read_bytes(), work, languages)
    elif kind in ("text/rtf", "application/rtf"):
        markup.rtf(inv, path)
        page = markup.bounded(inv, path)
        base64_pictures(inv, page, work, languages, depth)
        files, unknown = markup.rtf_objects(page)
        for n, data in enumerate(files, 1):
            nested(inv, data, "object", RTF_OBJECT_PLACE, f"object {n}", work, languages, depth)
        if unknown:
            inv.incomplete(f"{unknown} RTF object(s) whose contents are in no format read")
    elif kind in ("text", "json"):  # Markdown, a notebook, a vCard, a calendar, flat ODF …
        base64_pictures(inv, markup.bounded(inv, path), work, languages, depth)
        if kind == "text":
            uuencoded(inv, path, work, languages, depth)
    elif media_type.startswith("image/") or media_type.startswith(AV_PREFIXES) or not kind:
        markup.exif(inv, path)
    elif kind.startswith("text/"):
        uuencoded(inv, path, work, languages, depth)
    if kind in ("message/rfc822", "emlx", "application/vnd.ms-outlook"):
        bodies = [p.text for p in inv.parts if p.place == "the text body of an email"]
        for n, body in enumerate(bodies, 1):  # a file uuencoded in it (an old mailer's)
            uuencoded_in(inv, body, f"text body {n}, ", work, languages, depth)
    if media_type.startswith("image/") or media_type == "application/pdf":
        # After an image's own picture, any other is one it carries; a TIFF's own strips may
        # be JPEGs each (a scanner's), so there only pictures inside metadata segments count.
        appended = media_type.startswith("image/") and media_type not in (
            "image/tiff",
            "image/svg+xml",
        )
        data = path.read_bytes()
        embedded_pictures(inv, data, appended, work, languages)
        if media_type.startswith("image/") and media_type != "image/svg+xml":
            base64_pictures(inv, data, work, languages, depth)  # XMP's thumbnails (`xmpGImg`)
    if media_type == "inode/x-empty":
        return  # an empty file says nothing
    if media_type.startswith(AV_PREFIXES):
        inv.incomplete(f"no reader for the content of {media_type} (spoken words, pictures)")
    elif not kind and not media_type.startswith("image/"):
        inv.incomplete(f"unsupported format: no reader for {media_type or 'this file'}")


#: Where a file uuencoded in a text (`begin 644 name` … `end`) is read, as its own format.
UUENCODED_PLACE = "a file uuencoded in the text"
RTF_OBJECT_PLACE = "an object embedded in the RTF"


def uuencoded(inv: Inventory, path: Path, work: Path, languages: str, depth: int) -> None:
    """Each file a text carries uuencoded (a mail's or a newsgroup's attachment, bounded:
    `markupread.uu_files`), read as its own format (a DOCX as a DOCX)."""
    from amanah.processing.textfile import MAX_MARKUP_CHARS, read_text

    with path.open("rb") as f:  # most texts hold no block: looked for a chunk at a time
        tail, left = b"", MAX_MARKUP_CHARS
        while left > 0 and (chunk := f.read(min(left, 4 << 20))):
            if b"begin" in tail + chunk:
                break
            tail, left = chunk[-8:], left - len(chunk)
        else:
            return
    uuencoded_in(inv, read_text(path, MAX_MARKUP_CHARS).text, "", work, languages, depth)


def uuencoded_in(
    inv: Inventory, text: str, where: str, work: Path, languages: str, depth: int
) -> None:
    """Each file uuencoded in a text, read as its own format."""
    from amanah.text.markupread import MAX_UU_BLOCKS, MAX_UU_BYTES, uu_files_cut

    files, cut = uu_files_cut(text)
    for n, (name, data) in enumerate(files, 1):
        if data:
            locator = f"{where}uuencoded block {n}"
            nested(inv, data, name, UUENCODED_PLACE, locator, work, languages, depth)
    if cut:
        inv.incomplete(
            f"past an unpack limit: more uuencoded blocks in {where or 'the text'} than are"
            f" read ({MAX_UU_BLOCKS} blocks, {MAX_UU_BYTES:,} bytes)"
        )


def of_file(
    path: Path, name: str, work: Path, languages: str = ocr.DEFAULT_LANGUAGES, depth: int = 0
) -> Inventory:
    """The inventory of a file read from scratch: identify, extract, OCR, every place.

    Used for files inside files (a PDF's embedded file, an object in a DOCX) and for files
    made later (a redacted copy), never for the unpacking of archives (their members become
    items with inventories of their own).
    """
    from amanah.processing import analyze, metadata, unpack
    from amanah.processing.extract import Encrypted, Extraction
    from amanah.processing.identify import identify

    ident = identify(str(path), name)
    inv = Inventory(media_type=ident.media_type)
    if depth > MAX_NESTING:
        inv.incomplete(f"past an unpack limit: nested more than {MAX_NESTING} files deep")
        return inv
    kind, handler = analyze._choose(ident.media_type, ident.description, name)
    flags: list[dict[str, str]] = []
    result = Extraction()
    try:
        if kind == "encrypted":
            raise Encrypted(f"content is encrypted ({ident.description[:120]})")
        if kind == "archive" or (handler is not None and handler.__module__ == unpack.__name__):
            if kind == "archive":
                inv.incomplete("an archive inside a file is not unpacked here")
                return inv
        elif handler is not None:
            result = handler(path)
    except Encrypted as exc:
        flags.append({"code": "encrypted", "message": str(exc)})
    except Exception as exc:
        not_memory(exc)
        flags.append({"code": "unreadable", "message": f"{type(exc).__name__}: {exc}"[:300]})
    flags += result.flags
    meta = dict(result.metadata)
    if metadata.wanted(ident.media_type):
        found, _problems = metadata.extract(path, ident.media_type)
        meta.update(found)
    ocr_text: dict[int, str] = {}
    if ident.media_type.startswith("image/") and ident.media_type not in analyze.NOT_OCR:
        try:
            found_pages = ocr.image_pages(path, ocr_dir(work), languages)
            for p in found_pages:
                ocr_text[p.page] = p.text
            missed = ocr.lines_missed_flag([p.page for p in found_pages if p.lines_missed])
            if missed:
                flags.append(missed)
        except Exception as exc:
            not_memory(exc)
            flags.append({"code": "ocr_failed", "message": f"OCR failed: {exc}"})
    found_inv = take(
        path, ident.media_type, kind, result.pages, meta, work, languages, ocr_text, flags, depth
    )
    inv.raw = found_inv.raw
    for p in found_inv.parts:
        inv.parts.append(p)
    for r in found_inv.reasons:
        inv.incomplete(r)
    if kind in ("message/rfc822", "emlx", "application/vnd.ms-outlook") and result.children:
        inv.incomplete("the attachments of an email inside a file are not read here")
    return inv


def nested(
    inv: Inventory, data: bytes, name: str, where: str, locator: str, work: Path, lang: str, d: int
) -> None:
    """Inventory a file found inside this one, as its own format."""
    sub = work / f"nested-{d}-{len(inv.parts)}-{len(inv.reasons)}"
    sub.mkdir(parents=True, exist_ok=True)
    target = sub / "file"
    target.write_bytes(data)
    inv.nest(of_file(target, name, sub, lang, d + 1), where, locator)


def ocr_dir(work: Path) -> Path:
    out = work / "inventory-ocr"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return "\n".join(f"{k}: {_flat(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "\n".join(_flat(v) for v in value)
    return "" if value is None else str(value)


# -- the sandbox task ---------------------------------------------------------------------------


def inventory_task(path: str, out_dir: str) -> dict[str, Any]:
    """Entry point in the sandbox's child: inventory a file from scratch (e.g. a redacted
    copy made after processing), write it as inventory.json beside the manifest."""
    out = Path(out_dir)
    spec = json.loads((out / SPEC).read_text(encoding="utf-8"))
    languages = spec.get("languages") or ocr.DEFAULT_LANGUAGES
    inv = of_file(Path(path), spec.get("name") or "file", out / "work", languages)
    doc = inv.to_json()
    (out / FILE).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return {"file": FILE, "complete": inv.complete, "reasons": inv.reasons}
