"""Requests for assistance on the web: the API under /api/v1 and the pages, from a new
request through search, review, consent and redaction to building its package. Every rule
is declared with `allow`; need-to-know is decided in amanah.access (a request outside the
caller's compartments answers 404)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi import Path as Path_
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from amanah.access import Caller, Permission, choose_request_compartments, visible_request
from amanah.db.models import Item
from amanah.db.models import Request as RequestRow
from amanah.rfa import RequestError, jurisdictions, requests, review
from amanah.sharing import SharingError, consent, package, redaction, terms
from amanah.web.auth import allow, sandboxes, workspace
from amanah.web.pages import render

api = APIRouter(prefix="/api/v1")
pages = APIRouter(include_in_schema=False)
RequestId = Annotated[int, Path_(ge=1, le=2**62)]
REVIEW_SHOWN = 500


def who(permission: Permission) -> Any:
    return Depends(allow(permission))


def visible_reference(s: Any, caller: Caller, request_id: int) -> str:
    """The reference of a request the caller may see (404 otherwise, hidden or absent)."""
    row: RequestRow = visible_request(s, caller, request_id=request_id)
    return str(row.reference)


def _detail(ws: Any, caller: Caller, request_id: int, limit: int | None) -> dict[str, Any]:
    with ws.db.reader() as s:
        reference = visible_reference(s, caller, request_id)
        found = requests.describe(s, caller, reference)
        rows = terms.review_with_status(s, caller, reference)
        found["candidates"] = len(rows)
        found["review_rows"] = rows[:limit] if limit else rows
        found["next_states"] = list(requests.TRANSITIONS[found["state"]])
        found["consents"] = consent.history(s, caller, reference)
        # Providers of relevant items whose consent the terms ask for: a letter each.
        found["consent_needed"] = sorted(
            {r["provider"] for r in rows if r["disclosure"] == "needs_consent"}
        )
    return found


class NewRequest(BaseModel):
    reference: str = Field(min_length=1, max_length=100)
    jurisdiction: str = Field(min_length=1, max_length=40)
    received_on: date
    urgency: str = Field("normal", pattern="^(urgent|normal)$")
    deadline: date | None = None
    subject: str = Field("", max_length=20_000)
    fields: dict[str, Any] = Field(default_factory=dict)
    assignee: str = Field("", max_length=200)
    #: Among the caller's own; none given: `default` if held, else all the caller's.
    compartments: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=100
    )


class Move(BaseModel):
    state: str = Field(min_length=1, max_length=20)
    reason: str = Field("", max_length=60)
    note: str = Field("", max_length=5000)
    on: date | None = None


class SearchFor(BaseModel):
    query: str = Field(min_length=1, max_length=2000)


class Decision(BaseModel):
    items: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(min_length=1, max_length=100_000)
    decision: str = Field(pattern="^(pending|relevant|not_relevant)$")
    note: str = Field("", max_length=5000)


@api.get("/requests")
def list_requests(
    request: Request, caller: Annotated[Caller, who(Permission.VIEW_REQUESTS)]
) -> list[dict[str, Any]]:
    """Requests for assistance the caller may see, newest first, with their state and days to
    respond."""
    with workspace(request).db.reader() as s:
        return requests.list_requests(s, caller)


@api.post("/requests", status_code=201)
def new_request(
    request: Request, body: NewRequest, caller: Annotated[Caller, who(Permission.MANAGE_REQUESTS)]
) -> dict[str, Any]:
    """Record a request as received, in compartments the caller holds."""
    chosen = choose_request_compartments(caller, body.compartments)
    with workspace(request).db.session() as s:
        row = requests.create(
            s,
            body.reference,
            body.jurisdiction,
            received_on=body.received_on,
            actor=caller.actor,
            urgency=body.urgency,
            deadline=body.deadline,
            subject=body.subject,
            fields=body.fields,
            assignee=body.assignee,
            compartments=chosen,
            caller=caller,
        )
        return {
            "id": row.id,
            "reference": row.reference,
            "state": row.state,
            "compartments": sorted(chosen),
        }


@api.get("/requests/{request_id}")
def get_request(
    request: Request,
    request_id: RequestId,
    caller: Annotated[Caller, who(Permission.VIEW_REQUESTS)],
) -> dict[str, Any]:
    """A request: record, history, searches run for it, review with disclosure status."""
    return _detail(workspace(request), caller, request_id, None)


@api.post("/requests/{request_id}/state")
def move_request(
    request: Request,
    request_id: RequestId,
    body: Move,
    caller: Annotated[Caller, who(Permission.MANAGE_REQUESTS)],
) -> dict[str, Any]:
    """Move the request along its lifecycle (declining needs a reason)."""
    with workspace(request).db.session() as s:
        req = requests.move(
            s,
            visible_reference(s, caller, request_id),
            body.state,
            caller.actor,
            reason=body.reason,
            note=body.note,
            on=body.on,
        )
        return {"id": req.id, "state": req.state}


@api.post("/requests/{request_id}/search")
def search_for_request(
    request: Request,
    request_id: RequestId,
    body: SearchFor,
    caller: Annotated[Caller, who(Permission.MANAGE_REQUESTS)],
) -> dict[str, Any]:
    """Search for the request (logged with it); every hit becomes a review candidate."""
    ws = workspace(request)
    with ws.db.reader() as s:
        reference = visible_reference(s, caller, request_id)
    return review.candidates_from_search(ws, caller, reference, body.query)


@api.post("/requests/{request_id}/review")
def review_items(
    request: Request,
    request_id: RequestId,
    body: Decision,
    caller: Annotated[Caller, who(Permission.MANAGE_REQUESTS)],
) -> dict[str, Any]:
    """Mark items relevant, not relevant or pending for the request."""
    with workspace(request).db.session() as s:
        n = review.decide(
            s,
            caller,
            visible_reference(s, caller, request_id),
            body.items,
            body.decision,
            body.note,
        )
    return {"decided": n, "decision": body.decision}


def build_in_home(ws: Any, caller: Caller, request_id: int) -> dict[str, Any]:
    with ws.db.reader() as s:
        reference = visible_reference(s, caller, request_id)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", reference)[:60]
    out = ws.home / "packages" / f"{safe}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
    return package.build(ws, caller, reference, out)


@api.post("/requests/{request_id}/packages", status_code=201)
def build_package(
    request: Request,
    request_id: RequestId,
    caller: Annotated[Caller, who(Permission.MANAGE_REQUESTS)],
) -> dict[str, Any]:
    """Build the request's package in the installation's packages folder; refused (400, with
    each item and reason) when terms, consent or a protected name stand in the way."""
    summary = build_in_home(workspace(request), caller, request_id)
    summary.pop("path", None)
    return summary


@pages.get("/requests")
def requests_page(
    request: Request, caller: Annotated[Caller, who(Permission.VIEW_REQUESTS)]
) -> Response:
    with workspace(request).db.reader() as s:
        rows = requests.list_requests(s, caller)
        codes = [j["code"] for j in jurisdictions.list_all(s)]
    return render(
        request,
        "requests.html",
        rows=rows,
        jurisdictions=codes,
        urgencies=requests.URGENCIES,
        today=date.today().isoformat(),
        compartments=sorted(caller.compartments),
        default_compartments=sorted(choose_request_compartments(caller, None))
        if caller.compartments
        else [],
    )


@pages.post("/requests")
def requests_create(
    request: Request,
    caller: Annotated[Caller, who(Permission.MANAGE_REQUESTS)],
    reference: Annotated[str, Form(min_length=1, max_length=100)],
    jurisdiction: Annotated[str, Form(min_length=1, max_length=40)],
    received_on: Annotated[date, Form()],
    urgency: Annotated[str, Form(pattern="^(urgent|normal)$")] = "normal",
    subject: Annotated[str, Form(max_length=20_000)] = "",
    compartment: Annotated[list[str] | None, Form(max_length=100)] = None,
) -> Response:
    chosen = choose_request_compartments(caller, compartment)
    with workspace(request).db.session() as s:
        row = requests.create(
            s,
            reference,
            jurisdiction,
            received_on=received_on,
            actor=caller.actor,
            urgency=urgency,
            subject=subject,
            compartments=chosen,
        )
        target = f"/requests/{row.id}"
    return RedirectResponse(target, status_code=303)


@pages.get("/requests/{request_id}")
def request_page(
    request: Request,
    request_id: RequestId,
    caller: Annotated[Caller, who(Permission.VIEW_REQUESTS)],
) -> Response:
    found = _detail(workspace(request), caller, request_id, REVIEW_SHOWN)
    return render(
        request, "request.html", r=found, reasons=requests.DECLINE_REASONS, shown=REVIEW_SHOWN
    )


@pages.post("/requests/{request_id}/state")
def request_move(
    request: Request,
    request_id: RequestId,
    caller: Annotated[Caller, who(Permission.MANAGE_REQUESTS)],
    state: Annotated[str, Form(min_length=1, max_length=20)],
    reason: Annotated[str, Form(max_length=60)] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    with workspace(request).db.session() as s:
        reference = visible_reference(s, caller, request_id)
        requests.move(s, reference, state, caller.actor, reason=reason, note=note)
    return RedirectResponse(f"/requests/{request_id}", status_code=303)


@pages.post("/requests/{request_id}/search")
def request_search(
    request: Request,
    request_id: RequestId,
    caller: Annotated[Caller, who(Permission.MANAGE_REQUESTS)],
    query: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    ws = workspace(request)
    with ws.db.reader() as s:
        reference = visible_reference(s, caller, request_id)
    review.candidates_from_search(ws, caller, reference, query)
    return RedirectResponse(f"/requests/{request_id}", status_code=303)


@pages.post("/requests/{request_id}/review")
async def request_review(
    request: Request,
    request_id: RequestId,
    caller: Annotated[Caller, who(Permission.MANAGE_REQUESTS)],
) -> Response:
    form = await request.form()
    decision = str(form.get("decision", ""))
    try:
        ids = [int(str(v)) for v in form.getlist("item")]
    except ValueError:
        raise RequestError("item ids are numbers") from None
    if not ids:
        raise RequestError("choose at least one item")

    def act() -> None:
        with workspace(request).db.session() as s:
            review.decide(s, caller, visible_reference(s, caller, request_id), ids, decision)

    await run_in_threadpool(act)
    return RedirectResponse(f"/requests/{request_id}", status_code=303)


@pages.post("/requests/{request_id}/package")
def request_package(
    request: Request,
    request_id: RequestId,
    caller: Annotated[Caller, who(Permission.MANAGE_REQUESTS)],
) -> Response:
    try:
        built = build_in_home(workspace(request), caller, request_id)
    except package.PackageRefused as exc:
        ws = workspace(request)
        found = _detail(ws, caller, request_id, REVIEW_SHOWN)
        with ws.db.reader() as s:  # items of the request's own plan: the caller sees them
            types = dict(
                s.execute(
                    select(Item.id, Item.media_type).where(
                        Item.id.in_({x.item_id for x in exc.refusals})
                    )
                ).all()
            )
        return render(
            request,
            "request.html",
            status=409,
            r=found,
            reasons=requests.DECLINE_REASONS,
            shown=REVIEW_SHOWN,
            refusals=exc.refusals,
            # Redact is offered only where it can work (not for an email or an archive).
            redactable={i for i, t in types.items() if redaction.redactable(t)},
        )
    return RedirectResponse(f"/packages/{built['package']}?built=1", status_code=303)


@pages.get("/requests/{request_id}/consent-letter")
def consent_letter_page(
    request: Request,
    request_id: RequestId,
    caller: Annotated[Caller, who(Permission.MANAGE_REQUESTS)],
    provider: Annotated[str, Query(min_length=1, max_length=400)],
) -> Response:
    with workspace(request).db.reader() as s:
        reference = visible_reference(s, caller, request_id)
        pdf = consent.letter(s, caller, reference, provider)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", f"consent-request-{reference}")[:100]
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )


@pages.post("/requests/{request_id}/consent")
def consent_record_page(
    request: Request,
    request_id: RequestId,
    caller: Annotated[Caller, who(Permission.MANAGE_REQUESTS)],
    provider: Annotated[str, Form(min_length=1, max_length=400)],
    status: Annotated[str, Form(pattern="^(requested|given|withheld)$")],
    given_by: Annotated[str, Form(max_length=400)] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    with workspace(request).db.session() as s:
        reference = visible_reference(s, caller, request_id)
        consent.record(s, caller, reference, provider, status, given_by=given_by, note=note)
    return RedirectResponse(f"/requests/{request_id}", status_code=303)


@pages.post("/requests/{request_id}/redact")
def redact_page(
    request: Request,
    request_id: RequestId,
    caller: Annotated[Caller, who(Permission.MANAGE_REQUESTS)],
    item: Annotated[int, Form(ge=1, le=2**62)],
) -> Response:
    """Redact one candidate (every protected person) from the request's page."""
    ws = workspace(request)
    with ws.db.reader() as s:
        reference = visible_reference(s, caller, request_id)
        if item not in {r["item_id"] for r in review.rows(s, caller, reference)}:
            raise SharingError(f"item {item} is not a candidate of {reference}")
    redaction.redact(ws, caller, item, sandbox=sandboxes(request))
    return RedirectResponse(f"/requests/{request_id}", status_code=303)


