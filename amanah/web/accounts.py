"""Cutting an account off from the web: disable and enable users, list and revoke API tokens.

Administrators only (`users.manage`). Pages post forms with the session's CSRF token; the API
offers the same under /api/v1. Each change is a custody event carrying the administrator and
the network address they acted from (amanah.web.auth.address).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from amanah.access import Caller, Permission
from amanah.access import tokens as api_tokens
from amanah.access import users as accounts
from amanah.web.auth import address, allow, workspace
from amanah.web.pages import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1")
Admin = Annotated[Caller, Depends(allow(Permission.MANAGE_USERS))]
UserName = Annotated[str, Path(min_length=1, max_length=100)]
TokenId = Annotated[int, Path(ge=1, le=2**62)]


# --- pages --------------------------------------------------------------------------------------


@pages.get("/tokens")
def tokens_page(
    request: Request,
    caller: Admin,
    user: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    ws = workspace(request)
    return render(
        request,
        "tokens.html",
        tokens=api_tokens.list_tokens(ws, user or None),
        users=[u["name"] for u in accounts.list_users(ws)],
        chosen=user,
    )


@pages.post("/users/disable")
def disable_page(
    request: Request, caller: Admin, name: Annotated[str, Form(min_length=1, max_length=100)]
) -> Response:
    accounts.set_disabled(workspace(request), name, True, by=caller.actor, address=address(request))
    return RedirectResponse("/users", status_code=303)


@pages.post("/users/enable")
def enable_page(
    request: Request, caller: Admin, name: Annotated[str, Form(min_length=1, max_length=100)]
) -> Response:
    accounts.set_disabled(
        workspace(request), name, False, by=caller.actor, address=address(request)
    )
    return RedirectResponse("/users", status_code=303)


@pages.post("/tokens/revoke")
def revoke_page(
    request: Request,
    caller: Admin,
    token: Annotated[int | None, Form(ge=1, le=2**62)] = None,
    user: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Revoke one token (`token`), or every token of `user`."""
    ws = workspace(request)
    if token is not None:
        api_tokens.revoke_token(ws, token, by=caller.actor, address=address(request))
    elif user:
        api_tokens.revoke_user_tokens(ws, user, by=caller.actor, address=address(request))
    else:
        raise accounts.AccountError("choose a token or a user whose tokens to revoke")
    return RedirectResponse("/tokens", status_code=303)


# --- API ----------------------------------------------------------------------------------------


@api.get("/tokens")
def list_tokens(
    request: Request,
    caller: Admin,
    user: Annotated[str | None, Query(max_length=100)] = None,
) -> list[dict[str, Any]]:
    """API tokens (id, user, label, state, created, expires, last used, revoked); never the
    token itself."""
    return api_tokens.list_tokens(workspace(request), user)


@api.post("/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: TokenId, caller: Admin) -> dict[str, Any]:
    """Revoke one token; it answers 401 from now on."""
    changed = api_tokens.revoke_token(
        workspace(request), token_id, by=caller.actor, address=address(request)
    )
    return {"token": token_id, "revoked": True, "changed": changed}


@api.post("/users/{name}/tokens/revoke")
def revoke_user_tokens(request: Request, name: UserName, caller: Admin) -> dict[str, Any]:
    """Revoke every token of a user."""
    n = api_tokens.revoke_user_tokens(
        workspace(request), name, by=caller.actor, address=address(request)
    )
    return {"user": name, "revoked": n}


@api.post("/users/{name}/disable")
def disable_user(request: Request, name: UserName, caller: Admin) -> dict[str, Any]:
    """Disable an account: sessions end, tokens are revoked, sign-in is refused."""
    changed = accounts.set_disabled(
        workspace(request), name, True, by=caller.actor, address=address(request)
    )
    return {"user": name, "disabled": True, "changed": changed}


@api.post("/users/{name}/enable")
def enable_user(request: Request, name: UserName, caller: Admin) -> dict[str, Any]:
    """Let a disabled account sign in again (its old tokens stay revoked)."""
    changed = accounts.set_disabled(
        workspace(request), name, False, by=caller.actor, address=address(request)
    )
    return {"user": name, "disabled": False, "changed": changed}
