"""Sharing packages: a BagIt 1.0 bag a recipient can verify without Amanah.

The build refuses, item by item with the reason, anything the providers' terms block or whose
consent is missing, and anything in which a protected person's name (any spelling recorded)
can still be read: in the text or OCR text, the metadata, the file name, or an archive's or
email's parts. Payload files are copied from the blob store once, hashed with SHA-256 and
SHA-512 as they pass (the blob's own SHA-256 is checked on the way), into a hidden folder
that is renamed into place only when the bag is complete and the disclosure events are
recorded: a package is either whole or absent.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah import AGENT, __version__, partials
from amanah.access import Caller, NotVisible, Permission, collections_visible, packages_visible
from amanah.blobs.durable import fsync_path
from amanah.custody import ledger
from amanah.custody import verifier as ledger_verifier
from amanah.custody.ledger import EventType, iso_from_ns
from amanah.db.models import (
    Collection,
    CustodyEvent,
    Derivative,
    InventoryAttestation,
    Item,
    Jurisdiction,
    Package,
    PackageItem,
    Request,
    Review,
)
from amanah.display import for_spreadsheet
from amanah.preservation import audit
from amanah.rfa import requests
from amanah.sharing import SharingError, leakcheck, letters, terms
from amanah.sharing import verify_package as package_verifier
from amanah.sharing.protected import Matcher
from amanah.sharing.redaction import REDACTED, REDACTED_TEXT
from amanah.system import person_of
from amanah.workspace import Workspace

CHUNK = 1 << 20
log = logging.getLogger(__name__)

#: Custody events a recipient sees: preservation, not who read what inside the mechanism.
EXCERPT_TYPES = frozenset(
    {
        EventType.INGESTION,
        EventType.MESSAGE_DIGEST_CALCULATION,
        EventType.FIXITY_CHECK,
        EventType.FORMAT_IDENTIFICATION,
        EventType.METADATA_EXTRACTION,
        EventType.DERIVATION,
        EventType.VALIDATION,
        EventType.DISCLOSURE,
    }
)
LETTER_ROWS = 100  # the cover letter lists this many files; the index lists all
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


@dataclass
class Refusal:
    item_id: int
    reason: str


class PackageRefused(SharingError):
    """The package cannot be built as it stands: each item, and why."""

    def __init__(self, reference: str, refusals: list[Refusal]) -> None:
        self.refusals = refusals
        lines = "\n".join(f"  item {r.item_id}: {r.reason}" for r in refusals[:200])
        more = f"\n  … and {len(refusals) - 200} more" if len(refusals) > 200 else ""
        super().__init__(
            f"package for {reference} refused: {len(refusals)} item(s) cannot be sent\n"
            f"{lines}{more}"
        )


@dataclass
class Planned:
    item: Item
    variant: str  # original, redacted
    sha256: str
    size: int
    media_type: str
    name: str  # pseudonymised original name
    provider: str
    attribution: bool
    file: str = ""
    sha512: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _descendants(s: Session, roots: list[int]) -> dict[int, list[Item]]:
    """Every part (attachment, archive member, at any depth) of each root item, level by
    level for all roots at once."""
    found: dict[int, list[Item]] = {r: [] for r in roots}
    frontier = {r: r for r in roots}  # item id -> its root
    while frontier:
        ids = sorted(frontier)
        children: list[Item] = []
        for i in range(0, len(ids), 900):
            children += s.execute(
                select(Item).where(Item.parent_id.in_(ids[i : i + 900]))
            ).scalars()
        nxt = {}
        for child in children:
            root = frontier[child.parent_id]  # type: ignore[index]
            found[root].append(child)
            nxt[child.id] = root
        frontier = nxt
    return found


def _derivatives(s: Session, item_ids: list[int]) -> dict[int, dict[str, list[Derivative]]]:
    out: dict[int, dict[str, list[Derivative]]] = {}
    for i in range(0, len(item_ids), 900):
        for d in s.execute(
            select(Derivative)
            .where(
                Derivative.item_id.in_(item_ids[i : i + 900]),
                Derivative.kind.in_((REDACTED, REDACTED_TEXT)),
            )
            .order_by(Derivative.kind, Derivative.page)
        ).scalars():
            out.setdefault(d.item_id, {}).setdefault(d.kind, []).append(d)
    return out


def _attested(a: InventoryAttestation) -> str:
    return f"attested by {a.actor} on {a.attested_at.astimezone(UTC).date().isoformat()}"


def _inspect(
    check: leakcheck.LeakCheck,
    item: Item,
    parts: list[Item],
    stored: dict[int, Derivative],
    attested: dict[int, InventoryAttestation],
) -> tuple[str | None, str]:
    """Why the original item cannot go (None when it may), and what the index says of its
    inventory: complete, or who attested it (the item itself, or each incomplete part)."""
    own = check.item(item, stored.get(item.id))
    names = list(own.names)
    gaps: list[tuple[int, str]] = [
        (item.id, f"inventory not complete: {r}") for r in own.incomplete
    ]
    for child in parts:
        found = check.item(child, stored.get(child.id))
        names += [f"its part item {child.id} {n}" for n in found.names]
        gaps += [
            (child.id, f"its part item {child.id}: inventory not complete: {r}")
            for r in found.incomplete
        ]
    if names:  # an attestation never overrides a name that is found
        advice = (
            f"redact it (`amanah package redact {item.id}`) or mark it not relevant"
            if own.names
            else "send the parts instead"
        )
        return f"{leakcheck.summary(names)}: {advice}", ""
    if not gaps:
        return None, "complete"
    if item.id in attested:
        return None, _attested(attested[item.id])
    open_gaps = [r for i, r in gaps if i not in attested]
    if open_gaps:
        return (
            f"{leakcheck.summary(open_gaps)}: examine it by hand, then"
            f' `amanah package attest {item.id} --note "..."`'
        ), ""
    return None, "; ".join(
        f"part item {i} {_attested(attested[i])}" for i in dict.fromkeys(i for i, _ in gaps)
    )


def plan(
    ws: Workspace, s: Session, caller: Caller, reference: str
) -> tuple[list[Planned], list[Refusal]]:
    """What the package would hold, and what must be refused and why (nothing is written).

    The leak check reads each item's content inventory and its parts' (every place, the
    file name, the metadata, the raw bytes); a redacted copy gets an inventory of its own.
    """
    req = requests.get(s, reference)
    rows = s.execute(
        select(Item, Collection)
        .join(Review, Review.item_id == Item.id)
        .join(Collection, Collection.id == Item.collection_id)
        .where(Review.request_id == req.id, Review.decision == "relevant")
        .order_by(Item.id)
    ).all()
    if not rows:
        raise SharingError(
            f"no item of {reference} is marked relevant: review it first (`amanah rfa review`)"
        )
    visible = set(
        s.execute(
            select(Collection.id).where(
                Collection.id.in_({c.id for _, c in rows}), collections_visible(caller)
            )
        ).scalars()
    )
    if any(c.id not in visible for _, c in rows):
        # Neither their ids nor how many: the caller does not know they exist.
        raise SharingError(
            f"items marked relevant for {reference} include some outside your need-to-know:"
            " its package is built by a legal officer who holds every compartment they are in"
        )
    status = terms.statuses(s, req, [i.id for i, _ in rows])
    derivs = _derivatives(s, [i.id for i, _ in rows])
    matcher = Matcher.load(s)
    parts = _descendants(s, [i.id for i, _ in rows])
    everything = [i for i, _ in rows] + [c for cs in parts.values() for c in cs]
    check = leakcheck.LeakCheck(ws, s, matcher)
    stored = check.inventories([i.id for i in everything])
    attested = check.attestations(everything)
    planned: list[Planned] = []
    refused: list[Refusal] = []
    try:
        for item, coll in rows:
            t = status[item.id]
            if t.status is not terms.Status.DISCLOSABLE:
                refused.append(Refusal(item.id, f"{t.status.value.replace('_', ' ')}: {t.reason}"))
                continue
            d = derivs.get(item.id, {})
            name, _ = matcher.pseudonymise(PurePosixPath(item.original_path).name)
            entry = Planned(
                item,
                "original",
                item.sha256,
                item.size,
                item.media_type or "",
                name,
                t.provider,
                t.attribution_required,
            )
            if d.get(REDACTED):
                red = d[REDACTED][0]
                found = check.redacted(item, red, d.get(REDACTED_TEXT, []), coll.ocr_languages)
                if found.names:
                    why = (
                        f"its redacted version still {leakcheck.summary(found.names)}: redact it"
                        f" again (`amanah package redact {item.id}`), with regions if needed"
                    )
                elif found.incomplete and item.id not in attested:
                    why = (
                        "the inventory of its redacted version is not complete: "
                        f"{leakcheck.summary(found.incomplete)}"
                    )
                else:
                    why = None
                    entry.extra["inventory"] = (
                        _attested(attested[item.id]) if found.incomplete else "complete"
                    )
                if why:
                    refused.append(Refusal(item.id, matcher.pseudonymise(why)[0]))
                    continue
                entry.variant, entry.sha256, entry.size = "redacted", red.sha256, red.size
                entry.media_type = red.media_type
            else:
                why, state = _inspect(check, item, parts.get(item.id, []), stored, attested)
                if why:
                    refused.append(Refusal(item.id, matcher.pseudonymise(why)[0]))
                    continue
                entry.extra["inventory"] = state
            planned.append(entry)
    finally:
        check.close()
    return planned, refused


_MACHINE = re.compile(r"^[0-9a-fA-F-]{16,}$|^\d{4}-\d\d-\d\dT[\d:.]+Z$")


def _free_text(value: Any) -> str:
    """The words of a custody event a person could have written (paths, names, notes): its
    strings less hashes, identifiers and timestamps, one per line."""
    if isinstance(value, dict):
        return "\n".join(_free_text(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(_free_text(v) for v in value)
    if isinstance(value, str) and not _MACHINE.match(value):
        return value
    return ""


def _file_name(number: int, width: int, entry: Planned) -> str:
    stem = _UNSAFE.sub("_", entry.name).strip(" ._") or "item"
    if entry.variant == "redacted":
        ext = (
            ".pdf"
            if entry.media_type == "application/pdf"
            else (".jpg" if entry.media_type == "image/jpeg" else ".png")
        )
        stem = f"{PurePosixPath(stem).stem[:100]}.redacted{ext}"
    return f"data/{number:0{width}d}-{stem[:120]}"


def _encode_path(path: str) -> str:
    """BagIt 1.0 section 2.1.3: percent-encode CR, LF and % in manifest paths."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _copy(
    ws: Workspace,
    entry: Planned,
    target: Path,
    progress: Callable[[int], None],
    helper: ThreadPoolExecutor,
) -> None:
    """Copy one blob, SHA-256 and write in this thread, SHA-512 beside it in the helper
    thread (hashlib lets go of the GIL on large buffers): the two hashes cost one pass."""
    sha256, sha512 = hashlib.sha256(), hashlib.sha512()
    with ws.blobs.open(entry.sha256) as src, target.open("xb") as dst:
        while data := src.read(CHUNK):
            other = helper.submit(sha512.update, data)
            sha256.update(data)
            dst.write(data)
            other.result()
            progress(len(data))
        dst.flush()
        os.fsync(dst.fileno())
    if sha256.hexdigest() != entry.sha256:
        raise SharingError(
            f"item {entry.item.id}: the stored bytes do not match their SHA-256 ({entry.sha256});"
            " run `amanah fixity` and do not send this package"
        )
    entry.sha512 = sha512.hexdigest()


