"""Request metrics on the web: days to respond, open requests by age, declined reasons."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from amanah.access import Caller, Permission
from amanah.rfa import metrics
from amanah.web.auth import workspace
from amanah.web.pages import render
from amanah.web.requests import who

api = APIRouter(prefix="/api/v1")
pages = APIRouter(include_in_schema=False)


@api.get("/metrics/requests")
def request_metrics(
    request: Request, caller: Annotated[Caller, who(Permission.VIEW_REQUESTS)]
) -> dict[str, Any]:
    """Days to respond, open requests by age, by jurisdiction and urgency, declined reasons."""
    with workspace(request).db.reader() as s:
        return metrics.compute(s, caller)


@pages.get("/metrics")
def metrics_page(
    request: Request, caller: Annotated[Caller, who(Permission.VIEW_REQUESTS)]
) -> Response:
    with workspace(request).db.reader() as s:
        m = metrics.compute(s, caller)
    return render(request, "metrics.html", m=m)
