"""Evidence links: an assertion (an entity, a name, a relation) tied to an item pinned by its
SHA-256 and a locator that is checked against the item before it is kept: a page that
exists with rectangles on it, a character span inside a named text derivative (whose words
must be the quotation, when one is given), or a time range inside the recording."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import Caller, NotVisible, Permission, visible_item
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import Derivative, EntityName, EntityRelation, EvidenceLink, Item
from amanah.entities.store import digest, entity, now
from amanah.entities.vocab import STANCES, EntityError, choose
from amanah.processing.metadata import stored as stored_metadata

if TYPE_CHECKING:
    from amanah.workspace import Workspace


def parse_rect(text: str) -> list[float]:
    """'x0,y0,x1,y1' in PDF points from the page's top left."""
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        vals = []
    if len(vals) != 4 or not all(math.isfinite(v) for v in vals):
        raise EntityError(f"rectangle {text!r} is not x0,y0,x1,y1 (four numbers)")
    x0, y0, x1, y1 = vals
    if min(vals) < 0 or x1 <= x0 or y1 <= y0:
        raise EntityError(f"rectangle {text!r}: need 0 <= x0 < x1 and 0 <= y0 < y1")
    return vals


def page_count(s: Session, item: Item) -> int | None:
    """How many pages the item has, as processing found it; None when not known."""
    meta = stored_metadata(item.doc_metadata)
    if isinstance(meta.get("pages"), int) and meta["pages"] > 0:
        return int(meta["pages"])
    for d in s.execute(select(Derivative).where(Derivative.item_id == item.id)).scalars():
        pages = json.loads(d.details or "{}").get("pages")
        if isinstance(pages, int) and pages > 0:
            return pages
    if (item.media_type or "").startswith("image/"):
        return 1
    return None


def _span_text(ws: Workspace, s: Session, item: Item, kind: str) -> tuple[str, str]:
    d = s.execute(
        select(Derivative)
        .where(Derivative.item_id == item.id, Derivative.kind == kind)
        .order_by(Derivative.page)
        .limit(1)
    ).scalar_one_or_none()
    if d is None:
        raise EntityError(f"item {item.id} has no {kind!r} text derivative")
    with ws.blobs.open(d.sha256) as f:
        return f.read().decode("utf-8"), d.sha256


