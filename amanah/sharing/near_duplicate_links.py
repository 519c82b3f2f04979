"""Consent follows a document's near-duplicates: derived links.

A person's consent governs the items linked to them (`person_consent`). The same statement
re-scanned, re-saved as another PDF or sent again with a changed header is other bytes but the
same document; processing calls it a near-duplicate (`amanah.processing.fingerprints`, at its
own thresholds, recorded as a `Relation`). Each such pair where one side is governed by a
person's own link gives the other side a derived link (`PersonItem.derived_from`, with the
similarity), made in both orders: when processing finds the near-duplicate of a linked item,
and when a link is made on an item that has near-duplicates. The read path's rule
(`person_consent.withheld_condition`) therefore needs no fingerprint arithmetic: a derived link
is a link. A derived link never derives another (the near-duplicate of a near-duplicate is not
followed: similarity is not transitive).

The legal officer sees on the withheld item's page which item it is a near-duplicate of (id and
SHA-256, never a name) and may decide "not the same document": the decision is kept by the
pair of SHA-256 (`DistinctDocument`), the derived links between the two documents are lifted,
and none is derived again. Every derived link and every lifting is a custody event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, aliased

from amanah.access import Caller, Permission, collections_visible, visible_item
from amanah.db.models import Collection, DistinctDocument, Item, PersonItem, Relation
from amanah.sharing import SharingError
from amanah.sharing.person_consent import (
    A_PERSON,
    ANCESTRY,
    _Key,
    _lineage,
    _persons_of,
    caller_labels,
    item_event,
    person_labels,
)

#: The relations processing records for near-duplicates, and the source a derived link says.
FOLLOWED = {
    "near_duplicate_text": "near-duplicate text",
    "near_duplicate_image": "near-duplicate image",
    "near_duplicate_video": "near-duplicate video",
}
_CHUNK = 900


def _in_chunks(s: Session, query: Any, column: Any, ids: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for i in range(0, len(ids), _CHUNK):
        out.extend(s.execute(query.where(column.in_(ids[i : i + _CHUNK]))).all())
    return out


def _governed(s: Session, item_ids: Iterable[int], parts: bool) -> list[int]:
    """The items a link on `item_ids` governs: those, every item with their bytes and, with
    `parts`, what came from them (to `ANCESTRY` levels)."""
    ids = sorted(set(item_ids))
    shas = sorted({sha for _, sha in _in_chunks(s, select(Item.id, Item.sha256), Item.id, ids)})
    found = {i for (i,) in _in_chunks(s, select(Item.id), Item.sha256, shas)} | set(ids)
    frontier = sorted(found)
    for _ in range(ANCESTRY if parts else 0):
        below = {i for (i,) in _in_chunks(s, select(Item.id), Item.parent_id, frontier)} - found
        if not below:
            break
        found |= below
        frontier = sorted(below)
    return sorted(found)


def _distinct(s: Session, a: str, b: str) -> bool:
    lo, hi = sorted((a, b))
    return (
        s.execute(
            select(DistinctDocument.id).where(
                DistinctDocument.sha_a == lo, DistinctDocument.sha_b == hi
            )
        ).first()
        is not None
    )


def follow(s: Session, item_ids: Iterable[int], actor: str, *, parts: bool = False) -> int:
    """Derive the links the near-duplicates of these items call for, in both directions; the
    number made. Called by processing when it records near-duplicates of an item, and by
    `person_consent.link_item` (with `parts`: a link also governs the item's parts)."""
    if s.execute(select(PersonItem.id).limit(1)).first() is None:
        return 0  # no person linked to anything: nothing to follow (the common case)
    governed = _governed(s, item_ids, parts)
    pairs = [
        row
        for column in (Relation.item_a, Relation.item_b)
        for row in _in_chunks(
            s,
            select(Relation.item_a, Relation.item_b, Relation.kind, Relation.score).where(
                Relation.kind.in_(sorted(FOLLOWED))
            ),
            column,
            governed,
        )
    ]
    if not pairs:
        return 0
    ends = sorted({i for a, b, _, _ in pairs for i in (a, b)})
    own = _persons_of(s, ends, derived=False)  # a derived link derives nothing
    every = _persons_of(s, ends)
    sha = dict(_in_chunks(s, select(Item.id, Item.sha256), Item.id, ends))
    made: list[tuple[int, int, str, float, tuple[Any, Any]]] = []
    for a, b, kind, score in sorted(set(pairs)):
        for basis, target in ((a, b), (b, a)):
            for key in own.get(basis, []):
                if key in every.get(target, []) or _distinct(s, sha[basis], sha[target]):
                    continue
                every.setdefault(target, []).append(key)
                made.append((target, basis, kind, score, key))
    if not made:
        return 0
    labels = person_labels(s, [_Key(p, r) for *_, (p, r) in made])
    now = datetime.now(UTC)
    for target, basis, kind, score, (person, record) in made:
        s.add(
            PersonItem(
                protected_person_id=person,
                person_record_id=record,
                item_id=target,
                source=FOLLOWED[kind],
                linked_by=actor,
                linked_at=now,
                derived_from=basis,
                similarity=score,
            )
        )
        item_event(
            s,
            actor,
            target,
            {
                "action": "person link derived",
                "person": labels[(person, record)],
                "source": FOLLOWED[kind],
                "sha256": sha[target],
                "derived_from": basis,
                "derived_from_sha256": sha[basis],
                "similarity": score,
            },
        )
    s.flush()
    return len(made)


def _derived(s: Session, where: Callable[[Any, Any], Any]) -> list[Any]:
    """Derived links (with their item's and their basis's SHA-256, the basis's collection)
    meeting a condition on their item (`here`) and the item they were derived from."""
    here, basis = aliased(Item), aliased(Item)
    return list(
        s.execute(
            select(PersonItem, here.sha256, basis.sha256, basis.collection_id)
            .join(here, here.id == PersonItem.item_id)
            .join(basis, basis.id == PersonItem.derived_from)
            .where(where(here, basis))
            .order_by(PersonItem.id)
        ).all()
    )


def explain(s: Session, caller: Caller, item_id: int) -> list[dict[str, Any]]:
    """The derived links that govern an item (on it or an item with its bytes, or on an item it
    came from): of which item it is a near-duplicate, by what, how similar. An item the caller
    may not see is named by nothing but the fact (its SHA-256 and id stay unsaid)."""
    chain = _lineage(s, [item_id])[item_id]
    rows = _derived(
        s, lambda here, _: here.sha256.in_(select(Item.sha256).where(Item.id.in_(chain)))
    )
    if not rows:
        return []
    seen = set(
        s.execute(
            select(Collection.id).where(
                Collection.id.in_({c for *_, c in rows}), collections_visible(caller)
            )
        ).scalars()
    )
    labels = caller_labels(s, caller, [r for r, *_ in rows])
    out = []
    for link, _, sha256, coll in rows:
        shown = coll in seen
        out.append(
            {
                "person": labels[(link.protected_person_id, link.person_record_id)],
                "known": labels[(link.protected_person_id, link.person_record_id)] != A_PERSON,
                "source": link.source,
                "similarity": link.similarity,
                "of_item": link.derived_from if shown else None,
                "of_sha256": sha256 if shown else None,
            }
        )
    return out


def not_same_document(s: Session, caller: Caller, item_id: int, other_id: int) -> dict[str, Any]:
    """The legal officer's decision that two items are not the same document: recorded (by
    SHA-256), a custody event; the links derived between the two documents are lifted (each a
    custody event) and none is derived between them again. Links a person made stay."""
    caller.require(Permission.MANAGE_REQUESTS)
    item = visible_item(s, caller, item_id, withheld=True)
    other = visible_item(s, caller, other_id, withheld=True)
    if item.sha256 == other.sha256:
        raise SharingError(
            f"items {item_id} and {other_id} have the same bytes (SHA-256 {item.sha256}):"
            " they are the same document"
        )
    lo, hi = sorted((item.sha256, other.sha256))
    if not _distinct(s, lo, hi):
        s.add(
            DistinctDocument(
                sha_a=lo, sha_b=hi, decided_by=caller.actor, decided_at=datetime.now(UTC)
            )
        )
        item_event(
            s,
            caller.actor,
            item_id,
            {
                "action": "not the same document",
                "sha256": item.sha256,
                "other_item": other_id,
                "other_sha256": other.sha256,
                **caller.audit(),
            },
        )
    lifted = _derived(
        s,
        lambda here, basis: or_(
            (here.sha256 == lo) & (basis.sha256 == hi),
            (here.sha256 == hi) & (basis.sha256 == lo),
        ),
    )
    labels = person_labels(s, [r for r, *_ in lifted])
    for link, sha, basis_sha, _ in lifted:
        item_event(
            s,
            caller.actor,
            link.item_id,
            {
                "action": "person link lifted",
                "person": labels[(link.protected_person_id, link.person_record_id)],
                "source": link.source,
                "sha256": sha,
                "derived_from": link.derived_from,
                "derived_from_sha256": basis_sha,
                "reason": "not the same document",
                **caller.audit(),
            },
        )
    if lifted:
        s.execute(delete(PersonItem).where(PersonItem.id.in_([r.id for r, *_ in lifted])))
    s.flush()
    # another near-duplicate of a linked document may still govern them
    again = follow(s, [item_id, other_id], caller.actor)
    return {"item": item_id, "other": other_id, "lifted": len(lifted), "derived": again}


__all__ = ["FOLLOWED", "explain", "follow", "not_same_document"]
