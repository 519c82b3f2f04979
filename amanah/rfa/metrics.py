"""Response metrics of requests for assistance, for the results framework: days to respond,
open requests by age, by jurisdiction and urgency, and reasons for declining. Each caller's
figures count the requests they may see (amanah.access), no more."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import Caller, requests_visible
from amanah.db.models import Jurisdiction, Request
from amanah.rfa.requests import ANSWERED, OPEN, days_to_respond

AGE_BUCKETS = ((30, "0-30"), (90, "31-90"), (180, "91-180"), (365, "181-365"))


def _age_bucket(days: int) -> str:
    for limit, label in AGE_BUCKETS:
        if days <= limit:
            return label
    return ">365"


def _stats(days: list[int]) -> dict[str, Any]:
    if not days:
        return {"answered": 0, "median_days": None, "mean_days": None, "max_days": None}
    return {
        "answered": len(days),
        "median_days": statistics.median(days),
        "mean_days": round(statistics.fmean(days), 1),
        "max_days": max(days),
    }


def compute(s: Session, caller: Caller, today: date | None = None) -> dict[str, Any]:
    today = today or date.today()
    rows = s.execute(
        select(Request, Jurisdiction.code).join(Jurisdiction).where(requests_visible(caller))
    ).all()
    per_request = []
    answered: list[int] = []
    by_group: dict[tuple[str, str], list[Request]] = defaultdict(list)
    ages: Counter[str] = Counter()
    declined: Counter[str] = Counter()
    for req, code in rows:
        days = days_to_respond(req)
        per_request.append(
            {
                "reference": req.reference,
                "jurisdiction": code,
                "urgency": req.urgency,
                "state": req.state,
                "received_on": req.received_on.isoformat(),
                "days_to_respond": days,
                "age_days": (today - req.received_on).days if req.state in OPEN else None,
            }
        )
        if req.state in ANSWERED or (req.state == "closed" and days is not None):
            answered.append(days or 0)
        if req.state in OPEN:
            ages[_age_bucket((today - req.received_on).days)] += 1
        if req.decline_reason:
            declined[req.decline_reason] += 1
        by_group[(code, req.urgency)].append(req)
    groups = []
    for (code, urgency), reqs in sorted(by_group.items()):
        done = [d for r in reqs if (d := days_to_respond(r)) is not None]
        groups.append(
            {
                "jurisdiction": code,
                "urgency": urgency,
                "requests": len(reqs),
                "open": sum(r.state in OPEN for r in reqs),
                "declined": sum(bool(r.decline_reason) for r in reqs),
                **_stats(done),
            }
        )
    return {
        "as_of": today.isoformat(),
        "requests": len(rows),
        "open": sum(ages.values()),
        "days_to_respond": _stats(answered),
        "open_by_age": {label: ages.get(label, 0) for _, label in AGE_BUCKETS}
        | {">365": ages.get(">365", 0)},
        "by_jurisdiction_and_urgency": groups,
        "declined_by_reason": dict(declined.most_common()),
        "per_request": sorted(per_request, key=lambda r: r["received_on"]),
    }
