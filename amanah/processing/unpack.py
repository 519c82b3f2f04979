"""Unpack archives and emails into child files, with limits against bombs and traversal.

Member names are recorded as evidence but never used as file-system paths: each member is
written to a numbered file in the job's own folder, so `../../etc/passwd` or an absolute name
cannot escape. Links inside archives are recorded and never followed or extracted.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import email
import email.policy
import mailbox
import re
from collections.abc import Iterable, Iterator
from email.message import EmailMessage
from email.parser import BytesFeedParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from amanah.processing.children import LimitReached, Limits, Writer
from amanah.processing.extract import Encrypted, Extraction, _clean, decode_text, html_text
from amanah.processing.pathnames import other_readings, read_name
from amanah.processing.textfile import MAX_TEXT_CHARS, cut_flag


def _suspicious_name(name: bytes) -> str | None:
    if name.startswith(b"/") or name[1:3] == b":\\" or name[1:3] == b":/":
        return "an absolute path"
    parts = name.replace(b"\\", b"/").split(b"/")
    if b".." in parts:
        return "a path that climbs out of the archive (..)"
    return None


#: The first bytes of the compressors libarchive reads as filters (gzip, bzip2, xz, zstd,
#: lzip, compress).
COMPRESSED = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd", b"LZIP", b"\x1f\x9d")


def _compressed(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(8).startswith(COMPRESSED)


def _entries(path: Path) -> Iterator[Any]:
    """The members of an archive. One compressed file (notes.txt.gz) is no archive to
    libarchive's formats: its raw format then gives the file inside, named as the compressor
    recorded it."""
    import libarchive

    read = False
    try:
        with libarchive.file_reader(str(path)) as entries:
            for entry in entries:
                read = True
                yield entry
        return
    except libarchive.ArchiveError as exc:
        if read or "Unrecognized archive format" not in str(exc) or not _compressed(path):
            raise
    with libarchive.file_reader(str(path), format_name="raw") as entries:
        yield from entries


def _member_path(path: str | bytes | None) -> bytes:
    """A member's path as recorded. libarchive gives bytes, not text, for a name that is not
    UTF-8 and has no flag saying its code page (a zip made on an Arabic Windows)."""
    if isinstance(path, bytes):
        return path
    return path.encode("utf-8", "surrogateescape") if path else b""


def archive(path: Path, out_dir: Path, limits: Limits) -> Extraction:
    import libarchive

    out = Extraction()
    writer = Writer(out_dir, limits, path.stat().st_size)
    names: list[str] = []
    also: list[str] = []  # a name in a code page that is not told: its other readings
    try:
        with contextlib.closing(_entries(path)) as entries:
            for entry in entries:
                raw = _member_path(entry.pathname)
                names.append(read_name(raw))
                also.extend(r for r in other_readings(raw) if r != names[-1])
                if why := _suspicious_name(raw):
                    out.flags.append(
                        {
                            "code": "suspicious_member_name",
                            "message": f"member {names[-1]!r} is {why}; recorded by name only",
                        }
                    )
                if entry.issym or entry.islnk:
                    out.flags.append(
                        {
                            "code": "link_member",
                            "message": f"member {names[-1]!r} is a link to {entry.linkpath!r};"
                            " recorded, not followed",
                        }
                    )
                    continue
                if not entry.isfile:
                    continue
                writer.add(raw, entry.get_blocks(), entry.mtime)
    except LimitReached as exc:
        out.flags.append(
            {
                "code": "unpack_limit",
                "message": f"unpacking stopped after {len(writer.children)} members: {exc}",
            }
        )
    except libarchive.ArchiveError as exc:
        message = str(exc).split(" (errno=")[0]
        if message in ("", "None"):
            message = "damaged, truncated, or one volume of a multi-volume set"
        if "encrypt" in message.lower() or "passphrase" in message.lower():
            raise Encrypted(f"archive is password-protected ({message})") from exc
        if not writer.children:
            raise ValueError(f"archive cannot be read: {message}") from exc
        out.flags.append(
            {
                "code": "damaged_archive",
                "message": f"archive is damaged after {len(writer.children)} members: {message}",
            }
        )
    out.children = writer.children
    out.pages = [_clean("\n".join(names + also))]
    out.metadata = {"members": len(names)}
    return out


# -- email ---------------------------------------------------------------------------------------


def _header_text(msg: Any) -> tuple[str, dict[str, Any]]:
    meta: dict[str, Any] = {}
    lines = []
    for key in ("From", "To", "Cc", "Date", "Subject", "Message-ID"):
        value = msg.get(key)
        if value:
            text = str(value)
            lines.append(f"{key}: {text}")
            meta[f"email_{key.lower().replace('-', '_')}"] = text
    date = msg.get("Date")
    if date:
        with contextlib.suppress(TypeError, ValueError):
            meta["email_date_utc"] = parsedate_to_datetime(str(date)).isoformat()
    return "\n".join(lines), meta


def bounded_content(part: Any, max_chars: int | None = None) -> tuple[str, bool]:
    """A text part's content to the item's text budget, and whether it was cut. Only a head
    of the encoded payload is decoded (twice the budget, in characters as sent: the whole of
    it, for ASCII), so a 300 MB body costs a 100 MB decoding, not three copies of all of it;
    a cut text is flagged, which makes the content inventory incomplete (fail closed)."""
    budget = MAX_TEXT_CHARS if max_chars is None else max_chars
    # the payload as parsed (8-bit bytes as surrogates), not `get_payload()`'s decoded copy
    payload = part._payload
    head = 2 * budget
    cut = isinstance(payload, str) and len(payload) > head
    if cut:
        part = copy.copy(part)  # the headers (charset, encoding) with the head of the payload
        part.set_payload(_whole_quads(payload[:head], part))
    text = str(part.get_content())
    if len(text) > budget:
        return text[:budget], True
    return text, cut


def _whole_quads(head: str, part: Any) -> str:
    """A head of a base64 payload ending on a whole group of four letters (line breaks do not
    count), which the stdlib decodes; any other head as it is."""
    if str(part.get("content-transfer-encoding", "")).lower() != "base64":
        return head
    head = head.rstrip("\r\n")
    extra = (len(head) - head.count("\n") - head.count("\r")) % 4
    while extra:
        extra -= head[-1] not in "\r\n"
        head = head[:-1]
    return head


def _body_text(msg: EmailMessage, budget: int) -> tuple[str, bool]:
    plain = msg.get_body(preferencelist=("plain",))
    if plain is not None:
        return bounded_content(plain, budget)
    rich = msg.get_body(preferencelist=("html",))
    if rich is not None:
        markup, cut = bounded_content(rich, 2 * budget)  # markup: twice, as MAX_MARKUP_CHARS
        text = html_text(markup)[0]
        return text[:budget], cut or len(text) > budget
    return "", False


def _message(msg: EmailMessage, writer: Writer, out: Extraction) -> None:
    headers, meta = _header_text(msg)
    out.metadata.update(meta)
    try:
        # the page is the headers and the body: together within the item's text budget
        body, cut = _body_text(msg, max(MAX_TEXT_CHARS - len(headers) - 2, 0))
    except (LookupError, ValueError) as exc:
        body, cut = "", False
        out.flags.append({"code": "unreadable_body", "message": f"body cannot be decoded: {exc}"})
    if cut:
        out.flags.append(cut_flag("the body", len(body)))
    out.pages = [_clean(headers + "\n\n" + body)]
    body = msg.get_body(preferencelist=("plain", "html"))
    for n, part in enumerate(_parts(msg), 1):
        if part is body:
            continue
        filename = part.get_filename()
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        if ctype == "message/rfc822":
            inner = part.get_content()
            chunks: Iterable[bytes] = [
                inner.as_bytes() if hasattr(inner, "as_bytes") else bytes(inner)
            ]
            name = filename or f"attached-message-{n}.eml"
        elif (
            filename or disposition == "attachment" or not ctype.startswith(("text/", "multipart/"))
        ):
            chunks = decoded_pieces(part)
            name = filename or f"part-{n}{_ext(ctype)}"
        else:
            continue  # an alternative rendering of the body, already in the text
        writer.add(name.encode("utf-8", "surrogateescape"), chunks, None, media_type_said=ctype)


_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")


def decoded_pieces(part: Any) -> Iterable[bytes]:
    """An attachment's bytes, exactly as `get_payload(decode=True)` gives them, but a piece at
    a time when it is well-formed base64 (how mailers send files): the stdlib's decoding
    holds the text split in lines, joined, and decoded at once, 3 copies of a 200 MB video.
    Anything else (quoted-printable, damaged base64 the stdlib repairs) goes the stdlib's way."""
    payload = part.get_payload()
    cte = str(part.get("content-transfer-encoding", "")).lower()
    well_formed = (
        cte == "base64"
        and isinstance(payload, str)
        and payload.isascii()
        and _base64_shape(payload)
    )
    if well_formed:
        return _base64_decoded(payload)
    return [part.get_payload(decode=True) or b""]


