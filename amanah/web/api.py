"""The JSON API under /api/v1: what the pages use, and what scripts use with a token.

Errors are JSON objects with a message (4xx), never a stack trace. Every route states its
access rule through `allow`; need-to-know itself is decided in `amanah.access`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from amanah import items, queue
from amanah.access import (
    Caller,
    Permission,
    collections_visible,
    compartments_seen,
    jobs_visible,
    require_collection_creatable,
)
from amanah.access import audit as audit_log
from amanah.access import users as accounts
from amanah.blobs.base import CHUNK
from amanah.intake import registry, upload
from amanah.search import service
from amanah.search.engine import MAX_LIMIT
from amanah.web.auth import allow, workspace
from amanah.web.content import PLAYABLE, attachment, inline_media

router = APIRouter(prefix="/api/v1")
#: Database ids: anything else is a 422 before a query is made.
ItemId = Annotated[int, Path(ge=1, le=2**62)]

Signed = Annotated[Caller, Depends(allow())]


def _caller(permission: Permission) -> Any:
    return Depends(allow(permission))


class Me(BaseModel):
    actor: str
    role: str
    compartments: list[str]


@router.get("/me", response_model=Me)
def me(request: Request, caller: Signed) -> Me:
    """Who the token or session belongs to, and what it may see."""
    with workspace(request).db.reader() as s:
        seen = compartments_seen(s, caller)
    return Me(actor=caller.actor, role=caller.role, compartments=seen)


#: A filter chosen apart from the words: any of its values (repeat the parameter), as the
#: query language's field of the same name; the search page's chips are the same parameters.
Filter = Annotated[list[str], Query(max_length=300)]
#: The API's filter parameters, in the order they join the query.
API_FILTERS = (
    "provider",
    "collection",
    "type",
    "lang",
    "has",
    "date",
    "received",
    "tag",
    "path",
    "person",
    "unit",
    "facility",
    "place",
    "gov",
)


@router.get("/search")
def search(
    request: Request,
    caller: Annotated[Caller, _caller(Permission.SEARCH)],
    q: Annotated[
        str, Query(max_length=2000, description="Query (see docs/search.md); empty or * browses.")
    ] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    sort: Annotated[
        str | None,
        Query(
            pattern="^(relevance|date|received|oldest)$",
            description="relevance; date (document date, newest first); received or oldest"
            " (the order items were received, newest or oldest first). Default: relevance"
            " with words, date without.",
        ),
    ] = None,
    mode: Annotated[str, Query(pattern="^(text|semantic|hybrid)$")] = "text",
    facets: bool = False,
    group: Annotated[
        bool,
        Query(
            description="Exact duplicates (same SHA-256) as one hit with its `copies`, across"
            " all pages; `documents` counts distinct documents among the hits."
        ),
    ] = False,
    fuzzy: Annotated[
        bool,
        Query(description="When nothing is found, run the corrected query ('did you mean')."),
    ] = False,
    provider: Filter = [],  # noqa: B006 (FastAPI copies defaults)
    collection: Filter = [],  # noqa: B006
    type: Filter = [],  # noqa: B006
    languages: Annotated[
        list[str],
        Query(
            alias="language",
            max_length=300,
            description="The `lang:` field: ar, en … (`lang` would be the page's language)",
        ),
    ] = [],  # noqa: B006
    has: Annotated[list[str], Query(max_length=10, description="ocr, text or gps")] = [],  # noqa: B006
    date: Annotated[
        list[str], Query(max_length=30, description="Document date: 2014, 2014-03, 2012..2015")
    ] = [],  # noqa: B006
    received: Annotated[
        list[str], Query(max_length=30, description="When the item was received, as date")
    ] = [],  # noqa: B006
    tag: Filter = [],  # noqa: B006
    path: Filter = [],  # noqa: B006
    person: Filter = [],  # noqa: B006
    unit: Filter = [],  # noqa: B006
    facility: Filter = [],  # noqa: B006
    place: Filter = [],  # noqa: B006
    governorate: Annotated[
        list[str],
        Query(
            max_length=300,
            description="The `gov:` field: items whose GPS point lies in the governorate"
            " (Aleppo, حلب or SY02)",
        ),
    ] = [],  # noqa: B006
) -> dict[str, Any]:
    """Search in Arabic and English, or browse (no words) with filters and sorts: the search
    page's search, through the same service. Filters are parameters (each any of its values);
    hits, total, facets, copies and snippets obey need-to-know."""
    given = dict(
        provider=provider,
        collection=collection,
        type=type,
        lang=languages,
        has=has,
        date=date,
        received=received,
        tag=tag,
        path=path,
        person=person,
        unit=unit,
        facility=facility,
        place=place,
        gov=governorate,
    )
    # The words' filters and these count together (`query.MAX_FILTERS`, checked by parse).
    chosen = [(name, v) for name in API_FILTERS for v in given[name] if v.strip()]
    results = service.search(
        workspace(request),
        caller,
        q,
        limit=limit,
        cursor=cursor,
        sort=sort,
        facets=facets,
        mode=mode,
        fallback=fuzzy,
        filters=chosen,
        group=group,
    )
    return results.as_json()


@router.get("/items/{item_id}")
def item(
    request: Request, item_id: ItemId, caller: Annotated[Caller, _caller(Permission.READ_ITEM)]
) -> dict[str, Any]:
    """An item's provenance, hash, metadata, children, duplicates and custody timeline (an
    audited read: the metadata is what the file says of itself)."""
    return items.show(workspace(request), item_id, caller, action="read item record")


@router.get("/items/{item_id}/text")
def item_text(
    request: Request, item_id: ItemId, caller: Annotated[Caller, _caller(Permission.READ_CONTENT)]
) -> dict[str, Any]:
    """The extracted or OCR text (an audited read)."""
    return {"item_id": item_id, "text": items.text(workspace(request), item_id, caller)}


async def _stream(f: Any) -> AsyncIterator[bytes]:
    try:
        while data := await run_in_threadpool(f.read, CHUNK):
            yield data
    finally:
        f.close()


@router.get("/items/{item_id}/content", response_class=StreamingResponse)
def item_content(
    request: Request,
    item_id: ItemId,
    caller: Annotated[Caller, _caller(Permission.READ_CONTENT)],
    view: bool = False,
) -> StreamingResponse:
    """The original bytes, as an attachment a browser never renders as a page (an audited
    download; `view=true` records a view, for the item page's image, audio and video players,
    and only for the media they play: anything else is a download)."""
    row, f = items.open_original(workspace(request), caller, item_id, view, PLAYABLE)
    name = row.original_path.rsplit("/", 1)[-1] or f"item-{item_id}"
    media = inline_media(row.media_type)
    headers = attachment(name, row.sha256)
    headers["Content-Length"] = str(row.size)
    return StreamingResponse(_stream(f), media_type=media, headers=headers)


@router.get("/items/{item_id}/derivatives/{derivative_id}", response_class=StreamingResponse)
def item_derivative(
    request: Request,
    item_id: ItemId,
    derivative_id: ItemId,
    caller: Annotated[Caller, _caller(Permission.READ_CONTENT)],
) -> StreamingResponse:
    """A page image, thumbnail or text made from the item (an audited view)."""
    d, f = items.open_derivative(workspace(request), caller, item_id, derivative_id)
    headers = attachment(f"item-{item_id}-{d.kind}-{d.page}", d.sha256)
    headers["Content-Length"] = str(d.size)
    return StreamingResponse(_stream(f), media_type=inline_media(d.media_type), headers=headers)


@router.get("/collections")
def collections(
    request: Request, caller: Annotated[Caller, _caller(Permission.READ_ITEM)]
) -> list[dict[str, Any]]:
    """The collections the caller may see, with item counts."""
    with workspace(request).db.reader() as s:
        return registry.list_collections(s, collections_visible(caller))


class NewCollection(BaseModel):
    name: str = Field(min_length=1, max_length=400)
    provider: str = Field(min_length=1, max_length=400)
    compartment: str = Field("default", min_length=1, max_length=200)
    method: str = Field("", max_length=2000)
    place: str = Field("", max_length=2000)


@router.post("/collections", status_code=201)
def new_collection(
    request: Request,
    body: NewCollection,
    caller: Annotated[Caller, _caller(Permission.MANAGE_COLLECTIONS)],
) -> dict[str, Any]:
    """Create a collection for a provider in a compartment."""
    with workspace(request).db.session() as s:
        require_collection_creatable(s, caller, body.provider, body.compartment)
        c = registry.new_collection(
            s, body.name, body.provider, body.compartment, method=body.method, place=body.place
        )
        return {"name": c.name, "provider": body.provider, "compartment": c.compartment}


class NewUpload(BaseModel):
    filename: str = Field(min_length=1, max_length=upload.MAX_NAME)
    size: int = Field(ge=0, le=upload.MAX_SIZE)
    # The file's last modification in ms since 1970, as browsers give it (File.lastModified).
    modified: int | None = Field(default=None, ge=0, le=upload.MAX_MODIFIED_MS)


@router.post("/collections/{name}/uploads", status_code=201)
def begin_upload(
    request: Request,
    name: str,
    body: NewUpload,
    caller: Annotated[Caller, _caller(Permission.UPLOAD)],
) -> dict[str, Any]:
    """Open a resumable upload; then PUT its bytes to /uploads/{id}?offset=N, in parts."""
    ws = workspace(request)
    return upload.begin(ws, caller, name, body.filename, body.size, body.modified).as_dict()


@router.get("/uploads/{upload_id}")
def upload_status(
    request: Request, upload_id: str, caller: Annotated[Caller, _caller(Permission.UPLOAD)]
) -> dict[str, Any]:
    """How many bytes arrived (resume from there), and the receipt once complete."""
    return upload.status(workspace(request), caller, upload_id).as_dict()


async def _receive(request: Request, writer: upload.Writer) -> dict[str, Any]:
    buf = bytearray()
    try:
        async for data in request.stream():
            buf += data
            if len(buf) >= CHUNK:
                await run_in_threadpool(writer.write, bytes(buf))
                buf.clear()
        if buf:
            await run_in_threadpool(writer.write, bytes(buf))
    except BaseException:
        writer.abort()
        raise
    receipt: upload.Receipt = await run_in_threadpool(writer.close)
    return receipt.as_dict()


#: The body is read as a stream (never whole into memory), so it is declared here by hand.
RAW_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.put("/uploads/{upload_id}", openapi_extra=RAW_BODY)
async def upload_part(
    request: Request,
    upload_id: str,
    caller: Annotated[Caller, _caller(Permission.UPLOAD)],
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Append bytes at `offset` (must equal the bytes received so far)."""
    writer = await run_in_threadpool(upload.Writer, workspace(request), caller, upload_id, offset)
    return await _receive(request, writer)


