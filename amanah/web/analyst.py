"""The analyst's own layer on the web: tags and notes on an item, saved searches, and bulk
actions on a hit list (tag, add to a request, mark reviewed). API under /api/v1 and the forms
the pages post. Need-to-know is decided in amanah.access: an item the caller may not see
"does not exist" (404), and a bulk action touches and counts only the items the caller sees."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi import Path as Path_
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from amanah.access import (
    Caller,
    Permission,
    for_request,
    visible_item,
    visible_item_ids,
    visible_request,
)
from amanah.analyst import notes, saved_searches, tags
from amanah.rfa import requests, review
from amanah.web.api import ItemId
from amanah.web.auth import allow, workspace

api = APIRouter(prefix="/api/v1")
pages = APIRouter(include_in_schema=False)
SavedId = Annotated[int, Path_(ge=1, le=2**62)]
#: Hits one bulk action may take (a page of hits, or a few pages selected together).
MAX_BULK = 1000
DECISIONS = ("pending", "relevant", "not_relevant")


def who(permission: Permission) -> Any:
    return Depends(allow(permission))


def annotations(s: Session, caller: Caller, item_id: int) -> dict[str, Any]:
    """An item's tags and notes as the caller may see them (the item page's panel)."""
    if not caller.can(Permission.READ_ANNOTATIONS):
        return {"tags": [], "notes": []}
    return {"tags": tags.of_item(s, caller, item_id), "notes": notes.of_item(s, caller, item_id)}


def saved_for(request: Request, caller: Caller) -> list[dict[str, Any]]:
    """The caller's saved searches and their teams' (the search page and the dashboard)."""
    if not caller.can(Permission.ANNOTATE):
        return []
    with workspace(request).db.reader() as s:
        return saved_searches.listing(s, caller)


def search_context(
    request: Request, caller: Caller, done: str | None, n: int, reference: str
) -> dict[str, Any]:
    """What the search page adds for the analyst's layer: saved searches, the bulk actions
    the caller may take (and the requests they may add hits to), and what the last one did."""
    open_requests: list[dict[str, Any]] = []
    if caller.can(Permission.MANAGE_REQUESTS):
        with workspace(request).db.reader() as s:
            open_requests = [
                r
                for r in requests.list_requests(s, caller)
                if r["state"] not in ("closed", "declined")
            ]
    return {
        "saved": saved_for(request, caller),
        "bulk_tag": caller.can(Permission.ANNOTATE),
        "bulk_requests": open_requests,
        "done": {"action": done, "n": n, "request": reference} if done else None,
    }


def bulk_tag(s: Session, caller: Caller, item_ids: list[int], label: str) -> dict[str, int]:
    return tags.add_many(s, caller, item_ids, label)


def bulk_request(
    s: Session, caller: Caller, item_ids: list[int], request_id: int, decision: str
) -> dict[str, Any]:
    """Add hits to a request's review (`pending`) or mark them reviewed (`relevant`,
    `not_relevant`): only the items the caller may see within the request's compartments."""
    caller.require(Permission.MANAGE_REQUESTS)
    req = visible_request(s, caller, request_id=request_id)
    seen = sorted(visible_item_ids(s, for_request(s, caller, req), item_ids))
    if not seen:
        return {"items": 0, "request": req.reference}
    if decision == "pending":
        count = review.add_candidates(s, caller, req.reference, seen, "search page")
    else:
        count = review.decide(s, caller, req.reference, seen, decision)
    return {"items": count, "request": req.reference}


# --- API ------------------------------------------------------------------------------------


class TagBody(BaseModel):
    tag: str = Field(min_length=1, max_length=200)


class NoteBody(BaseModel):
    text: str = Field(min_length=1, max_length=notes.MAX_NOTE)


