"""Signing in and out, and the page language: the only pages open to strangers."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from amanah.access import Caller
from amanah.access import users as accounts
from amanah.web import i18n
from amanah.web.auth import LANG_COOKIE, SESSION_COOKIE, address, allow, workspace
from amanah.web.pages import error_page, render

PRE_CSRF_COOKIE = "amanah_signin"
router = APIRouter(include_in_schema=False)


@router.get("/signin")
def signin_form(
    request: Request,
    _: Annotated[Caller | None, Depends(allow(public=True))],
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "signin.html", next=_safe_next(next), signin_csrf=token)
    response.set_cookie(
        PRE_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request)
    )
    return response


def _safe_next(target: str | None) -> str:
    """Only paths on this site: an open redirect would let a link sign someone in elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.post("/signin")
def signin(
    request: Request,
    _: Annotated[Caller | None, Depends(allow(public=True))],
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    csrf: Annotated[str, Form(max_length=100)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    expected = request.cookies.get(PRE_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf, expected):
        return error_page(request, 403, "this form has expired; reload the sign-in page")
    ws = workspace(request)
    try:
        account = accounts.authenticate(ws, name, password, address(request))
    except accounts.AccountError as exc:
        token = secrets.token_urlsafe(32)
        status = 429 if isinstance(exc, accounts.TooManyAttempts) else 401
        response = render(
            request,
            "signin.html",
            status=status,
            next=_safe_next(next),
            signin_csrf=token,
            failure=str(exc),
            name=name,
        )
        response.set_cookie(
            PRE_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request)
        )
        return response
    sid, _csrf = accounts.open_session(ws, account, address(request))
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        sid,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        max_age=accounts.SESSION_HOURS * 3600,
    )
    response.delete_cookie(PRE_CSRF_COOKIE)
    if LANG_COOKIE not in request.cookies:
        response.set_cookie(LANG_COOKIE, account.language, samesite="lax")
    return response


@router.post("/signout")
def signout(request: Request, _: Annotated[Caller, Depends(allow())]) -> Response:
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        accounts.close_session(workspace(request), sid)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/lang/{code}")
def switch_language(
    request: Request,
    code: str,
    _: Annotated[Caller | None, Depends(allow(public=True))],
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, samesite="lax", max_age=365 * 86400)
    return response
