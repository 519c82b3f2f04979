"""The one way in to search, for the command line and the web: words, meaning, or both."""

from __future__ import annotations

import time

from amanah.access import Caller
from amanah.search import engine, semantic, suggest
from amanah.search.engine import MAX_LIMIT, Results
from amanah.search.query import parse
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
) -> Results:
    """Run one search for `caller`; raises QueryError (with a position) or ValueError.

    A word search with few hits carries a "did you mean" (`Results.suggestion`) when some of
    its words find nothing the caller may see; with `fallback`, a search that found nothing
    runs the corrected query instead (both are logged) and says so."""
    started = time.perf_counter()
    q = parse(query)
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "text":
        results = engine.search_words(
            ws,
            caller,
            q,
            limit=limit,
            cursor=cursor,
            sort=sort,
            facets=facets,
            request_id=request_id,
            started=started,
        )
        if cursor or results.total >= suggest.FEW or q.match is None:
            return results
        found = suggest.suggest_query(ws, caller, q)
        if found is None:
            return results
        results.suggestion = found.as_json()
        if not (fallback and results.total == 0):
            return results
        again = engine.search_words(
            ws,
            caller,
            parse(found.query),
            limit=limit,
            cursor=None,
            sort=sort,
            facets=facets,
            request_id=request_id,
            started=started,
        )
        if again.total == 0:
            return results
        found.applied = True
        again.suggestion = found.as_json()
        return again
    if cursor or sort == "date":
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
