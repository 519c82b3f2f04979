"""Requests for assistance and their lifecycle, every change dated and attributed.

The lifecycle is data (TRANSITIONS): received → acknowledged → in progress → in review →
responded → closed, or declined (with a reason) or partially met. The searches run for a
request are the search-log entries that carry its id: the record of the search's scope.

A request has compartments (`request_compartments`): who may see it, and which items it may
see, are decided in amanah.access; every function here that shows something takes the caller.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from amanah.access import (
    DEFAULT_COMPARTMENT,
    Caller,
    NotVisible,
    candidates_visible,
    packages_visible,
    requests_visible,
    searches_visible,
    visible_request,
)
from amanah.db.models import (
    Jurisdiction,
    Package,
    Request,
    RequestCompartment,
    RequestEvent,
    Review,
    SearchLog,
)
from amanah.rfa import RequestError, jurisdictions

STATES = (
    "received",
    "acknowledged",
    "in_progress",
    "in_review",
    "responded",
    "partially_met",
    "declined",
    "closed",
)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "received": ("acknowledged", "declined"),
    "acknowledged": ("in_progress", "declined"),
    "in_progress": ("in_review", "declined"),
    "in_review": ("in_progress", "responded", "partially_met", "declined"),
    "responded": ("closed",),
    "partially_met": ("closed",),
    "declined": ("closed",),
    "closed": (),
}
#: States in which the request has been answered (its days to respond are counted).
ANSWERED = ("responded", "partially_met")
OPEN = ("received", "acknowledged", "in_progress", "in_review")
#: States in which a request is over: its deadline is history, not something to change.
FINISHED = ("declined", "closed")
#: A deadline further than this many years after receipt is a mistyped year (2206, 9999).
DEADLINE_YEARS = 10
DECLINE_REASONS = (
    "out_of_mandate",
    "insufficient_resources",
    "no_relevant_material",
    "not_competent",
    "provider_terms",
    "withdrawn",
    "other",
)
URGENCIES = ("urgent", "normal")
SUBJECT_LISTS = ("persons", "organisations", "places", "crimes")


def now() -> datetime:
    return datetime.now(UTC)


def get(s: Session, reference: str) -> Request:
    """The request by reference, for code that has already checked the caller may see it."""
    row = s.execute(select(Request).where(Request.reference == reference)).scalar_one_or_none()
    if row is None:
        raise RequestError(f"no request for assistance {reference!r} (see `amanah rfa list`)")
    return row


def visible(s: Session, caller: Caller, reference: str) -> Request:
    """The request if the caller may see it; NotVisible (404) otherwise, absent or hidden."""
    return visible_request(s, caller, reference=reference)


def compartments_of(s: Session, request_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = sorted(set(request_ids))
    out: dict[int, list[str]] = {i: [] for i in ids}
    for i in range(0, len(ids), 900):
        for rid, comp in s.execute(
            select(RequestCompartment.request_id, RequestCompartment.compartment)
            .where(RequestCompartment.request_id.in_(ids[i : i + 900]))
            .order_by(RequestCompartment.compartment)
        ):
            out[rid].append(comp)
    return {rid: found or [DEFAULT_COMPARTMENT] for rid, found in out.items()}


def create(
    s: Session,
    reference: str,
    jurisdiction: str,
    *,
    received_on: date,
    actor: str,
    urgency: str = "normal",
    deadline: date | None = None,
    subject: str = "",
    fields: dict[str, Any] | None = None,
    assignee: str = "",
    compartments: Iterable[str] = (DEFAULT_COMPARTMENT,),
    caller: Caller | None = None,
) -> Request:
    """Record a request as received, in the given compartments (chosen by the caller among
    their own: see access.choose_request_compartments); its assignee checked as `assign`
    checks one, for `caller`."""
    reference = reference.strip()
    chosen = sorted({c.strip() for c in compartments if c.strip()})
    if not chosen:
        raise RequestError("a request needs at least one compartment")
    if any(len(c) > 200 for c in chosen):
        raise RequestError("a compartment name has at most 200 characters")
    if not reference or len(reference) > 100:
        raise RequestError("a request needs a reference of at most 100 characters")
    if urgency not in URGENCIES:
        raise RequestError(f"urgency {urgency!r} is not known: choose {', '.join(URGENCIES)}")
    if received_on > date.today():
        raise RequestError(f"received on {received_on}: that date is in the future")
    if deadline is not None and deadline < received_on:
        raise RequestError(f"deadline {deadline} is before the request was received")
    if s.execute(select(Request.id).where(Request.reference == reference)).first():
        raise RequestError(f"a request with reference {reference!r} already exists")
    j = jurisdictions.get(s, jurisdiction)
    row = Request(
        reference=reference,
        jurisdiction_id=j.id,
        received_on=received_on,
        urgency=urgency,
        deadline=deadline,
        subject=_clean(s, subject.strip(), "the subject"),
        subject_fields=json.dumps(
            _pseudonymised(s, clean_fields(fields or {})), ensure_ascii=False
        ),
        state="received",
        decline_reason="",
        assignee=assignee,
        notes="",
        created_at=now(),
        created_by=actor,
    )
    s.add(row)
    s.flush()
    s.add_all(RequestCompartment(request_id=row.id, compartment=c) for c in chosen)
    s.flush()
    check_assignee(s, row, assignee.strip(), caller)
    _event(s, row, actor, "", "received", f"received on {received_on.isoformat()}")
    return row


def clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The structured subject: lists of names, and an optional period as ISO dates."""
    out: dict[str, Any] = {}
    for key in SUBJECT_LISTS:
        values = fields.get(key) or []
        if isinstance(values, str):
            values = [values]
        out[key] = [str(v).strip() for v in values if str(v).strip()]
    for key in ("period_from", "period_to"):
        value = fields.get(key)
        if value:
            try:
                out[key] = date.fromisoformat(str(value)).isoformat()
            except ValueError:
                raise RequestError(f"{key} {value!r}: expected a date as YYYY-MM-DD") from None
    unknown = set(fields) - {*SUBJECT_LISTS, "period_from", "period_to"}
    if unknown:
        raise RequestError(f"unknown subject fields: {', '.join(sorted(unknown))}")
    return out


