"""Douglas–Peucker line simplification: a short, well-known algorithm, used only by the script
that makes the shipped boundaries (no geometry library is a dependency for one call)."""

from __future__ import annotations

import math

Point = tuple[float, float]


def _distance(p: Point, a: Point, b: Point) -> float:
    """Distance from p to the segment a–b."""
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    if dx == 0 and dy == 0:
        return math.hypot(px - ax, py - ay)
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def simplify(line: list[Point], tolerance: float) -> list[Point]:
    """The points of `line` that keep it within `tolerance` of itself (ends always kept)."""
    if len(line) < 3:
        return list(line)
    keep = [False] * len(line)
    keep[0] = keep[-1] = True
    stack = [(0, len(line) - 1)]
    while stack:
        first, last = stack.pop()
        far, far_at = 0.0, -1
        for i in range(first + 1, last):
            d = _distance(line[i], line[first], line[last])
            if d > far:
                far, far_at = d, i
        if far_at > 0 and far > tolerance:
            keep[far_at] = True
            stack += [(first, far_at), (far_at, last)]
    return [p for p, k in zip(line, keep, strict=True) if k]


def simplify_ring(ring: list[Point], tolerance: float) -> list[Point]:
    """A closed ring simplified as two lines split at the point farthest from its start, so
    that the ring keeps its extent; never fewer than four points (a closed triangle)."""
    if ring and ring[0] != ring[-1]:
        ring = [*ring, ring[0]]
    if len(ring) <= 4:
        return ring
    start = ring[0]
    split = max(
        range(len(ring)), key=lambda i: math.hypot(ring[i][0] - start[0], ring[i][1] - start[1])
    )
    half = simplify(ring[: split + 1], tolerance)
    rest = simplify(ring[split:], tolerance)
    out = half[:-1] + rest
    if len(out) < 4:
        third = len(ring) // 3
        out = [ring[0], ring[third], ring[2 * third], ring[0]]
    return out