@router.post("/collections/{name}/items", status_code=201, openapi_extra=RAW_BODY)
async def upload_item(
    request: Request,
    name: str,
    filename: Annotated[str, Query(min_length=1, max_length=upload.MAX_NAME)],
    caller: Annotated[Caller, _caller(Permission.UPLOAD)],
    modified: Annotated[int | None, Query(ge=0, le=upload.MAX_MODIFIED_MS)] = None,
) -> dict[str, Any]:
    """Upload one file in one request (Content-Length required); returns the receipt.
    `modified`: the file's last modification in ms since 1970, if the client knows it."""
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        raise upload.UploadError("send the file with a Content-Length header")
    ws = workspace(request)
    receipt = await run_in_threadpool(
        upload.begin, ws, caller, name, filename, int(length), modified
    )
    writer = await run_in_threadpool(upload.Writer, ws, caller, receipt.upload_id, 0)
    out = await _receive(request, writer)
    if not out["complete"]:
        raise upload.UploadError(
            f"{filename}: the connection ended after {out['received']} of {length} bytes;"
            f" resume with PUT /api/v1/uploads/{receipt.upload_id}?offset={out['received']}"
        )
    return out


@router.get("/jobs")
def jobs(
    request: Request, caller: Annotated[Caller, _caller(Permission.VIEW_JOBS)]
) -> dict[str, Any]:
    """Processing queue counts and the latest failures with their reasons."""
    ws, mine = workspace(request), jobs_visible(caller)
    return {
        "counts": queue.counts(ws.db, mine),
        "failures": [
            {"job": j, "item_id": i, "attempts": a, "reason": r}
            for j, i, a, r in queue.failures(ws.db, 200, mine)
        ],
    }