def _pseudonymised(s: Session, fields: dict[str, Any]) -> dict[str, Any]:
    """The structured subject kept as the subject is: every protected name by its pseudonym."""
    return {
        key: [_clean(s, v, f"the subject's {key}") for v in value]
        if key in SUBJECT_LISTS
        else value
        for key, value in fields.items()
    }


def _clean(s: Session, text: str, what: str) -> str:
    """Free text with protected persons' names replaced by their pseudonyms (never at rest in
    clear); a name hidden where it cannot be replaced is refused."""
    from amanah.sharing import SharingError, protected

    try:
        return protected.clean_text(s, text, what)
    except SharingError as exc:
        raise RequestError(str(exc), code="hidden_name", what=what) from None


def clean_note(s: Session, note: str) -> str:
    """A note typed on a request (a state change's, a review decision's) as it is kept."""
    return _clean(s, note, "the note")


def _event(s: Session, req: Request, actor: str, old: str, new: str, note: str = "") -> None:
    note = clean_note(s, note)
    s.add(
        RequestEvent(
            request_id=req.id, at=now(), actor=actor, from_state=old, to_state=new, note=note
        )
    )


def move(
    s: Session,
    reference: str,
    to_state: str,
    actor: str,
    *,
    reason: str = "",
    note: str = "",
    on: date | None = None,
) -> Request:
    """Change the request's state if the lifecycle allows it; `on` dates a response."""
    req = get(s, reference)
    if to_state not in STATES:
        raise RequestError(f"no state {to_state!r}; states are {', '.join(STATES)}")
    allowed = TRANSITIONS[req.state]
    if to_state not in allowed:
        raise RequestError(
            f"request {reference} is {req.state}: it can move to "
            f"{', '.join(allowed) or 'nothing (it is closed)'}, not to {to_state}"
        )
    if to_state == "declined":
        if reason not in DECLINE_REASONS:
            raise RequestError(f"declining needs --reason, one of {', '.join(DECLINE_REASONS)}")
        req.decline_reason = reason
    elif reason:
        raise RequestError("a reason is given only when a request is declined")
    if to_state in ANSWERED:
        day = on or date.today()
        if day < req.received_on:
            raise RequestError(f"responded on {day}: before the request was received")
        req.responded_on = day
    old = req.state
    req.state = to_state
    _event(s, req, actor, old, to_state, note or reason)
    return req


