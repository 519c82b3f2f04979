"""Competent jurisdictions on the web: the list, and a form to record one as `amanah
jurisdiction add` does. Staff who see requests see the list; recording one is the legal
officer's (decided in amanah.access). A problem re-shows the form with what was typed."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response

from amanah.access import Caller, Permission
from amanah.errors import message
from amanah.rfa import RequestError, jurisdictions
from amanah.web import i18n
from amanah.web.auth import allow, workspace
from amanah.web.pages import language, render

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Caller, Depends(allow(Permission.VIEW_REQUESTS))]
Legal = Annotated[Caller, Depends(allow(Permission.MANAGE_REQUESTS))]
Text = Annotated[str, Form(max_length=2000)]
Contacts = Annotated[str, Form(max_length=20_000)]
Code = Annotated[str, Path(min_length=1, max_length=40)]
FIELDS = ("code", "state", "authority", "unit", "legal_basis", "contacts")


def _page(
    request: Request, status: int = 200, error: str = "", form: dict[str, str] | None = None
) -> Response:
    with workspace(request).db.reader() as s:
        rows = jurisdictions.list_all(s)
    return render(
        request,
        "jurisdictions.html",
        status=status,
        rows=rows,
        error=error,
        form=form or {},
        added=request.query_params.get("added", ""),
        changed=request.query_params.get("changed", ""),
    )


@router.get("/jurisdictions")
def jurisdictions_page(request: Request, caller: Viewer) -> Response:
    return _page(request)


def _problem(gettext: Any, form: dict[str, str]) -> str:
    """The first thing wrong in the form, in the page's language (adding and editing)."""
    code = form["code"].strip()
    if not code or any(c.isspace() for c in code):
        return str(gettext("A jurisdiction code is one word, e.g. DE-GBA."))
    if not form["state"].strip() or not form["authority"].strip():
        return str(gettext("A jurisdiction needs its state and its authority."))
    return ""


def _said(
    request: Request, gettext: Any, exc: RequestError, form: dict[str, str]
) -> tuple[str, dict[str, str]]:
    """The refusal in the page's language, and the form to show again: a field that names a
    protected person comes back blank, and the reason does not say which."""
    text = message(exc)
    if exc.code == "names_protected":
        from amanah.web.protected import NAMED_NOT_SHOWN, without_names

        return f"{gettext(text)} {gettext(NAMED_NOT_SHOWN)}", without_names(request, form)
    if "already exists" in text:
        return str(gettext("A jurisdiction with this code already exists.")), form
    return str(gettext(text)), form


@router.post("/jurisdictions")
def jurisdiction_add(
    request: Request,
    caller: Legal,
    code: Annotated[str, Form(max_length=40)] = "",
    state: Text = "",
    authority: Text = "",
    unit: Text = "",
    legal_basis: Text = "",
    contacts: Contacts = "",
) -> Response:
    gettext = i18n.translations(language(request)).gettext
    form = dict(zip(FIELDS, (code, state, authority, unit, legal_basis, contacts), strict=True))
    problem = _problem(gettext, form)
    if not problem:
        try:
            with workspace(request).db.session() as s:
                jurisdictions.add(s, **form)
        except RequestError as exc:
            problem, form = _said(request, gettext, exc, form)
    if problem:
        return _page(request, status=400, error=problem, form=form)
    return RedirectResponse(f"/jurisdictions?added={quote(code.strip())}", status_code=303)


def _edit_page(
    request: Request,
    code: str,
    status: int = 200,
    error: str = "",
    form: dict[str, str] | None = None,
) -> Response:
    with workspace(request).db.reader() as s:
        try:
            now = jurisdictions.as_dict(jurisdictions.get(s, code))
        except RequestError as exc:
            raise HTTPException(404, message(exc)) from None
    return render(request, "jurisdiction_edit.html", status=status, error=error, form=form or now)


@router.get("/jurisdictions/{code}/edit")
def jurisdiction_edit_page(request: Request, code: Code, caller: Legal) -> Response:
    """The jurisdiction's record in the form, to change it (the code stays)."""
    return _edit_page(request, code)


@router.post("/jurisdictions/{code}/edit")
def jurisdiction_edit(
    request: Request,
    code: Code,
    caller: Legal,
    state: Text = "",
    authority: Text = "",
    unit: Text = "",
    legal_basis: Text = "",
    contacts: Contacts = "",
) -> Response:
    """Change the record; a custody event names the fields changed, never their text."""
    gettext = i18n.translations(language(request)).gettext
    form = dict(zip(FIELDS, (code, state, authority, unit, legal_basis, contacts), strict=True))
    problem = _problem(gettext, form)
    if not problem:
        try:
            with workspace(request).db.session() as s:
                changes = {k: v for k, v in form.items() if k != "code"}
                jurisdictions.edit(s, code, caller.actor, **changes)
        except RequestError as exc:
            if "no jurisdiction" in message(exc):
                raise HTTPException(404, message(exc)) from None
            problem, form = _said(request, gettext, exc, form)
    if problem:
        return _edit_page(request, code, status=400, error=problem, form=form)
    return RedirectResponse(f"/jurisdictions?changed={quote(code)}", status_code=303)
