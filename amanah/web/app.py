"""The FastAPI application: routes, security headers on every response, and clear errors.

Errors never show a stack trace: the API answers JSON {"error": …}, pages an error page in
the reader's language. Unexpected exceptions are logged on the server with an id the user can
quote.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from amanah import __version__
from amanah.access import AccessDenied, NotVisible
from amanah.access.users import AccountError, TooManyAttempts
from amanah.analyst import AnalystError
from amanah.custody.signed import LedgerRefused
from amanah.errors import message
from amanah.intake.registry import RegistryError
from amanah.intake.upload import UploadConflict, UploadError, UploadStorageFull
from amanah.items import ItemError
from amanah.logs import to_stderr
from amanah.orphans import SERVE_PID, end_with_parent
from amanah.processing import scratch
from amanah.processing.sandbox_pool import SandboxBusy, SandboxPool
from amanah.rfa import RequestError
from amanah.search.query import QueryError
from amanah.search.searchlog import SearchJournalError
from amanah.sharing import SharingError
from amanah.sharing.package import PackageRefused
from amanah.web import (
    accounts,
    analyst,
    api,
    collections,
    home,
    i18n,
    item_pages,
    jobs,
    metrics,
    packages,
    pages,
    requests,
    search_pages,
    signin,
    users,
)
from amanah.web import engagements as engagement_pages
from amanah.web import entities as entity_pages
from amanah.web import frameworks as framework_pages
from amanah.web import jurisdictions as jurisdiction_pages
from amanah.web import map as map_pages
from amanah.web import match as match_api
from amanah.web import persons as person_pages
from amanah.web import protected as protected_pages
from amanah.web import redaction as redaction_pages
from amanah.web.auth import BadCsrf, FormsInUtf8, NotSignedIn
from amanah.workspace import Workspace, open_workspace

log = logging.getLogger("amanah.web")
STATIC = Path(__file__).parent / "static"

#: No inline script or style, nothing from elsewhere (air-gapped networks are the norm).
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " media-src 'self'; object-src 'none'; frame-src 'none'; frame-ancestors 'none';"
    " base-uri 'none'; form-action 'self'"
)


def _status(exc: Exception) -> int:
    if isinstance(exc, NotSignedIn):
        return 401
    if isinstance(exc, (AccessDenied, BadCsrf)):
        return 403
    if isinstance(exc, (NotVisible, ItemError)):
        return 404
    if isinstance(exc, TooManyAttempts):
        return 429
    if isinstance(exc, (UploadConflict, PackageRefused)):
        return 409
    if isinstance(exc, UploadStorageFull):
        return 507  # Insufficient Storage: the request was right, retry later
    if isinstance(exc, SearchJournalError):
        return 503  # the search could not be recorded: nothing of it is shown; retry later
    if isinstance(exc, SandboxBusy):
        return 503  # every warm sandbox is busy: the request was right, retry shortly
    if isinstance(exc, LedgerRefused):
        return 503  # the ledger records nothing until an administrator puts it right
    return 400


def open_for_web(home: str) -> Workspace:
    """The workspace a web process serves; new items go to procrastinate when it is the runner."""
    ws = open_workspace(home, create=False)
    if ws.settings.runner == "procrastinate":
        from amanah.processing.scaleout import attach

        attach(ws)
    return ws


def app_from_env() -> FastAPI:
    """Factory for each of `amanah serve --web-workers N`'s processes (home in AMANAH_HOME).
    Each web process ends with the server, even one killed outright (`orphans`); with one
    web process the server is that process."""
    serve = int(os.environ.get(SERVE_PID) or 0)
    if serve and serve != os.getpid():
        end_with_parent(serve)
        to_stderr()  # a spawned web process: the log reads as the server's own
    return create_app(open_for_web(os.environ["AMANAH_HOME"]))


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The warm sandboxes start on first use; they stop (zygotes, scratch folders) with the app.
    Scratch folders a killed process left are swept as it starts (`processing.scratch`)."""
    if app.state.sandboxes.closed:  # the same app served again (a test client, twice)
        app.state.sandboxes = SandboxPool.for_settings(app.state.ws.settings)
    # What a process killed mid-redaction left (evidence copies, OCR words): nobody holds it.
    await anyio.to_thread.run_sync(scratch.sweep, app.state.ws.home / "work")
    yield
    await anyio.to_thread.run_sync(app.state.sandboxes.close)


