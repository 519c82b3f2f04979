"""Review of a request's candidate items: found by searches run for it, or added by hand,
then marked relevant or not relevant. Only items the reviewer may see, in the request's own
compartments, can be candidates; searches run for a request search those items only."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from amanah.access import Caller, Permission, candidates_visible, for_request, visible_item_ids
from amanah.db.models import Collection, Item, Provider, Review
from amanah.rfa import RequestError, requests
from amanah.search import engine, service
from amanah.search.query import parse
from amanah.workspace import Workspace

DECISIONS = ("pending", "relevant", "not_relevant")


def add_candidates(
    s: Session, caller: Caller, reference: str, item_ids: Iterable[int], source: str
) -> int:
    """Add items to the review (pending); returns how many were new."""
    caller.require(Permission.MANAGE_REQUESTS)
    req = requests.visible(s, caller, reference)
    ids = list(dict.fromkeys(item_ids))
    visible = visible_item_ids(s, for_request(s, caller, req), ids)
    missing = [i for i in ids if i not in visible]
    if missing:
        raise RequestError(f"no item with id {', '.join(map(str, missing[:10]))}")
    existing = set(
        s.execute(
            select(Review.item_id).where(Review.request_id == req.id, Review.item_id.in_(ids))
        ).scalars()
        if len(ids) <= 900
        else s.execute(select(Review.item_id).where(Review.request_id == req.id)).scalars()
    )
    new = [i for i in ids if i not in existing]
    s.add_all(
        Review(request_id=req.id, item_id=i, decision="pending", source=source, note="")
        for i in new
    )
    return len(new)


def candidates_from_search(
    ws: Workspace, caller: Caller, reference: str, query: str
) -> dict[str, Any]:
    """Run a search for the request (logged with it) and add every hit as a candidate."""
    caller.require(Permission.MANAGE_REQUESTS)
    with ws.db.reader() as s:
        req = requests.visible(s, caller, reference)
        req_id, scoped = req.id, for_request(s, caller, req)
    results = service.search(ws, scoped, query, limit=1, request_id=req_id)
    engine.prepare(ws)
    with ws.db.reader() as s:
        ids = engine.all_ids(s, scoped, parse(query), ws)
    with ws.db.session() as s:
        added = add_candidates(s, caller, reference, ids, f"search {results.search_id}")
    return {"search_id": results.search_id, "hits": len(ids), "added": added}


def decide(
    s: Session,
    caller: Caller,
    reference: str,
    item_ids: Iterable[int],
    decision: str,
    note: str = "",
) -> int:
    """Record a decision on candidates (items not yet candidates are added by hand)."""
    caller.require(Permission.MANAGE_REQUESTS)
    if decision not in DECISIONS:
        raise RequestError(f"{decision!r} is not a decision: choose {', '.join(DECISIONS)}")
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        raise RequestError("no item given")
    add_candidates(s, caller, reference, ids, "by hand")
    req = requests.visible(s, caller, reference)
    values = {"decision": decision, "decided_by": caller.actor, "decided_at": datetime.now(UTC)}
    if note:  # kept as a request's own notes are: every protected name by its pseudonym
        values["note"] = requests.clean_note(s, note)
    for i in range(0, len(ids), 900):
        s.execute(
            update(Review)
            .where(Review.request_id == req.id, Review.item_id.in_(ids[i : i + 900]))
            .values(**values)
        )
    return len(ids)


def rows(
    s: Session, caller: Caller, reference: str, decision: str | None = None
) -> list[dict[str, Any]]:
    """The review as the reviewer sees it: items outside their need-to-know, outside the
    request's compartments, or withheld, are left out (`access.candidates_visible`)."""
    req = requests.visible(s, caller, reference)
    stmt = (
        select(Review, Item, Collection.name, Provider.name)
        .join(Item, Item.id == Review.item_id)
        .join(Collection, Collection.id == Item.collection_id)
        .join(Provider, Provider.id == Collection.provider_id)
        .where(Review.request_id == req.id, candidates_visible(s, caller, req))
        .order_by(Review.item_id)
    )
    if decision:
        stmt = stmt.where(Review.decision == decision)
    return [
        {
            "item_id": item.id,
            "path": item.original_path,
            "media_type": item.media_type,
            "collection": coll,
            "provider": prov,
            "decision": r.decision,
            "source": r.source,
            "note": r.note,
            "decided_by": r.decided_by,
        }
        for r, item, coll, prov in s.execute(stmt).all()
    ]