def link(
    ws: Workspace,
    s: Session,
    caller: Caller,
    item_id: int,
    *,
    entity_id: int | None = None,
    name_id: int | None = None,
    relation_id: int | None = None,
    page: int | None = None,
    rects: list[str] | None = None,
    span: tuple[int, int] | None = None,
    derivative: str = "text",
    time_ms: tuple[int, int] | None = None,
    quotation: str = "",
    translation: str = "",
    stance: str = "supports",
) -> EvidenceLink:
    """Check the target and the locator against the item, keep the link, record it."""
    caller.require(Permission.MANAGE_ENTITIES)
    if sum(x is not None for x in (entity_id, name_id, relation_id)) != 1:
        raise EntityError("link evidence to exactly one of an entity, a name or a relation")
    if sum(x is not None for x in (page, span, time_ms)) != 1:
        raise EntityError("give exactly one locator: --page, --span or --time")
    from amanah.access import names_visible, relations_visible

    if entity_id is not None:
        entity(s, caller, entity_id)
    elif name_id is not None:
        if (
            s.execute(
                select(EntityName.id).where(EntityName.id == name_id, names_visible(caller))
            ).first()
            is None
        ):
            raise EntityError(f"no name with id {name_id}")
    elif (
        s.execute(
            select(EntityRelation.id).where(
                EntityRelation.id == relation_id, relations_visible(caller)
            )
        ).first()
        is None
    ):
        raise EntityError(f"no relation with id {relation_id}")
    try:
        item = visible_item(s, caller, item_id)
    except NotVisible as exc:
        raise EntityError(str(exc)) from None
    row = EvidenceLink(
        entity_id=entity_id,
        name_id=name_id,
        relation_id=relation_id,
        item_id=item.id,
        item_sha256=item.sha256,
        rects="[]",
        derivative="",
        quotation=quotation,
        translation=translation,
        stance=choose(stance, STANCES, "stance"),
        created_at=now(),
        created_by=caller.actor,
    )
    read: dict[str, Any] = {}
    if page is not None:
        pages = page_count(s, item)
        if pages is None:
            raise EntityError(f"item {item.id}: its pages are not known (not processed yet)")
        if not 1 <= page <= pages:
            raise EntityError(f"item {item.id} has {pages} page(s): page {page} is outside it")
        row.locator_kind, row.page = "page", page
        row.rects = json.dumps([parse_rect(r) for r in rects or ()])
    elif span is not None:
        text, sha = _span_text(ws, s, item, derivative)
        start, end = span
        if not 0 <= start < end <= len(text):
            raise EntityError(
                f"item {item.id}: span {start}-{end} is outside its {derivative!r} text"
                f" of {len(text)} characters"
            )
        found = text[start:end]
        if quotation and " ".join(quotation.split()) != " ".join(found.split()):
            raise EntityError(
                f"item {item.id}: the quotation is not the text at {start}-{end} of its"
                f" {derivative!r} text"
            )
        row.locator_kind, row.derivative, row.start, row.end = "span", derivative, start, end
        row.quotation = quotation or found
        read = {"read": {"derivative": derivative, "sha256": sha}}
    else:
        assert time_ms is not None
        start, end = time_ms
        seconds = stored_metadata(item.doc_metadata).get("duration_seconds")
        if not isinstance(seconds, int | float):
            raise EntityError(f"item {item.id}: its duration is not known (not a recording?)")
        if not 0 <= start < end <= round(seconds * 1000):
            raise EntityError(
                f"item {item.id}: time {start}-{end} ms is outside its {seconds} seconds"
            )
        row.locator_kind, row.start, row.end = "time", start, end
    if rects and page is None:
        raise EntityError("--rect goes with --page")
    s.add(row)
    s.flush()
    ledger.append(
        s,
        EventType.ENTITY_CHANGE,
        actor=caller.actor,
        object_type="item",
        object_id=item.id,
        details={
            "action": "link evidence",
            "link": row.id,
            "sha256": item.sha256,
            "target": {"entity": entity_id, "name": name_id, "relation": relation_id},
            "locator": locator(row),
            "stance": row.stance,
            "quotation_sha256": digest(row.quotation) if row.quotation else None,
            **read,
            **caller.audit(),
        },
    )
    return row


def locator(x: EvidenceLink) -> dict[str, Any]:
    if x.locator_kind == "page":
        return {"page": x.page, "rects": json.loads(x.rects)}
    if x.locator_kind == "span":
        return {"derivative": x.derivative, "span": [x.start, x.end]}
    if x.locator_kind == "row":  # a person list's row (amanah.persons.evidence)
        return {"row": x.start}
    return {"time_ms": [x.start, x.end]}


def link_dict(x: EvidenceLink) -> dict[str, Any]:
    target = (
        {"entity": x.entity_id}
        if x.entity_id is not None
        else {"name": x.name_id}
        if x.name_id is not None
        else {"relation": x.relation_id}
    )
    return {
        "id": x.id,
        **target,
        "item": x.item_id,
        "sha256": x.item_sha256,
        "locator": locator(x),
        "quotation": x.quotation,
        "translation": x.translation,
        "stance": x.stance,
        "linked_by": x.created_by,
        "linked_at": x.created_at.isoformat(),
    }


def audit_shown(
    ws: Workspace,
    caller: Caller,
    links: list[dict[str, Any]],
    action: str = "read evidence links",
    key: str = "links",
) -> None:
    """Showing evidence links or mentions (their quotations are evidence content) is an
    audited access: one event per item, naming what was shown (`key`: their ids)."""
    by_item: dict[int, list[int]] = {}
    for x in links:
        by_item.setdefault(int(x["item"]), []).append(int(x["id"]))
    for item_id, ids in sorted(by_item.items()):
        ws.db.write_soon(
            lambda s, item_id=item_id, ids=ids: ledger.append(
                s,
                EventType.ACCESS,
                actor=caller.actor,
                object_type="item",
                object_id=item_id,
                details={"action": action, key: ids, **caller.audit()},
            )
        )
