"""Cooperation frameworks on the web: each agreement with its terms as data (who may receive
its material, and how), and a form to record one as `amanah framework add` does. Staff who
see requests see the terms; recording one is the legal officer's (decided in amanah.access).
A problem re-shows the form with what was typed and says what."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from amanah.access import Caller, Permission
from amanah.db.models import Provider
from amanah.errors import message
from amanah.intake import registry
from amanah.rfa import jurisdictions
from amanah.web import i18n
from amanah.web.auth import allow, workspace
from amanah.web.pages import language, render

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Caller, Depends(allow(Permission.VIEW_REQUESTS))]
Legal = Annotated[Caller, Depends(allow(Permission.MANAGE_REQUESTS))]
Text = Annotated[str, Form(max_length=2000)]
Long = Annotated[str, Form(max_length=20_000)]
#: The terms in words (translated in the catalogs; see i18n.dynamic_messages).
DISCLOSURE_WORDS = {
    "any": "to any competent jurisdiction",
    "consent": "with the provider's consent each time",
    "named": "only to named jurisdictions",
    "never": "never disclosed",
}
KIND_WORDS = {"mou": "MoU", "protocol": "protocol", "letter": "letter", "other": "other"}
LEVEL_WORDS = {
    "public": "public",
    "restricted": "restricted",
    "confidential": "confidential",
    "strictly_confidential": "strictly confidential",
}


def _page(
    request: Request, status: int = 200, error: str = "", form: dict[str, Any] | None = None
) -> Response:
    with workspace(request).db.reader() as s:
        rows = registry.list_frameworks(s)
        providers = list(s.execute(select(Provider.name).order_by(Provider.name)).scalars())
        codes = [j["code"] for j in jurisdictions.list_all(s)]
    return render(
        request,
        "frameworks.html",
        status=status,
        rows=rows,
        providers=providers,
        jurisdictions=codes,
        kinds=registry.FRAMEWORK_KINDS,
        disclosures=registry.DISCLOSURE_RULES,
        disclosure_words=DISCLOSURE_WORDS,
        kind_words=KIND_WORDS,
        level_words=LEVEL_WORDS,
        levels=registry.CONFIDENTIALITY,
        error=error,
        form=form or {"disclosure": "consent", "kind": "mou", "confidentiality": "confidential"},
        added=request.query_params.get("added", ""),
    )


@router.get("/frameworks")
def frameworks_page(request: Request, caller: Viewer) -> Response:
    return _page(request)


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text.strip() else None


@router.post("/frameworks")
async def framework_add(
    request: Request,
    caller: Legal,
    provider: Text = "",
    title: Text = "",
    kind: Annotated[str, Form(max_length=20)] = "mou",
    disclosure: Annotated[str, Form(max_length=20)] = "consent",
    parties: Long = "",
    signed_on: Annotated[str, Form(max_length=20)] = "",
    expires_on: Annotated[str, Form(max_length=20)] = "",
    scope: Long = "",
    attribution: Annotated[str, Form(max_length=10)] = "",
    confidentiality: Annotated[str, Form(max_length=40)] = "confidential",
    terms: Long = "",
) -> Response:
    """Record a framework: `jurisdiction` (repeatable) with disclosure `named`; one other
    party a line."""
    gettext = i18n.translations(language(request)).gettext
    named = [str(j) for j in (await request.form()).getlist("jurisdiction") if str(j).strip()]
    form = {
        "provider": provider,
        "title": title,
        "kind": kind,
        "disclosure": disclosure,
        "jurisdictions": named,
        "parties": parties,
        "signed_on": signed_on,
        "expires_on": expires_on,
        "scope": scope,
        "attribution": bool(attribution),
        "confidentiality": confidentiality,
        "terms": terms,
    }
    problem = ""
    try:
        signed, expires = _day(signed_on), _day(expires_on)
    except ValueError:
        problem = gettext("A date is written YYYY-MM-DD.")
    if not problem and not provider.strip():
        problem = gettext("Name the provider.")
    elif not problem and not title.strip():
        problem = gettext("A cooperation framework needs a title.")
    elif not problem and disclosure == "named" and not named:
        problem = gettext("Disclosure to named jurisdictions needs at least one jurisdiction.")
    elif not problem and named and disclosure != "named":
        problem = gettext("Jurisdictions are chosen only with disclosure to named jurisdictions.")
    elif not problem and signed and expires and expires < signed:
        problem = gettext("The agreement ends before it was signed.")
    if not problem:
        try:
            with workspace(request).db.session() as s:
                row = registry.add_framework(
                    s,
                    provider,
                    title,
                    signed,
                    terms,
                    kind=kind,
                    parties=[p.strip() for p in parties.splitlines() if p.strip()],
                    expires_on=expires,
                    scope=scope,
                    disclosure=disclosure,
                    jurisdictions=named,
                    attribution_required=bool(attribution),
                    confidentiality=confidentiality,
                )
                new_id = row.id
        except registry.RegistryError as exc:
            problem = gettext(message(exc))
            if message(exc) == registry.FRAMEWORK_NAMES_PROTECTED:
                from amanah.web.protected import NAMED_NOT_SHOWN, without_names

                form = without_names(request, form)
                problem = f"{problem} {gettext(NAMED_NOT_SHOWN)}"
    if problem:
        return _page(request, status=400, error=problem, form=form)
    return RedirectResponse(f"/frameworks?added={new_id}#framework-{new_id}", status_code=303)
