"""Checking tantivy's index against the database, item by item (for `amanah verify`): the
index is derived, so anything it holds that the database does not say (or lacks) is a fault
to name, and `amanah reindex` is the repair."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import tantivy
from sqlalchemy import func, select, text
from tantivy import FieldType, Occur, Order, Query

from amanah.db.models import SearchDoc, SearchOutbox
from amanah.search.tantivy_index import (
    _OPEN,
    FEED,
    TantivyIndex,
    _read_stamp,
    _stamp,
    folder_of,
    open_index,
)

if TYPE_CHECKING:
    from amanah.workspace import Workspace

SHOWN = 10  # item ids named per kind of problem; the count says how many in all


CHUNK = 20_000  # item ids compared at a time: the check holds a chunk, not the whole index
LOWEST = -(2**63)


def _compartments(searcher: tantivy.Searcher) -> list[str]:
    found = searcher.aggregate(
        Query.all_query(), {"c": {"terms": {"field": "compartment", "size": 65_000}}}
    )
    return sorted(str(b["key"]) for b in found.get("c", {}).get("buckets", []))


def _index_chunks(
    idx: TantivyIndex, size: int
) -> Iterator[tuple[int, dict[int, list[tuple[str, int]]]]]:
    """The indexed items in item id order, a chunk at a time: the chunk's last id, and each
    item's (compartment, provider id), once per time it is indexed (twice: a failed upsert)."""
    idx.index.reload()
    searcher = idx.index.searcher()
    compartments = _compartments(searcher)
    after, first = LOWEST, True
    while True:
        ahead = Query.range_query(
            idx.schema, "item_id", FieldType.Integer, after, None, first, True
        )
        res = searcher.search(ahead, size, count=False, order_by_field="item_id", order=Order.Asc)
        if not res.hits:
            return
        last = int(res.hits[-1][0])
        window = Query.range_query(
            idx.schema, "item_id", FieldType.Integer, after, last, first, True
        )
        chunk: dict[int, list[tuple[str, int]]] = {}
        for compartment in compartments:
            q = Query.boolean_query(
                [
                    (Occur.Must, Query.term_query(idx.schema, "compartment", compartment)),
                    (Occur.Must, window),
                ]
            )
            n = searcher.search(q, 1, count=True).count or 0
            if not n:
                continue
            addrs = [a for _, a in searcher.search(q, n, count=False).hits]
            ids = searcher.fast_field_values("item_id", addrs)
            providers = searcher.fast_field_values("provider_id", addrs)
            for item_id, provider in zip(ids, providers, strict=True):
                chunk.setdefault(int(item_id), []).append((compartment, int(provider)))
        yield last, chunk
        after, first = last, False


class _Found:
    """Item ids of one kind of problem: how many, and the lowest few to name."""

    def __init__(self) -> None:
        self.count = 0
        self.shown: list[int] = []

    def add(self, item_id: int) -> None:
        self.count += 1
        if len(self.shown) < SHOWN:
            self.shown.append(item_id)  # met in ascending order: the lowest are kept
        elif item_id < self.shown[-1]:
            self.shown[-1] = item_id
            self.shown.sort()

    def __bool__(self) -> bool:
        return self.count > 0

    def items(self) -> str:
        return "1 item" if self.count == 1 else f"{self.count:,} items"

    def named(self) -> str:
        shown = ", ".join(str(i) for i in sorted(self.shown))
        more = self.count - len(self.shown)
        return shown + (f" and {more} more" if more > 0 else "")


def _rows(
    ws: Workspace, after: int, first: bool, upto: int | None = None, limit: int | None = None
) -> list[tuple[int, str, int]]:
    """search_docs' (item id, compartment, provider id) after `after` (from it, when `first`)
    up to `upto`, in item id order, at most `limit` of them."""
    q = select(SearchDoc.item_id, SearchDoc.compartment, SearchDoc.provider_id)
    q = q.where(SearchDoc.item_id >= after if first else SearchDoc.item_id > after)
    if upto is not None:
        q = q.where(SearchDoc.item_id <= upto)
    q = q.order_by(SearchDoc.item_id).limit(limit)
    with ws.db.reader() as s:
        return [(int(i), str(c), int(p)) for i, c, p in s.execute(q)]


def _named(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in sorted(ids)[:SHOWN])
    return shown + (f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else "")


def check(ws: Workspace, chunk: int = CHUNK) -> list[str]:
    """What is wrong with the index, one line each: behind the database (changes queued, or
    never made, or made by another analyzer), or holding an item it should not (not in the
    database's search documents, or under another compartment or provider), or missing one.
    Items still queued are only "behind", not wrong. The index and the database are walked
    side by side in item id order, `chunk` ids at a time, so a million items are checked
    without holding a million of either in memory."""
    folder = folder_of(ws)
    with ws.db.reader() as s:
        searchable = int(s.execute(select(func.count()).select_from(SearchDoc)).scalar() or 0)
        queued = {int(i) for i in s.execute(select(SearchOutbox.item_id)).scalars()}
        fed = s.execute(text("SELECT 1 FROM search_feeds WHERE name = :n"), {"n": FEED}).first()
    stamp = _read_stamp(folder)
    if stamp is None and not searchable:
        return []  # nothing searchable yet: the first processing run makes the index
    if stamp is None:
        return [
            f"search index: the tantivy index is missing ({searchable:,} searchable items are"
            " not in it): run `amanah reindex`"
        ]
    if {k: stamp.get(k) for k in _stamp()} != _stamp():
        return [
            "search index: made by another schema or analyzer version, so it would miss"
            " words: run `amanah reindex`"
        ]
    problems = []
    if fed is None:
        problems.append(
            "search index: the database does not feed it (no search_feeds row), so changes"
            " since are missing: run `amanah reindex`"
        )
    if queued:
        problems.append(
            f"search index: behind the database by {len(queued):,} queued changes (items"
            f" {_named(list(queued))}): run `amanah process` or `amanah reindex`"
        )
    extra, moved, twice, missing = _Found(), _Found(), _Found(), _Found()

    def compare(rows: list[tuple[int, str, int]], held: dict[int, list[tuple[str, int]]]) -> None:
        for item_id, compartment, provider in rows:
            found = held.pop(item_id, None)
            if item_id in queued:
                continue
            if found is None:
                missing.add(item_id)
                continue
            if any(v != (compartment, provider) for v in found):
                moved.add(item_id)
            if len(found) > 1:
                twice.add(item_id)
        for item_id, found in sorted(held.items()):  # indexed, not searchable
            if item_id not in queued:
                extra.add(item_id)
                if len(found) > 1:
                    twice.add(item_id)

    after, first = LOWEST, True
    for last, held in _index_chunks(_OPEN.get(folder) or open_index(ws), chunk):
        compare(_rows(ws, after, first, upto=last), held)
        after, first = last, False
    while rows := _rows(ws, after, first, limit=chunk):  # past the index's last item
        compare(rows, {})
        after, first = rows[-1][0], False
    if extra:
        problems.append(
            f"search index: holds {extra.items()} not searchable in the database: {extra.named()}"
        )
    if moved:
        problems.append(
            f"search index: holds {moved.items()} under another compartment or provider than"
            f" the database: {moved.named()}"
        )
    if twice:
        problems.append(f"search index: holds {twice.items()} twice: {twice.named()}")
    if missing:
        problems.append(
            f"search index: misses {missing.items()} searchable in the database: {missing.named()}"
        )
    return problems
