"""HTML pages in Arabic (RTL) and English (LTR), rendered on the server with Jinja2.

Every string goes through the gettext catalogs; evidence text is always escaped (Jinja2's
autoescape), shown with dir="auto" so each text keeps its own direction, and has its bidi
controls made visible (amanah.display.reveal, applied to every value a template prints; a
value the page must keep exact, such as a query in a search box, is marked `|exact`). The
pages use the same functions as the API and hold no access logic of their own.
"""

from __future__ import annotations

import functools
import json
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select

from amanah import display, items, queue
from amanah.access import Caller, Permission, Role, collections_visible
from amanah.access import audit as audit_log
from amanah.access import users as accounts
from amanah.db.models import Collection, Item
from amanah.intake import registry
from amanah.search import service, snippets
from amanah.search.query import QueryError
from amanah.web import i18n
from amanah.web.api import ItemId
from amanah.web.auth import LANG_COOKIE, SESSION_COOKIE, address, allow, identify, workspace
from amanah.web.content import SAFE_MEDIA

router = APIRouter(include_in_schema=False)
TEMPLATES = Path(__file__).parent / "templates"
PRE_CSRF_COOKIE = "amanah_signin"
TEXT_SHOWN = 200_000  # characters of an item's text shown on its page
READ_TYPES = ("access", "download")
READS_SHOWN = 10


@functools.cache
def environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        finalize=display.reveal,
    )
    env.filters["reveal"] = display.reveal
    env.filters["exact"] = display.exact
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["when"] = lambda v: i18n.when(v, lang)
    env.filters["num"] = lambda v: i18n.number(v, lang)
    env.filters["size"] = lambda v: _size(v, lang)
    env.filters["digits"] = lambda v: i18n.digits(str(v), lang)
    return env


def _size(n: int | None, lang: str) -> str:
    if n is None:
        return ""
    value, unit = float(n), "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            break
        value /= 1024
    shown = f"{value:.0f}" if unit == "B" else f"{value:.1f}"
    return i18n.digits(f"{shown} {unit}", lang)


