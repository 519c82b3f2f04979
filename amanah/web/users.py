"""The administrator's pages: accounts, compartment grants and the access audit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from amanah.access import Caller, Permission, Role
from amanah.access import audit as audit_log
from amanah.access import users as accounts
from amanah.web.auth import allow, workspace
from amanah.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/users")
def users_page(
    request: Request, caller: Annotated[Caller, Depends(allow(Permission.MANAGE_USERS))]
) -> Response:
    return render(
        request,
        "users.html",
        users=accounts.list_users(workspace(request)),
        roles=[r.value for r in Role],
    )


@router.post("/users")
def users_create(
    request: Request,
    caller: Annotated[Caller, Depends(allow(Permission.MANAGE_USERS))],
    name: Annotated[str, Form(min_length=1, max_length=100)],
    role: Annotated[str, Form(min_length=1, max_length=20)],
    password: Annotated[str, Form(max_length=1000)],
    compartments: Annotated[str, Form(max_length=2000)] = "",
    provider: Annotated[str, Form(max_length=400)] = "",
    jurisdiction: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    accounts.add_user(
        workspace(request),
        name,
        role,
        password,
        compartments=tuple(c.strip() for c in compartments.split(",") if c.strip()),
        provider=provider.strip() or None,
        jurisdiction=jurisdiction.strip() or None,
        by=caller.actor,
    )
    return RedirectResponse("/users", status_code=303)


@router.post("/users/grants")
def users_grant(
    request: Request,
    caller: Annotated[Caller, Depends(allow(Permission.MANAGE_USERS))],
    name: Annotated[str, Form(min_length=1, max_length=100)],
    compartment: Annotated[str, Form(min_length=1, max_length=200)],
    revoke: Annotated[bool, Form()] = False,
) -> Response:
    accounts.grant(workspace(request), name, compartment.strip(), caller.actor, revoke)
    return RedirectResponse("/users", status_code=303)


@router.get("/audit")
def audit_page(
    request: Request,
    caller: Annotated[Caller, Depends(allow(Permission.VIEW_AUDIT))],
    actor: Annotated[str, Query(max_length=200)] = "",
    type: Annotated[str, Query(max_length=60)] = "",
    object_id: Annotated[str, Query(max_length=100)] = "",
    since: Annotated[str, Query(max_length=40)] = "",
    until: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    found = audit_log.events(
        workspace(request),
        audit_log.AuditFilter(
            actor or None, type or None, None, object_id or None, since or None, until or None
        ),
    )
    return render(
        request,
        "audit.html",
        events=found,
        types=audit_log.READ_EVENTS,
        filters={
            "actor": actor,
            "type": type,
            "object_id": object_id,
            "since": since,
            "until": until,
        },
    )
