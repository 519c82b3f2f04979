"""Consent records: a provider's consent asked for, given or withheld, for one request.

Records and letters follow the request's need-to-know (amanah.access): only a caller who may
see the request sees its consent history, and a letter lists only items of the request's
compartments that the caller may see."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import (
    Caller,
    Permission,
    candidates_visible,
    collections_visible,
    for_request,
    providers_visible,
    visible_item_ids,
)
from amanah.db.models import Collection, Consent, Framework, Item, Jurisdiction, Provider, Review
from amanah.rfa import requests
from amanah.sharing import SharingError, letters
from amanah.sharing.protected import Matcher, clean_text, refuse_names

STATUSES = ("requested", "given", "withheld")
GIVEN_BY_NAMES_PROTECTED = (
    "who gave or withheld consent must not be named as a protected person (it is kept and"
    " shown in clear): name the provider's officer"
)


def record(
    s: Session,
    caller: Caller,
    reference: str,
    provider: str,
    status: str,
    *,
    items: list[int] | None = None,
    given_by: str = "",
    note: str = "",
) -> Consent:
    """Append a consent record; the latest record covering an item is the one that counts."""
    caller.require(Permission.MANAGE_REQUESTS)
    if status not in STATUSES:
        raise SharingError(f"consent status {status!r} is not known: choose {', '.join(STATUSES)}")
    if status in ("given", "withheld") and not given_by.strip():
        raise SharingError(f"say who {status} consent at the provider (--by NAME)")
    req = requests.visible(s, caller, reference)
    prov = s.execute(
        select(Provider).where(Provider.name == provider, providers_visible(caller))
    ).scalar_one_or_none()
    if prov is None:  # a provider the caller may not see is answered as one that is not
        raise SharingError(f"no provider named {provider!r}")
    refuse_names(s, SharingError(GIVEN_BY_NAMES_PROTECTED), given_by)
    # A note rests as a request's note does: protected names as pseudonyms.
    note = clean_text(s, note, "the note")
    ids = sorted(set(items or []))
    if ids:
        scoped = for_request(s, caller, req)
        theirs = set(
            s.execute(
                select(Item.id)
                .join(Collection, Collection.id == Item.collection_id)
                .where(
                    Item.id.in_(ids),
                    Collection.provider_id == prov.id,
                    collections_visible(scoped),
                )
            ).scalars()
        )
        foreign = [i for i in ids if i not in theirs]
        if foreign:
            raise SharingError(
                f"items {', '.join(map(str, foreign[:10]))} are not {provider!r}'s material"
            )
    row = Consent(
        request_id=req.id,
        provider_id=prov.id,
        status=status,
        items=json.dumps(ids),
        given_by=given_by.strip(),
        recorded_by=caller.actor,
        at=datetime.now(UTC),
        note=note,
    )
    s.add(row)
    s.flush()
    return row


def history(s: Session, caller: Caller, reference: str) -> list[dict[str, Any]]:
    """The consent records of a request the caller may see; item ids the caller may not see
    (or outside the request's compartments) are left out of each record."""
    req = requests.visible(s, caller, reference)
    records = s.execute(
        select(Consent, Provider.name)
        .join(Provider)
        .where(Consent.request_id == req.id)
        .order_by(Consent.at, Consent.id)
    ).all()
    named = sorted({i for c, _ in records for i in json.loads(c.items)})
    shown = visible_item_ids(s, for_request(s, caller, req), named)
    return [
        {
            "provider": name,
            "status": c.status,
            "items": [i for i in raw if i in shown] if (raw := json.loads(c.items)) else "all",
            "by": c.given_by,
            "recorded_by": c.recorded_by,
            "at": c.at.isoformat(),
            "note": c.note,
        }
        for c, name in records
    ]


def relevant_items_of(s: Session, caller: Caller, reference: str, provider: str) -> list[Item]:
    """The provider's items marked relevant for the request that the caller may see, within
    the request's compartments: what a consent letter lists."""
    req = requests.visible(s, caller, reference)
    return list(
        s.execute(
            select(Item)
            .join(Review, Review.item_id == Item.id)
            .join(Collection, Collection.id == Item.collection_id)
            .join(Provider, Provider.id == Collection.provider_id)
            .where(
                Review.request_id == req.id,
                Review.decision == "relevant",
                Provider.name == provider,
                candidates_visible(s, caller, req),
            )
            .order_by(Item.id)
        ).scalars()
    )


def letter(s: Session, caller: Caller, reference: str, provider: str) -> bytes:
    """The consent-request letter to one provider (PDF, English and Arabic), listing the items
    of theirs marked relevant; names in file names are replaced by pseudonyms."""
    caller.require(Permission.MANAGE_REQUESTS)
    req = requests.visible(s, caller, reference)
    items = relevant_items_of(s, caller, reference, provider)
    if not items:
        raise SharingError(
            f"no item of {provider!r} is marked relevant for {reference}: nothing to ask about"
        )
    j = s.get(Jurisdiction, req.jurisdiction_id)
    assert j is not None
    frameworks = sorted(
        {
            f"{fw.title} ({fw.id})"
            for fw in s.execute(
                select(Framework)
                .join(Collection, Collection.framework_id == Framework.id)
                .where(Collection.id.in_({i.collection_id for i in items}))
            ).scalars()
        }
    )
    matcher = Matcher.load(s)
    rows = [
        {
            "id": i.id,
            "name": matcher.pseudonymise(PurePosixPath(i.original_path).name)[0],
            "received": f"{i.intake_at:%Y-%m-%d}",
            "sha256": i.sha256,
        }
        for i in items
    ]
    return letters.render_pdf(
        "consent_request.html",
        c={
            "provider": provider,
            "reference": reference,
            "recipient": f"{j.authority}, {j.state}",
            "received_on": req.received_on.isoformat(),
            "date": datetime.now(UTC).date().isoformat(),
            "framework": ", ".join(frameworks) or "—",
            "count": len(items),
        },
        rows=rows,
    )
