"""Engagements with victims, survivors and CSOs: meetings, consultations, interviews.

An engagement records when and where it was held (text or a P-code), who took part as counts
by sex and age group (never names), organisations, topics, follow-up tasks with owners and due
dates, and the persons it concerns by pseudonym or person-list record id. A family's point of
contact is kept as a pseudonym only, with what they were told and when; protective measures
(no contact, relocation) belong to protected persons. Free text is stored with every
protected name replaced by its pseudonym. An engagement sits in a compartment: who sees it is
decided in `amanah.access` (`engagements_visible`). Every change is a custody event.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import (
    AccessDenied,
    Caller,
    NotVisible,
    Permission,
    engagements_visible,
    require_engagement_manager,
    visible_engagement,
)
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import (
    Engagement,
    EngagementPerson,
    EngagementTask,
    FamilyContact,
    ProtectiveMeasure,
)
from amanah.sharing import SharingError
from amanah.sharing.person_consent import Person, person_labels, resolve, visible_records
from amanah.sharing.protected import Matcher

KINDS = ("meeting", "consultation", "interview")
SEXES = ("f", "m", "x")  # female, male, not recorded
AGE_GROUPS = ("0-17", "18-59", "60+", "unknown")
PCODE = re.compile(r"^SY\d{2,10}$")


class EngagementError(SharingError):
    """An engagement request that cannot be carried out: the reason, for the user."""


@dataclass(frozen=True)
class Task:
    task: str
    owner: str
    due_on: date | None


#: More people in one group than any meeting holds is a typing slip (and past what the
#: database stores, a failure): refused.
MAX_PARTICIPANTS = 1_000_000


def parse_participants(values: Sequence[str]) -> dict[str, int]:
    """`f:18-59=3` (sex:age group=count), repeatable, into {"f:18-59": 3}."""
    out: dict[str, int] = {}
    for v in values:
        key, _, count = v.strip().partition("=")
        sex, _, age = key.partition(":")
        if sex not in SEXES or age not in AGE_GROUPS or not count.isdigit():
            raise EngagementError(
                f"participants {v!r}: write SEX:AGE=COUNT, SEX one of {', '.join(SEXES)}, AGE one"
                f" of {', '.join(AGE_GROUPS)} (e.g. f:18-59=3)"
            )
        out[key] = out.get(key, 0) + int(count)
        if out[key] > MAX_PARTICIPANTS:
            raise EngagementError(
                f"participants {v!r}: at most {MAX_PARTICIPANTS:,} people in a group"
            )
    return out


def parse_task(value: str) -> Task:
    """`TASK|OWNER|YYYY-MM-DD` (the date may be left out)."""
    parts = [p.strip() for p in value.split("|")]
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise EngagementError(f"task {value!r}: write TASK|OWNER|YYYY-MM-DD (the date optional)")
    due = None
    if len(parts) == 3 and parts[2]:
        try:
            due = date.fromisoformat(parts[2])
        except ValueError:
            raise EngagementError(
                f"task {value!r}: due date {parts[2]!r} is not a date as YYYY-MM-DD"
            ) from None
    return Task(parts[0], parts[1], due)


def _event(s: Session, caller: Caller, engagement_id: int, details: dict[str, Any]) -> None:
    ledger.append(
        s,
        EventType.ENTITY_CHANGE,
        actor=caller.actor,
        object_type="engagement",
        object_id=engagement_id,
        details={**details, **caller.audit()},
    )


def _clean(matcher: Matcher, text: str) -> str:
    """Free text with every protected name replaced by its pseudonym; refused when a name is
    still there once markup, spaced-out letters and joiners are read as a person reads them
    (it could not be replaced in place, and must not rest in clear)."""
    return matcher.at_rest(text, "the text", EngagementError)[0]


def add(
    s: Session,
    caller: Caller,
    *,
    kind: str,
    held_on: date,
    place: str = "",
    pcode: str = "",
    compartment: str = "default",
    organisations: Sequence[str] = (),
    topics: Sequence[str] = (),
    participants: dict[str, int] | None = None,
    persons: Sequence[str] = (),
    tasks: Sequence[Task] = (),
    notes: str = "",
) -> Engagement:
    """Record an engagement in a compartment the caller holds."""
    require_engagement_manager(caller)
    if kind not in KINDS:
        raise EngagementError(f"kind {kind!r} is not known: choose {', '.join(KINDS)}")
    if pcode and not PCODE.match(pcode.strip()):
        raise EngagementError(f"P-code {pcode!r}: expected e.g. SY01 or SY0100")
    if held_on > datetime.now(UTC).date():
        raise EngagementError(f"date {held_on.isoformat()} is in the future")
    if compartment not in caller.compartments:
        raise AccessDenied(f"you do not hold compartment {compartment!r}")
    resolved = [resolve(s, caller, p) for p in dict.fromkeys(persons)]
    matcher = Matcher.load(s)
    row = Engagement(
        kind=kind,
        held_on=held_on,
        place=_clean(matcher, place),
        pcode=pcode.strip(),
        compartment=compartment,
        organisations=json.dumps([_clean(matcher, o) for o in organisations if o.strip()]),
        topics=json.dumps([_clean(matcher, t) for t in topics if t.strip()]),
        participants=json.dumps(participants or {}),
        notes=_clean(matcher, notes),
        created_by=caller.actor,
        created_at=datetime.now(UTC),
    )
    s.add(row)
    s.flush()
    s.add_all(EngagementPerson(engagement_id=row.id, **p.columns()) for p in resolved)
    s.add_all(
        EngagementTask(
            engagement_id=row.id,
            task=_clean(matcher, t.task),
            owner=_clean(matcher, t.owner),
            due_on=t.due_on,
        )
        for t in tasks
    )
    s.flush()
    _event(
        s,
        caller,
        row.id,
        {
            "action": "engagement added",
            "kind": kind,
            "held_on": held_on.isoformat(),
            "compartment": compartment,
            "persons": [p.label for p in resolved],
            "tasks": len(tasks),
        },
    )
    return row


def list_all(s: Session, caller: Caller) -> list[dict[str, Any]]:
    """Engagements the caller may see, newest first, with open tasks counted."""
    rows = s.execute(
        select(Engagement)
        .where(engagements_visible(caller))
        .order_by(Engagement.held_on.desc(), Engagement.id.desc())
    ).scalars()
    out = []
    for e in rows:
        tasks = list(
            s.execute(select(EngagementTask).where(EngagementTask.engagement_id == e.id)).scalars()
        )
        out.append(
            {
                "id": e.id,
                "kind": e.kind,
                "held_on": e.held_on.isoformat(),
                "place": e.place,
                "pcode": e.pcode,
                "compartment": e.compartment,
                "participants": sum(json.loads(e.participants).values()),
                "open_tasks": sum(t.done_at is None for t in tasks),
            }
        )
    return out


def _seen(s: Session, caller: Caller, rows: Iterable[Any]) -> list[Any]:
    """The rows about persons the caller may know of: a protected person (by pseudonym), or a
    record of a list the caller may see. An engagement in the caller's compartment may
    concern a record of a list in another: its id would tell that the record exists."""
    rows = list(rows)
    ids = {r.person_record_id for r in rows if r.person_record_id is not None}
    seen = visible_records(s, caller, ids)
    return [r for r in rows if r.person_record_id is None or r.person_record_id in seen]


def show(s: Session, caller: Caller, engagement_id: int) -> dict[str, Any]:
    """One engagement with its persons (pseudonyms, record ids), tasks, what families were
    told, and the protective measures of the protected persons it concerns."""
    e = visible_engagement(s, caller, engagement_id)
    persons = _seen(
        s,
        caller,
        s.execute(select(EngagementPerson).where(EngagementPerson.engagement_id == e.id)).scalars(),
    )
    labels = person_labels(s, persons)
    contacts = _seen(
        s,
        caller,
        s.execute(
            select(FamilyContact)
            .where(FamilyContact.engagement_id == e.id)
            .order_by(FamilyContact.told_on, FamilyContact.id)
        ).scalars(),
    )
    clabels = person_labels(s, contacts)
    today = datetime.now(UTC).date()
    return {
        "id": e.id,
        "kind": e.kind,
        "held_on": e.held_on.isoformat(),
        "place": e.place,
        "pcode": e.pcode,
        "compartment": e.compartment,
        "organisations": json.loads(e.organisations),
        "topics": json.loads(e.topics),
        "participants": json.loads(e.participants),
        "participants_total": sum(json.loads(e.participants).values()),
        "notes": e.notes,
        "created_by": e.created_by,
        "created_at": e.created_at.isoformat(),
        "persons": [
            {
                "person": labels[(p.protected_person_id, p.person_record_id)],
                **measures_of(s, p.protected_person_id),
            }
            for p in persons
        ],
        "tasks": [
            {
                "id": t.id,
                "task": t.task,
                "owner": t.owner,
                "due_on": t.due_on.isoformat() if t.due_on else "",
                "done": t.done_at is not None,
                "done_by": t.done_by,
                "overdue": t.done_at is None and t.due_on is not None and t.due_on < today,
            }
            for t in s.execute(
                select(EngagementTask)
                .where(EngagementTask.engagement_id == e.id)
                .order_by(EngagementTask.id)
            ).scalars()
        ],
        "contacts": [
            {
                "person": clabels[(c.protected_person_id, c.person_record_id)],
                "contact": c.contact,
                "relation": c.relation,
                "told": c.told,
                "told_on": c.told_on.isoformat(),
            }
            for c in contacts
        ],
    }


def task_done(s: Session, caller: Caller, task_id: int) -> EngagementTask:
    """Mark a follow-up task done (once)."""
    require_engagement_manager(caller)
    task = s.get(EngagementTask, task_id)
    if task is None:
        raise NotVisible(f"no task with id {task_id}")
    try:
        visible_engagement(s, caller, task.engagement_id)
    except NotVisible:
        raise NotVisible(f"no task with id {task_id}") from None
    if task.done_at is None:
        task.done_at = datetime.now(UTC)
        task.done_by = caller.actor
        _event(s, caller, task.engagement_id, {"action": "task done", "task": task_id})
    return task


def add_contact(
    s: Session,
    caller: Caller,
    engagement_id: int,
    person: str,
    contact: str,
    told: str,
    told_on: date,
    relation: str = "",
) -> FamilyContact:
    """Record what a person's family was told, when, through which point of contact. The
    contact is a pseudonym (e.g. "Contact A1"): a family member's name is never stored."""
    require_engagement_manager(caller)
    e = visible_engagement(s, caller, engagement_id)
    who: Person = resolve(s, caller, person)
    contact = contact.strip()
    if not contact:
        raise EngagementError("the point of contact needs a pseudonym (e.g. 'Contact A1')")
    matcher = Matcher.load(s)
    if matcher.names(contact) or matcher.names(relation):
        raise EngagementError(
            "the point of contact is named by a pseudonym only, not by a protected name"
        )
    if told_on > datetime.now(UTC).date():
        raise EngagementError(f"date {told_on.isoformat()} is in the future")
    row = FamilyContact(
        engagement_id=e.id,
        **who.columns(),
        contact=contact,
        relation=relation.strip(),
        told=_clean(matcher, told),
        told_on=told_on,
        recorded_by=caller.actor,
        recorded_at=datetime.now(UTC),
    )
    s.add(row)
    s.flush()
    _event(
        s,
        caller,
        e.id,
        {"action": "family told", "person": who.label, "contact": contact, "on": str(told_on)},
    )
    return row


