"""The one way in to search, for the command line and the web: words, meaning, or both."""

from __future__ import annotations

import time
from concurrent.futures import Future

from amanah.access import Caller
from amanah.search import duplicates, engine, request, semantic, suggest
from amanah.search.engine import MAX_LIMIT, Results
from amanah.search.query import Query, parse, with_filters
from amanah.workspace import Workspace

MODES = ("text", "semantic", "hybrid")


def search(
    ws: Workspace,
    caller: Caller,
    query: str,
    *,
    limit: int = 20,
    cursor: str | None = None,
    sort: str | None = None,
    facets: bool = False,
    mode: str = "text",
    request_id: int | None = None,
    fallback: bool = False,
    filters: list[tuple[str, str]] | None = None,
    group: bool = False,
) -> Results:
    """Run one search for `caller`; raises QueryError (with a position) or ValueError.

    An empty query (or `*`) browses: every item the caller may see, with the same filters,
    facets, sorts and pages. `filters` are (field, value) pairs chosen apart from the words
    (the search page's chips), applied as the query language's filters are. With `group`,
    exact duplicates (same SHA-256) are one hit with its copies across the whole result, at
    the rank of the best copy (a word search; by meaning, within its one page), and
    `Results.documents` counts the distinct documents among the hits.

    A word search with few hits carries a "did you mean" (`Results.suggestion`) when some of
    its words find nothing the caller may see; with `fallback`, a search that found nothing
    runs the corrected query instead (both are logged) and says so."""
    started = time.perf_counter()
    query = with_filters(query if query.strip() else "*", list(filters or []))
    q = parse(query)
    if q.match is None and not q.filters:
        mode = "text"  # browsing everything has no meaning to rank by
    results = _search(
        ws, caller, q, limit, cursor, sort, facets, mode, request_id, fallback, started, group
    )
    if group:
        _group(ws, caller, results)
    return results


def _group(ws: Workspace, caller: Caller, results: Results) -> None:
    """Exact duplicates under one hit, and the hits counted as documents too."""
    engine.prepare(ws)
    # The grouping reads no search log: it does not wait for (or apply) the log written
    # behind, its own search's record included (`search.searchlog`).
    with ws.db.reader(barrier=False) as s:
        results.hits = duplicates.group(s, caller, results.hits)
        if results.total_exact and results.mode == "text":
            req = request.build(s, caller, parse(results.query))
            results.documents = duplicates.documents(
                s, caller, engine.backend(ws, s), req, results.total
            )


def _search(
    ws: Workspace,
    caller: Caller,
    q: Query,
    limit: int,
    cursor: str | None,
    sort: str | None,
    facets: bool,
    mode: str,
    request_id: int | None,
    fallback: bool,
    started: float,
    group: bool = False,
) -> Results:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "text":
        # Each search's record is flushed to disk behind it; the did-you-mean below runs
        # meanwhile, and nothing is returned before every record is on disk.
        written: list[tuple[Results, Future[int]]] = []
        try:
            return _words(
                ws,
                caller,
                q,
                limit,
                cursor,
                sort,
                facets,
                request_id,
                fallback,
                started,
                group,
                written,
            )
        finally:
            for results, flush in written:
                results.search_id = flush.result()
    if cursor or sort not in (None, "relevance"):
        raise ValueError("search by meaning has no further pages or date order: raise --limit")
    return semantic.search(
        ws,
        caller,
        q,
        limit=limit,
        facets=facets,
        mode=mode,
        request_id=request_id,
        started=started,
    )


def _words(
    ws: Workspace,
    caller: Caller,
    q: Query,
    limit: int,
    cursor: str | None,
    sort: str | None,
    facets: bool,
    request_id: int | None,
    fallback: bool,
    started: float,
    group: bool,
    written: list[tuple[Results, Future[int]]],
) -> Results:
    def words(query: Query, after: str | None) -> Results:
        results, flush = engine.search_words(
            ws,
            caller,
            query,
            limit=limit,
            cursor=after,
            sort=sort,
            facets=facets,
            request_id=request_id,
            started=started,
            group=group,
        )
        written.append((results, flush))
        return results

    results = words(q, cursor)
    if cursor or results.total >= suggest.FEW or q.match is None:
        return results
    if results.total and suggest.every_word_required(q.match):
        return results  # each word the caller may be offered a correction of is in a hit
    found = suggest.suggest_query(ws, caller, q)
    if found is None:
        return results
    results.suggestion = found.as_json()
    if not (fallback and results.total == 0):
        return results
    again = words(parse(found.query), None)
    if again.total == 0:
        return results
    found.applied = True
    again.suggestion = found.as_json()
    return again
