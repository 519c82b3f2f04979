"""Cooperation frameworks on the web: each agreement with its terms as data (who may receive
its material, and how), and a form to record one as `amanah framework add` does. Staff who
see requests see the terms; recording one is the legal officer's (decided in amanah.access).
A problem re-shows the form with what was typed and says what."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from amanah.access import (
    Caller,
    Permission,
    frameworks_visible,
    providers_visible,
    require_framework_editable,
    require_provider_usable,
)
from amanah.db.models import Provider
from amanah.errors import message
from amanah.intake import registry
from amanah.rfa import frameworks as rfa_frameworks
from amanah.rfa import jurisdictions
from amanah.web import i18n
from amanah.web.auth import allow, workspace
from amanah.web.pages import language, render

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Caller, Depends(allow(Permission.VIEW_REQUESTS))]
Legal = Annotated[Caller, Depends(allow(Permission.MANAGE_REQUESTS))]
Id = Annotated[int, Path(ge=1, le=2**62)]
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
    request: Request,
    caller: Caller,
    status: int = 200,
    error: str = "",
    form: dict[str, Any] | None = None,
) -> Response:
    with workspace(request).db.reader() as s:
        rows = registry.list_frameworks(s, frameworks_visible(caller))
        providers = list(
            s.execute(
                select(Provider.name).where(providers_visible(caller)).order_by(Provider.name)
            ).scalars()
        )
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
        changed=request.query_params.get("changed", ""),
    )


@router.get("/frameworks")
def frameworks_page(request: Request, caller: Viewer) -> Response:
    return _page(request, caller)


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text.strip() else None


def _checked(gettext: Any, form: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The form's values as the library takes them, or the first problem in the page's
    language (the same checks for recording and editing; the library checks again)."""
    values: dict[str, Any] = {}
    try:
        values["signed_on"], values["expires_on"] = (
            _day(form["signed_on"]),
            _day(form["expires_on"]),
        )
    except ValueError:
        return values, gettext("A date is written YYYY-MM-DD.")
    named = form["jurisdictions"]
    signed, expires = values["signed_on"], values["expires_on"]
    if not form["provider"].strip():
        return values, gettext("Name the provider.")
    if not form["title"].strip():
        return values, gettext("A cooperation framework needs a title.")
    if form["disclosure"] == "named" and not named:
        return values, gettext("Disclosure to named jurisdictions needs at least one jurisdiction.")
    if named and form["disclosure"] != "named":
        return values, gettext(
            "Jurisdictions are chosen only with disclosure to named jurisdictions."
        )
    if signed and expires and expires < signed:
        return values, gettext("The agreement ends before it was signed.")
    values.update(
        title=form["title"],
        kind=form["kind"],
        disclosure=form["disclosure"],
        jurisdictions=named,
        parties=[p.strip() for p in form["parties"].splitlines() if p.strip()],
        scope=form["scope"],
        attribution_required=bool(form["attribution"]),
        confidentiality=form["confidentiality"],
        terms=form["terms"],
    )
    return values, ""


async def _form(request: Request) -> dict[str, Any]:
    """What the framework form sent, as typed (re-shown with a problem)."""
    sent = await request.form()

    def text(name: str, default: str = "", size: int = 20_000) -> str:
        return str(sent.get(name, default))[:size]

    return {
        "provider": text("provider", size=2000),
        "title": text("title", size=2000),
        "kind": text("kind", "mou", 20),
        "disclosure": text("disclosure", "consent", 20),
        "jurisdictions": [str(j)[:40] for j in sent.getlist("jurisdiction") if str(j).strip()],
        "parties": text("parties"),
        "signed_on": text("signed_on", size=20),
        "expires_on": text("expires_on", size=20),
        "scope": text("scope"),
        "attribution": bool(text("attribution", size=10)),
        "confidentiality": text("confidentiality", "confidential", 40),
        "terms": text("terms"),
    }