def advance(s: Session, reference: str, to_state: str, actor: str, note: str) -> str:
    """Move an open request forward along the lifecycle to `to_state`, one recorded step at a
    time, because the work done says it is there (a package built: in review). A request
    already there or beyond, or declined, is left as it is. Returns the state it is in."""
    req = get(s, reference)
    if req.state not in OPEN or to_state not in OPEN:
        return req.state
    while OPEN.index(req.state) < OPEN.index(to_state):
        move(s, reference, OPEN[OPEN.index(req.state) + 1], actor, note=note)
    return req.state


def check_assignee(s: Session, req: Request, name: str, caller: Caller | None = None) -> None:
    """A request goes to an account that works in this installation and may see it (its role
    and every compartment of the request): never to a name nobody holds, nor to someone whose
    need-to-know it would break. An empty name leaves it with nobody. An account the caller
    may not know of (`account_known`) is answered as no account."""
    from amanah.access.users import account_known, account_of, caller_for
    from amanah.db.models import User

    if not name:
        return
    user = s.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if (
        user is not None
        and caller is not None
        and not account_known(s, caller, caller_for(s, account_of(user)))
    ):
        user = None
    if user is None:
        raise RequestError(f"no user named {name!r} (see `amanah user list`)", code="no_user")
    if user.disabled:
        raise RequestError(f"user {name!r} is disabled", code="user_disabled")
    seen = s.execute(
        select(Request.id).where(
            Request.id == req.id, requests_visible(caller_for(s, account_of(user)))
        )
    ).first()
    if seen is None:
        raise RequestError(
            f"user {name!r} may not see request {req.reference} (their role or compartments)",
            code="assignee_may_not_see",
        )


def assign(
    s: Session, reference: str, assignee: str, actor: str, caller: Caller | None = None
) -> Request:
    req = get(s, reference)
    assignee = assignee.strip()
    check_assignee(s, req, assignee, caller)
    req.assignee = assignee
    _event(s, req, actor, req.state, req.state, f"assigned to {assignee or 'nobody'}")
    return req


def set_deadline(s: Session, reference: str, deadline: date | None, actor: str) -> Request:
    """Set or clear the request's deadline (dated and attributed in its history)."""
    req = get(s, reference)
    if req.state in FINISHED:
        raise RequestError(
            f"request {reference} is {req.state}: it has no deadline to keep",
            code="deadline_finished",
            state=req.state,
        )
    if deadline is not None and deadline < req.received_on:
        raise RequestError(
            f"deadline {deadline} is before the request was received ({req.received_on})",
            code="deadline_before_received",
            deadline=deadline.isoformat(),
            received=req.received_on.isoformat(),
        )
    if deadline is not None and deadline.year - req.received_on.year > DEADLINE_YEARS:
        raise RequestError(
            f"deadline {deadline} is more than {DEADLINE_YEARS} years after the request was"
            f" received ({req.received_on}): a mistyped year?",
            code="deadline_too_far",
            deadline=deadline.isoformat(),
            years=DEADLINE_YEARS,
        )
    req.deadline = deadline
    _event(s, req, actor, req.state, req.state, f"deadline {deadline or 'none'}")
    return req


def add_note(s: Session, reference: str, note: str, actor: str) -> Request:
    if not note.strip():
        raise RequestError("the note is empty")
    req = get(s, reference)
    note = clean_note(s, note)
    req.notes = (req.notes + "\n" if req.notes else "") + f"[{now():%Y-%m-%d} {actor}] {note}"
    _event(s, req, actor, req.state, req.state, note)
    return req


