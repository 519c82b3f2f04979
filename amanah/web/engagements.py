"""Engagements and victims' and survivors' consent on the web: the list of engagements, one
engagement, a form to add one; a person's consent with its history and a form to record it.
Who sees what is decided in amanah.access (an engagement outside the caller's compartments
answers 404); persons appear by pseudonym or record id only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi import Path as Path_
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from amanah.access import Caller, Permission
from amanah.db.models import Jurisdiction
from amanah.persons import engagements as eng
from amanah.sharing import near_duplicate_links, person_consent
from amanah.web.api import ItemId
from amanah.web.auth import allow, workspace
from amanah.web.pages import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Caller, Depends(allow(Permission.READ_ENTITIES))]
Legal = Annotated[Caller, Depends(allow(Permission.MANAGE_REQUESTS))]
EngagementId = Annotated[int, Path_(ge=1, le=2**62)]
#: Words the pages show for data (translated in the catalogs; see i18n.dynamic_messages).
STATUS_WORDS = {"given": "consent given", "withdrawn": "consent withdrawn", "none": "consent none"}
SEX_WORDS = {"f": "sex f", "m": "sex m", "x": "sex x"}
PersonRef = Annotated[str, Path_(min_length=1, max_length=100)]
Lines = Annotated[str, Form(max_length=20_000)]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@router.get("/engagements")
def engagements_page(request: Request, caller: Reader) -> Response:
    with workspace(request).db.reader() as s:
        rows = eng.list_all(s, caller)
    return render(
        request,
        "engagements.html",
        rows=rows,
        kinds=eng.KINDS,
        sexes=eng.SEXES,
        ages=eng.AGE_GROUPS,
        sex_words=SEX_WORDS,
        compartments=sorted(caller.compartments),
        today=datetime.now(UTC).date().isoformat(),
    )


@router.post("/engagements")
async def engagement_create(
    request: Request,
    caller: Reader,
    kind: Annotated[str, Form(min_length=1, max_length=20)],
    held_on: Annotated[date, Form()],
    compartment: Annotated[str, Form(min_length=1, max_length=200)],
    place: Annotated[str, Form(max_length=2000)] = "",
    pcode: Annotated[str, Form(max_length=20)] = "",
    organisations: Lines = "",
    topics: Lines = "",
    persons: Lines = "",
    tasks: Lines = "",
    notes: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """The form: one organisation, topic, person or task (TASK|OWNER|DATE) per line; each
    participant count is a field `p_SEX_AGE`."""
    form = await request.form()
    counts = []
    for sex in eng.SEXES:
        for age in eng.AGE_GROUPS:
            raw = str(form.get(f"p_{sex}_{age}", "") or "").strip()
            if raw and raw != "0":
                counts.append(f"{sex}:{age}={raw}")
    with workspace(request).db.session() as s:
        row = eng.add(
            s,
            caller,
            kind=kind,
            held_on=held_on,
            place=place,
            pcode=pcode,
            compartment=compartment,
            organisations=_lines(organisations),
            topics=_lines(topics),
            participants=eng.parse_participants(counts),
            persons=_lines(persons),
            tasks=[eng.parse_task(t) for t in _lines(tasks)],
            notes=notes,
        )
        target = f"/engagements/{row.id}"
    return RedirectResponse(target, status_code=303)


@router.get("/engagements/{engagement_id}")
def engagement_page(request: Request, engagement_id: EngagementId, caller: Reader) -> Response:
    with workspace(request).db.reader() as s:
        found = eng.show(s, caller, engagement_id)
    return render(request, "engagement.html", e=found)


@router.get("/consent/persons")
def person_consents_page(request: Request, caller: Legal) -> Response:
    with workspace(request).db.reader() as s:
        rows = person_consent.list_all(s, caller)
    return render(request, "person_consents.html", rows=rows, status_words=STATUS_WORDS)


@router.get("/consent/persons/{person}")
def person_consent_page(request: Request, person: PersonRef, caller: Legal) -> Response:
    with workspace(request).db.reader() as s:
        found = person_consent.history(s, caller, person)
        codes = list(s.execute(select(Jurisdiction.code).order_by(Jurisdiction.code)).scalars())
    return render(
        request,
        "person_consent.html",
        c=found,
        uses=person_consent.USES,
        status_words=STATUS_WORDS,
        jurisdictions=codes,
        today=datetime.now(UTC).date().isoformat(),
    )


@router.post("/consent/persons/{person}")
async def person_consent_record(
    request: Request,
    person: PersonRef,
    caller: Legal,
    status: Annotated[str, Form(pattern="^(given|withdrawn)$")],
    told: Annotated[str, Form(max_length=20_000)] = "",
    on: Annotated[date | None, Form()] = None,
) -> Response:
    form = await request.form()
    uses = [str(u) for u in form.getlist("use")]
    recipients = [str(r) for r in form.getlist("recipient")]
    with workspace(request).db.session() as s:
        record: Any = person_consent.give if status == "given" else person_consent.withdraw
        record(s, caller, person, uses, recipients, told=told, given_on=on)
    from urllib.parse import quote

    return RedirectResponse(f"/consent/persons/{quote(person, safe='')}", status_code=303)


@router.post("/items/{item_id}/not-same-document")
def not_same_document(
    request: Request,
    item_id: ItemId,
    caller: Legal,
    of: Annotated[int, Form(ge=1, le=2**62)],
) -> Response:
    """The legal officer's "not the same document": lifts the consent link derived from the
    item `of` by near-duplicate (recorded, a custody event)."""
    with workspace(request).db.session() as s:
        near_duplicate_links.not_same_document(s, caller, item_id, of)
    return RedirectResponse(f"/items/{item_id}", status_code=303)