@router.post("/frameworks")
async def framework_add(request: Request, caller: Legal) -> Response:
    """Record a framework: `jurisdiction` (repeatable) with disclosure `named`; one other
    party a line."""
    gettext = i18n.translations(language(request)).gettext
    form = await _form(request)
    values, problem = _checked(gettext, form)
    if not problem:
        try:
            with workspace(request).db.session() as s:
                require_provider_usable(s, caller, form["provider"], whole=True)
                row = registry.add_framework(
                    s,
                    form["provider"],
                    values.pop("title"),
                    values.pop("signed_on"),
                    values.pop("terms"),
                    **values,
                )
                new_id = row.id
        except registry.RegistryError as exc:
            problem, form = _refused(request, gettext, exc, form)
    if problem:
        return _page(request, caller, status=400, error=problem, form=form)
    return RedirectResponse(f"/frameworks?added={new_id}#framework-{new_id}", status_code=303)


def _refused(
    request: Request, gettext: Any, exc: registry.RegistryError, form: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The library's refusal in the reader's language, and the form to show again: words that
    name a protected person come back blank, and the reason does not say which."""
    problem = gettext(message(exc))
    if message(exc) == registry.FRAMEWORK_NAMES_PROTECTED:
        from amanah.web.protected import NAMED_NOT_SHOWN, without_names

        return f"{problem} {gettext(NAMED_NOT_SHOWN)}", without_names(request, form)
    return problem, form


def _framework(s: Any, caller: Caller, framework_id: int) -> dict[str, Any]:
    """The framework's fields, if the caller may change them (404 or 403 otherwise)."""
    require_framework_editable(s, caller, framework_id)
    try:
        return rfa_frameworks.current(s, framework_id)
    except registry.RegistryError as exc:
        raise HTTPException(404, message(exc)) from None


def _edit_page(
    request: Request,
    caller: Caller,
    framework_id: int,
    status: int = 200,
    error: str = "",
    form: dict[str, Any] | None = None,
) -> Response:
    with workspace(request).db.reader() as s:
        if form is None:
            now = _framework(s, caller, framework_id)
            form = dict(
                now,
                parties="\n".join(now["parties"]),
                signed_on=now["signed_on"].isoformat() if now["signed_on"] else "",
                expires_on=now["expires_on"].isoformat() if now["expires_on"] else "",
                attribution=now["attribution_required"],
            )
        else:
            _framework(s, caller, framework_id)
        codes = [j["code"] for j in jurisdictions.list_all(s)]
    return render(
        request,
        "framework_edit.html",
        status=status,
        framework_id=framework_id,
        jurisdictions=codes,
        kinds=registry.FRAMEWORK_KINDS,
        disclosures=registry.DISCLOSURE_RULES,
        disclosure_words=DISCLOSURE_WORDS,
        kind_words=KIND_WORDS,
        level_words=LEVEL_WORDS,
        levels=registry.CONFIDENTIALITY,
        error=error,
        form=form,
    )


@router.get("/frameworks/{framework_id}/edit")
def framework_edit_page(request: Request, framework_id: Id, caller: Legal) -> Response:
    """The framework's terms in the form, to change them."""
    return _edit_page(request, caller, framework_id)


@router.post("/frameworks/{framework_id}/edit")
async def framework_edit(request: Request, framework_id: Id, caller: Legal) -> Response:
    """Change the terms (the provider stays); a custody event names what changed."""
    gettext = i18n.translations(language(request)).gettext
    with workspace(request).db.reader() as s:
        provider = _framework(s, caller, framework_id)["provider"]
    form = dict(await _form(request), provider=provider)
    values, problem = _checked(gettext, form)
    if not problem:
        try:
            with workspace(request).db.session() as s:
                require_framework_editable(s, caller, framework_id)
                rfa_frameworks.edit(s, framework_id, caller.actor, **values)
        except registry.RegistryError as exc:
            problem, form = _refused(request, gettext, exc, form)
    if problem:
        return _edit_page(request, caller, framework_id, status=400, error=problem, form=form)
    return RedirectResponse(
        f"/frameworks?changed={framework_id}#framework-{framework_id}", status_code=303
    )
