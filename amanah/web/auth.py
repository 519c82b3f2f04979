"""Who is calling: a bearer token (scripts) or a session cookie (browsers), and CSRF.

Every route declares its rule with `allow(...)`: the permission it needs, or that it is
public. The access-matrix test reads these rules from the route table, so a route without
one fails the suite.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from amanah.access import Caller, Permission
from amanah.access.users import caller_for, session_account, token_account
from amanah.workspace import Workspace

SESSION_COOKIE = "amanah_session"
LANG_COOKIE = "amanah_lang"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class NotSignedIn(Exception):
    """No valid session or token (401 for the API, a redirect to sign-in for pages)."""


class BadCsrf(Exception):
    """A form or request from a browser session without the session's CSRF token (403)."""


@dataclass(frozen=True)
class Rule:
    """What a route needs: nothing (public), a signed-in user, or a permission."""

    permission: Permission | None
    public: bool = False


def address(request: Request) -> str:
    return request.client.host if request.client else ""


def workspace(request: Request) -> Workspace:
    ws: Workspace = request.app.state.ws
    return ws


def identify(request: Request) -> tuple[Caller, str | None] | None:
    """The caller and, for a browser session, its CSRF token; None when not signed in."""
    ws = workspace(request)
    auth = request.headers.get("authorization", "")
    with ws.db.reader() as s:
        if auth.lower().startswith("bearer "):
            account = token_account(s, auth[7:].strip())
            if account is None:
                return None
            return caller_for(s, account, address(request)), None
        sid = request.cookies.get(SESSION_COOKIE)
        if not sid:
            return None
        found = session_account(s, sid)
        if found is None:
            return None
        account, csrf = found
        return caller_for(s, account, address(request)), csrf


async def _check_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, expected):
        raise BadCsrf("this form has expired or did not come from this site; reload the page")


def allow(permission: Permission | None = None, *, public: bool = False) -> Callable[..., object]:
    """A FastAPI dependency that signs the caller in and checks the route's permission."""
    rule = Rule(permission, public)

    async def dependency(request: Request) -> Caller | None:
        found = await run_in_threadpool(identify, request)  # database work off the event loop
        if found is None:
            if public:
                return None
            raise NotSignedIn("sign in first")
        caller, csrf = found
        if csrf is not None and request.method in UNSAFE and not public:
            await _check_csrf(request, csrf)  # public forms (sign-in) carry their own token
        if permission is not None:
            caller.require(permission)
        request.state.caller = caller
        request.state.csrf = csrf
        return caller

    dependency.rule = rule  # type: ignore[attr-defined]
    return dependency
