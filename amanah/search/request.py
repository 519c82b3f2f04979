"""What a search asks of a backend, and what a backend answers: values, never SQL fragments.

A parsed query becomes one `SearchRequest`: the text part as a tree, need-to-know as the
caller's `SearchScope` (decided in `amanah.access`), and every field filter resolved to plain
values (provider and collection names to ids, among what the caller may see; an entity
filter, person:/unit:/facility:/place:, to the ids of the items that hold the entity as the
caller may see them: the one `item` filter every backend enforces). Each backend
(SQL FTS5 or tsvector, tantivy) enforces all of it inside its own query, and answers with a
`Found`: ids, scores, the total (and whether it is exact), raw facet counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import (
    Caller,
    SearchScope,
    collections_visible,
    search_scope,
    withheld_item_ids,
)
from amanah.db.models import Collection, Provider
from amanah.geo import placed
from amanah.search.query import ENTITY_FIELDS, Node, Query, QueryError, type_prefixes

#: "year" is the document date's year; "received" the year the collection received the item.
FACETS = ("provider", "collection", "media_type", "language", "year", "received", "has_ocr")
#: date: document date, newest first; received/oldest: the order items were received (their
#: ids are given as they are preserved), newest or oldest first.
SORTS = ("relevance", "date", "received", "oldest")


@dataclass(frozen=True)
class FieldFilter:
    """One field's filter: any of `values` (after: and before: all of them), or none of them
    when negated. provider/collection: ids; type: ("exact"|"prefix", media type); lang: codes;
    has: ocr/text/gps; after/before: ISO dates; date/received: (start, end) ISO days, the end
    excluded (document date, or when the item was received); path: lower-case substrings;
    item: item ids (what an entity filter resolves to; none at all finds nothing)."""

    field: str
    values: tuple[Any, ...]
    negated: bool = False


@dataclass(frozen=True)
class SearchRequest:
    match: Node | None
    scope: SearchScope
    filters: tuple[FieldFilter, ...] = ()
    sort: str = "relevance"
    limit: int = 20
    #: The last row of the previous page: (score, or document date for date order; item id).
    after: tuple[Any, int] | None = None
    facets: bool = False


@dataclass
class Found:
    """A backend's answer: one page of (item id, score, document date), in order."""

    rows: list[tuple[int, float, str]]
    more: bool
    total: int
    #: False when `total` is a lower bound ("N+"), for a backend that stops counting.
    total_exact: bool = True
    #: Raw counts per facet: provider and collection ids, media type, language code, year
    #: (int or "unknown"), has_ocr (bool); None unless asked for.
    facets: dict[str, Counter[Any]] | None = None
    backend: str = field(default="")


class SearchBackend(Protocol):
    """Where hits are found. Need-to-know and filters are inside every method's query."""

    name: str

    def search(self, s: Session, req: SearchRequest) -> Found: ...

    def ids(self, s: Session, req: SearchRequest) -> list[int]:
        """Every item found, in item order (a request's review takes all of them)."""
        ...

    def suggest(self, s: Session, scope: SearchScope, word: str, limit: int = 5) -> list[str]:
        """Indexed words close to `word` ("did you mean") that occur in items `scope` lets
        the caller see; raises Unsupported where the backend has no fuzzy terms."""
        ...


class Unsupported(ValueError):
    """The selected backend cannot do this (said to the user as it is)."""


def _visible(caller: Caller, name: str) -> Any:
    """Providers or collections the caller may know of: those with a collection they see."""
    if name == "collection":
        return select(Collection.id, Collection.name).where(collections_visible(caller))
    return (
        select(Provider.id, Provider.name)
        .join(Collection, Collection.provider_id == Provider.id)
        .where(collections_visible(caller))
        .distinct()
    )


def _visible_ids(s: Session, caller: Caller, name: str, value: str) -> list[int]:
    return [i for i, n in s.execute(_visible(caller, name)).all() if n.lower() == value.lower()]


def _visible_names(s: Session, caller: Caller, name: str) -> list[str]:
    return sorted(n for _, n in s.execute(_visible(caller, name)).all())


def _entity_items(
    s: Session, caller: Caller, q: Query, field_name: str, value: str, position: int
) -> set[int]:
    """The items of the entities of that kind with a name matching `value` (the name matcher,
    any spelling, among the names the caller may see); an error when no entity is named so."""
    from amanah.entities.mentions import entities_named, items_of

    found = entities_named(s, caller, ENTITY_FIELDS[field_name], value)
    if not found:
        raise QueryError(
            f"there is no {field_name} named '{value}' (in any spelling)", position, q.text
        )
    return items_of(s, caller, found)


def _tag_items(s: Session, caller: Caller, q: Query, value: str, position: int) -> set[int]:
    """The items the caller may see that carry the tag (an analyst's tag, folded as typed);
    an error when none does, naming tags the caller does see (never one only on hidden items)."""
    from amanah.analyst import tags

    found = tags.items_tagged(s, caller, value)
    if not found:
        known = [t["tag"] for t in tags.counts(s, caller)][:10]
        raise QueryError(
            f"no item you may see is tagged '{value}'"
            + (f" (tags: {', '.join(known)})" if known else ""),
            position,
            q.text,
        )
    return found


def build(
    s: Session,
    caller: Caller,
    q: Query,
    *,
    sort: str = "relevance",
    limit: int = 20,
    after: tuple[Any, int] | None = None,
    facets: bool = False,
) -> SearchRequest:
    """The request for `q` on behalf of `caller`. Provider and collection names resolve among
    what the caller may see, or fail clearly (one in another compartment "does not exist")."""
    by_field: dict[tuple[str, bool], list[Any]] = {}
    for f in q.filters:
        values = by_field.setdefault((f.field, f.negated), [])
        if f.field in ("provider", "collection"):
            ids = _visible_ids(s, caller, f.field, f.value)
            if not ids:
                known = _visible_names(s, caller, f.field)[:10]
                raise QueryError(
                    f"there is no {f.field} named '{f.value}'"
                    + (f" (known: {', '.join(known)})" if known else ""),
                    f.position,
                    q.text,
                )
            values.append(ids[0])
        elif f.field == "type":
            exact, prefixes = type_prefixes(f.value)
            values += [("exact", t) for t in exact] + [("prefix", t) for t in prefixes]
        elif f.field == "path":
            values.append(f.value.lower())
        elif f.field in ("date", "received"):
            values.append(tuple(f.value.split("..", 1)))
        elif f.field in ENTITY_FIELDS:
            values.append(_entity_items(s, caller, q, f.field, f.value, f.position))
        elif f.field == "tag":
            values.append(_tag_items(s, caller, q, f.value, f.position))
        elif f.field == "gov":  # items captured there (amanah.geo.placed): only ever narrows
            values.append(placed.items_in(s, [f.value]))
        else:
            values.append(f.value)
    filters = []
    for (name, neg), v in by_field.items():
        if name in ENTITY_FIELDS or name in ("tag", "gov"):  # either value; each narrows
            filters.append(FieldFilter("item", tuple(sorted(set().union(*v))), neg))
        else:
            filters.append(FieldFilter(name, tuple(v), neg))
    # A victim's or survivor's items whose consent no longer allows investigation are not
    # searched, by anyone (amanah.sharing.person_consent).
    if withheld := withheld_item_ids(s):
        filters.append(FieldFilter("item", tuple(sorted(withheld)), True))
    return SearchRequest(
        match=q.match,
        scope=search_scope(caller),
        filters=tuple(filters),
        sort=sort,
        limit=limit,
        after=after,
        facets=facets,
    )
