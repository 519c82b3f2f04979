"""Exact duplicates under one hit: items with the same bytes (SHA-256) are one document.

A provider may hand over the same file twice, or two providers the same file: each copy
keeps its own provenance (an item each), but a hit list shows the document once, with its
copies (collection, provider, path) as far as the caller may see them. A copy in a collection
the caller may not see is neither shown nor counted: the copies are read under the same
need-to-know condition as every listing (`amanah.access.collections_visible`), and items
withheld from investigation (a person's consent) are left out as search leaves them out.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import Caller, collections_visible, withheld_item_ids
from amanah.db.models import Collection, Item, Provider

#: Above this many hits the number of distinct documents is not counted (it would read every
#: hit's hash): the page says hits only.
COUNT_DOCUMENTS_UP_TO = 10_000
_CHUNK = 5_000


def _withheld(s: Session) -> set[int]:
    return set(withheld_item_ids(s))


def copies_of(s: Session, caller: Caller, shas: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Every item the caller may see with one of these hashes, by hash, oldest first."""
    if not shas:
        return {}
    withheld = _withheld(s)
    rows = s.execute(
        select(
            Item.id,
            Item.sha256,
            Item.original_path,
            Collection.name.label("collection"),
            Provider.name.label("provider"),
        )
        .join(Collection, Collection.id == Item.collection_id)
        .join(Provider, Provider.id == Collection.provider_id)
        .where(Item.sha256.in_(sorted(shas)), collections_visible(caller))
        .order_by(Item.id)
    ).all()
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r.id in withheld:
            continue
        out[r.sha256].append(
            {
                "item_id": r.id,
                "path": r.original_path,
                "collection": r.collection,
                "provider": r.provider,
            }
        )
    return dict(out)


def group(s: Session, caller: Caller, hits: list[Any]) -> list[Any]:
    """The page's hits with exact duplicates under the first of them: each kept hit gets
    `copies` (every visible item with its bytes, itself included, when there are two or
    more); later hits with the same hash on the page are dropped."""
    found = copies_of(s, caller, {h.sha256 for h in hits if h.sha256})
    kept, seen = [], set()
    for h in hits:
        if h.sha256 and h.sha256 in seen:
            continue
        seen.add(h.sha256)
        copies = found.get(h.sha256, [])
        h.copies = copies if len(copies) > 1 else []
        kept.append(h)
    return kept


def documents(s: Session, ids: list[int]) -> int:
    """How many distinct documents (hashes) these items are."""
    shas: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        shas.update(s.execute(select(Item.sha256).where(Item.id.in_(chunk))).scalars())
    return len(shas)
