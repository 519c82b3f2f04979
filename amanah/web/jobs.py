"""The processing queue, for those who run it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from amanah import queue
from amanah.access import Caller, Permission, jobs_visible
from amanah.web.auth import allow, workspace
from amanah.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/jobs")
def jobs_page(
    request: Request, caller: Annotated[Caller, Depends(allow(Permission.VIEW_JOBS))]
) -> Response:
    ws, mine = workspace(request), jobs_visible(caller)
    return render(
        request,
        "jobs.html",
        counts=queue.counts(ws.db, mine),
        failures=queue.failures(ws.db, 200, mine),
    )