# -- assignment, deadline and notes (the CLI's `rfa assign`, deadlines and `rfa note`) -------

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
#: The reasons the library gives by code, as the pages say them (translated in the catalogs;
#: see reason_messages); %(name)s are the values the error carries.
REASONS = {
    "no_user": "No account has this name.",
    "user_disabled": "This account is disabled.",
    "assignee_may_not_see": "This account may not see this request.",
    "deadline_before_received": "The deadline is before the request was received.",
    "deadline_too_far": (
        "The deadline is more than %(years)s years after the request was received: check the year."
    ),
    "deadline_finished": "This request is %(state)s: it has no deadline to keep.",
    # The note is not shown again: it holds a name.
    "hidden_name": (
        "The text names a protected person in a form that cannot be replaced by the pseudonym"
        " (split by markup, spaced out, or glued to another word): write the name plainly,"
        " or the pseudonym. It is not shown again."
    ),
}


def reason_messages() -> list[str]:
    """The reasons' texts, for the catalog test (every one has its Arabic)."""
    return [*REASONS.values(), "There is no such day: %(day)s.", "A date is written YYYY-MM-DD."]


def _reason(request: Request, exc: RequestError) -> str:
    """The library's reason in the reader's language: by its code where it has one, else its
    own words through the catalog."""
    from amanah.errors import message

    gettext = _gettext(request)
    template = REASONS.get(exc.code)
    if template is None:
        return str(gettext(message(exc)))
    params = {k: v for k, v in exc.params.items() if k != "what"}
    if "state" in params:
        params["state"] = gettext(str(params["state"]))
    if "years" in params:
        from amanah.web import i18n
        from amanah.web.pages import language

        params["years"] = i18n.number(int(params["years"]), language(request))
    return str(gettext(template)) % params if params else str(gettext(template))


