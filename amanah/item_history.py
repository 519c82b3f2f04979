"""Where an item has been: its custody events with what each was about, and the requests and
packages it went into, each only as far as the caller may see it.

The item page tells this in words ("OCR text of page 3 made", "disclosed in package PKG-…");
the words are the page's business, the facts and the need-to-know are decided here (with
amanah.access) so no page can show a request or a package its reader may not see.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import (
    Caller,
    custody_visible,
    packages_visible,
    requests_visible,
    visible_item,
)
from amanah.access.users import aware
from amanah.custody.ledger import EventType
from amanah.db.models import CustodyEvent, Jurisdiction, Package, PackageItem, Request, Review
from amanah.workspace import Workspace

#: What of an event's details a reader is told; hashes, sandboxes and addresses stay in the
#: ledger (the audit page and `amanah custody` show all of it).
_TOLD = ("derivative", "page", "pages", "action", "complete", "collection", "provider")


def history(ws: Workspace, caller: Caller, item_id: int) -> dict[str, Any]:
    """The item's events (oldest first) with the details worth telling, the requests it is a
    candidate of and the packages that carried it, all filtered by the caller's need-to-know.
    An event of a package or a request the caller may not see (a disclosure in it) is not
    told at all: that the item went out to someone is the request's business."""
    with ws.db.reader() as s:
        visible_item(s, caller, item_id)  # NotVisible: the item does not exist for them
        events, requests, packages = timeline(s, caller, item_id)
    return {"events": events, "requests": requests, "packages": packages}


def timeline(
    s: Session, caller: Caller, item_id: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The item's events, requests and packages as the caller may know them (`history`, and
    the item's record, `items.show`): one rule for both."""
    packages = [
        {
            "id": p.id,
            "request": ref,
            "recipient": code,
            "created_at": aware(p.created_at).isoformat(),
            "variant": variant,
        }
        for p, ref, code, variant in s.execute(
            select(Package, Request.reference, Jurisdiction.code, PackageItem.variant)
            .join(PackageItem, PackageItem.package_id == Package.id)
            .join(Request, Request.id == Package.request_id)
            .join(Jurisdiction, Jurisdiction.id == Package.jurisdiction_id)
            .where(PackageItem.item_id == item_id, packages_visible(caller))
            .order_by(Package.created_at)
        ).all()
    ]
    requests = [
        {
            "id": r.id,
            "reference": r.reference,
            "state": r.state,
            "recipient": code,
            "decision": decision,
        }
        for r, code, decision in s.execute(
            select(Request, Jurisdiction.code, Review.decision)
            .join(Review, Review.request_id == Request.id)
            .join(Jurisdiction, Jurisdiction.id == Request.jurisdiction_id)
            .where(Review.item_id == item_id, requests_visible(caller))
            .order_by(Request.received_on, Request.id)
        ).all()
    ]
    seen_packages = {p["id"] for p in packages}
    seen_requests = {r["reference"] for r in requests} | {p["request"] for p in packages}
    events = []
    for e in s.execute(
        select(CustodyEvent)
        .where(
            CustodyEvent.object_type == "item",
            CustodyEvent.object_id == str(item_id),
            custody_visible(caller),
        )
        .order_by(CustodyEvent.seq)
    ).scalars():
        details = json.loads(e.details or "{}")
        if (details.get("package") and details["package"] not in seen_packages) or (
            details.get("request") and details["request"] not in seen_requests
        ):
            continue  # a package or request the caller may not see: its event neither
        told = {k: details[k] for k in _TOLD if k in details}
        if details.get("package") in seen_packages:
            told["package"] = details["package"]
        if details.get("request") in seen_requests:
            told["request"] = details["request"]
        events.append(_told(e, told))
    # A package carrying the item downloaded is a read of the item: told on its timeline
    # too, for packages the caller may see (the event itself is the package's).
    if seen_packages:
        for e in s.execute(
            select(CustodyEvent).where(
                CustodyEvent.object_type == "package",
                CustodyEvent.object_id.in_(sorted(seen_packages)),
                CustodyEvent.event_type == EventType.DOWNLOAD.value,
                custody_visible(caller),
            )
        ).scalars():
            events.append(_told(e, {"package": e.object_id}))
        events.sort(key=lambda e: e["seq"])
    return events, requests, packages


def _told(e: CustodyEvent, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "type": e.event_type,
        "time": e.occurred_at,
        "actor": e.actor,
        "outcome": e.outcome,
        "details": details,
    }
