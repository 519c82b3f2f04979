"""POST /api/v1/match: FollowTheMoney entities as queries, yente-like, answered as
`amanah entity match` answers them, behind the API's sign-in and need-to-know (entities the
caller may not see never appear, not even as a score).

    POST /api/v1/match?limit=5
    {"queries": {"q1": {"schema": "Person", "properties": {"name": ["محمد الحبو"]}}}}
    -> {"responses": {"q1": {"query": "q1", "results": [{"id", "score", "match", ...}]}}}
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from amanah.access import Caller, Permission
from amanah.entities.match import LIMIT, MAX_LIMIT, match_all, query_of
from amanah.entities.vocab import EntityError
from amanah.web.auth import allow, workspace

router = APIRouter(prefix="/api/v1")
#: Queries one request may carry.
MAX_QUERIES = 100


Reader = Annotated[Caller, Depends(allow(Permission.READ_ENTITIES))]


class MatchRequest(BaseModel):
    queries: dict[str, dict[str, Any]] = Field(min_length=1, max_length=MAX_QUERIES)


@router.post("/match")
def match(
    request: Request,
    caller: Reader,
    body: MatchRequest,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = LIMIT,
) -> JSONResponse:
    """Per query (keyed as sent) the best candidates the caller may see."""
    try:
        queries = [query_of({**entity, "id": key}, key) for key, entity in body.queries.items()]
        with workspace(request).db.reader() as s:
            answers = list(match_all(s, caller, queries, limit))
    except EntityError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse({"responses": {a["query"]: a for a in answers}, "limit": limit})
