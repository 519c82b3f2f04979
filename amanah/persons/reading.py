"""Seeing person lists and reading their records, within need-to-know (`amanah.access`):
the lists a caller may see with their counts and import reports, one list's file and report,
and its records, as linkage reads them (`records_of`) or with all they hold; reading records
is an audited access (a custody event in the reader's transaction)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from amanah.access import (
    Caller,
    person_lists_visible,
    person_records_linkable,
    person_records_visible,
    visible_person_list,
)
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import Item, PersonList, PersonListRecord
from amanah.persons.record import PersonRecord

BATCH = 1000


def lists(s: Session, caller: Caller) -> list[dict[str, Any]]:
    """The lists the caller may see, with their record counts and import reports."""
    counts = (
        select(PersonListRecord.list_id, func.count().label("n"))
        .where(person_records_visible(caller))
        .group_by(PersonListRecord.list_id)
        .subquery()
    )
    rows = s.execute(
        select(PersonList, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.list_id == PersonList.id)
        .where(person_lists_visible(caller))
        .order_by(PersonList.name)
    )
    return [_summary(plist, n) for plist, n in rows]


def _summary(plist: PersonList, records: int) -> dict[str, Any]:
    report = json.loads(plist.report or "{}")
    return {
        "name": plist.name,
        "compartment": plist.compartment,
        "item": plist.item_id,
        "records": records,
        "as_of": plist.as_of.isoformat() if plist.as_of else None,
        "key_column": plist.key_column,
        "created_at": plist.created_at.isoformat(),
        "created_by": plist.created_by,
        "imported_at": plist.imported_at.isoformat(),
        "report": report,
    }


def show(s: Session, caller: Caller, name: str) -> dict[str, Any]:
    """One list the caller may see: its summary, its file, and the items its records
    come from (a list read from several releases has several)."""
    plist = visible_person_list(s, caller, name)
    n = s.execute(
        select(func.count()).where(
            PersonListRecord.list_id == plist.id, person_records_visible(caller)
        )
    ).scalar_one()
    out = _summary(plist, n)
    out["mapping"] = json.loads(plist.mapping or "{}")
    by_item = s.execute(
        select(PersonListRecord.item_id, Item.sha256, Item.original_path, func.count())
        .join(Item, Item.id == PersonListRecord.item_id)
        .where(PersonListRecord.list_id == plist.id, person_records_visible(caller))
        .group_by(PersonListRecord.item_id, Item.sha256, Item.original_path)
        .order_by(PersonListRecord.item_id)
    )
    out["items"] = [{"item": i, "sha256": sha, "path": p, "records": c} for i, sha, p, c in by_item]
    return out


def person_record(row: PersonListRecord, list_name: str) -> PersonRecord:
    return PersonRecord(
        key=row.key,
        list_name=list_name,
        full_name=row.full_name,
        ism=row.ism,
        father=row.father,
        grandfather=row.grandfather,
        family=row.family,
        mother=row.mother,
        sex=row.sex,
        birth_year=row.birth_year,
        birth_year_spread=row.birth_year_spread,
        place_of_birth=row.place_of_birth,
        governorate=row.governorate,
    )


def records_of(session: Session, caller: Caller, list_name: str) -> Iterator[PersonRecord]:
    """Every record of a list the caller may see, in file order, as linkage reads them.

    Reading them is an audited access: the event is added to `session`'s transaction when
    iteration starts, so call it inside a writing session (`ws.db.session()`). NotVisible
    when the list is hidden or absent (raised on the first `next`)."""
    plist, rows = _audited_rows(session, caller, list_name)
    for row in rows:
        yield person_record(row, plist.name)


def records_to_link(session: Session, caller: Caller, list_name: str) -> Iterator[PersonRecord]:
    """The records of a list that linkage may read, as `records_of` reads them: those the
    caller may see whose person has not withdrawn consent for investigation
    (`access.person_records_linkable`; linkage is investigation)."""
    plist, rows = _audited_rows(session, caller, list_name, person_records_linkable)
    for row in rows:
        yield person_record(row, plist.name)


def _audited_rows(
    session: Session,
    caller: Caller,
    list_name: str,
    rule: Callable[[Caller], ColumnElement[bool]] = person_records_visible,
) -> tuple[PersonList, Iterator[PersonListRecord]]:
    """The records of a list `rule` lets the caller read (the visible ones unless told), in
    file order, the read recorded first (one place decides which rows a reader gets and that
    the reading is audited)."""
    plist = visible_person_list(session, caller, list_name)
    count = session.execute(
        select(func.count()).where(PersonListRecord.list_id == plist.id, rule(caller))
    ).scalar_one()
    audit_records_read(session, caller, plist, count)
    stmt = (
        select(PersonListRecord)
        .where(PersonListRecord.list_id == plist.id, rule(caller))
        .order_by(PersonListRecord.item_id, PersonListRecord.row)
        .execution_options(yield_per=BATCH)
    )
    return plist, iter(session.execute(stmt).scalars())


def audit_records_read(session: Session, caller: Caller, plist: PersonList, count: int) -> None:
    ledger.append(
        session,
        EventType.ACCESS,
        actor=caller.actor,
        object_type="person_list",
        object_id=plist.id,
        details={
            "action": "read person list records",
            "list": plist.name,
            "item": plist.item_id,
            "records": count,
            **caller.audit(),
        },
    )


def record_rows(session: Session, caller: Caller, list_name: str) -> Iterator[dict[str, Any]]:
    """Every record of a visible list with all it holds (status, dates, places, the item and
    line it comes from, the unmapped columns); audited like `records_of`."""
    plist, rows = _audited_rows(session, caller, list_name)
    skip = {"id", "list_id"}
    for row in rows:
        out = {c.key: getattr(row, c.key) for c in PersonListRecord.__table__.columns}
        for k in skip:
            out.pop(k)
        out["extra"] = json.loads(out["extra"] or "{}")
        yield {"list": plist.name, **out}
