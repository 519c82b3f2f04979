"""Syria's 14 governorates as shipped reference data (OCHA COD-AB, CC BY 3.0 IGO, simplified
by scripts/make_boundaries.py): which governorate a point lies in, and the outlines projected
for a map drawn on the server. Nothing is fetched: the file is part of the package."""

from __future__ import annotations

import functools
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

BOUNDARIES = Path(__file__).parent / "syria_admin1.json"
#: How far (degrees, about 2 km) outside every simplified outline a point may lie and still be
#: given to the nearest governorate: simplification parts shared borders slightly.
NEAR = 0.02


@dataclass(frozen=True)
class Governorate:
    pcode: str
    en: str
    ar: str
    #: Closed rings of (longitude, latitude); holes are rings too (even-odd rule).
    rings: tuple[tuple[tuple[float, float], ...], ...]
    bbox: tuple[float, float, float, float]  # west, south, east, north

    def name(self, lang: str) -> str:
        return self.ar if lang == "ar" else self.en

    def contains(self, lon: float, lat: float) -> bool:
        west, south, east, north = self.bbox
        if not (west <= lon <= east and south <= lat <= north):
            return False
        inside = False
        for ring in self.rings:
            for (x1, y1), (x2, y2) in itertools.pairwise(ring):
                if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                    inside = not inside
        return inside

    def distance(self, lon: float, lat: float) -> float:
        """Degrees from the point to this outline's nearest edge."""
        best = math.inf
        for ring in self.rings:
            for (ax, ay), (bx, by) in itertools.pairwise(ring):
                dx, dy = bx - ax, by - ay
                span = dx * dx + dy * dy
                t = 0.0 if span == 0 else ((lon - ax) * dx + (lat - ay) * dy) / span
                t = max(0.0, min(1.0, t))
                best = min(best, math.hypot(lon - ax - t * dx, lat - ay - t * dy))
        return best


@dataclass(frozen=True)
class Boundaries:
    source: str
    licence: str
    governorates: tuple[Governorate, ...]
    bbox: tuple[float, float, float, float]

    def by_pcode(self, pcode: str) -> Governorate | None:
        return next((g for g in self.governorates if g.pcode == pcode), None)


@functools.cache
def load(path: Path = BOUNDARIES) -> Boundaries:
    data = json.loads(path.read_text(encoding="utf-8"))
    govs = []
    for g in data["governorates"]:
        rings = tuple(tuple((float(x), float(y)) for x, y in ring) for ring in g["rings"])
        xs = [x for r in rings for x, _ in r]
        ys = [y for r in rings for _, y in r]
        govs.append(
            Governorate(g["pcode"], g["en"], g["ar"], rings, (min(xs), min(ys), max(xs), max(ys)))
        )
    bbox = (
        min(g.bbox[0] for g in govs),
        min(g.bbox[1] for g in govs),
        max(g.bbox[2] for g in govs),
        max(g.bbox[3] for g in govs),
    )
    return Boundaries(data["source"], data["licence"], tuple(govs), bbox)


def usable(latitude: object, longitude: object) -> tuple[float, float] | None:
    """A point a map may plot: two real finite numbers in range, not the (0, 0) a device writes
    when it has no fix. Anything else (a string, NaN, 999, a bool) is no point."""
    out = []
    for value, limit in ((latitude, 90.0), (longitude, 180.0)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        try:
            value = float(value)
        except OverflowError:  # an integer past any float (JSON keeps 400 digits exactly)
            return None
        if not math.isfinite(value) or abs(value) > limit:
            return None
        out.append(value)
    if out == [0.0, 0.0]:
        return None
    return out[0], out[1]


def governorate_of(latitude: float, longitude: float) -> Governorate | None:
    """The governorate a point lies in; a point just outside every simplified outline (within
    NEAR) goes to the nearest; None outside Syria."""
    b = load()
    for g in b.governorates:
        if g.contains(longitude, latitude):
            return g
    west, south, east, north = b.bbox
    if not (west - NEAR <= longitude <= east + NEAR and south - NEAR <= latitude <= north + NEAR):
        return None
    near = min(b.governorates, key=lambda g: g.distance(longitude, latitude))
    return near if near.distance(longitude, latitude) <= NEAR else None


@dataclass(frozen=True)
class Projection:
    """Equirectangular at Syria's middle latitude: degrees to SVG user units (y down)."""

    west: float
    north: float
    scale: float  # units per degree of latitude
    squeeze: float  # cos(middle latitude)
    width: float
    height: float

    def xy(self, latitude: float, longitude: float) -> tuple[float, float]:
        x = (longitude - self.west) * self.scale * self.squeeze
        y = (self.north - latitude) * self.scale
        return round(x, 1), round(y, 1)

    def clamp(self, latitude: float, longitude: float) -> tuple[float, float]:
        """A point outside the map drawn at the map's edge, in its direction."""
        x, y = self.xy(latitude, longitude)
        return min(max(x, 4.0), self.width - 4.0), min(max(y, 4.0), self.height - 4.0)


@functools.cache
def projection(width: float = 800.0, margin: float = 0.15) -> Projection:
    west, south, east, north = load().bbox
    west, south, east, north = west - margin, south - margin, east + margin, north + margin
    squeeze = math.cos(math.radians((south + north) / 2))
    scale = width / ((east - west) * squeeze)
    return Projection(west, north, scale, squeeze, width, round((north - south) * scale, 1))


@functools.cache
def outlines() -> tuple[tuple[Governorate, str, tuple[float, float]], ...]:
    """Each governorate with its SVG path and a label point (its largest ring's centroid)."""
    p = projection()
    out = []
    for g in load().governorates:
        parts = []
        for ring in g.rings:
            pts = [p.xy(y, x) for x, y in ring]
            parts.append("M" + " ".join(f"{x:g},{y:g}" for x, y in pts) + "Z")
        big = max(g.rings, key=lambda r: abs(_area(r)))
        out.append((g, "".join(parts), p.xy(*reversed(_centroid(big)))))
    return tuple(out)


def _area(ring: tuple[tuple[float, float], ...]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(ring)) / 2


def _centroid(ring: tuple[tuple[float, float], ...]) -> tuple[float, float]:
    a = _area(ring)
    if a == 0:
        return ring[0]
    cx = cy = 0.0
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        cross = x1 * y2 - x2 * y1
        cx, cy = cx + (x1 + x2) * cross, cy + (y1 + y2) * cross
    return cx / (6 * a), cy / (6 * a)