def create_app(ws: Workspace) -> FastAPI:
    app = FastAPI(
        lifespan=_lifespan,
        title="Amanah",
        version=__version__,
        description="Evidence repository API. Authenticate with `Authorization: Bearer TOKEN`"
        " (`amanah token create NAME`).",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.ws = ws
    # Redaction and its previews parse evidence in these (one per request at a time).
    app.state.sandboxes = SandboxPool.for_settings(ws.settings)
    # One router per concept, in the order their routes are matched.
    app.include_router(api.router)
    for concept in (signin, home, collections, search_pages, item_pages, jobs, users):
        app.include_router(concept.router)
    app.include_router(map_pages.router)
    for shared in (requests, packages, metrics):
        app.include_router(shared.api)
    for shared in (requests, packages, metrics):
        app.include_router(shared.pages)
    app.include_router(accounts.api)
    app.include_router(accounts.pages)
    app.include_router(redaction_pages.router)
    app.include_router(match_api.router)
    app.include_router(entity_pages.router)
    app.include_router(engagement_pages.router)
    app.include_router(person_pages.router)
    for legal in (protected_pages, framework_pages, jurisdiction_pages):
        app.include_router(legal.router)
    app.include_router(analyst.api)
    app.include_router(analyst.pages)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(FormsInUtf8)  # a form not in UTF-8 is refused, never read as Latin-1

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        h = response.headers
        h.setdefault("Content-Security-Policy", PAGE_CSP)
        h["X-Content-Type-Options"] = "nosniff"
        h["X-Frame-Options"] = "DENY"
        h["Referrer-Policy"] = "no-referrer"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Cross-Origin-Resource-Policy"] = "same-origin"
        h.setdefault("Cache-Control", "no-store")
        return response

    def is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    async def known(request: Request, exc: Exception) -> Response:
        status = _status(exc)
        if is_api(request):
            body: dict[str, Any] = {"error": message(exc)}
            if isinstance(exc, QueryError):
                body.update(position=exc.position, pointer=exc.pointer())
            if isinstance(exc, PackageRefused):
                body["refusals"] = [
                    {"item_id": r.item_id, "reason": r.reason} for r in exc.refusals
                ]
            response: Response = JSONResponse(body, status_code=status)
        elif isinstance(exc, NotSignedIn):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(pages.signin_url(target), status_code=303)
        else:
            # A fixed reason (a refusal the library words once) in the reader's language; one
            # that quotes the request's own words is not in the catalog and stays as it is.
            said = i18n.translations(pages.language(request)).gettext(message(exc))
            response = pages.error_page(request, status, said)
        if isinstance(exc, SandboxBusy):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    for exc_type in (
        NotSignedIn,
        AccessDenied,
        BadCsrf,
        NotVisible,
        ItemError,
        AccountError,
        RegistryError,
        UploadError,
        QueryError,
        SearchJournalError,
        RequestError,
        SharingError,
        AnalystError,
        SandboxBusy,
        LedgerRefused,
        ValueError,
    ):
        app.add_exception_handler(exc_type, known)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg')}"
            for e in exc.errors()
        ]
        message = "; ".join(problems) or "invalid request"
        if is_api(request):
            return JSONResponse({"error": message}, status_code=422)
        return pages.error_page(request, 422, message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = str(exc.detail)
        if is_api(request) or exc.status_code == 405:
            return JSONResponse({"error": message}, status_code=exc.status_code)
        return pages.error_page(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        ref = secrets.token_hex(4)
        log.exception("error %s on %s %s", ref, request.method, request.url.path)
        message = f"internal error (reference {ref}); the administrator can find it in the log"
        if is_api(request):
            return JSONResponse({"error": message}, status_code=500)
        return pages.error_page(request, 500, message)

    return app
