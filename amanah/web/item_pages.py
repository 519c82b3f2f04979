"""An item's page: its record, text, media player and custody, every read recorded."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from amanah import items
from amanah.access import Caller, Permission
from amanah.search import snippets
from amanah.web.api import ItemId
from amanah.web.auth import allow, workspace
from amanah.web.content import SAFE_MEDIA
from amanah.web.pages import render, segments

TEXT_SHOWN = 200_000  # characters of an item's text shown on its page
READ_TYPES = ("access", "download")
READS_SHOWN = 10
router = APIRouter(include_in_schema=False)


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
