"""Checking tantivy's index against the database, item by item (for `amanah verify`): the
index is derived, so anything it holds that the database does not say (or lacks) is a fault
to name, and `amanah reindex` is the repair."""

from __future__ import annotations

from sqlalchemy import select, text
from tantivy import Query

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
from amanah.workspace import Workspace

SHOWN = 10  # item ids named per kind of problem; the count says how many in all


def _index_scopes(idx: TantivyIndex) -> dict[int, tuple[str, int]]:
    """Each indexed item's (compartment, provider id), read compartment by compartment."""
    idx.index.reload()
    searcher = idx.index.searcher()
    found = searcher.aggregate(
        Query.all_query(), {"c": {"terms": {"field": "compartment", "size": 65_000}}}
    )
    out: dict[int, tuple[str, int]] = {}
    for bucket in found.get("c", {}).get("buckets", []):
        compartment = str(bucket["key"])
        q = Query.term_query(idx.schema, "compartment", compartment)
        res = searcher.search(q, max(1, int(bucket["doc_count"])), count=False)
        addrs = [a for _, a in res.hits]
        ids = searcher.fast_field_values("item_id", addrs)
        providers = searcher.fast_field_values("provider_id", addrs)
        for item_id, provider in zip(ids, providers, strict=True):
            if int(item_id) in out:  # the same item twice: a failed upsert
                out[-int(item_id)] = (compartment, int(provider))
            out[int(item_id)] = (compartment, int(provider))
    return out


def _items(ids: list[int]) -> str:
    return "1 item" if len(ids) == 1 else f"{len(ids):,} items"


def _named(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in sorted(ids)[:SHOWN])
    return shown + (f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else "")


def check(ws: Workspace) -> list[str]:
    """What is wrong with the index, one line each: behind the database (changes queued, or
    never made, or made by another analyzer), or holding an item it should not (not in the
    database's search documents, or under another compartment or provider), or missing one.
    Items still queued are only "behind", not wrong."""
    folder = folder_of(ws)
    with ws.db.reader() as s:
        rows = {
            int(i): (str(c), int(p))
            for i, c, p in s.execute(
                select(SearchDoc.item_id, SearchDoc.compartment, SearchDoc.provider_id)
            )
        }
        queued = {int(i) for i in s.execute(select(SearchOutbox.item_id)).scalars()}
        fed = s.execute(text("SELECT 1 FROM search_feeds WHERE name = :n"), {"n": FEED}).first()
    stamp = _read_stamp(folder)
    if stamp is None and not rows:
        return []  # nothing searchable yet: the first processing run makes the index
    if stamp is None:
        return [
            f"search index: the tantivy index is missing ({len(rows):,} searchable items are"
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
    held = _index_scopes(_OPEN.get(folder) or open_index(ws))
    twice = [-i for i in held if i < 0 and -i not in queued]
    extra = [i for i in held if i > 0 and i not in rows and i not in queued]
    missing = [i for i in rows if i not in held and i not in queued]
    moved = [i for i, v in rows.items() if i in held and held[i] != v and i not in queued]
    if extra:
        problems.append(
            f"search index: holds {_items(extra)} not searchable in the database: {_named(extra)}"
        )
    if moved:
        problems.append(
            f"search index: holds {_items(moved)} under another compartment or provider than"
            f" the database: {_named(moved)}"
        )
    if twice:
        problems.append(f"search index: holds {_items(twice)} twice: {_named(twice)}")
    if missing:
        problems.append(
            f"search index: misses {_items(missing)} searchable in the database: {_named(missing)}"
        )
    return problems
