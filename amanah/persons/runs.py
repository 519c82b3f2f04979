"""A linkage run as the review queue keeps it: opened with its lists and settings, its pairs
inserted in batches, closed with its counts and one custody event per list; and the counts a
reader sees (only the pairs whose lists, records and evidence they may see). Record-to-record
runs (`persons.review`) and record-to-evidence runs (`persons.evidence`) share it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, insert, select
from sqlalchemy.orm import Session

from amanah.access import Caller, linkage_pairs_visible
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import LinkagePair, LinkageRun, LinkageRunList, PersonList


def open_run(
    s: Session,
    caller: Caller,
    plists: Sequence[PersonList],
    *,
    link_type: str,
    threshold: float,
    review_margin: float,
    floor: float,
    settings: dict[str, Any],
) -> LinkageRun:
    """A new run on these lists (flushed: it has its id)."""
    run = LinkageRun(
        link_type=link_type,
        threshold=threshold,
        review_margin=review_margin,
        floor=floor,
        settings=json.dumps(settings, ensure_ascii=False),
        created_at=datetime.now(UTC),
        created_by=caller.actor,
    )
    s.add(run)
    s.flush()
    s.execute(insert(LinkageRunList), [{"run_id": run.id, "list_id": p.id} for p in plists])
    return run


def insert_pairs(s: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert pairs of a run; their ids in the order given."""
    if not rows:
        return []
    return list(
        s.execute(
            insert(LinkagePair).returning(LinkagePair.id, sort_by_parameter_order=True),
            list(rows),
        ).scalars()
    )


def close_run(
    s: Session,
    caller: Caller,
    run: LinkageRun,
    plists: Sequence[PersonList],
    *,
    pairs: int,
    links: int,
    to_review: int,
    action: str,
    details: dict[str, Any],
) -> None:
    """Set the run's counts and write its custody event on each of its lists."""
    run.pairs, run.links, run.to_review = pairs, links, to_review
    for plist in plists:
        ledger.append(
            s,
            EventType.ENTITY_CHANGE,
            actor=caller.actor,
            object_type="person_list",
            object_id=plist.id,
            details={"action": action, "run": run.id, **details, **caller.audit()},
        )


def visible_counts(s: Session, caller: Caller, run: LinkageRun) -> dict[str, int]:
    """A run's counts as this reader may know them: only the pairs whose records (both lists),
    entity and mention they may see. The counts stored with the run include pairs of lists
    or evidence the reader lacks, or of an item since withheld; a number must not tell of
    them."""
    pairs, links, to_review = s.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((LinkagePair.match, 1), else_=0)), 0),
            func.coalesce(func.sum(case((LinkagePair.review, 1), else_=0)), 0),
        ).where(LinkagePair.run_id == run.id, linkage_pairs_visible(caller))
    ).one()
    return {"pairs": int(pairs), "links": int(links), "to_review": int(to_review)}