def _index_rows(planned: list[Planned], custody: dict[int, str]) -> list[dict[str, Any]]:
    return [
        {
            "number": n,
            "file": e.file,
            "item_id": e.item.id,
            "original_name": e.name,
            "received": e.item.intake_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "modified": iso_from_ns(e.item.mtime_ns) or "",
            "media_type": e.media_type,
            "languages": ",".join(
                x["language"] if isinstance(x, dict) else str(x)
                for x in json.loads(e.item.languages or "[]")
            ),
            "provider": e.provider if e.attribution else "",
            "variant": e.variant,
            "inventory": e.extra.get("inventory", "complete"),
            "size": e.size,
            "sha256": e.sha256,
            "sha512": e.sha512,
            "original_sha256": e.item.sha256,
            "custody": custody[e.item.id],
        }
        for n, e in enumerate(planned, 1)
    ]


def _cover_letter(
    planned: list[Planned],
    package_id: str,
    req: Any,
    recipient: str,
    creator: str,
    key_id: str,
    installation: str,
) -> bytes:
    """Rendered before the ledger is touched: layout takes a while, no lock is held for it.
    The letter names the officer (not the ledger's actor string) and the installation."""
    rows = [
        {
            "number": n,
            "file": e.file[5:],
            "media_type": e.media_type,
            "variant": e.variant,
            "sha256": e.sha256[:16] + "…",
        }
        for n, e in enumerate(planned[:LETTER_ROWS], 1)
    ]
    return letters.render_pdf(
        "cover_letter.html",
        p={
            "id": package_id,
            "reference": req.reference,
            "recipient": recipient,
            "received_on": req.received_on.isoformat(),
            "creator": person_of(creator),
            "installation": installation,
            "date": datetime.now(UTC).date().isoformat(),
            "count": len(planned),
            "bytes": f"{sum(e.size for e in planned):,}",
            "redacted": sum(e.variant == "redacted" for e in planned),
            "key_id": key_id,
        },
        rows=rows,
        more=max(0, len(planned) - LETTER_ROWS),
    )


