"""The map of a search: where the items it finds were captured (their EXIF/video GPS as
processing normalised it) and the places and facilities with coordinates, counted per
governorate. The items are exactly those the same search finds for the caller (need-to-know,
consent and filters decided by `amanah.search`), and the view is logged as a search is: an
item's coordinates are evidence."""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import Caller, Permission, entities_visible, names_visible
from amanah.db.models import Entity, EntityName, Item
from amanah.geo import placed
from amanah.geo.boundaries import governorate_of, projection, usable
from amanah.processing.metadata import stored as stored_metadata
from amanah.search import engine
from amanah.search.engine import Hit, Results
from amanah.search.query import parse, with_filters
from amanah.workspace import Workspace

#: The most item points a map draws (in item order); beyond it the page says how many of how
#: many were drawn. The counts per governorate always cover every item found.
MAX_ITEMS = 5000
MAX_ENTITIES = 2000
#: Above this many points, points sharing a grid cell are drawn as one circle with a count.
CLUSTER_ABOVE = 150
CELL_DEGREES = 0.25
CHUNK = 500


@dataclass
class Point:
    kind: str  # "item" or "entity"
    id: int
    label: str
    latitude: float
    longitude: float
    pcode: str | None  # its governorate; None outside Syria
    x: float = 0.0
    y: float = 0.0
    subkind: str = ""


@dataclass
class Mark:
    """What the SVG draws: one point, or a cluster of `count` points sharing a grid cell."""

    kind: str
    x: float
    y: float
    count: int
    outside: bool
    point: Point | None = None  # the point when count is 1
    pcode: str | None = None  # the cluster's commonest governorate


@dataclass
class MapView:
    query: str
    found: int = 0  # items with GPS the search finds (all counted)
    shown: int = 0  # of them, the points this view would draw (its governorate's), uncapped
    items: list[Point] = field(default_factory=list)  # plotted (or outside Syria)
    unusable: int = 0  # items whose stored coordinates are no point (string, NaN, 999 ...)
    partial: bool = False
    entities: list[Point] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)  # items per governorate P-code
    outside: int = 0
    marks: list[Mark] = field(default_factory=list)
    search_id: int | None = None


def _coordinates(metadata: str) -> tuple[float, float] | None:
    data = stored_metadata(metadata)
    return usable(data.get("latitude"), data.get("longitude"))


def _label(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1][:200]


def build(
    ws: Workspace,
    caller: Caller,
    query: str,
    filters: list[tuple[str, str]],
    *,
    lang: str = "en",
    pcode: str | None = None,
) -> MapView:
    """The map of the search `query` with `filters` for `caller`; with `pcode`, only the items
    in that governorate are plotted and listed (the counts stay whole). Every item found is
    counted in its governorate (`amanah.geo.placed`, no cap); at most MAX_ITEMS are plotted.
    Raises QueryError or ValueError as a search does. The view is written to the search log
    and the ledger."""
    started = time.perf_counter()
    text = with_filters(query if query.strip() else "*", [*filters, ("has", "gps")])
    q = parse(text)
    view = MapView(query=text)
    engine.prepare(ws)
    with ws.db.reader() as s:
        ids = engine.all_ids(s, caller, q, ws)
        view.found = len(ids)
        where = placed.of_items(s, ids)
        view.counts.update(p for p in where.values() if p)
        # Outside Syria, or no place at all: told apart by their coordinates (they are few).
        elsewhere = {i for i in ids if not where.get(i)}
        wanted = [i for i in ids if where.get(i) == pcode] if pcode else ids
        rows = _rows(s, sorted(elsewhere))
        bad = {i for i, _, metadata in rows if _coordinates(metadata) is None}
        view.unusable = len(bad)
        view.outside = len(elsewhere) - len(bad)
        wanted = [i for i in wanted if i not in bad]
        view.shown = len(wanted)
        view.partial = len(wanted) > MAX_ITEMS
        plotted = set(wanted[:MAX_ITEMS])
        rows = [r for r in rows if r[0] in plotted]
        rows += _rows(s, sorted(plotted - elsewhere))
        if caller.can(Permission.READ_ENTITIES):
            view.entities = _entities(s, caller, lang)
    for item_id, path, metadata in sorted(rows):
        found = _coordinates(metadata)
        if found is not None:
            pc = where.get(item_id) or None
            view.items.append(Point("item", item_id, _label(path), *found, pc))
    view.marks = marks(view.items) + marks(view.entities)
    results = Results(
        query=text,
        mode="map",
        sort="",
        total=view.found,
        hits=[Hit(p.id, "", "", "", "", "", "", 0.0, "", []) for p in view.items],
    )
    results.took_ms = round((time.perf_counter() - started) * 1000, 1)
    view.search_id = engine.log(
        ws, caller, results, {"view": "map", "governorate": pcode or ""}, None
    )
    return view


