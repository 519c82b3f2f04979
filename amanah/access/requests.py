"""Need-to-know for requests for assistance and what they produce: packages, searches,
saved searches, and the compartments a request holds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, literal, not_, or_, select, true
from sqlalchemy.orm import Session, aliased

from amanah.access.core import (
    DEFAULT_COMPARTMENT,
    AccessDenied,
    Caller,
    NotVisible,
    Permission,
    Role,
)
from amanah.access.items import collections_visible_on, item_id_visible, item_withheld
from amanah.db.models import (
    Collection,
    Grant,
    Item,
    Package,
    PackageItem,
    Request,
    RequestCompartment,
    Review,
    SavedSearch,
    SearchLog,
    User,
)


def requests_visible(caller: Caller, request: Any = Request) -> ColumnElement[bool]:
    """The SQL condition on `requests` (or an alias of it): staff who view requests and hold
    every compartment of the request (a request recorded without any counts as `default`)."""
    if not caller.can(Permission.VIEW_REQUESTS):
        return false()
    rc = aliased(RequestCompartment)
    held = sorted(caller.compartments)
    outside = exists().where(
        rc.request_id == request.id, rc.compartment.not_in(held) if held else true()
    )
    if DEFAULT_COMPARTMENT in caller.compartments:
        return not_(outside)
    rc_any = aliased(RequestCompartment)
    return and_(not_(outside), exists().where(rc_any.request_id == request.id))


def packages_visible(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition on `packages`: staff see a package only when they may see every item
    in it and its request; a recipient sees those built for its jurisdiction; nobody else
    sees any."""
    if caller.can(Permission.VIEW_REQUESTS):
        pi, item, coll, req = (
            aliased(PackageItem),
            aliased(Item),
            aliased(Collection),
            aliased(Request),
        )
        hidden_item = exists().where(
            pi.package_id == Package.id,
            item.id == pi.item_id,
            coll.id == item.collection_id,
            not_(collections_visible_on(caller, coll)),
        )
        request_seen = exists().where(req.id == Package.request_id, requests_visible(caller, req))
        return and_(not_(hidden_item), request_seen)
    if caller.can(Permission.VIEW_PACKAGES) and caller.jurisdiction_id is not None:
        return Package.jurisdiction_id == caller.jurisdiction_id
    return false()


def require_package_deliverable(s: Session, caller: Caller, package_id: str) -> None:
    """A package's bytes go out (a download, for any role) only while consent still covers
    every item in it: none withheld from investigation (`item_withheld`) and none whose
    person withdrew consent for sharing with its recipient after it was built. The package
    stays listed and its page says why (`person_consent.withdrawn_since`); its bag is not
    changed (its seal covers every file), so it is not handed out again. Raises
    AccessDenied, naming the items and not the people."""
    from amanah.sharing.person_consent import withdrawn_since

    ids = select(PackageItem.item_id).where(PackageItem.package_id == package_id)
    held = set(s.execute(select(Item.id).where(Item.id.in_(ids), item_withheld(Item.id))).scalars())
    for entry in withdrawn_since(s, caller, package_id):
        held.update(entry["items"])
    if held:
        listed = ", ".join(str(i) for i in sorted(held)[:20]) + (", …" if len(held) > 20 else "")
        raise AccessDenied(
            f"package {package_id} is not handed out again: consent for item(s) {listed} was"
            " withdrawn after it was built (see the package's page; ask the legal officer)"
        )