def language(request: Request) -> str:
    return i18n.pick(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        accept=request.headers.get("accept-language", ""),
    )


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    found = getattr(request.state, "caller", None)
    csrf = getattr(request.state, "csrf", None)
    if found is None and (who := identify(request)) is not None:  # public and error pages
        found, csrf = who
    html = (
        environment(lang)
        .get_template(template)
        .render(
            lang=lang,
            dir=i18n.direction(lang),
            languages=i18n.LANGUAGES,
            caller=found,
            can=(lambda p: found is not None and found.can(Permission(p))),
            csrf=csrf,
            here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            quote=quote,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status=status, status_code=status, message=message)


def signin_url(target: str) -> str:
    return "/signin?" + urlencode({"next": target})


def _safe_next(target: str | None) -> str:
    """Only paths on this site: an open redirect would let a link sign someone in elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def segments(text: str, marks: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """Text cut into (piece, highlighted) for the template, which escapes every piece."""
    out: list[tuple[str, bool]] = []
    at = 0
    for start, end in sorted(marks):
        if start < at:
            continue
        if start > at:
            out.append((text[at:start], False))
        out.append((text[start:end], True))
        at = end
    if at < len(text):
        out.append((text[at:], False))
    return out


# --- signing in and out -------------------------------------------------------------------------


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


# --- pages ------------------------------------------------------------------------------------


@router.get("/")
def dashboard(request: Request, caller: Annotated[Caller, Depends(allow())]) -> Response:
    ws = workspace(request)
    if caller.role is Role.RECIPIENT:
        return render(request, "dashboard.html", recent=[], collections=[], jobs=None)
    with ws.db.reader() as s:
        recent = s.execute(
            select(Item, Collection.name)
            .join(Collection, Collection.id == Item.collection_id)
            .where(collections_visible(caller), Item.parent_id.is_(None))
            .order_by(Item.id.desc())
            .limit(12)
        ).all()
        colls = registry.list_collections(s, collections_visible(caller))
        total = s.execute(
            select(func.count())
            .select_from(Item)
            .join(Collection, Collection.id == Item.collection_id)
            .where(collections_visible(caller))
        ).scalar_one()
    jobs = None
    if caller.can(Permission.VIEW_JOBS):
        jobs = {"counts": queue.counts(ws.db), "failures": queue.failures(ws.db, 10)}
    return render(
        request,
        "dashboard.html",
        recent=[(i, c) for i, c in recent],
        collections=colls,
        total=total,
        jobs=jobs,
    )


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
        registry.new_collection(s, name, provider, compartment or "default", method=method)
    return RedirectResponse("/collections", status_code=303)


@router.get("/search")
def search_page(
    request: Request,
    caller: Annotated[Caller, Depends(allow(Permission.SEARCH))],
    q: Annotated[str, Query(max_length=2000)] = "",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    sort: Annotated[str | None, Query(pattern="^(relevance|date)$")] = None,
    mode: Annotated[str, Query(pattern="^(text|semantic|hybrid)$")] = "text",
) -> Response:
    results, problem = None, None
    if q.strip():
        try:
            results = service.search(
                workspace(request),
                caller,
                q,
                limit=20,
                cursor=cursor if mode == "text" else None,
                sort=sort if mode == "text" else None,
                facets=True,
                mode=mode,
            )
        except QueryError as exc:
            problem = {"message": str(exc), "pointer": exc.pointer()}
        except ValueError as exc:
            problem = {"message": str(exc), "pointer": ""}
    hits = []
    if results is not None:
        hits = [(h, segments(h.snippet, h.highlights)) for h in results.hits]
    return render(
        request,
        "search.html",
        q=q,
        mode=mode,
        sort=sort or "relevance",
        results=results,
        hits=hits,
        problem=problem,
    )


@router.get("/items/{item_id}")
def item_page(
    request: Request,
    item_id: ItemId,
    caller: Annotated[Caller, Depends(allow(Permission.READ_ITEM))],
    q: Annotated[str, Query(max_length=2000)] = "",
) -> Response:
    ws = workspace(request)
    record = items.show(ws, item_id, caller)
    body, shown = "", []
    has_text = any(d["kind"] in ("text", "ocr") for d in record["derivatives"])
    if has_text and caller.can(Permission.READ_CONTENT):
        body = items.text(ws, item_id, caller, action="view item page")
        clipped = snippets.clean(body[:TEXT_SHOWN])
        shown = segments(clipped, snippets.marks(clipped, q) if q else [])
    pages_ = [d for d in record["derivatives"] if d["kind"] == "page_image"]
    # Every view is a custody event: the timeline keeps what happened to the item and only
    # the latest reads (the audit page has them all).
    reads = [e for e in record["custody"] if e["type"] in READ_TYPES]
    timeline = [e for e in record["custody"] if e["type"] not in READ_TYPES] + reads[-READS_SHOWN:]
    timeline.sort(key=lambda e: e["seq"])
    media = (record.get("media_type") or "").split(";")[0]
    return render(
        request,
        "item.html",
        item=record,
        q=q,
        text_segments=shown,
        text_clipped=len(body) > TEXT_SHOWN,
        page_images=pages_,
        thumbnail=next((d for d in record["derivatives"] if d["kind"] == "thumbnail"), None),
        player=_player(media),
        metadata_json=json.dumps(record["metadata"], ensure_ascii=False, indent=1),
        timeline=timeline,
        earlier_reads=max(0, len(reads) - READS_SHOWN),
    )


def _player(media: str) -> str | None:
    """Which viewer shows the original itself: only media a browser runs nothing in."""
    if media not in SAFE_MEDIA or media == "text/plain":
        return None
    return media.split("/")[0]


@router.get("/jobs")
def jobs_page(
    request: Request, caller: Annotated[Caller, Depends(allow(Permission.VIEW_JOBS))]
) -> Response:
    ws = workspace(request)
    return render(
        request, "jobs.html", counts=queue.counts(ws.db), failures=queue.failures(ws.db, 200)
    )


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
