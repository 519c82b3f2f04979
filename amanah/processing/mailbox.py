"""Outlook mailboxes (PST, OST, PAB): every message becomes a child item, as an email.

`pffexport` (Debian's `pff-tools`, libpff) runs in the cage and writes each message, contact,
appointment … as a folder of files: the transport headers, the Outlook properties, the
recipients, the body as text/HTML/RTF, and the attachments byte-exact. Each folder is put
back together here as one RFC 822 message (headers as sent, the body, every attachment as a
MIME part), so a message item unpacks its attachments the way an .eml does: the existing
email reader makes them its children, with the same limits on count, size and depth.

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
from email.parser import BytesHeaderParser
from pathlib import Path

from amanah.processing.extract import Extraction, _clean, decode_text
from amanah.processing.unpack import LimitReached, Limits, _Writer

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
    writer = _Writer(out_dir, limits, path.stat().st_size)
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
    text, html = _bodies(folder)
    msg.set_content(text or "")
    if html:
        msg.add_alternative(html, subtype="html")
    attachments = folder / "Attachments"
    if attachments.is_dir():
        _attach(msg, attachments, depth)
    return msg


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


def _bodies(folder: Path) -> tuple[str, str]:
    """The plain body (or the item's own text: a contact's, a note's) and the HTML one."""
    text = html = ""
    for f in sorted(folder.iterdir()):
        if not f.is_file() or f.is_symlink() or f.name in HEADER_FILES:
            continue
        if f.suffix == ".html":
            html = _read(f)
        elif f.suffix == ".rtf" and not text:
            from striprtf.striprtf import rtf_to_text

            text = rtf_to_text(_read(f), errors="ignore")
        elif f.suffix == ".txt":
            text = _read(f)
    return _clean(text), html


def _attach(msg: EmailMessage, folder: Path, depth: int) -> None:
    """Attachments byte-exact; an attached item (a forwarded message) as message/rfc822."""
    import mimetypes

    for entry in sorted(folder.iterdir()):
        if entry.is_symlink():
            continue
        if entry.is_dir():
            if depth >= MAX_NESTING:
                raise ValueError(f"attached messages nested more than {MAX_NESTING} deep")
            inner = _first_item(entry)
            if inner is not None:
                msg.add_attachment(_message(inner, depth + 1), filename=f"{entry.name}.eml")
            continue
        ctype = mimetypes.guess_type(entry.name)[0] or "application/octet-stream"
        maintype, _, subtype = ctype.partition("/")
        msg.add_attachment(
            entry.read_bytes(), maintype=maintype, subtype=subtype, filename=entry.name
        )


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


def _first_item(folder: Path) -> Path | None:
    found = _item_folders(folder)
    return found[0] if found else None