def _lines_joined(payload: str) -> Iterator[str]:
    """The payload without its line breaks (as `b"".join(bpayload.splitlines())`), by pieces."""
    for start in range(0, len(payload), FEED_BYTES):
        yield payload[start : start + FEED_BYTES].replace("\r", "").replace("\n", "")


def _base64_shape(payload: str) -> bool:
    """Whether the payload is base64 letters then at most a run of `=` that the stdlib's
    `decode_b` (padding completed, validate=True) decodes at once, without a defect."""
    letters = pad = 0
    for piece in _lines_joined(payload):
        if pad:
            if piece.strip("="):
                return False  # letters after the padding
            pad += len(piece)
            continue
        body = piece.rstrip("=")
        if _NOT_BASE64.search(body):
            return False
        letters += len(body)
        pad = len(piece) - len(body)
    short = (letters + pad) % 4  # decode_b completes the padding: "===", "==" or "="
    completed = pad + (4 - short if short else 0)
    # what validate=True takes: whole quads, then a last one of 2 or 3 letters and its `=`
    return (letters % 4, completed) in ((0, 0), (2, 2), (3, 1))


def _base64_decoded(payload: str) -> Iterator[bytes]:
    held = ""
    for piece in _lines_joined(payload):
        held += piece.rstrip("=")  # `=` only ends it (`_base64_shape`)
        whole = len(held) - len(held) % 4
        if whole:
            yield base64.b64decode(held[:whole], validate=True)
            held = held[whole:]
    if held:
        yield base64.b64decode(held + "=" * (4 - len(held)), validate=True)


