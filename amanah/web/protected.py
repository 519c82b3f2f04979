"""Protected persons on the web: the list by pseudonym, a form to record a person with every
spelling of the name, a form to add a spelling.

A typed name is sealed at once (amanah.sharing.protected: keyed digests only) and never comes
back: not in a page, a redirect, an error, a log line or the ledger. The forms are POST only
(a name never sits in a URL); after adding, the page shows the pseudonym. A form with a
problem is shown again with what was typed *except* the spellings, and any other field that
contains the name, and says so."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from amanah.access import Caller, Permission
from amanah.errors import message
from amanah.sharing import SharingError, protected
from amanah.web import i18n
from amanah.web.auth import allow, workspace
from amanah.web.pages import language, render

router = APIRouter(include_in_schema=False)
Legal = Annotated[Caller, Depends(allow(Permission.MANAGE_REQUESTS))]
#: Shown under every problem: the reader must know why the names are blank again.
NOT_SHOWN_AGAIN = (
    "The spellings you typed are not shown again (names are never displayed): type them again."
)


def _page(
    request: Request,
    caller: Caller,
    status: int = 200,
    error: str = "",
    form: dict[str, str] | None = None,
    spelling_error: str = "",
    spelling_form: dict[str, str] | None = None,
) -> Response:
    with workspace(request).db.reader() as s:
        rows = protected.list_all(s, caller)
    return render(
        request,
        "protected.html",
        status=status,
        rows=rows,
        roles=protected.ROLES,
        error=error,
        form=form or {},
        spelling_error=spelling_error,
        spelling_form=spelling_form or {},
        added=request.query_params.get("added", ""),
        spelled=request.query_params.get("spelled", ""),
    )


@router.get("/protected")
def protected_page(request: Request, caller: Legal) -> Response:
    return _page(request, caller)


def _pseudonyms(request: Request, caller: Caller) -> set[str]:
    with workspace(request).db.reader() as s:
        return {r["pseudonym"] for r in protected.list_all(s, caller)}


def _spellings(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


#: Words too common in names to betray one on their own.
PARTICLES = {
    "abu",
    "abou",
    "bin",
    "ibn",
    "bint",
    "umm",
    "abd",
    "ابو",
    "أبو",
    "بن",
    "بنت",
    "ام",
    "أم",
}


def _without_the_name(names: list[str], fields: dict[str, str]) -> dict[str, str]:
    """The typed fields that may be shown again: any that contains one of the names, or any
    word of one in any spelling the matcher knows (a surname alone gives a person away), is
    blanked."""
    words = {w for n in names for w in n.split() if len(w) > 2 and w.casefold() not in PARTICLES}
    try:
        matcher = protected.Matcher.of([(w, [w]) for w in words]) if words else None
    except Exception:  # words with nothing to match: nothing they could reveal by matching
        matcher = None
    kept = {}
    for key, value in fields.items():
        named = matcher is not None and bool(matcher.names(value))
        clear = any(w.casefold() in value.casefold() for w in words)
        kept[key] = "" if named or clear else value
    return kept


def _problem(gettext: Callable[[str], str], exc: SharingError) -> str:
    """The library's reason in the reader's language; it never holds a name (the library
    names pseudonyms only)."""
    return gettext(message(exc))


def _recorded(
    request: Request,
    caller: Caller,
    problem: str,
    write: Callable[[Any], object],
    shown_again: Callable[[str], dict[str, Any]],
    done: str,
) -> Response:
    """A protected-person form's write, in its own transaction, unless its checks found a
    problem; a problem (theirs or the library's) re-shows the page with only what
    `shown_again` keeps (never the name), a success goes to `done`."""
    gettext = i18n.translations(language(request)).gettext
    if not problem:
        try:
            with workspace(request).db.session() as s:
                write(s)
        except SharingError as exc:
            problem = _problem(gettext, exc)
    if problem:
        error = f"{problem} {gettext(NOT_SHOWN_AGAIN)}"
        return _page(request, caller, status=400, **shown_again(error))
    return RedirectResponse(done, status_code=303)


@router.post("/protected")
def protected_add(
    request: Request,
    caller: Legal,
    pseudonym: Annotated[str, Form(max_length=200)] = "",
    names: Annotated[str, Form(max_length=20_000)] = "",
    role: Annotated[str, Form(max_length=20)] = "witness",
    notes: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """Record a protected person: one spelling a line (Arabic and Latin)."""
    gettext = i18n.translations(language(request)).gettext
    spellings = _spellings(names)
    kept = _without_the_name(spellings, {"pseudonym": pseudonym, "role": role, "notes": notes})
    problem = ""
    if not pseudonym.strip():
        problem = gettext("Give a pseudonym, e.g. Witness A.")
    elif not spellings:
        problem = gettext("Give at least one spelling of the name, one a line.")
    elif kept["pseudonym"] != pseudonym:
        problem = gettext("The pseudonym must not contain the name or any word of it.")
    elif kept["notes"] != notes:
        problem = gettext("The notes must not contain the name or any word of it.")
    elif pseudonym.strip() in _pseudonyms(request, caller):
        problem = gettext("This pseudonym is already used; choose another.")
    return _recorded(
        request,
        caller,
        problem,
        lambda s: protected.add(s, caller, pseudonym, spellings, role, notes),
        # Nor anything that names another protected person.
        lambda error: {"error": error, "form": without_names(request, kept)},
        f"/protected?added={quote(pseudonym.strip())}",
    )


@router.post("/protected/spelling")
def protected_spelling(
    request: Request,
    caller: Legal,
    pseudonym: Annotated[str, Form(max_length=200)] = "",
    name: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Add one spelling to a protected person."""
    gettext = i18n.translations(language(request)).gettext
    problem = ""
    if pseudonym not in _pseudonyms(request, caller):
        problem = gettext("Choose a protected person from the list.")
        pseudonym = ""  # whatever was typed instead is not shown again
    elif not name.strip():
        problem = gettext("Type the spelling to add.")
    return _recorded(
        request,
        caller,
        problem,
        lambda s: protected.add_spelling(s, caller, pseudonym, name),
        lambda error: {"spelling_error": error, "spelling_form": {"pseudonym": pseudonym}},
        f"/protected?spelled={quote(pseudonym)}",
    )


def without_names(request: Request, form: dict[str, Any]) -> dict[str, Any]:
    """A form to show again with every typed value that names a protected person blanked
    (lists are kept: they are choices from the page's own lists)."""
    with workspace(request).db.reader() as s:
        return {
            k: ("" if isinstance(v, str) and protected.named_in(s, v) else v)
            for k, v in form.items()
        }


def messages() -> list[Any]:
    """The library's fixed reasons the page translates (see i18n.dynamic_messages)."""
    return [
        "a spelling has no letters to match",
        "the pseudonym must not contain the name itself",
        "the notes must not contain the name: names are kept only as digests",
        protected.SPELLING_IN_PSEUDONYM,
        protected.SPELLING_IN_NOTES,
        protected.NAMED_IN_PSEUDONYM,
        protected.NAMED_IN_NOTES,
        NAMED_NOT_SHOWN,
    ]


#: Said after a refusal of words that name a protected person, on any form.
NAMED_NOT_SHOWN = "What named a protected person is not shown again."
