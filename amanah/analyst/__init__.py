"""The analyst's own layer: tags and notes on items, saved searches, bulk actions on hits.

All of it is work product beside the evidence, never part of it: nothing here changes an
item, and nothing here goes into a sharing package. Need-to-know is decided in
`amanah.access` (`annotations_visible`, `annotatable_item`, `saved_searches_visible`)."""

from __future__ import annotations

from datetime import UTC, datetime


class AnalystError(ValueError):
    """A tag, note or saved search that cannot be made as asked (said as it is, HTTP 400)."""


def now() -> datetime:
    return datetime.now(UTC)


def check_text(text: str, what: str, *, lines: bool = False) -> str:
    """Refuse what no database keeps as text: a lone surrogate (not UTF-8) or a control
    character (NUL is refused by PostgreSQL); a note may keep its line breaks and tabs."""
    allowed = "\n\r\t" if lines else ""
    for ch in text:
        if 0xD800 <= ord(ch) <= 0xDFFF:
            raise AnalystError(f"{what} is not valid text (a lone surrogate)")
        if (ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0) and ch not in allowed:
            raise AnalystError(f"{what} may not contain control characters")
    return text