def searches_visible(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition on `search_log`: a search run for a request is seen by whoever sees
    the request; any other search by its author and by auditors."""
    req = aliased(Request)
    for_request = and_(
        SearchLog.request_id.is_not(None),
        exists().where(req.id == SearchLog.request_id, requests_visible(caller, req)),
    )
    own = SearchLog.actor == caller.actor
    if caller.can(Permission.VIEW_AUDIT):
        own = true()
    return or_(for_request, and_(SearchLog.request_id.is_(None), own))


def saved_searches_visible(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition on `saved_searches`: a user's own, and those shared with a
    compartment the user holds; for staff who annotate (a provider's account and a recipient
    see none)."""
    if not caller.can(Permission.ANNOTATE) or caller.provider_id is not None:
        return false()
    held = sorted(caller.compartments)
    shared = SavedSearch.shared_with.in_(held) if held else false()
    # A share is its owner's act within a team: it lasts while the owner holds the
    # compartment (an account that lost it no longer speaks into the team). The machine's
    # local account (not `user:`) holds every compartment, and so does an administrator's
    # account (as `users.caller_for` gives it), without a grant row.
    owner = aliased(User)
    owner_holds = or_(
        ~SavedSearch.owner.startswith("user:"),
        exists().where(
            literal("user:").concat(owner.name) == SavedSearch.owner,
            owner.role == Role.ADMIN.value,
        ),
        exists().where(
            literal("user:").concat(owner.name) == SavedSearch.owner,
            Grant.user_id == owner.id,
            Grant.compartment == SavedSearch.shared_with,
        ),
    )
    return or_(
        SavedSearch.owner == caller.actor,
        and_(SavedSearch.shared_with != "", shared, owner_holds),
    )


def request_compartments(s: Session, request_id: int) -> frozenset[str]:
    found = frozenset(
        s.execute(
            select(RequestCompartment.compartment).where(
                RequestCompartment.request_id == request_id
            )
        ).scalars()
    )
    return found or frozenset({DEFAULT_COMPARTMENT})


def visible_request(
    s: Session, caller: Caller, *, request_id: int | None = None, reference: str | None = None
) -> Request:
    """The request, by id or reference, if the caller may see it; NotVisible (404) otherwise,
    with the same words whether it is hidden or absent."""
    stmt = select(Request).where(requests_visible(caller))
    if request_id is not None:
        stmt, what = stmt.where(Request.id == request_id), f"with id {request_id}"
    elif reference is not None:
        stmt, what = stmt.where(Request.reference == reference), f"{reference!r}"
    else:
        raise ValueError("a request id or reference is needed")
    row = s.execute(stmt).scalar_one_or_none()
    if row is None:
        raise NotVisible(f"no request for assistance {what}")
    return row


def for_request(s: Session, caller: Caller, request: Request) -> Caller:
    """The caller as it works on one request: it sees only items of the request's
    compartments (candidates, searches run for it, letters, packages)."""
    return replace(caller, compartments=caller.compartments & request_compartments(s, request.id))


def candidates_visible(s: Session, caller: Caller, request: Request) -> ColumnElement[bool]:
    """The SQL condition on `reviews` of `request`: the candidates the caller may see within
    the request's compartments (`for_request`), and not withheld (`item_withheld`). Every read
    of a request's review (its rows, its counts, a consent letter's items) goes through it:
    a candidate whose consent for investigation was withdrawn shows on no list and in no
    count, as on its own page, where only that it is withheld is said."""
    return item_id_visible(for_request(s, caller, request), Review.item_id)


def choose_request_compartments(caller: Caller, wanted: Iterable[str] | None) -> frozenset[str]:
    """The compartments a new request gets: those asked for, each one the caller holds (a
    caller cannot file a request where they could not see it). Nothing asked for: `default`
    when the caller holds it, else every compartment the caller holds."""
    chosen = frozenset(c.strip() for c in wanted or () if c.strip())
    if not chosen:
        if DEFAULT_COMPARTMENT in caller.compartments:
            return frozenset({DEFAULT_COMPARTMENT})
        if not caller.compartments:
            raise AccessDenied("you hold no compartment: a request needs one of yours")
        return caller.compartments
    foreign = sorted(chosen - caller.compartments)
    if foreign:
        raise AccessDenied(
            f"you do not hold compartment {', '.join(foreign)}: choose among"
            f" {', '.join(sorted(caller.compartments)) or 'none'}"
        )
    return chosen
