"""Outlook mailboxes (PST, OST, PAB): every message becomes a child item, as an email.

`pffexport` (Debian's `pff-tools`, libpff) runs in the cage and writes each message, contact,
appointment … as a folder of files: the transport headers, the Outlook properties, the
recipients, the body as text/HTML/RTF, and the attachments byte-exact. Each folder is put
back together here as one RFC 822 message (headers as sent, the body, every attachment as a
MIME part), so a message item unpacks its attachments the way an .eml does: the existing
email reader makes them its children, with the same limits on count, size and depth.

Every file pffexport writes for an item reaches the message, so its content inventory (and
with it search and the leak check) reads it: the body files as the body; every other text
file (recipients, Outlook properties, the conversation index, item values, whatever a later
libpff adds) line by line as `X-Pffexport-<file>` headers, and the part of the transport
headers that is not rebuilt as a header (MIME headers, odd names, anything after the header
block) the same way; any other file as an attachment. Nothing exported is left unread.

Deleted messages libpff recovers are children too, under `recovered/` (or `orphans/`): a
deleted message is often the one that matters. A mailbox libpff cannot open is flagged with
libpff's reason; nothing else is lost.
"""

from __future__ import annotations

import email.policy
import hashlib
import os
import re
import shutil
import subprocess
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from pathlib import Path

from amanah.processing.children import LimitReached, Limits, Writer
from amanah.processing.extract import Extraction, _clean, decode_text

#: The program, which must also be in cage.TOOLS (a caged child may execute nothing else).
TOOL = "pffexport"
#: What pffexport writes into a target named T: allocated items, orphans, recovered items.
PARTS = (("export", ""), ("orphans", "orphans/"), ("recovered", "recovered/"))
#: Files of an item folder that are not its body: headers and properties.
HEADER_FILES = {
    "InternetHeaders.txt",
    "OutlookHeaders.txt",
    "Recipients.txt",
    "ConversationIndex.txt",
    "ItemValues.txt",
}
#: Headers that carry the lines of an exported file not otherwise rebuilt: X-Pffexport-<file>.
CARRIED = "X-Pffexport-"
#: Transport headers that describe the original MIME structure, which is rebuilt here.
MIME_HEADERS = {"content-type", "content-transfer-encoding", "mime-version", "content-disposition"}
#: Nested messages (a message attached to a message attached to …) put back together.
MAX_NESTING = 8
#: Seconds pffexport may run: two minutes, and a second for every 4 MB beyond that.
BASE_SECONDS, BYTES_PER_SECOND = 120, 4 << 20


def pst(path: Path, out_dir: Path, limits: Limits) -> Extraction:
    """Every item of the mailbox as a child message (.eml), with its attachments inside."""
    target = out_dir / "pff-work" / "mailbox"
    target.parent.mkdir(parents=True, exist_ok=True)
    proc = _export(path, target)
    out = Extraction()
    writer = Writer(out_dir, limits, path.stat().st_size)
    subjects: list[str] = []
    counts = {"messages": 0, "recovered": 0, "unreadable": 0}
    try:
        for suffix, prefix in PARTS:
            root = Path(f"{target}.{suffix}")
            if not root.is_dir():
                continue
            for folder in _item_folders(root):
                name = prefix + folder.relative_to(root).as_posix() + ".eml"
                try:
                    message = _message(folder, 0)
                    _fix_boundaries(message, folder)
                    data = message.as_bytes(policy=email.policy.default)
                except (ValueError, TypeError, LookupError, UnicodeError, OSError) as exc:
                    counts["unreadable"] += 1
                    out.flags.append(
                        {
                            "code": "unreadable_body",
                            "message": f"mailbox item {name!r} cannot be put together as an"
                            f" email: {type(exc).__name__}: {str(exc)[:200]}",
                        }
                    )
                    continue
                subjects.append(str(message.get("Subject", "")))
                writer.add(name.encode("utf-8", "surrogateescape"), [data], None)
                counts["messages"] += 1
                counts["recovered"] += bool(prefix)
    except LimitReached as exc:
        out.flags.append(
            {
                "code": "unpack_limit",
                "message": f"unpacking stopped after {len(writer.children)} items: {exc}",
            }
        )
    shutil.rmtree(target.parent, ignore_errors=True)  # the children hold it all now
    if proc.returncode != 0:
        reason = _reason(proc.stderr)
        if not writer.children:
            raise ValueError(f"the mailbox cannot be opened (damaged or truncated): {reason}")
        out.flags.append(
            {
                "code": "damaged_archive",
                "message": f"the mailbox is damaged after {len(writer.children)} items: {reason}",
            }
        )
    out.children = writer.children
    out.pages = [_clean("\n".join(subjects))]
    out.metadata = {"mailbox_" + k: v for k, v in counts.items()}
    return out


