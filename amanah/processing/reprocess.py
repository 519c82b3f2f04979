"""Extraction again for items preserved earlier, chosen with the search language's filters.

A reader that improves (DjVu and PST read at last, another OCR language for a collection, a
better Arabic text layer) helps only what is processed after it. `amanah reprocess --where
'type:pdf lang:ar'` chooses the items a search would find (need-to-know applies: the caller's
compartments), records a custody event for each with the query that chose it, and queues its
processing job again. The job reads the bytes afresh: a derivative that comes out different
replaces the row `derivatives` names (the newest is used) and the earlier one is kept in
`superseded_derivatives` with its blob; the item is indexed again in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update

from amanah import queue
from amanah.access import Caller
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import Item, Job, SupersededDerivative
from amanah.search import engine
from amanah.search.query import parse
from amanah.workspace import Workspace

BATCH = 500  # items queued per transaction


@dataclass
class Selection:
    where: str
    item_ids: list[int]
    #: Items whose processing job is queued or running already (nothing to add for them).
    busy: int = 0
    by_type: Counter[str] = field(default_factory=Counter)


def choose(ws: Workspace, caller: Caller, where: str) -> Selection:
    """The items `where` finds for `caller`; raises QueryError on a query that cannot run."""
    q = parse(where)
    engine.prepare(ws)  # the home's backend (tantivy by default) holds what is committed
    with ws.db.reader() as s:
        ids = engine.all_ids(s, caller, q, ws)
        found = Selection(where, sorted(ids))
        for start in range(0, len(ids), BATCH):
            chunk = found.item_ids[start : start + BATCH]
            for media_type, n in s.execute(
                select(Item.media_type, func.count())
                .where(Item.id.in_(chunk))
                .group_by(Item.media_type)
            ):
                found.by_type[media_type or "unidentified"] += n
            found.busy += (
                s.execute(
                    select(func.count())
                    .select_from(Job)
                    .where(
                        Job.item_id.in_(chunk),
                        Job.kind == "process",
                        Job.state.in_(("queued", "running")),
                    )
                ).scalar_one()
                or 0
            )
    return found


def request(ws: Workspace, caller: Caller, found: Selection) -> int:
    """Queue each chosen item's processing again, with its custody event; returns how many."""
    for start in range(0, len(found.item_ids), BATCH):
        chunk = found.item_ids[start : start + BATCH]
        with ws.db.session() as s:
            for item_id in chunk:
                queue.ensure(s, item_id, "process")
                ledger.append(
                    s,
                    EventType.REPROCESSING,
                    actor=caller.actor,
                    object_type="item",
                    object_id=item_id,
                    details={"where": found.where, "steps": "identify, extract, OCR, index"},
                )
            s.execute(update(Item).where(Item.id.in_(chunk)).values(processing="pending"))
    return len(found.item_ids)


def superseded_since(ws: Workspace, item_ids: list[int], since: datetime) -> int:
    """How many derivatives of these items were replaced by new ones since `since`."""
    total = 0
    with ws.db.reader() as s:
        for start in range(0, len(item_ids), BATCH):
            chunk = item_ids[start : start + BATCH]
            total += s.execute(
                select(func.count())
                .select_from(SupersededDerivative)
                .where(
                    SupersededDerivative.item_id.in_(chunk),
                    SupersededDerivative.superseded_at >= since,
                )
            ).scalar_one()
    return total
