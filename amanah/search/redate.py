"""Reading the document date of items indexed before it was recorded (`amanah upgrade`).

An item's document date and its source are written into its metadata whenever it is indexed
(`index.dated_metadata`). Items of a home indexed by an earlier version have no record, and
their index rows may still hold their file's time as a date: each is indexed again from its
recorded text, which records the date and puts the right one in every backend.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.db.models import Item
from amanah.search import index
from amanah.search.document_date import KEY
from amanah.workspace import Workspace

BATCH = 200


def unread(s: Session) -> list[int]:
    """Processed items whose metadata has no document-date record yet."""
    return list(
        s.execute(
            select(Item.id)
            .where(Item.processing.in_(("done", "failed")), ~Item.doc_metadata.contains(f'"{KEY}"'))
            .order_by(Item.id)
        ).scalars()
    )


def read_dates(ws: Workspace) -> int:
    """Index again every item without a document-date record; returns how many."""
    with ws.db.reader() as s:
        ids = unread(s)
    for start in range(0, len(ids), BATCH):
        texts = {}
        with ws.db.reader() as s:
            for item_id in ids[start : start + BATCH]:
                texts[item_id] = index.text_of(s, ws.blobs, item_id)
        terms = {i: index.terms_for(ws, body) for i, (body, _) in texts.items()}
        with ws.db.session() as s:
            for item_id, (body, has_ocr) in texts.items():
                index.index_item(s, item_id, body, has_ocr, terms[item_id])
    if ids:
        index.settle(ws)
    return len(ids)