def _export(path: Path, target: Path) -> subprocess.CompletedProcess[bytes]:
    from amanah.processing.cage import TOOLS

    if TOOL not in TOOLS:
        raise ValueError(f"{TOOL} is not among the readers the sandbox may run")
    timeout = BASE_SECONDS + path.stat().st_size // BYTES_PER_SECOND
    try:
        return subprocess.run(
            [TOOL, "-q", "-f", "all", "-m", "all", "-t", str(target), str(path)],
            capture_output=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise ValueError(f"{TOOL} is not installed (Debian package pff-tools)") from exc
    except subprocess.TimeoutExpired as exc:
        raise ValueError(f"{TOOL} did not finish within {timeout} seconds") from exc


def _reason(stderr: bytes) -> str:
    """libpff's most specific complaint, without the scratch path it names."""
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    found = [ln for ln in lines if ln.startswith("lib")] or lines or ["exit status non-zero"]
    return re.sub(r"(: )?/\S+", "", found[0])[:300]


def _item_folders(root: Path) -> list[Path]:
    """Folders that hold an item's files; a mailbox folder holds only other folders.

    Attachments belong to their item, and nothing found is followed as a link."""
    found = []
    for here, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        path = Path(here)
        if any((path / f).is_file() and not (path / f).is_symlink() for f in files):
            found.append(path)
            dirs[:] = [d for d in dirs if d != "Attachments"]
    return found


def _read(path: Path) -> str:
    return decode_text(path.read_bytes())[0]


def _message(folder: Path, depth: int) -> EmailMessage:
    """One pffexport item folder as an RFC 822 message."""
    msg = EmailMessage()
    props = _properties(folder / "OutlookHeaders.txt")
    headers = folder / "InternetHeaders.txt"
    if headers.is_file():
        parsed = BytesHeaderParser(policy=email.policy.compat32).parsebytes(headers.read_bytes())
        for key, value in parsed.items():
            if key.lower() not in MIME_HEADERS:
                _set(msg, key, str(value))
    else:
        _from_properties(msg, props, folder / "Recipients.txt")
    for key, value in props.items():
        _set(msg, "X-Outlook-" + re.sub(r"[^A-Za-z0-9]+", "-", key).strip("-"), value)
    text, html, used = _bodies(folder)
    for line in _unrebuilt_headers(headers):
        _set(msg, CARRIED + "InternetHeaders", line)
    others = []
    for f in _files(folder):
        if f.name in used or f.name == headers.name:
            continue
        if f.suffix.lower() == ".txt":
            for line in _read(f).splitlines():
                _set(msg, CARRIED + _header_name(f.stem), line)
        else:
            others.append(f)
    msg.set_content(text or "")
    if html:
        msg.add_alternative(html, subtype="html")
    attachments = folder / "Attachments"
    if attachments.is_dir() and not attachments.is_symlink():
        _attach(msg, attachments, depth)
    for f in others:  # a second HTML or RTF body, a file of a kind not known today
        _attach_file(msg, f, "pffexport-" + f.name)
    return msg


def _files(folder: Path) -> list[Path]:
    """The item's own regular files (never a link), in a stable order."""
    return [f for f in sorted(folder.iterdir()) if f.is_file() and not f.is_symlink()]


def _header_name(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-") or "File"


def _unrebuilt_headers(path: Path) -> list[str]:
    """Lines of the transport headers that are not rebuilt as headers of the message: the
    MIME headers (the structure is rebuilt), names no header may have, and anything after
    the header block. Without them a name written there would be read by nothing."""
    if not path.is_file():
        return []
    parsed = BytesParser(policy=email.policy.compat32).parsebytes(path.read_bytes())
    lines = [
        f"{key}: {value}"
        for key, value in parsed.items()
        if key.lower() in MIME_HEADERS or not re.fullmatch(r"[!-9;-~]+", key)
    ]
    for bad in parsed.defects:
        lines.append(f"defect: {type(bad).__name__}")
    payload = parsed.get_payload()
    if isinstance(payload, str):
        lines.extend(payload.splitlines())
    return lines


def _set(msg: EmailMessage, key: str, value: str) -> None:
    value = re.sub(r"\s*[\r\n]+\s*", " ", value).strip()
    if not value or not re.fullmatch(r"[!-9;-~]+", key):
        return
    try:
        msg[key] = value
    except (ValueError, TypeError, IndexError):
        msg[key] = value.encode("ascii", "backslashreplace").decode("ascii")


def _properties(path: Path) -> dict[str, str]:
    """pffexport's "Key:<tabs>value" lines (the first line names the item's type)."""
    props: dict[str, str] = {}
    if not path.is_file():
        return props
    for line in _read(path).splitlines():
        key, sep, value = line.partition(":")
        if sep and value.strip() and "\t" in value:
            props.setdefault(key.strip(), value.strip())
    return props


def _from_properties(msg: EmailMessage, props: dict[str, str], recipients: Path) -> None:
    """Headers for an item that has no transport headers (a draft, a contact, a note)."""
    sender = props.get("Sender name", "")
    address = props.get("Sender email address", "")
    if sender or address:
        _set(msg, "From", f"{sender} <{address}>" if address else sender)
    by_type: dict[str, list[str]] = {}
    if recipients.is_file():
        for block in re.split(r"\n\s*\n", _read(recipients)):
            fields = _fields(block)
            who = fields.get("Display name", "")
            if fields.get("Email address"):
                who = f"{who} <{fields['Email address']}>" if who else fields["Email address"]
            if who:
                by_type.setdefault(fields.get("Recipient type", "To"), []).append(who)
    for kind in ("To", "CC", "BCC"):
        if by_type.get(kind):
            _set(msg, kind.capitalize() if kind != "To" else "To", ", ".join(by_type[kind]))
    if props.get("Subject"):
        _set(msg, "Subject", props["Subject"])
    when = props.get("Client submit time") or props.get("Creation time")
    if when:
        _set(msg, "Date", when)


def _fields(block: str) -> dict[str, str]:
    out = {}
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def _bodies(folder: Path) -> tuple[str, str, set[str]]:
    """The plain body (or the item's own text: a contact's, a note's), the HTML one, and the
    names of the files used for them (every other file is carried by `_message`)."""
    files = [f for f in _files(folder) if f.name not in HEADER_FILES]
    texts = [f for f in files if f.suffix.lower() == ".txt"]
    htmls = [f for f in files if f.suffix.lower() == ".html"]
    rtfs = [f for f in files if f.suffix.lower() == ".rtf"]
    text = html = ""
    used: set[str] = set()
    if texts:
        body = next((f for f in texts if f.stem == "Message"), texts[0])
        text, used = _read(body), {body.name}
    elif rtfs:
        from striprtf.striprtf import rtf_to_text

        body = next((f for f in rtfs if f.stem == "Message"), rtfs[0])
        text, used = rtf_to_text(_read(body), errors="ignore"), {body.name}
    if htmls:
        body = next((f for f in htmls if f.stem == "Message"), htmls[0])
        html = _read(body)
        used.add(body.name)
    return _clean(text), html, used


def _attach(msg: EmailMessage, folder: Path, depth: int) -> None:
    """Attachments byte-exact; an attached item (a forwarded message) as message/rfc822."""
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink():
            continue
        if entry.is_dir():
            if depth >= MAX_NESTING:
                raise ValueError(f"attached messages nested more than {MAX_NESTING} deep")
            inner = _item_folders(entry)
            for n, found in enumerate(inner):  # every item found, not only the first
                suffix = f"-{n}" if n else ""
                msg.add_attachment(_message(found, depth + 1), filename=f"{entry.name}{suffix}.eml")
            continue
        _attach_file(msg, entry, entry.name)


def _attach_file(msg: EmailMessage, entry: Path, filename: str) -> None:
    """A file byte-exact as an attachment (an attachment is an item of its own)."""
    import mimetypes

    ctype = mimetypes.guess_type(entry.name)[0] or "application/octet-stream"
    maintype, _, subtype = ctype.partition("/")
    msg.add_attachment(entry.read_bytes(), maintype=maintype, subtype=subtype, filename=filename)


def _fix_boundaries(msg: EmailMessage, folder: Path) -> None:
    """MIME boundaries from the item's own bytes, not at random: the same mailbox gives the
    same message bytes, hence the same child items, however often it is processed."""
    digest = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        if f.is_file() and not f.is_symlink():
            digest.update(f.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(f.read_bytes()).digest())
    seed = digest.hexdigest()[:32]
    for n, part in enumerate(p for p in msg.walk() if p.get_content_maintype() == "multipart"):
        part.set_boundary(f"amanah-{seed}-{n}")
