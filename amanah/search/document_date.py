"""An item's document date: what the document itself states, never its file's time.

The order: a capture or creation time its metadata records (`captured_at`: EXIF, PDF
CreationDate, office core properties, a video's creation_time; see
`amanah.processing.metadata`), then a date stated on the text's date line
(`amanah.text.stated_date`). A file's modification time is the copier's, not the author's: it
stays a file fact (shown as such on the item page) and never becomes the document date, so an
item that states none has none (the "no date" facet).

Where the date came from is kept in the item's metadata under `document_date`, so the item page
can say "stated in the text" or "from the metadata (captured_at)".
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from amanah.text.stated_date import EARLIEST, stated_date

#: The key under which the item's metadata keeps the chosen date and its source.
KEY = "document_date"
#: Metadata fields that are the document's own time, best first.
FIELDS = ("captured_at",)
#: Tables have no date line: a date in their first rows is a value of the data, not theirs.
TABLES = (
    "text/csv",
    "text/tab-separated-values",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml",
    "application/vnd.oasis.opendocument.spreadsheet",
)


def _from_metadata(value: Any, latest: date) -> str | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return day.isoformat() if day.year >= EARLIEST and day <= latest else None


def choose(
    metadata: dict[str, Any], body: str, media_type: str = "", today: date | None = None
) -> dict[str, Any] | None:
    """The document date and where it came from, or None when the document states none.

    {"date": "2013-03-15", "source": "metadata", "field": "captured_at"} or
    {"date": "2013-03-15", "source": "text", "start": 9, "end": 18} (offsets in the text)."""
    latest = (today or date.today()) + timedelta(days=366)
    for field in FIELDS:
        if (day := _from_metadata(metadata.get(field), latest)) is not None:
            return {"date": day, "source": "metadata", "field": field}
    if media_type.startswith(TABLES):
        return None
    found = stated_date(body, today)
    if found is None:
        return None
    return {"date": found.day.isoformat(), "source": "text", "start": found.start, "end": found.end}
