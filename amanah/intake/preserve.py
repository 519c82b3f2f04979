"""Recording preserved files as items: one path for handovers and for unpacked children.

Given files whose bytes are already durable in the blob store, one transaction adds their blob
rows, item rows, custody events and processing jobs. A file from a folder and a member of a
zip inside an email go through the same code, so both get the same guarantees.
"""

from __future__ import annotations

import hashlib
import json
import ssl
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from amanah import queue
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import Blob, Item

DIGEST_SOFTWARE = f"Python hashlib ({ssl.OPENSSL_VERSION})"


def display(raw: bytes) -> str:
    """A path as text for people; bytes that are not UTF-8 show as \\xNN escapes."""
    return raw.decode("utf-8", "backslashreplace")


def path_hash(parent_id: int | None, original: bytes) -> str:
    return hashlib.sha256(b"%d\x00" % (parent_id or 0) + original).hexdigest()


def path_key(parent_id: int | None, original: bytes, sha256: str) -> str:
    return hashlib.sha256(
        b"%d\x00" % (parent_id or 0) + original + b"\x00" + sha256.encode()
    ).hexdigest()


def status_of(flags: list[dict[str, str]]) -> str:
    """Flagged when any flag asks an analyst to look twice; a matching hash list does not."""
    return "flagged" if any(f["code"] != "hash_list_match" for f in flags) else "preserved"


@dataclass
class Stored:
    """A file whose bytes are durable in the blob store, waiting for its item row."""

    original: bytes  # path as recorded (for a child: its path inside the parent)
    source: str  # where it came from, for the ingestion event
    sha256: str
    size: int
    mtime_ns: int | None = None
    atime_ns: int | None = None
    ctime_ns: int | None = None
    digests: dict[str, str] = field(default_factory=dict)
    flags: list[dict[str, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # more details for the ingestion event


@dataclass
class Context:
    """Where new items go and who is receiving them."""

    collection_id: int
    collection_name: str
    provider_name: str
    actor: str
    run_id: int | None = None
    parent_id: int | None = None
    depth: int = 0
    hash_list: str = ""


@dataclass
class Recorded:
    item_id: int
    stored: Stored
    status: str


def record_items(
    s: Session, ctx: Context, stored: list[Stored], counts: Counter[str]
) -> list[Recorded]:
    """Blob rows, item rows, custody events and jobs for a batch, in bulk, in one transaction.

    Files already recorded (same parent, path and content) are counted as already present.
    """
    cid = ctx.collection_id
    batch: dict[str, Stored] = {}
    for p in stored:  # the same path can be given twice on one command line
        batch.setdefault(path_key(ctx.parent_id, p.original, p.sha256), p)
    present = set(
        s.execute(
            select(Item.path_key).where(Item.collection_id == cid, Item.path_key.in_(batch))
        ).scalars()
    )
    if repeated := len(stored) - len(batch) + len(present):
        counts["already_present"] += repeated
    todo = [(key, p) for key, p in batch.items() if key not in present]
    if not todo:
        return []
    hashes = {path_hash(ctx.parent_id, p.original) for _, p in todo}
    earlier: dict[str, list[Any]] = {}
    for row in s.execute(
        select(Item.id, Item.sha256, Item.path_hash).where(
            Item.collection_id == cid, Item.path_hash.in_(hashes)
        )
    ):
        earlier.setdefault(row.path_hash, []).append(row)
    shas = {p.sha256: p.size for _, p in todo}
    known = set(s.execute(select(Blob.sha256).where(Blob.sha256.in_(shas))).scalars())
    now = datetime.now(UTC)
    new_blobs = [
        {"sha256": h, "size": n, "stored_at": now} for h, n in shas.items() if h not in known
    ]
    if new_blobs:
        s.execute(insert(Blob), new_blobs)
    rows = []
    for key, p in todo:
        ph = path_hash(ctx.parent_id, p.original)
        for row in earlier.get(ph, []):
            p.flags.append(
                {
                    "code": "changed_since_earlier_intake",
                    "message": f"item {row.id} came from the same path with sha256 {row.sha256}",
                }
            )
        rows.append(
            {
                "collection_id": cid,
                "parent_id": ctx.parent_id,
                "path_hash": ph,
                "path_key": key,
                "original_path": display(p.original),
                "original_path_raw": p.original,
                "size": p.size,
                "sha256": p.sha256,
                "mtime_ns": p.mtime_ns,
                "atime_ns": p.atime_ns,
                "ctime_ns": p.ctime_ns,
                "intake_run_id": ctx.run_id,
                "intake_at": now,
                "intake_actor": ctx.actor,
                "status": status_of(p.flags),
                "flags": json.dumps(p.flags, ensure_ascii=False),
                "depth": ctx.depth,
            }
        )
    ids = (
        s.execute(insert(Item).returning(Item.id, sort_by_parameter_order=True), rows)
        .scalars()
        .all()
    )
    queue.enqueue(s, ids)
    recorded = []
    for item_id, (_, p), row in zip(ids, todo, rows, strict=True):
        _record_events(s, ctx, item_id, p)
        counts["ingested"] += 1
        if row["status"] == "flagged":
            counts["flagged"] += 1
        recorded.append(Recorded(item_id, p, row["status"]))
    return recorded


def _record_events(s: Session, ctx: Context, item_id: int, p: Stored) -> None:
    details: dict[str, Any] = {
        "collection": ctx.collection_name,
        "provider": ctx.provider_name,
        "original_path": display(p.original),
        "source": p.source,
        "size": p.size,
        "sha256": p.sha256,
        "file_times": {
            "modified": ledger.iso_from_ns(p.mtime_ns),
            "accessed": ledger.iso_from_ns(p.atime_ns),
            "changed": ledger.iso_from_ns(p.ctime_ns),
        },
        **p.extra,
    }
    if ctx.run_id is not None:
        details["intake_run"] = ctx.run_id
    if ctx.parent_id is not None:
        details["parent"] = ctx.parent_id
    try:
        p.original.decode("utf-8")
    except UnicodeDecodeError:
        details["original_path_hex"] = p.original.hex()
    common = {"actor": ctx.actor, "object_type": "item", "object_id": item_id}
    ledger.append(s, EventType.INGESTION, details=details, **common)
    ledger.append(
        s,
        EventType.MESSAGE_DIGEST_CALCULATION,
        details={
            "algorithm": "SHA-256",
            "digest": p.sha256,
            "software": DIGEST_SOFTWARE,
            "other_digests": {k: v for k, v in p.digests.items() if k != "sha256"},
        },
        **common,
    )
    for f in p.flags:
        if f["code"] not in ("hash_list_match", "hash_mismatch"):
            continue
        ledger.append(
            s,
            EventType.FIXITY_CHECK,
            outcome="success" if f["code"] == "hash_list_match" else "failure",
            details={
                "against": "provider hash list",
                "list": ctx.hash_list,
                "line": int(f["line"]),
                "algorithm": f["algorithm"],
                "expected": f["expected"],
                "actual": f["actual"],
            },
            **common,
        )
