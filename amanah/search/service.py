"""The one way in to search, for the command line and the web: words, meaning, or both."""

from __future__ import annotations

import time

from amanah.access import Caller
from amanah.search import engine, semantic
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
) -> Results:
    """Run one search for `caller`; raises QueryError (with a position) or ValueError."""
    started = time.perf_counter()
    q = parse(query)
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "text":
        return engine.search_words(
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