def _recipient(j: Jurisdiction) -> str:
    return f"{j.code}: {j.authority}" + (f", {j.unit}" if j.unit else "") + f" ({j.state})"


def build(
    ws: Workspace,
    caller: Caller,
    reference: str,
    out: Path,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Build the package for a request into `out` (a new folder); returns its summary."""
    caller.require(Permission.MANAGE_REQUESTS)
    out = Path(out)
    if out.parent.is_dir():  # what killed builds left here
        kept = _place_recorded(ws, out.parent)
        partials.sweep(out.parent, kept)  # copies of evidence, never recorded as sent
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SharingError(f"{out}: already exists and is not an empty folder; choose a new one")
    with ws.db.reader() as s:
        planned, refused = plan(ws, s, caller, reference)
        refused += _unrecorded_redactions(s, planned)
        req = requests.get(s, reference)
        j = s.get(Jurisdiction, req.jurisdiction_id)
        assert j is not None
        matcher = Matcher.load(s)
        refused += _edited_rows(s, planned, matcher)
        planned, left_out = _without_consent(s, caller, planned, j.code)
    if refused:
        raise PackageRefused(reference, refused)
    if not planned:
        raise PackageRefused(reference, left_out)
    package_id = f"PKG-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4).upper()}"
    out.parent.mkdir(parents=True, exist_ok=True)
    work = partials.work_folder(out, "partial", package_id)
    work.mkdir()
    try:
        (work / "data").mkdir()
        width = max(5, len(str(len(planned))))
        with ThreadPoolExecutor(1, thread_name_prefix="sha512") as helper:
            for number, entry in enumerate(planned, 1):
                entry.file = _file_name(number, width, entry)
                _copy(ws, entry, work / entry.file, progress or (lambda _n: None), helper)
        (work / "amanah").mkdir()
        (work / "amanah" / "cover-letter.pdf").write_bytes(
            _cover_letter(
                planned,
                package_id,
                req,
                _recipient(j),
                caller.actor,
                ws.key.key_id,
                ws.settings.installation_name,
            )
        )
        summary = _seal(ws, caller, req, j, planned, package_id, work, out, matcher)
        summary["left_out"] = [{"item_id": r.item_id, "reason": r.reason} for r in left_out]
        return summary
    except PackageNotPlaced:
        raise  # recorded: its folder is the package, kept
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _edited_rows(s: Session, planned: list[Planned], matcher: Matcher) -> list[Refusal]:
    """The index seals each item's date received, file time, path and provider as the
    sender's: an item whose row was edited since its ingestion event recorded them is refused
    (`amanah verify` names the same), instead of sealing the edited values."""
    edited = audit.edited_items(s, [e.item.id for e in planned])
    return [
        Refusal(
            item_id,
            matcher.pseudonymise(
                "its record differs from its ingestion event ("
                + "; ".join(re.sub(rf"^item {item_id}:? ", "", f) for f in found)
                + "): run `amanah verify` and restore it from a backup before it is sent"
            )[0],
        )
        for item_id, found in sorted(edited.items())
    ]


class PackageNotPlaced(SharingError):
    """The package was recorded but its folder could not be renamed into place."""


def _place_recorded(ws: Workspace, parent: Path) -> frozenset[Path]:
    """A build killed between its commit and the rename left a whole, recorded package in
    its hidden folder: put it where its packages row says, and say so. Returns the hidden
    folders of recorded packages that could not be put in place (their place is taken):
    never swept away, the ledger records them as sent."""
    kept: set[Path] = set()
    for left in partials.find(parent):
        found = re.search(r"partial-(PKG-\d{8}-[0-9A-F]{8})-", left.path.name)
        if left.state != "gone" or found is None:
            continue
        with ws.db.reader() as s:
            row = s.get(Package, found.group(1))
        if row is None:
            continue  # never recorded here: copies of evidence, not sent (swept)
        target = Path(row.path)
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()  # an empty folder made for it (`mkdir out` before the build)
        if target.exists() or target.parent != parent.resolve():
            kept.add(left.path)
            log.warning(
                "kept %s: a package build left it after its package %s was recorded, and it"
                " cannot be put in place (%s is taken or elsewhere): move it by hand",
                left.path,
                row.id,
                target,
            )
            continue
        left.path.rename(target)
        fsync_path(parent)
        log.warning(
            "put package %s in place at %s: its build was killed after it was recorded",
            found.group(1),
            target,
        )
    return frozenset(kept)


def _without_consent(
    s: Session, caller: Caller, planned: list[Planned], recipient: str
) -> tuple[list[Planned], list[Refusal]]:
    """The planned items whose persons' consent (victims, survivors) allows sharing with this
    recipient, and those left out with the reason (pseudonyms, never names)."""
    from amanah.sharing import person_consent

    parts = _descendants(s, [e.item.id for e in planned])
    why = person_consent.refusals(
        s,
        caller,
        {e.item.id: [c.id for c in parts[e.item.id]] for e in planned},
        "sharing",
        recipient,
    )
    kept = [e for e in planned if e.item.id not in why]
    return kept, [Refusal(i, f"left out: {r}") for i, r in why.items()]


def _unrecorded_redactions(s: Session, planned: list[Planned]) -> list[Refusal]:
    """A redacted file is sent only if the ledger says it was made from this item's original
    by a redaction: a derivative row pointed at another blob (the original, say) is refused
    before a byte is copied, instead of shipping it labelled "redacted"."""
    redacted = {e.item.id: e for e in planned if e.variant == "redacted"}
    made: dict[int, set[tuple[str, str]]] = {}
    ids = sorted(redacted)
    for i in range(0, len(ids), 900):
        for object_id, details in s.execute(
            select(CustodyEvent.object_id, CustodyEvent.details).where(
                CustodyEvent.object_type == "item",
                CustodyEvent.object_id.in_([str(x) for x in ids[i : i + 900]]),
                CustodyEvent.event_type == str(EventType.DERIVATION),
            )
        ):
            d = json.loads(details)
            if d.get("action") == "redaction":
                made.setdefault(int(object_id), set()).add(
                    (str(d.get("sha256")), str(d.get("source_sha256")))
                )
    return [
        Refusal(
            item_id,
            "its redacted version is not the file the ledger records as made from the"
            f" original by redaction (SHA-256 {e.sha256}): do not send it; redact it again",
        )
        for item_id, e in redacted.items()
        if e.sha256 == e.item.sha256 or (e.sha256, e.item.sha256) not in made.get(item_id, set())
    ]


def _seal(
    ws: Workspace,
    caller: Caller,
    req: Any,
    j: Jurisdiction,
    planned: list[Planned],
    package_id: str,
    work: Path,
    out: Path,
    matcher: Matcher,
) -> dict[str, Any]:
    """Record the disclosures, then write the tag files and put the bag in place, in one
    transaction: if anything fails, neither the package nor its disclosure events exist."""
    now = datetime.now(UTC)
    created_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    payload = sum(e.size for e in planned)
    recipient = _recipient(j)
    tag = work / "amanah"
    (tag / "custody").mkdir()
    with ws.db.session() as s:
        for entry in planned:
            ledger.append(
                s,
                EventType.DISCLOSURE,
                actor=caller.actor,
                object_type="item",
                object_id=entry.item.id,
                details={
                    "package": package_id,
                    "request": req.reference,
                    "jurisdiction": j.code,
                    "file": entry.file,
                    "variant": entry.variant,
                    "sha256": entry.sha256,
                    "sha512": entry.sha512,
                    "original_sha256": entry.item.sha256,
                    **caller.audit(),
                },
            )
        sealed = package_verifier.sealed_files(
            {
                "file": e.file,
                "sha256": e.sha256,
                "sha512": e.sha512,
                "item_id": e.item.id,
                "variant": e.variant,
                "original_sha256": e.item.sha256,
            }
            for e in planned
        )
        cover_sha256 = hashlib.sha256((tag / "cover-letter.pdf").read_bytes()).hexdigest()
        # The index (items.json's rows and items.csv) is what a recipient reads for each
        # file's provenance (original name, dates, provider): it is sealed too, so that it
        # cannot be rewritten with the tag manifests while the package still verifies.
        width = max(5, len(str(len(planned))))
        custody = {
            entry.item.id: f"amanah/custody/{number:0{width}d}.json"
            for number, entry in enumerate(planned, 1)
        }
        rows = _index_rows(planned, custody)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows({k: for_spreadsheet(v) for k, v in r.items()} for r in rows)
        items_csv = buf.getvalue().encode("utf-8")
        shipped, withheld = _shipped_events(s, planned, package_id, matcher)
        custody_sha256 = package_verifier.custody_digest(
            [{"file": e.file, "events": [ev["seq"] for ev in shipped[e.item.id]]} for e in planned],
            withheld,
        )
        ledger.append(
            s,
            EventType.DISCLOSURE,
            actor=caller.actor,
            object_type="package",
            object_id=package_id,
            details={
                "package": package_id,
                "request": req.reference,
                "jurisdiction": j.code,
                # what bag-info.txt and items.json say of the package, signed so that it
                # cannot be relabelled for another recipient or date (verify_package checks)
                "recipient": recipient,
                "created_at": created_at,
                "files": len(planned),
                "payload_oxum": f"{payload}.{len(planned)}",
                "seal_sha256": package_verifier.seal_digest(sealed),
                "cover_letter_sha256": cover_sha256,
                "index_sha256": package_verifier.seal_digest(rows),
                "items_csv_sha256": hashlib.sha256(items_csv).hexdigest(),
                "custody_sha256": custody_sha256,
                "custody_events_withheld": withheld,
                **caller.audit(),
            },
        )
        ledger.checkpoint(s, ws.key)
        proofs = ledger.inclusion_proofs(
            s,
            [("item", str(e.item.id)) for e in planned] + [("package", package_id)],
            ws.key.public_pem,
            EXCERPT_TYPES,
        )
        (tag / "seal.json").write_bytes(
            ledger_verifier.canonical_json(
                {
                    "format": package_verifier.SEAL_FORMAT,
                    "package": package_id,
                    "files": sealed,
                    "cover_letter_sha256": cover_sha256,
                    "proof": proofs[("package", package_id)],
                }
            )
            + b"\n"
        )
        for entry in planned:
            proof = proofs[("item", str(entry.item.id))]
            seqs = {ev["seq"] for ev in shipped[entry.item.id]}
            kept = [ev for ev in proof["events"] if ev["entry"]["seq"] in seqs]
            if len(kept) != len(seqs):  # the sealed list is what the record holds, or no build
                raise RuntimeError(f"item {entry.item.id}: its custody record changed while sealed")
            (work / custody[entry.item.id]).write_bytes(
                ledger_verifier.canonical_json({**proof, "events": kept}) + b"\n"
            )
        (tag / "items.csv").write_bytes(items_csv)
        info = {
            "package": package_id,
            "request": req.reference,
            "recipient": recipient,
            "created_by": caller.actor,
            "created_at": created_at,
            "key_id": ws.key.key_id,
            "custody_events_withheld": withheld,
            "items": rows,
        }
        (tag / "items.json").write_text(
            json.dumps(info, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        (tag / "checkpoint.json").write_bytes(
            ledger_verifier.canonical_json(proofs[("item", str(planned[0].item.id))]["checkpoint"])
            + b"\n"
        )
        (tag / "public_key.pem").write_bytes(ws.key.public_pem)
        shutil.copyfile(package_verifier.__file__, tag / "verify_package.py")
        shutil.copyfile(ledger_verifier.__file__, tag / "verify_ledger.py")
        _write_bag_files(
            work, planned, package_id, req.reference, recipient, caller.actor, payload, now
        )
        manifest_sha = hashlib.sha256((work / "manifest-sha256.txt").read_bytes()).hexdigest()
        s.add(
            Package(
                id=package_id,
                request_id=req.id,
                jurisdiction_id=j.id,
                path=str(out.resolve()),
                created_by=caller.actor,
                created_at=now,
                item_count=len(planned),
                payload_bytes=payload,
                manifest_sha256=manifest_sha,
            )
        )
        s.add_all(
            PackageItem(
                package_id=package_id,
                number=n,
                item_id=e.item.id,
                path=e.file,
                sha256=e.sha256,
                size=e.size,
                variant=e.variant,
            )
            for n, e in enumerate(planned, 1)
        )
        # The request moves with the work: with its package built it is in review.
        state = requests.advance(
            s, req.reference, "in_review", caller.actor, note=f"package {package_id} built"
        )
        s.flush()
    # The bag takes its name only once its disclosure events and packages row are committed:
    # a kill before leaves a hidden folder the next build removes, never a whole package the
    # ledger does not record; a kill after is finished by the next build (_place_recorded).
    try:
        if out.exists():
            out.rmdir()  # the empty folder the caller may have made
        work.rename(out)
        fsync_path(out.parent)
    except OSError as exc:
        raise PackageNotPlaced(
            f"package {package_id} is recorded but could not be put at {out}"
            f" ({exc.strerror}): it is whole in {work}; move it there"
        ) from exc
    return {
        "package": package_id,
        "request": req.reference,
        "request_state": state,
        "recipient": j.code,
        "path": str(out),
        "items": len(planned),
        "redacted": sum(e.variant == "redacted" for e in planned),
        "payload_bytes": payload,
        "manifest_sha256": manifest_sha,
        "custody_events_withheld": withheld,
    }


def _shipped_events(
    s: Session, planned: list[Planned], package_id: str, matcher: Matcher
) -> tuple[dict[int, list[dict[str, Any]]], int]:
    """Each file's custody events that go into its record (EXCERPT_TYPES, in ledger order):
    not another package's disclosure (other recipients' business), not an event whose words
    name a protected person (withheld: counted). Chosen before the package's disclosure event,
    which seals the choice (`verify_package.custody_digest`)."""
    ledger.flush_events(s)  # this build's disclosures are inserted at commit otherwise
    table = CustodyEvent.__table__
    ids = {str(e.item.id): e.item.id for e in planned}
    shipped: dict[int, list[dict[str, Any]]] = {i: [] for i in ids.values()}
    withheld = 0
    for chunk in range(0, len(ids), 500):
        keys = list(ids)[chunk : chunk + 500]
        rows = s.execute(
            select(table)
            .where(
                table.c.object_type == "item",
                table.c.object_id.in_(keys),
                table.c.event_type.in_(sorted(EXCERPT_TYPES)),
            )
            .order_by(table.c.seq)
        ).all()
        for row in rows:
            e = ledger.entry_of(row)
            if e["type"] == EventType.DISCLOSURE and e["details"].get("package") != package_id:
                continue  # other recipients' packages are not this recipient's business
            if matcher.names(_free_text(e)):
                withheld += 1  # an event naming a protected person is left out
                continue
            shipped[ids[e["object_id"]]].append(e)
    return shipped, withheld


def _write_bag_files(
    work: Path,
    planned: list[Planned],
    package_id: str,
    reference: str,
    recipient: str,
    creator: str,
    payload: int,
    created: datetime,
) -> None:
    def one_line(value: str) -> str:
        return " ".join(value.split())

    (work / "bagit.txt").write_text(
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", encoding="utf-8"
    )
    for algorithm in ("sha256", "sha512"):
        with (work / f"manifest-{algorithm}.txt").open("w", encoding="utf-8", newline="\n") as f:
            for e in planned:
                f.write(f"{getattr(e, algorithm)}  {_encode_path(e.file)}\n")
    info = {
        "Source-Organization": "Amanah installation",
        "Bagging-Date": created.date().isoformat(),  # the date signed with the package
        "Bag-Software-Agent": f"Amanah {__version__} ({AGENT})",
        "External-Identifier": package_id,
        "External-Description": one_line(f"Sharing package in response to request {reference}"),
        "Payload-Oxum": f"{payload}.{len(planned)}",
        "Bag-Count": "1 of 1",
        "Amanah-Package-Id": package_id,
        "Amanah-Request-Reference": one_line(reference),
        "Amanah-Recipient": one_line(recipient),
        "Amanah-Creator": one_line(creator),
    }
    (work / "bag-info.txt").write_text(
        "".join(f"{k}: {v}\n" for k, v in info.items()), encoding="utf-8"
    )
    tag_files = sorted(
        p
        for p in work.rglob("*")
        if p.is_file()
        and p.parts[len(work.parts)] != "data"
        and not p.name.startswith("tagmanifest-")
    )
    found = {p: package_verifier.digests(p) for p in tag_files}
    for algorithm in ("sha256", "sha512"):
        with (work / f"tagmanifest-{algorithm}.txt").open("w", encoding="utf-8", newline="\n") as f:
            for p in tag_files:
                f.write(f"{found[p][algorithm]}  {_encode_path(p.relative_to(work).as_posix())}\n")


def list_packages(
    s: Session, caller: Caller, package_id: str | None = None
) -> list[dict[str, Any]]:
    """Packages the caller may see (all for legal officers, its own for a recipient), or the
    one asked for."""
    stmt = (
        select(Package, Jurisdiction.code, Request.reference)
        .join(Jurisdiction, Jurisdiction.id == Package.jurisdiction_id)
        .join(Request, Request.id == Package.request_id)
        .where(packages_visible(caller))
        .order_by(Package.created_at.desc())
    )
    if package_id is not None:
        stmt = stmt.where(Package.id == package_id)
    rows = s.execute(stmt).all()
    return [
        {
            "id": p.id,
            "request": ref,
            "recipient": code,
            "created_at": p.created_at.isoformat(),
            "created_by": p.created_by,
            "items": p.item_count,
            "payload_bytes": p.payload_bytes,
            "manifest_sha256": p.manifest_sha256,
        }
        for p, code, ref in rows
    ]


def get_package(s: Session, caller: Caller, package_id: str) -> Package:
    row = s.execute(
        select(Package).where(Package.id == package_id, packages_visible(caller))
    ).scalar_one_or_none()
    if row is None:
        raise NotVisible(f"no package {package_id}")
    return row
