"""Which governorate each item was captured in, worked out once and kept with the item.

Processing writes the key `governorate` first into an item's derived metadata, beside its
`latitude`/`longitude` (a P-code, or "" when the point is outside Syria or is no place), so
a search for `gov:Aleppo` and the map's counts compare the first few characters of each
item's metadata (`LIKE '{"governorate": "SY02"%'`, which stops at the first bytes) instead
of parsing it and running a point-in-polygon per item per query. Only the first key of the
top-level object can stand at the start of the text: a key of the same name inside an EXIF
dump, or inside a string, never matches. Items processed before the key existed are placed
on the fly (correct, only slower) until `amanah upgrade` or `amanah reindex` writes it
(`fill`). The metadata is derived data ("what processing found"), recomputed from the bytes
by processing again: no migration."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from amanah.db.models import Item, SearchDoc
from amanah.geo.boundaries import governorate_of, usable
from amanah.processing.metadata import stored

KEY = "governorate"
#: Rows read or written at a time (well under every database's parameter limit).
CHUNK = 900
START = '{"' + KEY + '": "'
_AT_START = re.compile(r'^\{"governorate": "(SY\d\d|)"[,}]')
HEAD = len(START) + 6


def place(metadata: dict[str, Any]) -> dict[str, Any]:
    """`metadata` with its `governorate` key, first, set from its coordinates (none without)."""
    rest = {k: v for k, v in metadata.items() if k != KEY}
    if "latitude" not in rest and "longitude" not in rest:
        return rest
    point = usable(rest.get("latitude"), rest.get("longitude"))
    gov = governorate_of(*point) if point is not None else None
    return {KEY: gov.pcode if gov is not None else ""} | rest


def dumps(metadata: dict[str, Any]) -> str:
    """Metadata as items.doc_metadata holds it (the serialisation `START` relies on)."""
    return json.dumps(metadata, ensure_ascii=False, default=str)


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for at in range(0, len(ids), CHUNK):
        yield ids[at : at + CHUNK]


def _read(s: Session, where: Any) -> dict[int, str]:
    """Item id -> P-code ("" outside) for the items `where` selects that have coordinates:
    the stored key where it is, else placed now from the whole metadata."""
    out: dict[int, str] = {}
    missing = []
    head = func.substr(Item.doc_metadata, 1, HEAD)
    for item_id, text in s.execute(select(Item.id, head).where(where)).all():
        if m := _AT_START.match(text or ""):
            out[item_id] = m[1]
        else:
            missing.append(item_id)
    for chunk in _chunks(missing):
        for item_id, text in s.execute(
            select(Item.id, Item.doc_metadata).where(Item.id.in_(chunk))
        ).all():
            data = place(stored(text))
            if KEY in data:
                out[item_id] = data[KEY]
    return out


def items_in(s: Session, pcodes: Iterable[str]) -> set[int]:
    """Every indexed item with coordinates (visible or not: callers only narrow with it)
    captured in one of these governorates."""
    wanted = {p for p in pcodes if re.fullmatch(r"SY\d\d", p)}
    there = [Item.doc_metadata.like(f'{START}{p}"%') for p in sorted(wanted)]
    # Items with coordinates and no key yet (processed before it): _read places them. Only
    # the items the index says have coordinates are read at all.
    unplaced = ~Item.doc_metadata.like(START + "%")
    gps = select(SearchDoc.item_id).where(SearchDoc.has_gps.is_(True))
    where = Item.id.in_(gps) & or_(*there, unplaced)
    return {i for i, p in _read(s, where).items() if p in wanted}


def of_items(s: Session, ids: list[int]) -> dict[int, str]:
    """Each of `ids`'s governorate P-code ("" outside Syria or no place; items without
    coordinates are left out): the map counts every item a search finds with this."""
    out: dict[int, str] = {}
    for chunk in _chunks(ids):
        out.update(_read(s, Item.id.in_(chunk)))
    return out


def fill(s: Session) -> int:
    """Write the key into every item with coordinates that lacks it or holds a stale one
    (after the boundaries changed); returns how many were written. Run by `amanah upgrade`
    and `amanah reindex`; safe to run again."""
    written = 0
    rows = s.execute(
        select(Item.id, Item.doc_metadata)
        .where(Item.doc_metadata.like('%"latitude"%'))
        .order_by(Item.id)
    ).all()
    for item_id, text in rows:
        data = stored(text)
        placed = place(data)
        if placed != data or list(placed) != list(data):
            s.execute(update(Item).where(Item.id == item_id).values(doc_metadata=dumps(placed)))
            written += 1
    return written