class SavedBody(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    query: str = Field(min_length=1, max_length=2000)
    mode: str = Field(default="text", pattern="^(text|semantic|hybrid)$")
    sort: str = Field(default="relevance", pattern="^(relevance|date)$")
    shared_with: str = Field(default="", max_length=200)


BulkItem = Annotated[int, Field(ge=1, le=2**62)]


class BulkTag(BaseModel):
    items: list[BulkItem] = Field(min_length=1, max_length=MAX_BULK)
    tag: str = Field(min_length=1, max_length=200)


class BulkRequest(BaseModel):
    items: list[BulkItem] = Field(min_length=1, max_length=MAX_BULK)
    request_id: int = Field(ge=1, le=2**62)
    decision: str = Field(default="pending", pattern="^(pending|relevant|not_relevant)$")


@api.get("/items/{item_id}/annotations")
def api_annotations(
    request: Request,
    item_id: ItemId,
    caller: Annotated[Caller, who(Permission.READ_ANNOTATIONS)],
) -> dict[str, Any]:
    """An item's tags and notes (analyst work product; 404 outside need-to-know)."""
    with workspace(request).db.reader() as s:
        visible_item(s, caller, item_id)
        return annotations(s, caller, item_id)


@api.post("/items/{item_id}/tags", status_code=201)
def api_tag_add(
    request: Request,
    item_id: ItemId,
    body: TagBody,
    caller: Annotated[Caller, who(Permission.ANNOTATE)],
) -> dict[str, Any]:
    with workspace(request).db.session() as s:
        added = tags.add(s, caller, item_id, body.tag)
        return {"item": item_id, "added": added, "tags": tags.of_item(s, caller, item_id)}


@api.delete("/items/{item_id}/tags")
def api_tag_remove(
    request: Request,
    item_id: ItemId,
    caller: Annotated[Caller, who(Permission.ANNOTATE)],
    tag: Annotated[str, Query(min_length=1, max_length=200)],
) -> dict[str, Any]:
    with workspace(request).db.session() as s:
        return {"item": item_id, "removed": tags.remove(s, caller, item_id, tag)}


@api.post("/items/{item_id}/notes", status_code=201)
def api_note_add(
    request: Request,
    item_id: ItemId,
    body: NoteBody,
    caller: Annotated[Caller, who(Permission.ANNOTATE)],
) -> dict[str, Any]:
    with workspace(request).db.session() as s:
        row = notes.add(s, caller, item_id, body.text)
        return {"item": item_id, "note": row.id}


@api.get("/tags")
def api_tags(
    request: Request, caller: Annotated[Caller, who(Permission.READ_ANNOTATIONS)]
) -> list[dict[str, Any]]:
    """Every tag with how many items the caller may see carry it."""
    with workspace(request).db.reader() as s:
        return tags.counts(s, caller)


@api.get("/saved-searches")
def api_saved(
    request: Request, caller: Annotated[Caller, who(Permission.ANNOTATE)]
) -> list[dict[str, Any]]:
    return saved_for(request, caller)


@api.post("/saved-searches", status_code=201)
def api_saved_add(
    request: Request, body: SavedBody, caller: Annotated[Caller, who(Permission.ANNOTATE)]
) -> dict[str, Any]:
    with workspace(request).db.session() as s:
        row = saved_searches.save(
            s,
            caller,
            body.name,
            body.query,
            mode=body.mode,
            sort=body.sort,
            shared_with=body.shared_with,
        )
        return saved_searches.as_dict(row, caller)


@api.delete("/saved-searches/{saved_id}")
def api_saved_delete(
    request: Request, saved_id: SavedId, caller: Annotated[Caller, who(Permission.ANNOTATE)]
) -> dict[str, Any]:
    with workspace(request).db.session() as s:
        saved_searches.delete(s, caller, saved_id)
    return {"deleted": saved_id}


@api.post("/bulk/tag")
def api_bulk_tag(
    request: Request, body: BulkTag, caller: Annotated[Caller, who(Permission.ANNOTATE)]
) -> dict[str, Any]:
    """Tag the items given; those outside need-to-know are neither touched nor counted."""
    with workspace(request).db.session() as s:
        return bulk_tag(s, caller, body.items, body.tag)


@api.post("/bulk/request")
def api_bulk_request(
    request: Request,
    body: BulkRequest,
    caller: Annotated[Caller, who(Permission.MANAGE_REQUESTS)],
) -> dict[str, Any]:
    """Add the items to a request's review, or mark them reviewed there."""
    with workspace(request).db.session() as s:
        return bulk_request(s, caller, body.items, body.request_id, body.decision)


# --- pages (forms) --------------------------------------------------------------------------


def _on_item(request: Request, item_id: int, change: Callable[[Session], object]) -> Response:
    """The one shape of the item page's annotation forms: make the change in one session
    (refusals raise before anything is written), then back to the item's panel."""
    with workspace(request).db.session() as s:
        change(s)
    return RedirectResponse(f"/items/{item_id}#annotations", status_code=303)


@pages.post("/items/{item_id}/tags")
def tag_form(
    request: Request,
    item_id: ItemId,
    caller: Annotated[Caller, who(Permission.ANNOTATE)],
    tag: Annotated[str, Form(min_length=1, max_length=200)],
) -> Response:
    return _on_item(request, item_id, lambda s: tags.add(s, caller, item_id, tag))


@pages.post("/items/{item_id}/tags/remove")
def untag_form(
    request: Request,
    item_id: ItemId,
    caller: Annotated[Caller, who(Permission.ANNOTATE)],
    tag: Annotated[str, Form(min_length=1, max_length=200)],
) -> Response:
    return _on_item(request, item_id, lambda s: tags.remove(s, caller, item_id, tag))


@pages.post("/items/{item_id}/notes")
def note_form(
    request: Request,
    item_id: ItemId,
    caller: Annotated[Caller, who(Permission.ANNOTATE)],
    text: Annotated[str, Form(min_length=1, max_length=notes.MAX_NOTE)],
) -> Response:
    return _on_item(request, item_id, lambda s: notes.add(s, caller, item_id, text))


def _search_url(q: str, mode: str = "text", sort: str = "relevance", **extra: Any) -> str:
    return "/search?" + urlencode({"q": q, "mode": mode, "sort": sort, **extra})


@pages.post("/searches")
def save_form(
    request: Request,
    caller: Annotated[Caller, who(Permission.ANNOTATE)],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    q: Annotated[str, Form(min_length=1, max_length=2000)],
    mode: Annotated[str, Form(pattern="^(text|semantic|hybrid)$")] = "text",
    sort: Annotated[str, Form(pattern="^(relevance|date)$")] = "relevance",
    shared_with: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    with workspace(request).db.session() as s:
        saved_searches.save(s, caller, name, q, mode=mode, sort=sort, shared_with=shared_with)
    return RedirectResponse(_search_url(q, mode, sort, saved=1), status_code=303)


@pages.get("/searches/{saved_id}")
def run_saved(
    request: Request, saved_id: SavedId, caller: Annotated[Caller, who(Permission.ANNOTATE)]
) -> Response:
    """Run a saved search again: the search page with its query, as the caller sees it."""
    with workspace(request).db.reader() as s:
        found = saved_searches.as_dict(saved_searches.get(s, caller, saved_id), caller)
    return RedirectResponse(_search_url(found["query"], found["mode"], found["sort"]), 303)


@pages.post("/searches/{saved_id}/delete")
def delete_saved(
    request: Request, saved_id: SavedId, caller: Annotated[Caller, who(Permission.ANNOTATE)]
) -> Response:
    with workspace(request).db.session() as s:
        saved_searches.delete(s, caller, saved_id)
    return RedirectResponse("/search", status_code=303)


def _item_ids(values: list[str]) -> list[int]:
    ids = []
    for v in values[:MAX_BULK]:
        if v.isdigit() and len(v) < 19:
            ids.append(int(v))
    return ids


@pages.post("/search/bulk/tag")
def bulk_tag_form(
    request: Request,
    caller: Annotated[Caller, who(Permission.ANNOTATE)],
    tag: Annotated[str, Form(min_length=1, max_length=200)],
    item: Annotated[list[str] | None, Form()] = None,
    q: Annotated[str, Form(max_length=2000)] = "",
    mode: Annotated[str, Form(pattern="^(text|semantic|hybrid)$")] = "text",
) -> Response:
    """Tag the ticked hits; back to the same search, saying how many were tagged."""
    with workspace(request).db.session() as s:
        done = bulk_tag(s, caller, _item_ids(item or []), tag)
    return RedirectResponse(_search_url(q, mode, done="tagged", n=done["tagged"]), 303)


@pages.post("/search/bulk/request")
def bulk_request_form(
    request: Request,
    caller: Annotated[Caller, who(Permission.MANAGE_REQUESTS)],
    request_id: Annotated[int, Form(ge=1, le=2**62)],
    item: Annotated[list[str] | None, Form()] = None,
    decision: Annotated[str, Form(pattern="^(pending|relevant|not_relevant)$")] = "pending",
    q: Annotated[str, Form(max_length=2000)] = "",
    mode: Annotated[str, Form(pattern="^(text|semantic|hybrid)$")] = "text",
) -> Response:
    """Add the ticked hits to a request's review, or mark them reviewed there."""
    with workspace(request).db.session() as s:
        done = bulk_request(s, caller, _item_ids(item or []), request_id, decision)
    action = "added" if decision == "pending" else decision
    return RedirectResponse(
        _search_url(q, mode, done=action, n=done["items"], request=done["request"]), 303
    )
