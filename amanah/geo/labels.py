"""Where the governorates' names go on the map, so that no two overlap at the default size.

Small governorates sit close together (Damascus inside Rural Damascus; Quneitra, Dar'a and
As-Sweida in the south-west; Tartous and Lattakia on the coast), and Arabic names are wider
than their centroids leave room for. Each label is given a box (its width fixed on the SVG
with `textLength`, so the drawn text fills exactly the box whatever the font); the largest
governorates keep their label at the centroid, and a label that would overlap one already
placed moves to the nearest free place around its centroid, with a leader line back to it."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from amanah.geo.boundaries import _area, outlines, projection

FONT = 13.0  # px: the labels' size on the 800-unit-wide SVG
HEIGHT = FONT * 1.3  # a line's box, ascenders and descenders included
#: Average advance of a character, in em, by script: Arabic letters join and are wider.
EM = {"en": 0.6, "ar": 0.68}
GAP = 2.0  # free space kept between two labels and from the map's edge
#: A label moved farther than this from its centroid gets a leader line.
LEADER_FROM = 10.0
RINGS = 14  # candidate rings around the centroid, 8 px apart
DIRECTIONS = 24


@dataclass(frozen=True)
class Label:
    pcode: str
    text: str
    x: float  # the box's centre (text-anchor middle, dominant-baseline central)
    y: float
    width: float
    anchor: tuple[float, float]  # the governorate's centroid
    leader: bool

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (
            self.x - self.width / 2,
            self.y - HEIGHT / 2,
            self.x + self.width / 2,
            self.y + HEIGHT / 2,
        )


def width_of(text: str, lang: str) -> float:
    return round(max(len(text), 2) * EM.get(lang, EM["ar"]) * FONT, 1)


def overlap(a: tuple[float, ...], b: tuple[float, ...], gap: float = 0.0) -> bool:
    """Whether two boxes (x0, y0, x1, y1) come closer than `gap`."""
    return not (
        a[2] + gap <= b[0] or b[2] + gap <= a[0] or a[3] + gap <= b[1] or b[3] + gap <= a[1]
    )


def _candidates(cx: float, cy: float) -> list[tuple[float, float]]:
    """The centroid, then points on rings around it, nearest first (right, then round)."""
    out = [(cx, cy)]
    for ring in range(1, RINGS + 1):
        r = 8.0 * ring
        for k in range(DIRECTIONS):
            angle = 2 * math.pi * k / DIRECTIONS
            out.append((round(cx + r * math.cos(angle), 1), round(cy + r * math.sin(angle), 1)))
    return out


@functools.cache
def place(lang: str) -> tuple[Label, ...]:
    """Every governorate's label in `lang`, none overlapping another, all inside the map."""
    p = projection()
    placed: list[Label] = []
    by_size = sorted(outlines(), key=lambda o: -max(abs(_area(r)) for r in o[0].rings))
    for gov, _, (cx, cy) in by_size:
        text = gov.name(lang)
        w = width_of(text, lang)
        chosen = None
        for x, y in _candidates(cx, cy):
            label = Label(gov.pcode, text, x, y, w, (cx, cy), math.hypot(x - cx, y - cy) > 0)
            x0, y0, x1, y1 = label.box
            if x0 < GAP or y0 < GAP or x1 > p.width - GAP or y1 > p.height - GAP:
                continue
            if any(overlap(label.box, other.box, GAP) for other in placed):
                continue
            chosen = label
            break
        if chosen is None:  # not met with the shipped outlines; kept visible all the same
            chosen = Label(gov.pcode, text, cx, cy, w, (cx, cy), False)
        far = math.hypot(chosen.x - cx, chosen.y - cy) > LEADER_FROM
        placed.append(Label(chosen.pcode, text, chosen.x, chosen.y, w, (cx, cy), far))
    order = {g.pcode: n for n, (g, _, _) in enumerate(outlines())}
    return tuple(sorted(placed, key=lambda lab: order[lab.pcode]))


def leader_end(label: Label) -> tuple[float, float]:
    """Where the leader line meets the label's box: its nearest point to the centroid."""
    x0, y0, x1, y1 = label.box
    ax, ay = label.anchor
    return round(min(max(ax, x0), x1), 1), round(min(max(ay, y0), y1), 1)
