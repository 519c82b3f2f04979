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
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import Caller, collections_visible, withheld_item_ids
from amanah.db.models import Collection, Item, Provider
from amanah.search.request import FieldFilter

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


#: How many further raw pages one grouped page may read to fill itself (each a backend search).
_REFILLS = 8


def _key(sort: str, row: tuple[int, float, str]) -> tuple[Any, int]:
    """A row's keyset, as `engine.next_cursor` writes it."""
    return (row[2] if sort == "date" else row[1], row[0])


def _best_copies(
    s: Session, caller: Caller, backend: Any, req: Any, shas: dict[int, str]
) -> dict[str, int]:
    """For each hash with more than one copy the caller may see, the copy that ranks first in
    the whole result (the same search, narrowed to those copies): its best-ranked copy."""
    copies = copies_of(s, caller, set(shas.values()) - {""})
    ids = sorted({c["item_id"] for cs in copies.values() if len(cs) > 1 for c in cs})
    if not ids:
        return {}
    narrowed = replace(
        req,
        filters=(*req.filters, FieldFilter("item", tuple(ids))),
        after=None,
        limit=len(ids),
        facets=False,
    )
    rows = backend.search(s, narrowed).rows
    owner = {c["item_id"]: sha for sha, cs in copies.items() for c in cs}
    best: dict[str, int] = {}
    for item_id, _, _ in rows:
        best.setdefault(owner[item_id], item_id)
    return best


def across_pages(
    s: Session, caller: Caller, backend: Any, req: Any, found: Any
) -> tuple[Any, tuple[int, float, str] | None]:
    """The page with each document (SHA-256) once in the whole result, at the rank of its
    best copy: a hit whose bytes rank better elsewhere (earlier on this page or on an earlier
    one) is left out, and the page is filled from the rows after it. Returns the page and the
    last row read (the next page's cursor): the next page starts after it and leaves out the
    same copies again, so pages never repeat a document and never skip one. `total` still
    counts hits."""
    kept: list[tuple[int, float, str]] = []
    rows, more = found.rows, found.more
    last: tuple[int, float, str] | None = None
    for _ in range(_REFILLS + 1):
        shas = dict(
            s.execute(select(Item.id, Item.sha256).where(Item.id.in_([r[0] for r in rows]))).all()
        )
        best = _best_copies(s, caller, backend, req, shas)
        for row in rows:
            sha = shas.get(row[0], "")
            if not (sha in best and best[sha] != row[0]):
                if len(kept) == req.limit:
                    return replace(found, rows=kept, more=True), last
                kept.append(row)
            last = row
        if not (more and rows):
            return replace(found, rows=kept, more=False), last
        page = backend.search(s, replace(req, after=_key(req.sort, rows[-1]), facets=False))
        rows, more = page.rows, page.more
    # Still short after every refill: the next page starts after the last row read.
    return replace(found, rows=kept, more=True), last