def _request_problem(
    request: Request, caller: Caller, request_id: int, problem: str, form: dict[str, str]
) -> Response:
    """The request page again, with the problem beside the form that caused it and what was
    typed kept."""
    found = _detail(workspace(request), caller, request_id, REVIEW_SHOWN)
    return render(
        request,
        "request.html",
        status=400,
        r=found,
        reasons=requests.DECLINE_REASONS,
        shown=REVIEW_SHOWN,
        work_error=problem,
        work_form=form,
    )


def _gettext(request: Request) -> Any:
    from amanah.web import i18n
    from amanah.web.pages import language

    return i18n.translations(language(request)).gettext


@pages.post("/requests/{request_id}/assign")
def request_assign(
    request: Request,
    request_id: RequestId,
    caller: Annotated[Caller, who(Permission.MANAGE_REQUESTS)],
    assignee: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Give the request to an account that may see it; a request still `received` is thereby
    acknowledged (one recorded step, as the page says before)."""

    def assign(s: Any, reference: str) -> None:
        requests.assign(s, reference, assignee, caller.actor, caller)
        if assignee.strip():
            requests.advance(
                s, reference, "acknowledged", caller.actor, f"assigned to {assignee.strip()}"
            )

    return _work_step(request, caller, request_id, {"assignee": assignee}, assign)


@pages.post("/requests/{request_id}/deadline")
def request_deadline(
    request: Request,
    request_id: RequestId,
    caller: Annotated[Caller, who(Permission.MANAGE_REQUESTS)],
    deadline: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Set the deadline (empty: none). Each refusal says its own reason in the reader's
    language: not a date as written, no such day, before the request was received, too far
    after it, or the request is over."""
    gettext = _gettext(request)
    text = deadline.strip()
    day = None
    problem = ""
    if text and not _ISO_DAY.fullmatch(text):
        problem = gettext("A date is written YYYY-MM-DD.")
    elif text:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            problem = gettext("There is no such day: %(day)s.") % {"day": text}
    if problem:
        return _request_problem(request, caller, request_id, problem, {"deadline": deadline})
    return _work_step(
        request,
        caller,
        request_id,
        {"deadline": deadline},
        lambda s, reference: requests.set_deadline(s, reference, day, caller.actor),
    )


@pages.post("/requests/{request_id}/note")
def request_note(
    request: Request,
    request_id: RequestId,
    caller: Annotated[Caller, who(Permission.MANAGE_REQUESTS)],
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Add a dated, attributed note to the request."""
    with workspace(request).db.reader() as s:
        visible_reference(s, caller, request_id)
    if not note.strip():
        return _request_problem(
            request, caller, request_id, _gettext(request)("The note is empty."), {"note": note}
        )
    return _work_step(
        request,
        caller,
        request_id,
        {"note": ""},  # a refused note is not shown again (it may name someone)
        lambda s, reference: requests.add_note(s, reference, note, caller.actor),
    )


def _work_step(
    request: Request,
    caller: Caller,
    request_id: int,
    typed: dict[str, str],
    step: Callable[[Any, str], object],
) -> Response:
    """One step of a request's work from its page (assignment, deadline, note): in one
    transaction on a request the caller may see, then back to the work section; the
    library's refusal, in the reader's language, re-shows the page with what was typed."""
    try:
        with workspace(request).db.session() as s:
            step(s, visible_reference(s, caller, request_id))
    except RequestError as exc:
        return _request_problem(request, caller, request_id, _reason(request, exc), typed)
    return RedirectResponse(f"/requests/{request_id}#work", status_code=303)
