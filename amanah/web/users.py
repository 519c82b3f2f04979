"""The administrator's pages: accounts, compartment grants and the access audit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from amanah.access import Caller, Permission, Role
from amanah.access import audit as audit_log
from amanah.access import users as accounts
from amanah.access.users import AccountError
from amanah.errors import message
from amanah.web import i18n
from amanah.web.auth import allow, workspace
from amanah.web.pages import language, render

router = APIRouter(include_in_schema=False)


def _users_page(
    request: Request, status: int = 200, error: str = "", form: dict[str, Any] | None = None
) -> Response:
    ws = workspace(request)
    return render(
        request,
        "users.html",
        status=status,
        users=accounts.list_users(ws),
        roles=[r.value for r in Role],
        choices=accounts.choices(ws),
        error=error,
        form=form or {},
    )


@router.get("/users")
def users_page(
    request: Request, caller: Annotated[Caller, Depends(allow(Permission.MANAGE_USERS))]
) -> Response:
    return _users_page(request)


def _form_problem(
    gettext: Callable[[str], str],
    name: str,
    role: str,
    password: str,
    provider: str,
    jurisdiction: str,
) -> str:
    """What is wrong with the new-user form, in the page's language (the account layer's own
    checks stay the last word; this names the field the way the form does)."""
    if not accounts.NAME_RE.match(name):
        return gettext("A user name may have letters, digits and . _ @ + - only.")
    if role not in {r.value for r in Role}:
        return gettext("Choose a role.")
    if role == Role.PROVIDER.value and not provider:
        return gettext("A provider account needs its provider: choose one or name a new one.")
    if provider and role != Role.PROVIDER.value:
        return gettext("Only provider accounts have a provider.")
    if role == Role.RECIPIENT.value and not jurisdiction:
        return gettext("A recipient account needs its jurisdiction.")
    if jurisdiction and role != Role.RECIPIENT.value:
        return gettext("Only recipient accounts have a jurisdiction.")
    if len(password) < accounts.MIN_PASSWORD:
        return gettext("The password needs at least %(n)s characters.") % {
            "n": accounts.MIN_PASSWORD
        }
    return ""


@router.post("/users")
def users_create(
    request: Request,
    caller: Annotated[Caller, Depends(allow(Permission.MANAGE_USERS))],
    name: Annotated[str, Form(min_length=1, max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    role: Annotated[str, Form(max_length=20)] = "",
    compartment: Annotated[list[str] | None, Form()] = None,
    compartments: Annotated[str, Form(max_length=2000)] = "",
    provider: Annotated[str, Form(max_length=400)] = "",
    new_provider: Annotated[str, Form(max_length=400)] = "",
    jurisdiction: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Create an account from the form. Role, provider, compartments and jurisdiction are
    chosen from lists (a new provider or compartment is named in its own field, on purpose);
    a problem re-shows the form with what was typed (never the password) and says what."""
    gettext = i18n.translations(language(request)).gettext
    chosen = [c.strip() for c in compartment or [] if c.strip()]
    chosen += [c.strip() for c in compartments.split(",") if c.strip()]
    provider, new_provider = provider.strip(), new_provider.strip()
    form = {
        "name": name,
        "role": role,
        "compartments": chosen,
        "provider": provider,
        "new_provider": new_provider,
        "jurisdiction": jurisdiction.strip(),
    }
    existing = accounts.choices(workspace(request)).providers
    if provider and new_provider:
        problem = gettext("Choose a provider or name a new one, not both.")
    elif provider and provider not in existing:
        problem = gettext("No such provider; choose one of the list.")
    else:
        problem = _form_problem(
            gettext, name, role, password, provider or new_provider, form["jurisdiction"]
        )
    if not problem:
        try:
            accounts.add_user(
                workspace(request),
                name,
                role,
                password,
                compartments=tuple(chosen),
                provider=(provider or new_provider) or None,
                jurisdiction=form["jurisdiction"] or None,
                by=caller.actor,
                create_provider=bool(new_provider),
            )
        except AccountError as exc:
            problem = message(exc)
    if problem:
        return _users_page(request, status=400, error=problem, form=form)
    return RedirectResponse("/users", status_code=303)


@router.post("/users/grants")
def users_grant(
    request: Request,
    caller: Annotated[Caller, Depends(allow(Permission.MANAGE_USERS))],
    name: Annotated[str, Form(min_length=1, max_length=100)],
    compartment: Annotated[str, Form(min_length=1, max_length=200)],
    revoke: Annotated[bool, Form()] = False,
) -> Response:
    accounts.grant(workspace(request), name, compartment.strip(), caller.actor, revoke)
    return RedirectResponse("/users", status_code=303)


@router.get("/audit")
def audit_page(
    request: Request,
    caller: Annotated[Caller, Depends(allow(Permission.VIEW_AUDIT))],
    actor: Annotated[str, Query(max_length=200)] = "",
    type: Annotated[str, Query(max_length=60)] = "",
    object_id: Annotated[str, Query(max_length=100)] = "",
    since: Annotated[str, Query(max_length=40)] = "",
    until: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    found = audit_log.events(
        workspace(request),
        audit_log.AuditFilter(
            actor or None, type or None, None, object_id or None, since or None, until or None
        ),
    )
    return render(
        request,
        "audit.html",
        events=found,
        types=audit_log.READ_EVENTS,
        filters={
            "actor": actor,
            "type": type,
            "object_id": object_id,
            "since": since,
            "until": until,
        },
    )
