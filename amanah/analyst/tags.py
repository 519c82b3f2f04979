"""Tags on items: short free labels, folded as search folds words ("Torture", "torture " and
"TORTURE" are one tag; Arabic hamza, alef and teh-marbuta forms too), shown as first written.

Adding and removing is a custody event on the item naming who, with the tag's keyed digest
(never its words: a label may turn out to name someone who must be protected). A label that
names a protected person is kept with the pseudonym instead, as the search log keeps queries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from amanah.access import (
    AccessDenied,
    Caller,
    Permission,
    annotatable_item,
    annotations_visible,
    visible_item_ids,
    withheld_item_ids,
)
from amanah.analyst import AnalystError, check_label, check_text, now
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import ItemTag
from amanah.text.analyzer import fold

MAX_LABEL = 100


def tag_key(label: str) -> str:
    """The folded form two spellings of one tag share: the analyzer's letter folding (which
    also drops ZWNJ and ZWJ, so a Persian word typed with or without its joiner is one tag),
    then whitespace collapsed."""
    return " ".join(fold(label).split())


def clean_label(s: Session, label: str) -> tuple[str, str]:
    """(label as shown, key) for what was typed; refuses an empty or over-long label."""
    from amanah.sharing import protected

    shown = " ".join(check_label(label, "a tag").split())
    if not shown:
        raise AnalystError("a tag needs a label: type a word or two")
    if len(shown) > MAX_LABEL:
        raise AnalystError(f"a tag is at most {MAX_LABEL} characters, not {len(shown)}")
    if '"' in shown:  # so that every tag can be searched for as tag:"…"
        raise AnalystError('a tag may not contain a double quote (")')
    shown, _ = protected.Matcher.load(s).at_rest(shown, "the tag", AnalystError)
    key = tag_key(shown)
    if not key:
        raise AnalystError("a tag needs a label: type a word or two")
    return shown, key


def _event(s: Session, caller: Caller, item_id: int, action: str, key: str) -> None:
    """Keyed (HMAC under the names key, as the search log's queries): an unkeyed digest of a
    short label could be confirmed by anyone guessing names against the exported ledger."""
    from amanah.sharing import protected

    digest = protected.query_digest(s, f"tag:{key}")
    ledger.append(
        s,
        EventType.ANNOTATION,
        actor=caller.actor,
        object_type="item",
        object_id=item_id,
        details={"action": action, "tag_hmac": digest, **caller.audit()},
    )


def add(s: Session, caller: Caller, item_id: int, label: str) -> bool:
    """Tag one item the caller may see; False when it already had the tag."""
    annotatable_item(s, caller, item_id)
    shown, key = clean_label(s, label)
    return _add(s, caller, [item_id], shown, key) == 1


def _add(s: Session, caller: Caller, item_ids: list[int], shown: str, key: str) -> int:
    """Insert the tag where it is missing, idempotently: two analysts adding one tag to one
    item at the same moment both succeed, one row is kept, and only the insert that made it
    records a custody event (a plain INSERT lost the race with a uniqueness error, a 500)."""
    # One spelling per tag, the first one written, among the tags the caller may see: the
    # spelling of a tag on a hidden item would tell that a hidden item carries it.
    first = s.execute(
        select(ItemTag.label)
        .where(ItemTag.key == key, annotations_visible(caller, ItemTag.item_id))
        .order_by(ItemTag.id)
        .limit(1)
    ).scalar()
    at = now()
    rows = [
        {"item_id": i, "key": key, "label": first or shown, "created_at": at,
         "created_by": caller.actor}
        for i in dict.fromkeys(item_ids)
    ]  # fmt: skip
    if not rows:
        return 0
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    made = s.execute(
        insert(ItemTag)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["item_id", "key"])
        .returning(ItemTag.item_id)
    ).scalars()
    new = sorted(made)
    for i in new:
        _event(s, caller, i, "tag added", key)
    return len(new)


def add_many(s: Session, caller: Caller, item_ids: Iterable[int], label: str) -> dict[str, int]:
    """Tag every item of `item_ids` the caller may see (a bulk action on a hit list): items
    outside their need-to-know are neither touched nor counted. Returns how many visible items
    were asked for (`items`) and how many newly got the tag (`tagged`)."""
    caller.require(Permission.ANNOTATE)
    if caller.provider_id is not None:
        raise AccessDenied("a provider's account may not annotate items")
    shown, key = clean_label(s, label)
    seen = sorted(visible_item_ids(s, caller, item_ids))
    tagged = 0
    for i in range(0, len(seen), 900):
        tagged += _add(s, caller, seen[i : i + 900], shown, key)
    return {"items": len(seen), "tagged": tagged}


def remove(s: Session, caller: Caller, item_id: int, label: str) -> bool:
    """Take a tag off an item the caller may see; False when it did not have it."""
    annotatable_item(s, caller, item_id)
    key = tag_key(" ".join(check_text(label, "a tag").split()))
    if not key:
        raise AnalystError("a tag needs a label: type a word or two")
    gone = s.execute(delete(ItemTag).where(ItemTag.item_id == item_id, ItemTag.key == key))
    if not gone.rowcount:  # type: ignore[attr-defined]
        return False
    _event(s, caller, item_id, "tag removed", key)
    return True


def of_item(s: Session, caller: Caller, item_id: int) -> list[dict[str, Any]]:
    """The tags on one item, as the caller may see them ([] when they may not)."""
    rows = s.execute(
        select(ItemTag)
        .where(ItemTag.item_id == item_id, annotations_visible(caller, ItemTag.item_id))
        .order_by(ItemTag.key)
    ).scalars()
    return [_row(t) for t in rows]


def counts(s: Session, caller: Caller) -> list[dict[str, Any]]:
    """Every tag with how many items the caller may see carry it (none seen: not listed).
    An item whose person withdrew consent for investigation is searched by no one, so it is
    not counted either: the count is what `tag:` finds."""
    withheld = sorted(withheld_item_ids(s))
    found = s.execute(
        select(ItemTag.key, func.min(ItemTag.label), func.count())
        .where(
            annotations_visible(caller, ItemTag.item_id),
            ItemTag.item_id.not_in(withheld) if withheld else true(),
        )
        .group_by(ItemTag.key)
        .order_by(ItemTag.key)
    ).all()
    return [{"tag": label, "key": key, "items": n} for key, label, n in found]


def items_tagged(s: Session, caller: Caller, label: str) -> set[int]:
    """The items the caller may see that carry the tag (the search filter `tag:`)."""
    key = tag_key(check_text(label, "a tag"))
    return set(
        s.execute(
            select(ItemTag.item_id).where(
                ItemTag.key == key, annotations_visible(caller, ItemTag.item_id)
            )
        ).scalars()
    )


def _row(t: ItemTag) -> dict[str, Any]:
    return {
        "tag": t.label,
        "key": t.key,
        "item": t.item_id,
        "by": t.created_by,
        "at": t.created_at.isoformat(),
    }
