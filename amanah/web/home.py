"""The dashboard: what the caller may see, at a glance."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from amanah import queue
from amanah.access import (
    Caller,
    Permission,
    Role,
    collections_visible,
    items_visible,
    jobs_visible,
)
from amanah.db.models import Collection, Item
from amanah.intake import registry
from amanah.sharing import package
from amanah.web import analyst
from amanah.web.auth import allow, workspace
from amanah.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def dashboard(request: Request, caller: Annotated[Caller, Depends(allow())]) -> Response:
    ws = workspace(request)
    if caller.role is Role.RECIPIENT:
        with ws.db.reader() as s:
            packages = package.list_packages(s, caller)  # its jurisdiction's only
        return render(
            request, "dashboard.html", recent=[], collections=[], jobs=None, packages=packages
        )
    with ws.db.reader() as s:
        recent = s.execute(
            select(Item, Collection.name)
            .join(Collection, Collection.id == Item.collection_id)
            .where(items_visible(caller), Item.parent_id.is_(None))
            .order_by(Item.id.desc())
            .limit(12)
        ).all()
        colls = registry.list_collections(s, collections_visible(caller))
        total = s.execute(
            select(func.count()).select_from(Item).where(items_visible(caller))
        ).scalar_one()
    jobs = None
    if caller.can(Permission.VIEW_JOBS):
        mine = jobs_visible(caller)
        jobs = {"counts": queue.counts(ws.db, mine), "failures": queue.failures(ws.db, 10, mine)}
    return render(
        request,
        "dashboard.html",
        recent=[(i, c) for i, c in recent],
        collections=colls,
        total=total,
        jobs=jobs,
        saved=analyst.saved_for(request, caller),
    )