def _rows(s: Session, ids: list[int]) -> list[Any]:
    """(id, original path, metadata) of these items, read a chunk at a time."""
    rows: list[Any] = []
    for at in range(0, len(ids), CHUNK):
        chunk = ids[at : at + CHUNK]
        rows += s.execute(
            select(Item.id, Item.original_path, Item.doc_metadata).where(Item.id.in_(chunk))
        ).all()
    return rows


def _entities(s: Session, caller: Caller, lang: str) -> list[Point]:
    """Places, facilities and any other entity with coordinates the caller may see, named in
    the page's language where a visible name is in it."""
    ents = s.execute(
        select(Entity.id, Entity.kind, Entity.subkind, Entity.latitude, Entity.longitude)
        .where(
            entities_visible(caller),
            Entity.merged_into_id.is_(None),
            Entity.latitude.is_not(None),
            Entity.longitude.is_not(None),
        )
        .order_by(Entity.id)
        .limit(MAX_ENTITIES)
    ).all()
    names: dict[int, list[tuple[str, str]]] = {}
    for ent_id, name, language in s.execute(
        select(EntityName.entity_id, EntityName.full_name, EntityName.language)
        .where(EntityName.entity_id.in_([e.id for e in ents]), names_visible(caller))
        .order_by(EntityName.id)
    ).all():
        names.setdefault(ent_id, []).append((language, name))
    out = []
    for e in ents:
        found = usable(e.latitude, e.longitude)
        if found is None:
            continue
        gov = governorate_of(*found)
        known = names.get(e.id, [])
        label = next((n for la, n in known if la == lang), known[0][1] if known else f"#{e.id}")
        out.append(
            Point("entity", e.id, label, *found, gov and gov.pcode, subkind=e.subkind or e.kind)
        )
    return out


def marks(points: list[Point]) -> list[Mark]:
    """Points placed on the SVG; outside Syria at the map's edge. Many points share grid
    cells, each cell one mark with its count."""
    p = projection()
    for pt in points:
        pt.x, pt.y = p.clamp(pt.latitude, pt.longitude)
    if len(points) <= CLUSTER_ABOVE:
        return [Mark(pt.kind, pt.x, pt.y, 1, pt.pcode is None, pt, pt.pcode) for pt in points]
    cells: dict[tuple[int, int, bool], list[Point]] = {}
    for pt in points:
        key = (
            math.floor(pt.latitude / CELL_DEGREES),
            math.floor(pt.longitude / CELL_DEGREES),
            pt.pcode is None,
        )
        cells.setdefault(key, []).append(pt)
    out = []
    for (_, _, outside), group in sorted(cells.items()):
        if len(group) == 1:
            pt = group[0]
            out.append(Mark(pt.kind, pt.x, pt.y, 1, outside, pt, pt.pcode))
            continue
        x = round(sum(g.x for g in group) / len(group), 1)
        y = round(sum(g.y for g in group) / len(group), 1)
        common = Counter(g.pcode for g in group).most_common(1)[0][0]
        out.append(Mark(group[0].kind, x, y, len(group), outside, None, common))
    return out
