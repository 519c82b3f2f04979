"""Attestation: a legal officer's word that an item whose content inventory is not complete
(encrypted, past an unpack limit, a format with no reader, OCR that failed …) was examined by
hand and may be disclosed. It is a custody event, pinned to the item's bytes; it lets an
incomplete inventory through the leak check, never a protected name that is found.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from amanah.access import Caller, Permission, visible_item
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import InventoryAttestation
from amanah.sharing import SharingError
from amanah.sharing.protected import Matcher
from amanah.workspace import Workspace


def attest(ws: Workspace, caller: Caller, item_id: int, note: str) -> dict[str, Any]:
    """Record that `item_id` was examined by hand; the note is stored pseudonymised."""
    caller.require(Permission.MANAGE_REQUESTS)
    if not note.strip():
        raise SharingError("say how the item was examined (--note)")
    with ws.db.session() as s:
        item = visible_item(s, caller, item_id)
        note, _ = Matcher.load(s).pseudonymise(" ".join(note.split()))
        now = datetime.now(UTC)
        s.add(
            InventoryAttestation(
                item_id=item.id, sha256=item.sha256, actor=caller.actor, note=note, attested_at=now
            )
        )
        reasons = json.loads(item.inventory_reasons or "[]")
        ledger.append(
            s,
            EventType.VALIDATION,
            actor=caller.actor,
            object_type="item",
            object_id=item.id,
            details={
                "attestation": "content examined by hand",
                "sha256": item.sha256,
                "inventory": item.inventory,
                "reasons": len(reasons),
                "note": note,
            },
        )
        return {
            "item": item.id,
            "sha256": item.sha256,
            "inventory": item.inventory,
            "attested_by": caller.actor,
            "attested_at": now.isoformat(),
        }


def request_items(ws: Workspace, caller: Caller, reference: str) -> list[int]:
    """Items marked relevant for a request (as the caller may see them) whose inventory is not
    complete and that no one has attested for their bytes as they are: what `--request`
    attests."""
    from sqlalchemy import select

    from amanah.db.models import Item
    from amanah.rfa import review

    caller.require(Permission.MANAGE_REQUESTS)
    with ws.db.reader() as s:
        ids = [r["item_id"] for r in review.rows(s, caller, reference, "relevant")]
        done = {
            (a.item_id, a.sha256)
            for a in s.execute(
                select(InventoryAttestation).where(InventoryAttestation.item_id.in_(ids))
            ).scalars()
        }
        return [
            i.id
            for i in s.execute(select(Item).where(Item.id.in_(ids)).order_by(Item.id)).scalars()
            if i.inventory != "complete" and (i.id, i.sha256) not in done
        ]


def attest_many(
    ws: Workspace, caller: Caller, item_ids: list[int], note: str
) -> list[dict[str, Any]]:
    """Attest several items with one note: each is its own attestation and custody event."""
    if not note.strip():
        raise SharingError("say how the items were examined (--note)")
    return [attest(ws, caller, i, note) for i in item_ids]
