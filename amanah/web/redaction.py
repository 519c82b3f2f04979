"""Redaction a legal officer can see and correct before anything leaves: each page of the
original with the areas removed drawn on it, beside the same page of the redacted file, both
rendered as PNG in one of the app's warm sandboxes (amanah.processing.sandbox_pool: evidence is
never rendered live in the browser); areas drawn with the mouse (or typed as PAGE:X0,Y0,X1,Y1,
like the CLI's --region) are added and the redaction is run again. Legal officers only
(`requests.manage`); which items a caller may see is decided in amanah.access (`visible_item`,
through amanah.sharing.redaction)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi import Path as Path_
from fastapi.responses import RedirectResponse, Response

from amanah.access import Caller, Permission, visible_item
from amanah.sharing import redaction
from amanah.web.auth import allow, sandboxes, workspace
from amanah.web.pages import render

router = APIRouter(include_in_schema=False)
ItemId = Annotated[int, Path_(ge=1, le=2**62)]
PageNo = Annotated[int, Path_(ge=1, le=100_000)]
SHOWN = 30  # pages shown at once
IMAGE_CSP = "default-src 'none'"


def _who() -> Any:
    return Depends(allow(Permission.MANAGE_REQUESTS))


def _back(item_id: int, request_id: int | None) -> str:
    return f"/items/{item_id}/redaction" + (f"?request={request_id}" if request_id else "")


@router.get("/items/{item_id}/redaction")
def redaction_page(
    request: Request,
    item_id: ItemId,
    caller: Annotated[Caller, _who()],
    request_id: Annotated[int | None, Query(alias="request", ge=1, le=2**62)] = None,
    start: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    ws = workspace(request)
    with ws.db.reader() as s:
        item = visible_item(s, caller, item_id)
        name, media_type = PurePosixPath(item.original_path).name, item.media_type
    reason = redaction.why_not(media_type)
    found = None if reason else redaction.current(ws, caller, item_id)
    sizes: list[list[float]] = []
    unit = "pt"
    if not reason:
        shape = redaction.layout(ws, caller, item_id, sandboxes(request))
        sizes, unit = shape["sizes"], shape["unit"]
    hand = found.get("hand_regions", []) if found else []
    regions = "\n".join(f"{r[0]}:{','.join(f'{v:g}' for v in r[1:])}" for r in hand)
    pages = list(enumerate(sizes, 1))[start - 1 : start - 1 + SHOWN]
    return render(
        request,
        "redaction.html",
        item_id=item_id,
        name=name,
        reason=reason,
        found=found,
        pages=pages,
        total=len(sizes),
        start=start,
        shown=SHOWN,
        unit=unit,
        regions=regions,
        request_id=request_id,
    )


@router.get("/items/{item_id}/redaction/pages/{page}.png")
def redaction_page_image(
    request: Request,
    item_id: ItemId,
    page: PageNo,
    caller: Annotated[Caller, _who()],
    version: Annotated[str, Query(pattern="^(original|redacted)$")] = "redacted",
) -> Response:
    """One page as a PNG made in the sandbox; the read is a custody event."""
    png, _ = redaction.preview(
        workspace(request), caller, item_id, page, version, sandbox=sandboxes(request)
    )
    return Response(
        png,
        media_type="image/png",
        headers={"Cache-Control": "private, no-store", "Content-Security-Policy": IMAGE_CSP},
    )


@router.post("/items/{item_id}/redaction")
def redaction_run(
    request: Request,
    item_id: ItemId,
    caller: Annotated[Caller, _who()],
    regions: Annotated[str, Form(max_length=50_000)] = "",
    request_id: Annotated[int | None, Form(alias="request", ge=1, le=2**62)] = None,
) -> Response:
    """Redact again: every protected person, plus the regions drawn or typed."""
    areas = redaction.parse_regions(regions)
    redaction.redact(workspace(request), caller, item_id, areas, sandboxes(request))
    return RedirectResponse(_back(item_id, request_id), status_code=303)
