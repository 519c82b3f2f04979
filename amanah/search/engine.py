"""A word search: need-to-know and filters inside the query, rank, count, facet, snippets, log.

The caller's compartments are a condition of the very SQL that finds, counts and facets hits,
so nothing about an item the caller may not see (not even that it exists) leaves the database.
Every search is written to the search log and, as an access to evidence content (snippets),
to the custody ledger in the same transaction.
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import Caller, searches_visible
from amanah.db.models import Collection, Item, Provider, SearchDoc, SearchLog, SearchText
from amanah.search import index, request, snippets, sql_search
from amanah.search.index import check_version
from amanah.search.query import Query
from amanah.search.request import FACETS, SORTS, SearchBackend
from amanah.search.sql_search import SqlPlan, SqlSearch

if TYPE_CHECKING:
    from amanah.workspace import Workspace

MAX_LIMIT = 1000
FACET_VALUES = 25


@dataclass
class Hit:
    item_id: int
    sha256: str
    path: str
    collection: str
    provider: str
    media_type: str
    date: str
    score: float
    snippet: str
    highlights: list[tuple[int, int]]
    #: Exact duplicates (same SHA-256) the caller may see, this item included, when two or
    #: more (`search.duplicates`): item id, path, collection, provider of each.
    copies: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Results:
    query: str
    mode: str
    sort: str
    total: int
    hits: list[Hit]
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    next_cursor: str | None = None
    search_id: int | None = None
    took_ms: float = 0.0
    #: False when `total` is a lower bound ("N+").
    total_exact: bool = True
    backend: str = ""
    #: Did you mean (`search.suggest.Suggestion.as_json`): the query with its words that found
    #: nothing corrected; `applied` when these results are the corrected query's.
    suggestion: dict[str, Any] | None = None
    #: Distinct documents (SHA-256) among the `total` hits; None when not counted.
    documents: int | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _cursor(token: str | None, sort: str) -> tuple[Any, int] | None:
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if data["sort"] != sort:
            raise ValueError
        key, item_id = data["k"], data["i"]
        # A cursor comes back from the client: only what the server writes into one (a
        # date or a score, an item id) is taken, never a structure, infinity or a huge number.
        if isinstance(key, bool) or not isinstance(key, (str, int, float, type(None))):
            raise ValueError
        if isinstance(key, float) and not math.isfinite(key):
            raise ValueError
        if isinstance(key, int) and not -(2**62) <= key <= 2**62:
            raise ValueError
        if isinstance(item_id, bool) or not isinstance(item_id, int):
            raise ValueError
        if not 0 <= item_id <= 2**62:
            raise ValueError
        return key, item_id
    except (ValueError, KeyError, TypeError):
        raise ValueError("that page cursor does not belong to this search: start again") from None


def _make_cursor(sort: str, key: Any, item_id: int) -> str:
    raw = json.dumps({"sort": sort, "k": key, "i": item_id}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def next_cursor(sort: str, rows: list[tuple[int, float, str]], more: bool) -> str | None:
    """The keyset of the page's last row, when more rows follow."""
    if not (more and rows):
        return None
    last = rows[-1]
    return _make_cursor(sort, last[2] if sort == "date" else last[1], last[0])


def plan(s: Session, caller: Caller, q: Query) -> SqlPlan:
    """The search as SQL on the database's own index (search by meaning filters with it)."""
    return sql_search.plan(s, request.build(s, caller, q))


def page(
    s: Session, sql: SqlPlan, sort: str, limit: int, after: tuple[Any, int] | None
) -> tuple[list[tuple[int, float, str]], str | None]:
    rows, more = sql_search.page(s, sql, sort, limit, after)
    return rows, next_cursor(sort, rows, more)


def all_ids(s: Session, caller: Caller, q: Query, ws: Workspace | None = None) -> list[int]:
    """Every item a search finds for the caller, in item order: a request's review takes all
    of them, not a page. With `ws`, on the home's backend (call `prepare` first)."""
    req = request.build(s, caller, q)
    if ws is not None:
        return backend(ws, s).ids(s, req)
    index.check_backend(s)
    return SqlSearch(s).ids(s, req)


def ranked_words(
    ws: Workspace, s: Session, caller: Caller, q: Query, limit: int
) -> list[tuple[int, float, str]]:
    """The best `limit` word hits on the home's backend (call `prepare` first)."""
    return backend(ws, s).search(s, request.build(s, caller, q, limit=limit)).rows


