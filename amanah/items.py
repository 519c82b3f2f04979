"""Reading items back: listings, one item's record, and its original bytes (audited)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import select

from amanah.blobs.base import CHUNK
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import (
    Collection,
    CustodyEvent,
    Derivative,
    Framework,
    IntakeRun,
    Item,
    Provider,
    Relation,
)
from amanah.workspace import Workspace


class ItemError(Exception):
    """No such item or collection, or its bytes cannot be delivered."""


def _path_hex(raw: bytes) -> str | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.hex()
    return None


def summary(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": item.id,
        "sha256": item.sha256,
        "size": item.size,
        "original_path": item.original_path,
        "parent_id": item.parent_id,
        "status": item.status,
    }
    if (hexed := _path_hex(item.original_path_raw)) is not None:
        out["original_path_hex"] = hexed
    return out


def list_items(ws: Workspace, collection: str | None = None) -> list[dict[str, Any]]:
    with ws.db.reader() as s:
        q = select(Item).order_by(Item.id)
        if collection is not None:
            coll = s.execute(
                select(Collection).where(Collection.name == collection)
            ).scalar_one_or_none()
            if coll is None:
                raise ItemError(f"no collection named {collection!r}")
            q = q.where(Item.collection_id == coll.id)
        return [summary(i) for i in s.execute(q).scalars()]


def show(ws: Workspace, item_id: int) -> dict[str, Any]:
    with ws.db.reader() as s:
        item = s.get(Item, item_id)
        if item is None:
            raise ItemError(f"no item with id {item_id}")
        coll = s.get(Collection, item.collection_id)
        assert coll is not None
        prov = s.get(Provider, coll.provider_id)
        framework = s.get(Framework, coll.framework_id) if coll.framework_id else None
        run = s.get(IntakeRun, item.intake_run_id) if item.intake_run_id else None
        events = s.execute(
            select(CustodyEvent)
            .where(CustodyEvent.object_type == "item", CustodyEvent.object_id == str(item_id))
            .order_by(CustodyEvent.seq)
        ).scalars()
        out = summary(item)
        out.update(
            {
                "collection": coll.name,
                "provider": prov.name if prov else None,
                "framework": {"id": framework.id, "title": framework.title} if framework else None,
                "compartment": coll.compartment,
                "file_times": {
                    "modified": ledger.iso_from_ns(item.mtime_ns),
                    "accessed": ledger.iso_from_ns(item.atime_ns),
                    "changed": ledger.iso_from_ns(item.ctime_ns),
                },
                "intake": {
                    "run": item.intake_run_id,
                    "at": item.intake_at.isoformat(),
                    "actor": item.intake_actor,
                    "sources": json.loads(run.sources) if run else [],
                },
                "flags": json.loads(item.flags),
                "media_type": item.media_type,
                "pronom": item.pronom,
                "format_name": item.format_name,
                "languages": json.loads(item.languages),
                "metadata": json.loads(item.doc_metadata),
                "processing": {"status": item.processing, "error": item.processing_error or None},
                "children": [
                    {
                        "id": c.id,
                        "original_path": c.original_path,
                        "sha256": c.sha256,
                        "size": c.size,
                    }
                    for c in s.execute(
                        select(Item).where(Item.parent_id == item.id).order_by(Item.id)
                    ).scalars()
                ],
                "duplicates": [
                    {
                        "id": r.item_b if r.item_a == item.id else r.item_a,
                        "kind": r.kind,
                        "score": r.score,
                    }
                    for r in s.execute(
                        select(Relation)
                        .where((Relation.item_a == item.id) | (Relation.item_b == item.id))
                        .order_by(Relation.id)
                    ).scalars()
                ],
                "derivatives": [
                    {
                        "kind": d.kind,
                        "page": d.page,
                        "sha256": d.sha256,
                        "size": d.size,
                        "media_type": d.media_type,
                        **json.loads(d.details),
                    }
                    for d in s.execute(
                        select(Derivative)
                        .where(Derivative.item_id == item.id)
                        .order_by(Derivative.kind, Derivative.page)
                    ).scalars()
                ],
                "custody": [
                    {
                        "seq": e.seq,
                        "type": e.event_type,
                        "time": e.occurred_at,
                        "actor": e.actor,
                        "outcome": e.outcome,
                    }
                    for e in events
                ],
            }
        )
        return out


def export_original(ws: Workspace, item_id: int, out: Path, actor: str) -> dict[str, Any]:
    """Write the original bytes to `out`, checking their hash on the way; audited."""
    with ws.db.reader() as s:
        item = s.get(Item, item_id)
        if item is None:
            raise ItemError(f"no item with id {item_id}")
        sha256, size = item.sha256, item.size
    if out.exists():
        raise ItemError(f"{out}: already exists; choose another name (nothing was overwritten)")
    part = out.with_name(out.name + ".part")
    h = hashlib.sha256()
    try:
        with ws.blobs.open(sha256) as src, open(part, "xb") as dst:
            while data := src.read(CHUNK):
                h.update(data)
                dst.write(data)
            dst.flush()
            os.fsync(dst.fileno())
        if h.hexdigest() != sha256:
            raise ItemError(
                f"item {item_id}: stored bytes hash to {h.hexdigest()}, not {sha256};"
                " run `amanah verify` and restore the blob from a replica"
            )
        with ws.db.session() as s:
            ledger.append(
                s,
                EventType.ACCESS,
                actor=actor,
                object_type="item",
                object_id=item_id,
                details={"action": "export original", "to": str(out.absolute()), "sha256": sha256},
            )
        part.rename(out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        raise
    return {"id": item_id, "sha256": sha256, "size": size, "path": str(out)}


def text(ws: Workspace, item_id: int, actor: str, kinds: tuple[str, ...] = ("text", "ocr")) -> str:
    """The item's extracted (or OCR) text; reading evidence content is an audited access."""
    with ws.db.reader() as s:
        if s.get(Item, item_id) is None:
            raise ItemError(f"no item with id {item_id}")
        found = (
            s.execute(
                select(Derivative)
                .where(Derivative.item_id == item_id, Derivative.kind.in_(kinds))
                .order_by(Derivative.kind.desc(), Derivative.page)
            )
            .scalars()
            .all()
        )
    if not found:
        raise ItemError(f"item {item_id} has no extracted text (see `amanah item show {item_id}`)")
    parts = []
    for d in found:
        with ws.blobs.open(d.sha256) as f:
            parts.append(f.read().decode("utf-8"))
    with ws.db.session() as s:
        ledger.append(
            s,
            EventType.ACCESS,
            actor=actor,
            object_type="item",
            object_id=item_id,
            details={"action": "read text", "derivatives": [d.sha256 for d in found]},
        )
    return "\n".join(parts)
