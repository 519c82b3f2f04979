"""Collections and the upload page, each listing only the collections the caller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from amanah.access import (
    Caller,
    Permission,
    collections_visible,
    require_collection_creatable,
)
from amanah.intake import registry
from amanah.web.auth import allow, workspace
from amanah.web.pages import render

router = APIRouter(include_in_schema=False)


def _collections(request: Request, caller: Caller, template: str) -> Response:
    with workspace(request).db.reader() as s:
        colls = registry.list_collections(s, collections_visible(caller))
    return render(request, template, collections=colls)


@router.get("/upload")
def upload_page(
    request: Request, caller: Annotated[Caller, Depends(allow(Permission.UPLOAD))]
) -> Response:
    return _collections(request, caller, "upload.html")


@router.get("/collections")
def collections_page(
    request: Request, caller: Annotated[Caller, Depends(allow(Permission.READ_ITEM))]
) -> Response:
    return _collections(request, caller, "collections.html")


@router.post("/collections")
def collections_create(
    request: Request,
    caller: Annotated[Caller, Depends(allow(Permission.MANAGE_COLLECTIONS))],
    name: Annotated[str, Form(min_length=1, max_length=400)],
    provider: Annotated[str, Form(min_length=1, max_length=400)],
    compartment: Annotated[str, Form(max_length=200)] = "default",
    method: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with workspace(request).db.session() as s:
        require_collection_creatable(s, caller, provider, compartment or "default")
        registry.new_collection(s, name, provider, compartment or "default", method=method)
    return RedirectResponse("/collections", status_code=303)