@router.get("/audit")
def audit(
    request: Request,
    caller: Annotated[Caller, _caller(Permission.VIEW_AUDIT)],
    actor: Annotated[str | None, Query(max_length=200)] = None,
    type: Annotated[str | None, Query(max_length=60)] = None,
    object_type: Annotated[str | None, Query(max_length=40)] = None,
    object_id: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Views, downloads, searches, exports and restriction changes, newest first."""
    return audit_log.events(
        workspace(request),
        audit_log.AuditFilter(actor, type, object_type, object_id, since, until, limit),
    )


@router.get("/users")
def users(
    request: Request, caller: Annotated[Caller, _caller(Permission.MANAGE_USERS)]
) -> list[dict[str, object]]:
    """Accounts with their roles, grants and providers."""
    return accounts.list_users(workspace(request))


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: str = Field(min_length=1, max_length=20)
    password: str = Field(min_length=accounts.MIN_PASSWORD, max_length=1000)
    compartments: list[str] = Field(default_factory=list, max_length=100)
    provider: str | None = Field(None, max_length=400)
    jurisdiction: str | None = Field(None, max_length=40)
    language: str = Field("en", pattern="^(en|ar)$")


@router.post("/users", status_code=201)
def new_user(
    request: Request, body: NewUser, caller: Annotated[Caller, _caller(Permission.MANAGE_USERS)]
) -> dict[str, Any]:
    """Create an account (the password is given once and stored as an argon2 hash)."""
    a = accounts.add_user(
        workspace(request),
        body.name,
        body.role,
        body.password,
        compartments=tuple(body.compartments),
        provider=body.provider,
        jurisdiction=body.jurisdiction,
        language=body.language,
        by=caller.actor,
    )
    return {"name": a.name, "role": a.role}
