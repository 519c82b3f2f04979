"""The search page: the same search as the API, with snippets and facets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from amanah.access import Caller, Permission
from amanah.search import service, snippets
from amanah.search.query import QueryError
from amanah.web import analyst
from amanah.web.auth import allow, workspace
from amanah.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/search")
def search_page(
    request: Request,
    caller: Annotated[Caller, Depends(allow(Permission.SEARCH))],
    q: Annotated[str, Query(max_length=2000)] = "",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    sort: Annotated[str | None, Query(pattern="^(relevance|date)$")] = None,
    mode: Annotated[str, Query(pattern="^(text|semantic|hybrid)$")] = "text",
    fuzzy: Annotated[int, Query(ge=0, le=1)] = 1,
    done: Annotated[str | None, Query(pattern="^(tagged|added|relevant|not_relevant)$")] = None,
    n: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    request_ref: Annotated[str, Query(alias="request", max_length=100)] = "",
) -> Response:
    """`fuzzy=0`: the query as typed even when it finds nothing (no corrected fall-back)."""
    results, problem = None, None
    if q.strip():
        try:
            results = service.search(
                workspace(request),
                caller,
                q,
                limit=20,
                cursor=cursor if mode == "text" else None,
                sort=sort if mode == "text" else None,
                facets=True,
                mode=mode,
                fallback=bool(fuzzy),
            )
        except QueryError as exc:
            problem = {"message": str(exc), "pointer": exc.pointer()}
        except ValueError as exc:
            problem = {"message": str(exc), "pointer": ""}
    hits = []
    if results is not None:
        hits = [(h, snippets.segments(h.snippet, h.highlights)) for h in results.hits]
    return render(
        request,
        "search.html",
        q=q,
        mode=mode,
        sort=sort or "relevance",
        results=results,
        hits=hits,
        problem=problem,
        **analyst.search_context(request, caller, done, n, request_ref),
    )
