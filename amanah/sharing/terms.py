"""What a cooperation framework's terms allow for one request, item by item.

The rules are data on the framework (`disclosure`: any, consent, named, never); this module is
the one place that reads them, for review, consent letters and the package build alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import Caller
from amanah.db.models import (
    Collection,
    Consent,
    Framework,
    FrameworkJurisdiction,
    Item,
    Jurisdiction,
    Provider,
    Request,
)
from amanah.rfa import requests, review


class Disclosure(StrEnum):
    """A framework's disclosure rule."""

    ANY = "any"  # to any competent jurisdiction
    CONSENT = "consent"  # only with the provider's consent for each disclosure
    NAMED = "named"  # only to the jurisdictions the framework names
    NEVER = "never"


class Status(StrEnum):
    DISCLOSABLE = "disclosable"
    NEEDS_CONSENT = "needs_consent"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class ItemTerms:
    item_id: int
    status: Status
    reason: str
    provider_id: int
    provider: str
    framework_id: int | None
    attribution_required: bool


def _consent_for(consents: list[Consent], item_id: int) -> Consent | None:
    """The latest consent record of the provider that covers the item (all, or it by id)."""
    for c in reversed(consents):
        covered = json.loads(c.items)
        if not covered or item_id in covered:
            return c
    return None


def statuses(s: Session, req: Request, item_ids: Iterable[int]) -> dict[int, ItemTerms]:
    ids = sorted(set(item_ids))
    j = s.get(Jurisdiction, req.jurisdiction_id)
    assert j is not None
    consents: dict[int, list[Consent]] = {}
    for c in s.execute(
        select(Consent).where(Consent.request_id == req.id).order_by(Consent.at, Consent.id)
    ).scalars():
        consents.setdefault(c.provider_id, []).append(c)
    named: dict[int, set[int]] = {}
    for fid, jid in s.execute(
        select(FrameworkJurisdiction.framework_id, FrameworkJurisdiction.jurisdiction_id)
    ):
        named.setdefault(fid, set()).add(jid)
    out: dict[int, ItemTerms] = {}
    for i in range(0, len(ids), 900):
        rows = s.execute(
            select(Item.id, Collection.name, Provider.id, Provider.name, Framework)
            .join(Collection, Collection.id == Item.collection_id)
            .join(Provider, Provider.id == Collection.provider_id)
            .outerjoin(Framework, Framework.id == Collection.framework_id)
            .where(Item.id.in_(ids[i : i + 900]))
        ).all()
        for item_id, coll, prov_id, prov, fw in rows:
            status, reason = _status(req, j, coll, fw, named, consents.get(prov_id, []), item_id)
            out[item_id] = ItemTerms(
                item_id,
                status,
                reason,
                prov_id,
                prov,
                fw.id if fw else None,
                bool(fw and fw.attribution_required),
            )
    return out


def _status(
    req: Request,
    j: Jurisdiction,
    collection: str,
    fw: Framework | None,
    named: dict[int, set[int]],
    consents: list[Consent],
    item_id: int,
) -> tuple[Status, str]:
    if fw is None:
        return Status.BLOCKED, (
            f"collection {collection!r} has no cooperation framework recorded: link one "
            "(`amanah collection set NAME --framework ID`)"
        )
    label = f"framework {fw.id} ({fw.title})"
    rule = Disclosure(fw.disclosure)
    if rule is Disclosure.NEVER:
        return Status.BLOCKED, f"{label} allows no disclosure"
    if rule is Disclosure.NAMED and j.id not in named.get(fw.id, set()):
        return (
            Status.BLOCKED,
            f"{label} allows disclosure only to named jurisdictions, not {j.code}",
        )
    consent = _consent_for(consents, item_id)
    if consent is not None and consent.status == "withheld":
        return Status.BLOCKED, (
            f"the provider withheld consent on {consent.at:%Y-%m-%d}"
            + (f" ({consent.given_by})" if consent.given_by else "")
        )
    expired = fw.expires_on is not None and fw.expires_on < date.today()
    if rule is Disclosure.CONSENT or expired:
        if consent is not None and consent.status == "given":
            return Status.DISCLOSABLE, f"consent given on {consent.at:%Y-%m-%d}"
        why = f"{label} expired on {fw.expires_on}" if expired else f"{label} requires consent"
        asked = " (asked, no answer yet)" if consent is not None else ""
        return Status.NEEDS_CONSENT, f"{why}: the provider's consent is missing{asked}"
    if rule is Disclosure.NAMED:
        return Status.DISCLOSABLE, f"{label} names {j.code} among its recipients"
    return Status.DISCLOSABLE, f"{label} allows disclosure to competent jurisdictions"


def review_with_status(
    s: Session, caller: Caller, reference: str, decision: str | None = None
) -> list[dict[str, Any]]:
    """The review as the reviewer sees it, each candidate with its disclosure status."""
    rows = review.rows(s, caller, reference, decision)
    found = statuses(s, requests.get(s, reference), [r["item_id"] for r in rows])
    for r in rows:
        t = found[r["item_id"]]
        r["disclosure"], r["reason"] = t.status.value, t.reason
    _with_person_consent(s, caller, reference, rows)
    return rows


def _with_person_consent(
    s: Session, caller: Caller, reference: str, rows: list[dict[str, Any]]
) -> None:
    """Each row's `person_consent`: why a package build will leave it out (a victim's or
    survivor's consent does not cover the recipient for sharing), or empty."""
    from amanah.db.models import Jurisdiction
    from amanah.sharing import person_consent

    req = requests.get(s, reference)
    code = s.get(Jurisdiction, req.jurisdiction_id)
    why = person_consent.refusals(
        s, caller, {r["item_id"]: [] for r in rows}, "sharing", code.code if code else None
    )
    for r in rows:
        r["person_consent"] = why.get(r["item_id"], "")
