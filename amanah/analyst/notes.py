"""Notes on items: an analyst's free text, with who and when, seen by staff who may see the
item. Kept as the search log keeps a query's words: a protected person's name is replaced by
its pseudonym before the note is stored, so no name rests in clear. The custody event of a
note names who and holds a keyed digest of the stored text (HMAC under the names key, as the
search log's queries) and its length, never the words."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import Caller, annotatable_item, annotations_visible
from amanah.analyst import AnalystError, check_text, now
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import ItemNote

MAX_NOTE = 20_000


def add(s: Session, caller: Caller, item_id: int, text: str) -> ItemNote:
    """A note on one item the caller may see and annotate."""
    from amanah.sharing import protected

    annotatable_item(s, caller, item_id)
    body = check_text(text, "a note", lines=True).strip()
    if not body:
        raise AnalystError("a note needs some text")
    if len(body) > MAX_NOTE:
        raise AnalystError(f"a note is at most {MAX_NOTE:,} characters, not {len(body):,}")
    kept, replaced = protected.Matcher.load(s).at_rest(body, "the note", AnalystError)
    row = ItemNote(item_id=item_id, text=kept, created_at=now(), created_by=caller.actor)
    s.add(row)
    s.flush()
    ledger.append(
        s,
        EventType.ANNOTATION,
        actor=caller.actor,
        object_type="item",
        object_id=item_id,
        details={
            "action": "note added",
            "note": row.id,
            "text_hmac": protected.query_digest(s, f"note:{kept}"),
            "length": len(kept),
            "pseudonymised": replaced,
            **caller.audit(),
        },
    )
    return row


def of_item(s: Session, caller: Caller, item_id: int) -> list[dict[str, Any]]:
    """The notes on one item, oldest first, as the caller may see them ([] if not)."""
    rows = s.execute(
        select(ItemNote)
        .where(ItemNote.item_id == item_id, annotations_visible(caller, ItemNote.item_id))
        .order_by(ItemNote.id)
    ).scalars()
    return [
        {
            "id": n.id,
            "item": n.item_id,
            "text": n.text,
            "by": n.created_by,
            "at": n.created_at.isoformat(),
        }
        for n in rows
    ]