def set_measures(
    s: Session,
    caller: Caller,
    pseudonym: str,
    *,
    no_contact: bool,
    relocation: bool,
    note: str = "",
) -> ProtectiveMeasure:
    """Record a protected person's protective measures (the latest record counts)."""
    caller.require(Permission.MANAGE_REQUESTS)
    who = resolve(s, caller, pseudonym)
    if who.protected_person_id is None:
        raise EngagementError("protective measures are for protected persons (a pseudonym)")
    row = ProtectiveMeasure(
        protected_person_id=who.protected_person_id,
        no_contact=no_contact,
        relocation=relocation,
        note=_clean(Matcher.load(s), note),
        recorded_by=caller.actor,
        recorded_at=datetime.now(UTC),
    )
    s.add(row)
    s.flush()
    ledger.append(
        s,
        EventType.RESTRICTION_CHANGE,
        actor=caller.actor,
        object_type="person",
        object_id=who.label,
        details={
            "action": "protective measures",
            "no_contact": no_contact,
            "relocation": relocation,
            **caller.audit(),
        },
    )
    return row


def measures_of(s: Session, protected_person_id: int | None) -> dict[str, Any]:
    if protected_person_id is None:
        return {"no_contact": False, "relocation": False}
    row = s.execute(
        select(ProtectiveMeasure)
        .where(ProtectiveMeasure.protected_person_id == protected_person_id)
        .order_by(ProtectiveMeasure.recorded_at.desc(), ProtectiveMeasure.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return {
        "no_contact": bool(row and row.no_contact),
        "relocation": bool(row and row.relocation),
    }


__all__ = [
    "AGE_GROUPS",
    "KINDS",
    "SEXES",
    "EngagementError",
    "Task",
    "add",
    "add_contact",
    "list_all",
    "measures_of",
    "parse_participants",
    "parse_task",
    "set_measures",
    "show",
    "task_done",
]
