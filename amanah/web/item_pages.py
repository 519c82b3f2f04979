"""An item's page: its record, its text page by page (tables as tables, an email as an email),
its metadata and custody in words, and the requests and packages it went into; every read of
its content is recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from babel.dates import format_date
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from amanah import item_history, items
from amanah.access import Caller, Permission, withheld_reason
from amanah.display import own
from amanah.search import document_date
from amanah.web import analyst, reading
from amanah.web.api import ItemId
from amanah.web.auth import allow, workspace
from amanah.web.content import PLAYABLE
from amanah.web.i18n import digits, when
from amanah.web.pages import language, render

READ_TYPES = ("access", "download")
READS_SHOWN = 10
#: Normalised metadata fields shown as labelled facts (the template names each one).
FACT_FIELDS = ("captured_at", "device", "author", "software", "duration_seconds")
#: Entries of the embedded metadata listed under "as found" (a photo's maker notes run long).
RAW_FIELDS = 300
router = APIRouter(include_in_schema=False)


@router.get("/items/{item_id}")
def item_page(
    request: Request,
    item_id: ItemId,
    caller: Annotated[Caller, Depends(allow(Permission.READ_ITEM))],
    q: Annotated[str, Query(max_length=2000)] = "",
    page: Annotated[int, Query(ge=1, le=10_000_000)] = 1,
) -> Response:
    ws = workspace(request)
    with ws.db.reader() as s:
        withheld = withheld_reason(s, caller, item_id)
    if withheld is not None:
        # Consent for investigation withdrawn: the page says so and shows nothing of the item
        # (no title, path, text, metadata, derivatives); the legal officer sees whose consent.
        return render(request, "item_withheld.html", withheld=withheld)
    record = items.show(ws, item_id, caller)
    record["intake"]["at"] = _utc(record["intake"]["at"])
    past = item_history.history(ws, caller, item_id)
    media = (record.get("media_type") or "").split(";")[0]
    lang = language(request)
    texts: dict[str, str] = {}
    has_text = any(d["kind"] in ("text", "ocr") for d in record["derivatives"])
    if has_text and caller.can(Permission.READ_CONTENT):
        texts = items.texts(ws, item_id, caller, action="view item page")
    if not texts:  # every view is recorded, also of a page that read no text (an image's)
        items.record_view(ws, caller, item_id, "view item page")
    languages = [lang["language"] for lang in record["languages"]]
    shown = reading.pages(texts, record["derivatives"], languages, first=page, query=q)
    table = (
        reading.tables(texts["text"], media, record["original_path"])
        if texts.get("text") and reading.is_table(media, record["original_path"])
        else []
    )
    mail = (
        reading.email(record["metadata"], texts.get("text", ""), q)
        if media in reading.EMAIL_TYPES
        else None
    )
    # Every view is a custody event: the timeline keeps what happened to the item and only
    # the latest reads (the audit page has them all).
    events = past["events"]
    reads = [e for e in events if e["type"] in READ_TYPES]
    timeline = [e for e in events if e["type"] not in READ_TYPES] + reads[-READS_SHOWN:]
    timeline.sort(key=lambda e: e["seq"])
    page_images = [d for d in record["derivatives"] if d["kind"] == "page_image"]
    with ws.db.reader() as s:
        notes_and_tags = analyst.annotations(s, caller, item_id)
    return render(
        request,
        "item.html",
        item=record,
        q=q,
        reading=shown,
        tables=table,
        email=mail,
        page_images=[] if shown.pages else page_images,
        thumbnail=next((d for d in record["derivatives"] if d["kind"] == "thumbnail"), None),
        player=_player(media),
        facts=_facts(record["metadata"]),
        document_date=_document_date(record["metadata"], lang),
        place=_place(record["metadata"], lang),
        raw_metadata=_raw(record["metadata"]),
        timeline=timeline,
        earlier_reads=max(0, len(reads) - READS_SHOWN),
        requests=past["requests"],
        packages=past["packages"],
        zoned=lambda v: zoned(v, lang),
        annotations=notes_and_tags,
    )


def zoned(value: Any, lang: str) -> dict[str, str | None] | None:
    """A time for the page: its text in the page's language and its zone's offset ("" for UTC,
    None when the source recorded none: a camera's clock without a zone)."""
    if value in (None, ""):
        return None
    text = str(value)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return {"text": text, "offset": None}
    offset: str | None = None
    if parsed.tzinfo is not None and (delta := parsed.utcoffset()) is not None:
        minutes = int(delta.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        offset = "" if minutes == 0 else f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    shown = when(text if parsed.tzinfo or len(text) == 10 else parsed, lang)
    return {"text": shown, "offset": offset}


def _utc(value: str) -> str:
    """A time the database keeps in UTC (SQLite gives it back without its zone)."""
    parsed = datetime.fromisoformat(value)
    return value if parsed.tzinfo else parsed.replace(tzinfo=UTC).isoformat()


def _document_date(metadata: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """The document date as the page says it, with where it came from; None when it was not
    read yet (the item was indexed before dates were recorded), {"date": None} when the
    document states none."""
    if document_date.KEY not in metadata:
        return None
    chosen = metadata[document_date.KEY]
    if not isinstance(chosen, dict) or not chosen.get("date"):
        return {"date": None}
    try:
        day = date.fromisoformat(str(chosen["date"]))
    except ValueError:
        return {"date": None}
    text = own(digits(format_date(day, "long", locale=lang), lang))  # the app's own words
    return {"date": day.isoformat(), "text": text, "source": chosen.get("source")}


def _facts(metadata: dict[str, Any]) -> dict[str, Any]:
    return {k: metadata[k] for k in FACT_FIELDS if metadata.get(k) not in (None, "", [])}


def _place(metadata: dict[str, Any], lang: str) -> dict[str, str] | None:
    """GPS coordinates written out (degrees with hemisphere, in the page's digits); shown,
    linked to no map service."""
    from amanah.geo.boundaries import usable

    found = usable(metadata.get("latitude"), metadata.get("longitude"))
    if found is None:  # no place (a string, NaN, 999, an integer past any float ...)
        return None
    lat, lon = found

    def degrees(value: float) -> str:
        text = f"{abs(value):.6f}"
        return digits(text.replace(".", "٫"), lang) if lang == "ar" else text

    return {
        "latitude": degrees(lat),
        "lat_side": "N" if lat >= 0 else "S",
        "longitude": degrees(lon),
        "lon_side": "E" if lon >= 0 else "W",
    }


def _raw(metadata: dict[str, Any]) -> list[tuple[str, str]]:
    """The embedded metadata as found (ExifTool's and ffprobe's tags), flattened to name and
    value: readable, and never a live structure."""
    out: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if len(out) >= RAW_FIELDS:
            return
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}{k}" if not prefix else f"{prefix} › {k}", v)
        elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
            for n, v in enumerate(value, 1):
                walk(f"{prefix} › {n}", v)
        else:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            out.append((prefix, shown[:1000]))

    for key in ("exif", "ffprobe"):
        if key in metadata:
            walk("", metadata[key])
    return out


def _player(media: str) -> str | None:
    """Which viewer shows the original itself: only media a browser runs nothing in."""
    if media not in PLAYABLE:  # the views recorded as views (`api.item_content`)
        return None
    return media.split("/")[0]
