"""`entity match`: FollowTheMoney entities as queries against the entities the caller may
see, yente-like. Candidates come from the pair keys of the stored names (two parts together,
an index lookup of short posting lists: `amanah.entities.candidates`); each candidate is
scored by the one name matcher, field by field, with its explanation.

Need-to-know is applied while candidates are found (`names_visible`): a name or an entity
the caller may not see is never scored, so it cannot appear, not even as a low score."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import Caller, Permission
from amanah.db.models import Entity, EntityName
from amanah.entities.candidates import candidates
from amanah.entities.ftm import home_prefix, own_id
from amanah.entities.vocab import EntityError
from amanah.text import name_match as nm

#: Results per query unless asked otherwise (yente's default), and the most one may ask.
LIMIT = 5
MAX_LIMIT = 100
#: Birth years further apart than this are a contradiction (the score is multiplied by 0.7).
BIRTH_YEARS_APART = 1
CONTRADICTION = 0.7

KINDS_OF_SCHEMA = {
    "Person": ("person",),
    "Organization": ("organisation", "facility"),
    "Company": ("organisation",),
    "PublicBody": ("organisation", "facility"),
    "LegalEntity": ("person", "organisation", "facility"),
    "Address": ("place",),
}
NAME_PROPS = ("name", "alias", "previousName", "weakAlias", "full")


@dataclass(frozen=True)
class Query:
    """One FtM entity asked about: its id, the kinds of entity it may be, its names and the
    years it may have been born."""

    id: str
    kinds: tuple[str, ...]
    names: tuple[str, ...]
    birth_years: frozenset[int]


def query_of(data: dict[str, Any], fallback_id: str) -> Query:
    """A query from an FtM entity (checked by the `followthemoney` model)."""
    from followthemoney import model

    try:
        proxy = model.get_proxy({"id": fallback_id, **data} if not data.get("id") else data)
    except Exception as exc:  # the model raises several kinds for a bad entity
        raise EntityError(f"query {fallback_id}: not a FollowTheMoney entity ({exc})") from None
    kinds = KINDS_OF_SCHEMA.get(proxy.schema.name)
    if kinds is None:
        raise EntityError(
            f"query {proxy.id}: schema {proxy.schema.name} cannot be matched"
            f" (one of {', '.join(KINDS_OF_SCHEMA)})"
        )
    names = [v for p in NAME_PROPS for v in proxy.get(p, quiet=True)]
    years = {int(d[:4]) for d in proxy.get("birthDate", quiet=True) if d[:4].isdigit()}
    return Query(str(proxy.id), kinds, tuple(dict.fromkeys(names)), frozenset(years))


def read_queries(lines: Iterable[str], source: str) -> Iterator[Query]:
    """Queries from FtM JSON lines; a bad line stops with the file and line number."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EntityError(f"{source}, line {n}: not JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise EntityError(f"{source}, line {n}: not a FollowTheMoney entity (an object)")
        try:
            yield query_of(data, f"line-{n}")
        except EntityError as exc:
            raise EntityError(f"{source}, line {n}: {exc}") from None


def _words(name: str) -> str:
    return " ".join(p.skeletons[0] if p.skeletons else p.key for p in nm.parse(name).parts)


def _score_names(query: str, found: str, kind: str) -> nm.Score:
    """A person's names by the name matcher's fields; other names (units, places) word by
    word on their skeletons, in any order, since they have no ism or nasab."""
    if kind == "person":
        return nm.score(query, found)
    value = round(fuzz.token_sort_ratio(_words(query), _words(found)) / 100, 4)
    how = nm.PartMatch("words", query, found, value, "skeletons in any order", 1.0)
    return nm.Score(value, value >= nm.THRESHOLD, (how,), ())


def _explain(query: str, found: str, sc: nm.Score, notes: list[str]) -> dict[str, Any]:
    data = sc.to_json()
    return {
        "query_name": query,
        "name": found,
        "parts": data["parts"],
        "notes": [*data["notes"], *notes],  # type: ignore[misc]
    }


def match(
    s: Session, caller: Caller, q: Query, limit: int = LIMIT, threshold: float = nm.THRESHOLD
) -> dict[str, Any]:
    """The best `limit` visible entities for one query, each with score, verdict and the
    explanation of its best pair of names."""
    caller.require(Permission.READ_ENTITIES)
    if not 1 <= limit <= MAX_LIMIT:
        raise EntityError(f"--limit {limit}: give 1 to {MAX_LIMIT}")
    ids = candidates(s, caller, q.names, q.kinds)
    rows = (
        s.execute(
            select(EntityName, Entity)
            .join(Entity, Entity.id == EntityName.entity_id)
            .where(EntityName.id.in_(ids))
        ).all()
        if ids
        else []
    )
    best: dict[int, tuple[float, dict[str, Any], Entity, nm.Score]] = {}
    for name, ent in rows:
        for asked in q.names:
            sc = _score_names(asked, name.full_name, ent.kind)
            value, notes = sc.value, []
            born = ent.birth_date.year if ent.birth_date else None
            if born and q.birth_years:
                if min(abs(born - y) for y in q.birth_years) > BIRTH_YEARS_APART:
                    value, notes = round(value * CONTRADICTION, 4), ["birth years differ"]
                else:
                    notes = ["birth years agree"]
            if ent.id not in best or value > best[ent.id][0]:
                best[ent.id] = (value, _explain(asked, name.full_name, sc, notes), ent, sc)
    # near-equal scores are ordered by how usual the spelling is (`name_match.order`)
    by_id = sorted(best.values(), key=lambda x: (-x[0], x[2].id))
    ranked = [by_id[i] for i in nm.order([x[0] for x in by_id], [x[3] for x in by_id])][:limit]
    prefix = home_prefix(s)  # the ids the FtM export gives (`entities.ftm`)
    return {
        "query": q.id,
        "results": [
            {
                "id": ent.ftm_id or own_id(prefix, "entity", ent.id),
                "entity": ent.id,
                "kind": ent.kind,
                "score": value,
                "match": value >= threshold,
                "explanation": why,
            }
            for value, why, ent, _ in ranked
        ],
    }


def match_all(
    s: Session, caller: Caller, queries: Iterable[Query], limit: int = LIMIT
) -> Iterator[dict[str, Any]]:
    """One answer per query, in order; Arabic names of a batch romanised at once."""
    batch = list(queries)
    nm.prepare_many([n for q in batch for n in q.names])
    for q in batch:
        yield match(s, caller, q, limit)