def _parts(msg: EmailMessage) -> Any:
    """Leaf parts, not descending into attached messages (they become children of their own)."""
    for part in msg.iter_parts():
        if part.get_content_type() == "message/rfc822":
            yield part
        elif part.is_multipart():
            yield from _parts(part)
        else:
            yield part


def _ext(ctype: str) -> str:
    import mimetypes

    return mimetypes.guess_extension(ctype) or ".bin"


#: Bytes handed to the email parser at a time. `email.message_from_bytes` decodes the whole
#: message to one string before parsing it, beside the bytes: 8.5 times the file at peak (a
#: 300 MB email with a video attached died at the reader's 3 GiB); parsed from chunks, 2.7
#: times, and about 5.5 with its attachment decoded.
FEED_BYTES = 1 << 20


def read_email(source: Path | bytes) -> EmailMessage:
    """An RFC 822 message parsed a chunk at a time, from its file or from bytes (an .emlx's
    message), never held whole beside its parse; the same message `message_from_bytes` gives."""
    parser = BytesFeedParser(policy=email.policy.default)
    if isinstance(source, bytes):
        view = memoryview(source)
        for start in range(0, len(view), FEED_BYTES):
            parser.feed(view[start : start + FEED_BYTES].tobytes())
    else:
        with source.open("rb") as f:
            while chunk := f.read(FEED_BYTES):
                parser.feed(chunk)
    return parser.close()  # type: ignore[return-value]


#: A header value's characters the email library parses (its parser of addresses and words
#: is slow, and worse than linear: a 64 KiB To took 7 s, a 2 MiB Subject 131 s and 580 MB).
#: A header up to `SHORT_HEADER_CHARS` (twice a line's limit in RFC 5322) is read whole, as
#: sent; a longer one to its first `HEADER_CHARS` while the long headers of the message and
#: its parts together stay within `LONG_HEADERS_CHARS`, and to `SHORT_HEADER_CHARS` after.
#: What is cut is said; the file's bytes keep all of it (the raw scan reads them).
SHORT_HEADER_CHARS = 2 << 10
HEADER_CHARS = 16 << 10
LONG_HEADERS_CHARS = 1 << 20
#: Cuts said one by one (an item's flags, an inventory's reasons); the rest are counted.
CUTS_SAID = 20


def bound_headers(msg: Any) -> list[str]:
    """Cut the long header values of a parsed message (and of its parts, attached messages
    too) to their bounds before anything reads them; what was cut, said (an item flag, the
    inventory incomplete). Values stay as sent (the parser's raw strings): nothing is parsed
    here, and a header of ordinary length is never touched."""
    cut: list[str] = []
    left = LONG_HEADERS_CHARS
    for n, part in enumerate(msg.walk()):
        headers = part._headers  # the raw (name, value) pairs `policy.header_source_parse` kept
        for i, (name, value) in enumerate(headers):
            if not isinstance(value, str) or len(value) <= SHORT_HEADER_CHARS:
                continue
            allowed = max(min(HEADER_CHARS, left), SHORT_HEADER_CHARS)
            left -= min(len(value), allowed)
            if len(value) <= allowed:
                continue
            headers[i] = (name, value[:allowed])
            where = "the message" if n == 0 else f"part {n}"
            cut.append(
                f"header {str(name)[:60]!r} of {where} read to its first {allowed:,}"
                f" of {len(value):,} characters"
            )
    if len(cut) > CUTS_SAID:
        cut[CUTS_SAID:] = [f"and {len(cut) - CUTS_SAID:,} more headers cut"]
    return cut


