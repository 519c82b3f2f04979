"""Reading items back: listings, one item's record, and its original bytes (audited)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah import item_history
from amanah.access import (
    Caller,
    NotVisible,
    collections_visible,
    derivative_kinds_hidden,
    local_administrator,
    not_withheld,
    visible_item,
)
from amanah.blobs.base import CHUNK, BlobAltered, CheckedReader
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import (
    Collection,
    Derivative,
    Framework,
    IntakeRun,
    Item,
    Provider,
    Relation,
    SupersededDerivative,
)
from amanah.processing import metadata
from amanah.workspace import Workspace


class ItemError(Exception):
    """No such item or collection (or not visible to the caller), or its bytes cannot be
    delivered."""


def _caller(ws: Workspace, who: Caller | str | None) -> Caller:
    """A signed-in caller, or the local administrator (the CLI) under the given actor name."""
    if isinstance(who, Caller):
        return who
    return local_administrator(ws, who)


def _item(s: Session, caller: Caller, item_id: int) -> Item:
    try:
        return visible_item(s, caller, item_id)
    except NotVisible as exc:
        raise ItemError(str(exc)) from None


def _audit(
    ws: Workspace, caller: Caller, item_id: int, event: EventType, details: dict[str, Any]
) -> None:
    ws.db.write_soon(
        lambda s: ledger.append(
            s,
            event,
            actor=caller.actor,
            object_type="item",
            object_id=item_id,
            details={**details, **caller.audit()},
        )
    )


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


def list_items(
    ws: Workspace, collection: str | None = None, caller: Caller | None = None
) -> list[dict[str, Any]]:
    who = _caller(ws, caller)
    with ws.db.reader() as s:
        q = (
            select(Item)
            .join(Collection, Collection.id == Item.collection_id)
            .where(collections_visible(who), not_withheld(Item.id))
            .order_by(Item.id)
        )
        if collection is not None:
            coll = s.execute(
                select(Collection).where(Collection.name == collection, collections_visible(who))
            ).scalar_one_or_none()
            if coll is None:
                raise ItemError(f"no collection named {collection!r}")
            q = q.where(Item.collection_id == coll.id)
        return [summary(i) for i in s.execute(q).scalars()]


def show(
    ws: Workspace, item_id: int, caller: Caller | None = None, action: str | None = None
) -> dict[str, Any]:
    """An item's record; children and duplicates only where the caller may see them. The
    record holds what the file says of itself (its metadata: EXIF, GPS, an email's headers, a
    document's author): with `action`, reading it is an audited access under that name."""
    who = _caller(ws, caller)
    with ws.db.reader() as s:
        item = _item(s, who, item_id)
        coll = s.get(Collection, item.collection_id)
        assert coll is not None
        prov = s.get(Provider, coll.provider_id)
        framework = s.get(Framework, coll.framework_id) if coll.framework_id else None
        run = s.get(IntakeRun, item.intake_run_id) if item.intake_run_id else None
        events = item_history.timeline(s, who, item_id)[0]
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
                "metadata": metadata.stored(item.doc_metadata),
                "processing": {"status": item.processing, "error": item.processing_error or None},
                "inventory": {
                    "status": item.inventory,
                    "reasons": json.loads(item.inventory_reasons or "[]"),
                },
                "children": [
                    {
                        "id": c.id,
                        "original_path": c.original_path,
                        "sha256": c.sha256,
                        "size": c.size,
                    }
                    for c in s.execute(
                        select(Item)
                        .join(Collection, Collection.id == Item.collection_id)
                        .where(
                            Item.parent_id == item.id,
                            collections_visible(who),
                            not_withheld(Item.id),
                        )
                        .order_by(Item.id)
                    ).scalars()
                ],
                "duplicates": _duplicates(s, who, item.id),
                "derivatives": [
                    {
                        "id": d.id,
                        "kind": d.kind,
                        "page": d.page,
                        "sha256": d.sha256,
                        "size": d.size,
                        "media_type": d.media_type,
                        **json.loads(d.details),
                    }
                    for d in s.execute(
                        select(Derivative)
                        .where(
                            Derivative.item_id == item.id,
                            Derivative.kind.not_in(sorted(derivative_kinds_hidden(who))),
                        )
                        .order_by(Derivative.kind, Derivative.page)
                    ).scalars()
                ],
                # Derivatives made again (`amanah reprocess`): the earlier ones, kept.
                "superseded_derivatives": [
                    {
                        "kind": d.kind,
                        "page": d.page,
                        "sha256": d.sha256,
                        "size": d.size,
                        "media_type": d.media_type,
                        "created_at": d.created_at.isoformat(),
                        "superseded_at": d.superseded_at.isoformat(),
                        "superseded_by": d.superseded_by,
                    }
                    for d in s.execute(
                        select(SupersededDerivative)
                        .where(
                            SupersededDerivative.item_id == item.id,
                            SupersededDerivative.kind.not_in(sorted(derivative_kinds_hidden(who))),
                        )
                        .order_by(SupersededDerivative.id)
                    ).scalars()
                ],
                "custody": [
                    {k: e[k] for k in ("seq", "type", "time", "actor", "outcome")} for e in events
                ],
            }
        )
    if action is not None:
        _audit(ws, who, item_id, EventType.ACCESS, {"action": action})
    return out


