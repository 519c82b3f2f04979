"""Person lists' pages: the lists with their import reports and kept linkage runs, one list,
one record with its provenance, a cluster with its records side by side, and the review queue
(keyboard-driven: a accept, r reject, s unsure; the buttons are forms posting with the
session's CSRF token). Need-to-know is `amanah.access`'s (lists have compartments; a pair is
seen only with both its records); showing records is an audited read, a review a custody
event (amanah.persons.review)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from amanah.access import (
    Caller,
    NotVisible,
    Permission,
    linkage_pairs_visible,
    person_lists_visible,
    person_records_visible,
    visible_person_record,
)
from amanah.db.models import LinkagePair, PersonList, PersonListRecord
from amanah.persons import evidence, review
from amanah.persons.reading import audit_records_read, lists
from amanah.web.auth import allow, workspace
from amanah.web.pages import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Caller, Depends(allow(Permission.READ_ENTITIES))]
Reviewer = Annotated[Caller, Depends(allow(Permission.MANAGE_ENTITIES))]
Id = Annotated[int, Path(ge=1, le=2**62)]
#: Records shown on a list's page (the rest through `amanah persons records`).
PAGE_RECORDS = 200
#: Fields shown side by side, in order (labels translated in the catalogs).
FIELDS = (
    ("full_name", "Full name"),
    ("ism", "Name"),
    ("father", "Father"),
    ("grandfather", "Grandfather"),
    ("family", "Family"),
    ("mother", "Mother"),
    ("sex", "Sex"),
    ("birth_date", "Birth date"),
    ("birth_year", "Birth year"),
    ("age", "Age"),
    ("age_as_of", "Age as of"),
    ("place_of_birth", "Place of birth"),
    ("governorate_text", "Governorate"),
    ("status", "Status"),
    ("status_date", "Status date"),
    ("last_seen_on", "Last seen on"),
    ("last_seen_place", "Last seen at"),
    ("detention_facility", "Detention facility"),
)


@router.get("/persons")
def persons_page(request: Request, caller: Reader) -> Response:
    ws = workspace(request)
    with ws.db.reader() as s:
        found = lists(s, caller)
        ids = dict(
            s.execute(
                select(PersonList.name, PersonList.id).where(person_lists_visible(caller))
            ).all()
        )
        for x in found:
            x["id"] = ids[x["name"]]
        runs = review.runs(s, caller)
    return render(request, "persons_lists.html", lists=found, runs=runs)


def _list_by_id(s: Any, caller: Caller, list_id: int) -> PersonList:
    found = s.execute(
        select(PersonList).where(PersonList.id == list_id, person_lists_visible(caller))
    ).scalar_one_or_none()
    if found is None:
        raise NotVisible(f"no person list with id {list_id}")
    return found


@router.get("/persons/lists/{list_id}")
def list_page(request: Request, list_id: Id, caller: Reader) -> Response:
    ws = workspace(request)
    with ws.db.session() as s:
        plist = _list_by_id(s, caller, list_id)
        total = s.execute(
            select(func.count()).where(
                PersonListRecord.list_id == plist.id, person_records_visible(caller)
            )
        ).scalar_one()
        rows = list(
            s.execute(
                select(PersonListRecord)
                .where(PersonListRecord.list_id == plist.id, person_records_visible(caller))
                .order_by(PersonListRecord.item_id, PersonListRecord.row)
                .limit(PAGE_RECORDS)
            ).scalars()
        )
        audit_records_read(s, caller, plist, len(rows))
        shown = [review.shown_record(r, plist.name) for r in rows]
        summary = {
            "id": plist.id,
            "name": plist.name,
            "compartment": plist.compartment,
            "item": plist.item_id,
            "records": total,
            "imported_at": plist.imported_at,
            "report": json.loads(plist.report or "{}"),
        }
    return render(request, "persons_list.html", plist=summary, records=shown)


@router.get("/persons/records/{record_id}")
def record_page(request: Request, record_id: Id, caller: Reader) -> Response:
    ws = workspace(request)
    with ws.db.session() as s:
        row = visible_person_record(s, caller, record_id)
        shown = review.show_records(s, caller, [row.id])[row.id]
        runs = list(
            s.execute(
                select(LinkagePair.run_id)
                .where(
                    (LinkagePair.record_a_id == row.id) | (LinkagePair.record_b_id == row.id),
                    LinkagePair.record_b_id.is_not(None),  # pairs with evidence make no cluster
                    linkage_pairs_visible(caller),
                )
                .distinct()
                .order_by(LinkagePair.run_id)
            ).scalars()
        )
        extra = json.loads(row.extra or "{}")
        links = evidence.record_links(ws, s, caller, row.id)  # quoting a mention is audited
    return render(
        request,
        "persons_record.html",
        record=shown,
        fields=FIELDS,
        runs=runs,
        extra=extra,
        links=links,
    )


@router.get("/persons/runs/{run_id}/clusters/{record_id}")
def cluster_page(request: Request, run_id: Id, record_id: Id, caller: Reader) -> Response:
    ws = workspace(request)
    with ws.db.session() as s:
        visible_person_record(s, caller, record_id)
        run, found = review.record_cluster(s, caller, run_id, record_id)
        if found is None:
            shown = {"run": run.id, "cluster": record_id, "size": 1, "conflicts": []}
            shown["records"] = list(review.show_records(s, caller, [record_id]).values())
            shown["joined_by"], shown["held_apart"] = [], []
        else:
            shown = review.cluster_dict(s, caller, run, found)
    return render(request, "persons_cluster.html", cluster=shown, fields=FIELDS)


@router.get("/persons/runs/{run_id}/review")
def review_page(request: Request, run_id: Id, caller: Reader) -> Response:
    ws = workspace(request)
    with ws.db.session() as s:
        run = review.run_for(s, caller, run_id)
        waiting = s.execute(
            select(func.count()).where(
                LinkagePair.run_id == run.id,
                LinkagePair.review.is_(True),
                LinkagePair.decision.in_(("", "unsure")),
                linkage_pairs_visible(caller),
            )
        ).scalar_one()
        _, pairs = review.queue(s, caller, run.id, limit=1, ws=ws)
        shown_run = review.run_dict(s, caller, run)
    return render(
        request,
        "persons_review.html",
        run=shown_run,
        pair=pairs[0] if pairs else None,
        waiting=waiting,
        fields=FIELDS,
        may_review=caller.can(Permission.MANAGE_ENTITIES),
    )


@router.post("/persons/pairs/{pair_id}/review")
def review_post(
    request: Request,
    pair_id: Id,
    caller: Reviewer,
    decision: Annotated[str, Form(max_length=10)],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    ws = workspace(request)
    done = review.review(ws, caller, pair_id, decision, note)
    return RedirectResponse(f"/persons/runs/{done['run']}/review", status_code=303)