#: Why an email nested hundreds of parts deep is not read: the parser (and every walk of its
#: parts) recurses once a level, up to Python's recursion limit.
TOO_DEEP = (
    "its MIME parts are nested too deep to read (hundreds of levels); its raw bytes are"
    " inventoried instead and its content inventory is incomplete"
)


@contextlib.contextmanager
def nesting_bounded() -> Iterator[None]:
    """The recursion limit reached on an email's nesting, said as what it is."""
    try:
        yield
    except RecursionError:
        raise ValueError(TOO_DEEP) from None


def eml(path: Path, out_dir: Path, limits: Limits, data: bytes | None = None) -> Extraction:
    out = Extraction()
    writer = Writer(out_dir, limits, len(data) if data is not None else path.stat().st_size)
    with nesting_bounded():
        msg = read_email(data if data is not None else path)
        for said in bound_headers(msg):
            out.flags.append({"code": "header_cut", "message": said})
        try:
            _message(msg, writer, out)  # type: ignore[arg-type]
        except LimitReached as exc:
            out.flags.append({"code": "unpack_limit", "message": f"attachments stopped: {exc}"})
    out.children = writer.children
    return out


def emlx(path: Path, out_dir: Path, limits: Limits) -> Extraction:
    """Apple Mail: a byte count line, the RFC 822 message, then a property list."""
    data = path.read_bytes()
    first, _, rest = data.partition(b"\n")
    try:
        length = int(first.strip())
    except ValueError as exc:
        raise ValueError("not an .emlx file: the first line is not a byte count") from exc
    return eml(path, out_dir, limits, rest[:length])


def mbox(path: Path, out_dir: Path, limits: Limits) -> Extraction:
    out = Extraction()
    writer = Writer(out_dir, limits, path.stat().st_size)
    subjects = []
    box = mailbox.mbox(str(path), create=False)
    try:
        for n, message in enumerate(box, 1):
            data = message.as_bytes()
            subjects.append(str(message.get("Subject", "")))
            writer.add(f"message-{n:05d}.eml".encode(), [data], None)
    except LimitReached as exc:
        out.flags.append({"code": "unpack_limit", "message": f"messages stopped: {exc}"})
    finally:
        box.close()
    out.children = writer.children
    out.pages = [_clean("\n".join(subjects))]
    out.metadata = {"messages": len(writer.children)}
    return out


def msg(path: Path, out_dir: Path, limits: Limits) -> Extraction:
    import extract_msg

    message = extract_msg.openMsg(str(path))
    out = Extraction()
    writer = Writer(out_dir, limits, path.stat().st_size)
    try:
        fields = {
            "From": message.sender,
            "To": message.to,
            "Cc": message.cc,
            "Date": message.date,
            "Subject": message.subject,
        }
        headers = "\n".join(f"{k}: {v}" for k, v in fields.items() if v)
        out.metadata = {f"email_{k.lower()}": str(v) for k, v in fields.items() if v}
        body = message.body or ""
        if not body and message.htmlBody:
            body = html_text(decode_text(message.htmlBody)[0])[0]
        out.pages = [_clean(headers + "\n\n" + body)]
        for n, att in enumerate(message.attachments, 1):
            data = att.data
            name = att.longFilename or att.shortFilename or f"attachment-{n}"
            if isinstance(data, bytes):
                writer.add(name.encode("utf-8", "surrogateescape"), [data], None)
            elif hasattr(data, "exportBytes"):
                writer.add(f"{name}.msg".encode(), [data.exportBytes()], None)
    except LimitReached as exc:
        out.flags.append({"code": "unpack_limit", "message": f"attachments stopped: {exc}"})
    finally:
        message.close()
    out.children = writer.children
    return out


def pst(path: Path, out_dir: Path, limits: Limits) -> Extraction:
    """Outlook PST/OST/PAB: each item a child message (`processing.mailbox`)."""
    from amanah.processing import mailbox as outlook

    return outlook.pst(path, out_dir, limits)


#: libmagic's words for a Personal Folder File; it shares its media type with a single .msg.
MAILBOX_STORES = ("Outlook Personal Storage", "Outlook Offline Storage", "Outlook email folder")


def is_mailbox_store(description: str) -> bool:
    """From the content (libmagic), never the name: a .msg named .pst is still one message."""
    return any(w in description for w in MAILBOX_STORES)


ARCHIVES = {
    "application/zip",
    "application/x-7z-compressed",
    "application/x-rar",
    "application/vnd.rar",
    "application/x-tar",
    "application/gzip",
    "application/x-gzip",
    "application/x-bzip2",
    "application/x-xz",
    "application/x-iso9660-image",
    "application/vnd.ms-cab-compressed",
    "application/x-cpio",
}
EMAILS = {"message/rfc822": eml, "application/vnd.ms-outlook": msg, "application/mbox": mbox}