def suggest(ws: Workspace, caller: Caller, word: str, limit: int = 5) -> list[str]:
    """Did you mean: indexed words close to `word` in items the caller may see, on every
    backend (`search.suggest`)."""
    from amanah.access import search_scope

    prepare(ws)
    with ws.db.reader() as s:
        return backend(ws, s).suggest(s, search_scope(caller), word, limit)


def prepare(ws: Workspace) -> None:
    """Before searching outside `search_words`: an index outside the database applies what
    is committed (a small remainder; a backlog is refused with a clear message)."""
    if ws.settings.search_backend == "tantivy":
        from amanah.search import tantivy_index

        tantivy_index.catch_up(ws, at_most=index.SAFETY_NET)


def facet_counts(s: Session, sql: SqlPlan) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    total, counters = sql_search.facet_counters(s, sql)
    return total, format_facets(s, counters)


def format_facets(s: Session, counts: dict[str, Counter[Any]]) -> dict[str, list[dict[str, Any]]]:
    """Raw counts as shown: the most common values first, providers and collections named."""
    names = {
        "provider": dict(s.execute(select(Provider.id, Provider.name)).all()),
        "collection": dict(s.execute(select(Collection.id, Collection.name)).all()),
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for facet in FACETS:
        values = []
        for value, n in counts.get(facet, Counter()).most_common(FACET_VALUES):
            entry: dict[str, Any] = {"value": value, "count": n}
            if facet in names:
                entry = {"value": names[facet].get(value, str(value)), "id": value, "count": n}
            values.append(entry)
        out[facet] = values
    return out


def _behind(ws: Workspace, s: Session) -> bool:
    if ws.settings.search_backend != "tantivy":
        return False
    from amanah.search import tantivy_index

    return tantivy_index.behind(ws, s)


def backend(ws: Workspace, s: Session) -> SearchBackend:
    """The backend `search_backend` in amanah.toml selects (the database's own by default)."""
    if ws.settings.search_backend == "tantivy":
        from amanah.search import tantivy_index

        return tantivy_index.TantivySearch(tantivy_index.open_index(ws))
    index.check_backend(s)
    return SqlSearch(s)


def hits_for(s: Session, q: Query, rows: list[tuple[int, float, str]]) -> list[Hit]:
    return make_hits(q, rows, hit_rows(s, rows))


def hit_rows(s: Session, rows: list[tuple[int, float, str]]) -> dict[int, Any]:
    """What the page shows of each hit (text, path, collection, provider): the SQL half of
    making hits. The items found here are the ones shown, so their search-log record can be
    written while the snippets are made (`search_words`)."""
    if not rows:
        return {}
    ids = [r[0] for r in rows]
    return {
        r.item_id: r
        for r in s.execute(
            select(
                SearchDoc.item_id,
                SearchText.body,
                SearchDoc.media_type,
                Item.sha256,
                Item.original_path,
                Collection.name.label("collection"),
                Provider.name.label("provider"),
            )
            .outerjoin(SearchText, SearchText.item_id == SearchDoc.item_id)
            .outerjoin(Item, Item.id == SearchDoc.item_id)
            .outerjoin(Collection, Collection.id == SearchDoc.collection_id)
            .outerjoin(Provider, Provider.id == SearchDoc.provider_id)
            .where(SearchDoc.item_id.in_(ids))
        ).all()
    }


def shown_ids(rows: list[tuple[int, float, str]], found: dict[int, Any]) -> list[int]:
    """The ids `make_hits` will show, in their order."""
    return [r[0] for r in rows if r[0] in found]


def make_hits(q: Query, rows: list[tuple[int, float, str]], found: dict[int, Any]) -> list[Hit]:
    """Hits with their snippets: the CPU half (the analyzer over each hit's text)."""
    leaves = q.terms()
    hits = []
    for item_id, score, day in rows:
        r = found.get(item_id)
        if r is None:
            continue
        snip = snippets.make(r.body or "", leaves)
        hits.append(
            Hit(
                item_id=item_id,
                sha256=r.sha256 or "",
                path=r.original_path or "",
                collection=r.collection or "",
                provider=r.provider or "",
                media_type=r.media_type,
                date=day,
                score=round(score, 6),
                snippet=snip.text,
                highlights=snip.highlights,
            )
        )
    return hits


def dates(s: Session, item_ids: list[int]) -> dict[int, str]:
    found = s.execute(
        select(SearchDoc.item_id, SearchDoc.doc_date).where(SearchDoc.item_id.in_(item_ids))
    ).all()
    return {i: d for i, d in found}


def _found(
    ws: Workspace, s: Session, caller: Caller, req: request.SearchRequest, group: bool
) -> tuple[request.Found, tuple[int, float, str] | None]:
    """The backend's page, and the row the next page starts after."""
    search_backend = backend(ws, s)
    found = search_backend.search(s, req)
    if group:
        from amanah.search import duplicates

        return duplicates.across_pages(s, caller, search_backend, req, found)
    return found, found.rows[-1] if found.rows else None


def search_words(
    ws: Workspace,
    caller: Caller,
    q: Query,
    *,
    limit: int,
    cursor: str | None,
    sort: str | None,
    facets: bool,
    request_id: int | None,
    started: float,
    group: bool = False,
) -> tuple[Results, Future[int]]:
    """A word search (the default mode); `search.service.search` is the entry to call.
    With `group`, each document (SHA-256) is one hit across all pages (`search.duplicates`).
    The second value is the record's flush (`searchlog.record_behind`): the caller takes its
    result, the search id, before any of the results is shown."""
    sort = sort or ("relevance" if q.match is not None else "date")
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    after = _cursor(cursor, sort)
    with ws.db.reader(barrier=False) as s:  # the search reads no log: nothing to wait for
        check_version(s)
        req = request.build(s, caller, q, sort=sort, limit=limit, after=after, facets=facets)
        # An index outside the database applies everything committed before it is searched:
        # a restriction change is never searched around.
        behind = _behind(ws, s)
        if not behind:
            found, last = _found(ws, s, caller, req, group)
            counts = format_facets(s, found.facets) if found.facets is not None else {}
            shown = hit_rows(s, found.rows)
    if behind:
        from amanah.search import tantivy_index

        # The safety net for a small remainder; a backlog is the writer's work, not a search's.
        tantivy_index.catch_up(ws, at_most=index.SAFETY_NET)
        with ws.db.reader() as s:
            found, last = _found(ws, s, caller, req, group)
            counts = format_facets(s, found.facets) if found.facets is not None else {}
            shown = hit_rows(s, found.rows)
    results = Results(
        query=q.text,
        mode="text",
        sort=sort,
        total=found.total,
        total_exact=found.total_exact,
        hits=[],
        facets=counts,
        next_cursor=next_cursor(sort, [last] if last else [], found.more),
        backend=found.backend,
    )
    results.took_ms = round((time.perf_counter() - started) * 1000, 1)
    # The record names the items shown, so it is made durable while their snippets are made
    # (a flush to disk waits on the device, the snippets on the CPU); no result leaves before
    # its record is on disk.
    from amanah.search import searchlog

    options = {"cursor": cursor, "limit": limit}
    written = searchlog.record_behind(
        ws, caller, results, shown_ids(found.rows, shown), options, request_id
    )
    results.hits = make_hits(q, found.rows, shown)
    results.took_ms = round((time.perf_counter() - started) * 1000, 1)
    return results, written


def log(
    ws: Workspace,
    caller: Caller,
    results: Results,
    options: dict[str, Any],
    request_id: int | None,
) -> int:
    """Record the search in the search log and the ledger (`search.searchlog`)."""
    from amanah.search import searchlog

    return searchlog.record(ws, caller, results, options, request_id)


def history(
    ws: Workspace, caller: Caller, limit: int = 50, request_id: int | None = None
) -> list[dict[str, Any]]:
    """The search log, newest first: the searches the caller may see (`access`)."""
    with ws.db.reader() as s:
        stmt = (
            select(SearchLog)
            .where(searches_visible(caller))
            .order_by(SearchLog.id.desc())
            .limit(limit)
        )
        if request_id is not None:
            stmt = stmt.where(SearchLog.request_id == request_id)
        return [
            {
                "id": r.id,
                "actor": r.actor,
                "at": r.at.isoformat(),
                "query": r.query,
                "options": json.loads(r.options),
                "hits": r.hit_count,
                "shown": json.loads(r.top_ids),
                "duration_ms": r.duration_ms,
                "request_id": r.request_id,
                "address": r.address or None,
            }
            for r in s.execute(stmt).scalars()
        ]
