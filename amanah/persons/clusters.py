"""Clusters of person records from a linkage run's pairs and their reviews: each cluster one
person.

A reviewer's word outranks the model's: an accepted pair always joins its two records; a
rejected pair is a cannot-link, so the model's links are added strongest first and a link
that would put two rejected records in one cluster is left out (a reject splits a cluster
even when other links would have joined it again through a third record). `unsure` leaves
the model's verdict standing. Two accepts that contradict a reject are kept (people said so)
and the cluster names the contradiction for another review.

Pure: no database, no names; records are ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

ACCEPTED, REJECTED, UNSURE = "accepted", "rejected", "unsure"
DECISIONS = {"accept": ACCEPTED, "reject": REJECTED, "unsure": UNSURE}


@dataclass(frozen=True)
class Edge:
    """A stored pair as clustering sees it."""

    pair_id: int
    a: int
    b: int
    score: float
    match: bool
    decision: str = ""


@dataclass
class Cluster:
    """One person: its records (ids), the pairs that joined them, links left out because a
    reviewer rejected a pair they would have joined, and rejected pairs inside it anyway."""

    records: set[int]
    joined_by: list[int] = field(default_factory=list)
    held_apart: list[int] = field(default_factory=list)
    conflicts: list[int] = field(default_factory=list)

    @property
    def id(self) -> int:
        """A cluster is named by its smallest record id (stable while that record stays)."""
        return min(self.records)


class _Sets:
    """Union-find over record ids with cannot-link sets kept on each root."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.cannot: dict[int, set[int]] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def forbid(self, a: int, b: int) -> None:
        self.cannot.setdefault(self.find(a), set()).add(b)
        self.cannot.setdefault(self.find(b), set()).add(a)

    def forbidden(self, ra: int, rb: int) -> bool:
        small, big = sorted((ra, rb), key=lambda r: len(self.cannot.get(r, ())))
        return any(self.find(x) == big for x in self.cannot.get(small, ()))

    def union(self, ra: int, rb: int) -> None:
        if ra == rb:
            return
        self.parent[ra] = rb
        self.cannot.setdefault(rb, set()).update(self.cannot.pop(ra, set()))


def build(edges: Iterable[Edge]) -> list[Cluster]:
    """The clusters (two records or more) the edges make, largest first."""
    edges = list(edges)
    sets = _Sets()
    for e in edges:
        if e.decision == REJECTED:
            sets.forbid(e.a, e.b)
    joined: list[Edge] = []
    apart: list[Edge] = []
    for e in sorted((e for e in edges if e.decision == ACCEPTED), key=lambda e: e.pair_id):
        sets.union(sets.find(e.a), sets.find(e.b))
        joined.append(e)
    model = [e for e in edges if e.match and e.decision not in (ACCEPTED, REJECTED)]
    for e in sorted(model, key=lambda e: (-e.score, e.pair_id)):
        ra, rb = sets.find(e.a), sets.find(e.b)
        if ra == rb:
            joined.append(e)
        elif sets.forbidden(ra, rb):
            apart.append(e)
        else:
            sets.union(ra, rb)
            joined.append(e)
    groups: dict[int, Cluster] = {}
    for x in list(sets.parent):
        root = sets.find(x)
        groups.setdefault(root, Cluster(set())).records.add(x)
    for e in joined:
        groups[sets.find(e.a)].joined_by.append(e.pair_id)
    for e in apart:
        groups[sets.find(e.a)].held_apart.append(e.pair_id)
    for e in edges:
        if e.decision == REJECTED and sets.find(e.a) == sets.find(e.b):
            groups[sets.find(e.a)].conflicts.append(e.pair_id)
    found = [c for c in groups.values() if len(c.records) > 1]
    return sorted(found, key=lambda c: (-len(c.records), c.id))


def cluster_of(edges: Iterable[Edge], record_id: int) -> Cluster | None:
    """The cluster holding one record, None when it is linked to none."""
    for c in build(edges):
        if record_id in c.records:
            return c
    return None
