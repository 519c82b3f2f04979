"""The audit trail of reads: who viewed, downloaded, searched or exported what, when, from where.

Reads of items are custody events (access, download, disclosure) in the ledger; searches are
in the search log with their own access event. This module only reads them back, with filters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from amanah.db.models import CustodyEvent

if TYPE_CHECKING:
    from amanah.workspace import Workspace

READ_EVENTS = ("access", "download", "disclosure", "restriction change")


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    event_type: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: str | None = None  # RFC 3339 or a date, compared as text like the ledger stores it
    until: str | None = None
    limit: int = 200


def events(ws: Workspace, f: AuditFilter) -> list[dict[str, Any]]:
    """Read events, newest first."""
    types = (f.event_type,) if f.event_type else READ_EVENTS
    q = select(CustodyEvent).where(CustodyEvent.event_type.in_(types))
    if f.actor:
        q = q.where(CustodyEvent.actor == f.actor)
    if f.object_type:
        q = q.where(CustodyEvent.object_type == f.object_type)
    if f.object_id:
        q = q.where(CustodyEvent.object_id == f.object_id)
    if f.since:
        q = q.where(CustodyEvent.occurred_at >= f.since)
    if f.until:
        # A bare date includes the whole day.
        until = f.until + "T23:59:59.999999Z" if len(f.until) == 10 else f.until
        q = q.where(CustodyEvent.occurred_at <= until)
    q = q.order_by(CustodyEvent.seq.desc()).limit(max(1, min(f.limit, 1000)))
    with ws.db.reader() as s:
        return [
            {
                "seq": e.seq,
                "type": e.event_type,
                "time": e.occurred_at,
                "actor": e.actor,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "outcome": e.outcome,
                "details": json.loads(e.details),
            }
            for e in s.execute(q).scalars()
        ]
