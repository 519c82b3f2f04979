"""Competent jurisdictions on the web: the list, and a form to record one as `amanah
jurisdiction add` does. Staff who see requests see the list; recording one is the legal
officer's (decided in amanah.access). A problem re-shows the form with what was typed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
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
    )


@router.get("/jurisdictions")
def jurisdictions_page(request: Request, caller: Viewer) -> Response:
    return _page(request)


@router.post("/jurisdictions")
def jurisdiction_add(
    request: Request,
    caller: Legal,
    code: Annotated[str, Form(max_length=40)] = "",
    state: Text = "",
    authority: Text = "",
    unit: Text = "",
    legal_basis: Text = "",
    contacts: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    gettext = i18n.translations(language(request)).gettext
    form = dict(zip(FIELDS, (code, state, authority, unit, legal_basis, contacts), strict=True))
    problem = ""
    if not code.strip() or any(c.isspace() for c in code.strip()):
        problem = gettext("A jurisdiction code is one word, e.g. DE-GBA.")
    elif not state.strip() or not authority.strip():
        problem = gettext("A jurisdiction needs its state and its authority.")
    else:
        try:
            with workspace(request).db.session() as s:
                jurisdictions.add(
                    s,
                    code,
                    state=state,
                    authority=authority,
                    unit=unit,
                    legal_basis=legal_basis,
                    contacts=contacts,
                )
        except RequestError as exc:
            text = message(exc)
            if exc.code == "names_protected":
                from amanah.web.protected import NAMED_NOT_SHOWN, without_names

                form = without_names(request, form)
                text = f"{gettext(text)} {gettext(NAMED_NOT_SHOWN)}"
            problem = (
                gettext("A jurisdiction with this code already exists.")
                if "already exists" in text
                else text
                if exc.code == "names_protected"
                else gettext(text)
            )
    if problem:
        return _page(request, status=400, error=problem, form=form)
    from urllib.parse import quote

    return RedirectResponse(f"/jurisdictions?added={quote(code.strip())}", status_code=303)