def _duplicates(s: Session, caller: Caller, item_id: int) -> list[dict[str, Any]]:
    """Related items the caller may see (one indexed look-up per side of the relation)."""
    found = []
    for mine, other in ((Relation.item_a, Relation.item_b), (Relation.item_b, Relation.item_a)):
        found += s.execute(
            select(Relation.id, other, Relation.kind, Relation.score)
            .join(Item, Item.id == other)
            .join(Collection, Collection.id == Item.collection_id)
            .where(mine == item_id, collections_visible(caller), not_withheld(Item.id))
        ).all()
    return [{"id": o, "kind": k, "score": sc} for _, o, k, sc in sorted(found)]


def export_original(ws: Workspace, item_id: int, out: Path, actor: Caller | str) -> dict[str, Any]:
    """Write the original bytes to `out`, checking their hash on the way; audited."""
    who = _caller(ws, actor)
    with ws.db.reader() as s:
        item = _item(s, who, item_id)
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
        _audit(
            ws,
            who,
            item_id,
            EventType.ACCESS,
            {"action": "export original", "to": str(out.absolute()), "sha256": sha256},
        )
        part.rename(out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        raise
    return {"id": item_id, "sha256": sha256, "size": size, "path": str(out)}


def text(
    ws: Workspace,
    item_id: int,
    actor: Caller | str,
    kinds: tuple[str, ...] = ("text", "ocr"),
    action: str = "read text",
) -> str:
    """The item's extracted (or OCR) text; reading evidence content is an audited access."""
    who = _caller(ws, actor)
    with ws.db.reader() as s:
        _item(s, who, item_id)
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
    _audit(
        ws,
        who,
        item_id,
        EventType.ACCESS,
        {"action": action, "derivatives": [d.sha256 for d in found]},
    )
    return "\n".join(parts)


def record_view(ws: Workspace, caller: Caller, item_id: int, action: str) -> None:
    """An audited access to a visible item that read none of its text (a page showing its
    record, metadata and thumbnail)."""
    _audit(ws, caller, item_id, EventType.ACCESS, {"action": action})


def open_original(
    ws: Workspace,
    caller: Caller,
    item_id: int,
    view: bool = False,
    playable: frozenset[str] = frozenset(),
) -> tuple[Item, BinaryIO]:
    """The original bytes as a stream, to download or to view in the item page's player;
    the read is recorded before a byte leaves. The stream is hashed as it is read and ends
    with BlobAltered, its last chunk withheld, when the bytes are not the item's (a blob of
    one chunk is refused here, before any byte). `view` is recorded as a view only for the
    media types in `playable` (what the page's players show); any other item's bytes asked
    for as a view are a download, and recorded as one."""
    with ws.db.reader() as s:
        item = _item(s, caller, item_id)
        s.expunge(item)
    try:  # the bytes must hash to the item's SHA-256, as `amanah item get` checks them
        stream: Any = CheckedReader(ws.blobs.open(item.sha256), item.sha256)
    except BlobAltered as exc:
        raise ItemError(
            f"item {item_id}: the stored bytes do not match its SHA-256 ({exc});"
            " run `amanah verify` and restore the blob from a replica"
        ) from exc
    if view and (item.media_type or "").split(";")[0].strip().lower() in playable:
        _audit(ws, caller, item_id, EventType.ACCESS, {"action": "view original"})
    else:
        _audit(ws, caller, item_id, EventType.DOWNLOAD, {"action": "download original"})
    return item, stream


def open_derivative(
    ws: Workspace, caller: Caller, item_id: int, derivative_id: int
) -> tuple[Derivative, BinaryIO]:
    """A page image, thumbnail or text of a visible item; viewing it is an audited access."""
    with ws.db.reader() as s:
        _item(s, caller, item_id)
        d = s.get(Derivative, derivative_id)
        if d is None or d.item_id != item_id or d.kind in derivative_kinds_hidden(caller):
            raise ItemError(f"item {item_id} has no derivative {derivative_id}")
        s.expunge(d)
    stream = ws.blobs.open(d.sha256)
    _audit(
        ws,
        caller,
        item_id,
        EventType.ACCESS,
        {"action": f"view {d.kind}", "page": d.page, "sha256": d.sha256},
    )
    return d, stream


def texts(
    ws: Workspace, item_id: int, actor: Caller | str, action: str = "read text"
) -> dict[str, str]:
    """The extracted text and the OCR text apart (each page separated by form feeds), so a
    reader can tell which page was read from the file and which from a picture; one audited
    access for both. Empty when the item has neither."""
    who = _caller(ws, actor)
    with ws.db.reader() as s:
        _item(s, who, item_id)
        found = (
            s.execute(
                select(Derivative)
                .where(Derivative.item_id == item_id, Derivative.kind.in_(("text", "ocr")))
                .order_by(Derivative.kind, Derivative.page)
            )
            .scalars()
            .all()
        )
    if not found:
        return {}
    out: dict[str, list[str]] = {}
    for d in found:
        with ws.blobs.open(d.sha256) as f:
            out.setdefault(d.kind, []).append(f.read().decode("utf-8"))
    _audit(
        ws,
        who,
        item_id,
        EventType.ACCESS,
        {"action": action, "derivatives": [d.sha256 for d in found]},
    )
    return {kind: "\n".join(parts) for kind, parts in out.items()}
