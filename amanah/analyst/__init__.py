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