def attach_search(s: Session, caller: Caller, reference: str, search_id: int) -> None:
    """Count a search already run as one run for this request (its scope record)."""
    req = visible(s, caller, reference)
    actor = caller.actor
    row = s.execute(
        select(SearchLog).where(SearchLog.id == search_id, searches_visible(caller))
    ).scalar_one_or_none()
    if row is None:
        raise NotVisible(f"no search {search_id} in the search log (see `amanah searches`)")
    if row.request_id not in (None, req.id):
        raise RequestError(f"search {search_id} is already attached to another request")
    s.execute(update(SearchLog).where(SearchLog.id == search_id).values(request_id=req.id))
    _event(s, req, actor, req.state, req.state, f"search {search_id} attached")


def summary(req: Request, j: Jurisdiction, compartments: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": req.id,
        "reference": req.reference,
        "jurisdiction": j.code,
        "jurisdiction_name": f"{j.authority}, {j.state}",
        "received_on": req.received_on.isoformat(),
        "urgency": req.urgency,
        "deadline": req.deadline.isoformat() if req.deadline else None,
        "state": req.state,
        "decline_reason": req.decline_reason or None,
        "assignee": req.assignee,
        "subject": req.subject,
        "subject_fields": json.loads(req.subject_fields),
        "responded_on": req.responded_on.isoformat() if req.responded_on else None,
        "days_to_respond": days_to_respond(req),
        "compartments": compartments or [DEFAULT_COMPARTMENT],
    }


def days_to_respond(req: Request) -> int | None:
    if req.responded_on is None:
        return None
    return (req.responded_on - req.received_on).days


def list_requests(s: Session, caller: Caller, state: str | None = None) -> list[dict[str, Any]]:
    """The requests the caller may see, newest first."""
    stmt = (
        select(Request, Jurisdiction)
        .join(Jurisdiction)
        .where(requests_visible(caller))
        .order_by(Request.received_on.desc())
    )
    if state:
        if state not in STATES:
            raise RequestError(f"no state {state!r}; states are {', '.join(STATES)}")
        stmt = stmt.where(Request.state == state)
    rows = s.execute(stmt).all()
    comps = compartments_of(s, [r.id for r, _ in rows])
    return [summary(r, j, comps[r.id]) for r, j in rows]


def describe(s: Session, caller: Caller, reference: str) -> dict[str, Any]:
    """Everything about one request the caller may see: its record, history, searches, review
    (items of the request's compartments the caller may see) and packages."""
    req = visible(s, caller, reference)
    out = summary(
        req,
        s.get(Jurisdiction, req.jurisdiction_id),  # type: ignore[arg-type]
        compartments_of(s, [req.id])[req.id],
    )
    out["notes"] = req.notes
    out["events"] = [
        {
            "at": e.at.isoformat(),
            "actor": e.actor,
            "from": e.from_state,
            "to": e.to_state,
            "note": e.note,
        }
        for e in s.execute(
            select(RequestEvent).where(RequestEvent.request_id == req.id).order_by(RequestEvent.id)
        ).scalars()
    ]
    out["searches"] = [
        {
            "id": r.id,
            "at": r.at.isoformat(),
            "actor": r.actor,
            "query": r.query,
            "hits": r.hit_count,
        }
        for r in s.execute(
            select(SearchLog)
            .where(SearchLog.request_id == req.id, searches_visible(caller))
            .order_by(SearchLog.id)
        ).scalars()
    ]
    out["review"] = dict(
        s.execute(
            select(Review.decision, func.count())
            .where(Review.request_id == req.id, candidates_visible(s, caller, req))
            .group_by(Review.decision)
        ).all()
    )
    out["packages"] = [
        {"id": p.id, "created_at": p.created_at.isoformat(), "items": p.item_count}
        for p in s.execute(
            select(Package)
            .where(Package.request_id == req.id, packages_visible(caller))
            .order_by(Package.created_at)
        ).scalars()
    ]
    return out
