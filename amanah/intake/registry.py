"""Providers, cooperation frameworks and collections: who gave what, under which agreement."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, true, update
from sqlalchemy.orm import Session

from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import (
    Collection,
    Framework,
    FrameworkJurisdiction,
    Item,
    Jurisdiction,
    Provider,
    SearchDoc,
)
from amanah.sharing.protected import COMPARTMENT_NAMES_PROTECTED, refuse_names


class RegistryError(Exception):
    """A provider, framework or collection does not exist or does not fit the others."""


def now() -> datetime:
    return datetime.now(UTC)


def checked_name(text: str, what: str) -> str:
    """A name a user gives (a collection, provider, compartment): the one check tags and saved
    searches pass (`amanah.analyst.check_label`): one line, no control character (newline,
    NUL), no bidi override or mark, nothing invisible; said as a RegistryError."""
    from amanah.analyst import AnalystError, check_label

    try:
        return check_label(text, what)
    except AnalystError as exc:
        raise RegistryError(str(exc)) from None


def provider(session: Session, name: str, create: bool = True) -> Provider:
    name = name.strip()
    if not name:
        raise RegistryError("a provider needs a name")
    found = session.execute(select(Provider).where(Provider.name == name)).scalar_one_or_none()
    if found is not None:
        return found
    # refused before the lookup's error too, which would say the name back
    refuse_names(session, RegistryError(PROVIDER_NAMES_PROTECTED), name)
    if not create:
        raise RegistryError(f"no provider named {name!r}")
    checked_name(name, "a provider's name")
    row = Provider(name=name, created_at=now())
    session.add(row)
    session.flush()
    return row


FRAMEWORK_KINDS = ("mou", "protocol", "letter", "other")
DISCLOSURE_RULES = ("any", "consent", "named", "never")
CONFIDENTIALITY = ("public", "restricted", "confidential", "strictly_confidential")


def check_framework(
    title: str,
    kind: str,
    disclosure: str,
    confidentiality: str,
    named: list[str],
    signed_on: date | None,
    expires_on: date | None,
) -> None:
    """The rules a framework's terms follow, when it is recorded and when it is edited."""
    if not title.strip():
        raise RegistryError("a cooperation framework needs a title")
    for value, allowed, option in (
        (kind, FRAMEWORK_KINDS, "kind"),
        (disclosure, DISCLOSURE_RULES, "disclosure"),
        (confidentiality, CONFIDENTIALITY, "confidentiality"),
    ):
        if value not in allowed:
            raise RegistryError(f"{option} {value!r} is not known: choose {', '.join(allowed)}")
    if disclosure == "named" and not named:
        raise RegistryError("disclosure 'named' needs the jurisdictions it names (--jurisdiction)")
    if named and disclosure != "named":
        raise RegistryError("jurisdictions are named only with disclosure 'named'")
    if signed_on and expires_on and expires_on < signed_on:
        raise RegistryError(f"expiry {expires_on} is before signature {signed_on}")


FRAMEWORK_NAMES_PROTECTED = (
    "a cooperation framework's words must not name a protected person (they are shown in"
    " clear): write the pseudonym"
)


PROVIDER_NAMES_PROTECTED = (
    "a provider's name must not name a protected person (it is kept and shown in clear):"
    " write the pseudonym"
)
COLLECTION_NAMES_PROTECTED = (
    "a collection's name, method, place and collector must not name a protected person"
    " (they are kept and shown in clear): write the pseudonym"
)


def check_framework_words(session: Session, *words: str | None) -> None:
    """A framework's words are shown to every analyst and printed in clear: never a name."""
    refuse_names(session, RegistryError(FRAMEWORK_NAMES_PROTECTED), *words)


def add_framework(
    session: Session,
    provider_name: str,
    title: str,
    signed_on: date | None,
    terms: str = "",
    *,
    kind: str = "mou",
    parties: list[str] | None = None,
    expires_on: date | None = None,
    scope: str = "",
    disclosure: str = "consent",
    jurisdictions: list[str] | None = None,
    attribution_required: bool = False,
    confidentiality: str = "confidential",
) -> Framework:
    """Record an agreement and its terms as data; consent for each disclosure is the default,
    the reading that protects the provider when nobody said otherwise."""
    named = list(dict.fromkeys(jurisdictions or []))
    check_framework(title, kind, disclosure, confidentiality, named, signed_on, expires_on)
    check_framework_words(session, provider_name, title, terms, scope, *(parties or []))
    prov = provider(session, provider_name)
    row = Framework(
        provider_id=prov.id,
        title=title.strip(),
        signed_on=signed_on,
        terms=terms,
        kind=kind,
        parties=json.dumps([prov.name, *(parties or [])], ensure_ascii=False),
        expires_on=expires_on,
        scope=scope,
        disclosure=disclosure,
        attribution_required=attribution_required,
        confidentiality=confidentiality,
        created_at=now(),
    )
    session.add(row)
    session.flush()
    for code in named:
        j = session.execute(
            select(Jurisdiction).where(Jurisdiction.code == code)
        ).scalar_one_or_none()
        if j is None:
            raise RegistryError(f"no jurisdiction {code!r} (see `amanah jurisdiction list`)")
        session.add(FrameworkJurisdiction(framework_id=row.id, jurisdiction_id=j.id))
    session.flush()
    return row


def list_frameworks(session: Session, visible: Any = None) -> list[dict[str, Any]]:
    """Every framework, or those `visible` (an SQL condition of `amanah.access`) lets through."""
    named: dict[int, list[str]] = {}
    for fid, code in session.execute(
        select(FrameworkJurisdiction.framework_id, Jurisdiction.code).join(Jurisdiction)
    ):
        named.setdefault(fid, []).append(code)
    return [
        {
            "id": fw.id,
            "provider": prov,
            "title": fw.title,
            "kind": fw.kind,
            "parties": json.loads(fw.parties),
            "signed_on": fw.signed_on.isoformat() if fw.signed_on else None,
            "expires_on": fw.expires_on.isoformat() if fw.expires_on else None,
            "scope": fw.scope,
            "disclosure": fw.disclosure,
            "jurisdictions": sorted(named.get(fw.id, [])),
            "attribution_required": fw.attribution_required,
            "confidentiality": fw.confidentiality,
            "terms": fw.terms,
        }
        for fw, prov in session.execute(
            select(Framework, Provider.name)
            .join(Provider)
            .where(true() if visible is None else visible)
            .order_by(Framework.id)
        ).all()
    ]


def _named(session: Session, name: str) -> Collection:
    coll = session.execute(select(Collection).where(Collection.name == name)).scalar_one_or_none()
    if coll is None:
        raise RegistryError(f"no collection named {name!r}")
    return coll


def _restriction_change(
    session: Session, coll: Collection, actor: str, what: str, before: Any, after: Any
) -> None:
    ledger.append(
        session,
        EventType.RESTRICTION_CHANGE,
        actor=actor,
        object_type="collection",
        object_id=coll.id,
        details={"collection": coll.name, what: {"from": before, "to": after}},
    )


def link_framework(session: Session, name: str, framework_id: int, actor: str) -> Collection:
    """Put a collection under a framework of its provider: its items inherit the terms."""
    coll = _named(session, name)
    fw = session.get(Framework, framework_id)
    if fw is None:
        raise RegistryError(f"no cooperation framework with id {framework_id}")
    if fw.provider_id != coll.provider_id:
        raise RegistryError(
            f"framework {framework_id} ({fw.title!r}) is not an agreement with this collection's"
            " provider"
        )
    before = coll.framework_id
    if before == framework_id:
        return coll
    coll.framework_id = framework_id
    _restriction_change(session, coll, actor, "framework", before, framework_id)
    return coll


def collection(
    session: Session,
    name: str,
    provider_name: str | None,
    framework_id: int | None = None,
    method: str = "",
    collected_on: date | None = None,
    place: str = "",
    collector: str = "",
    compartment: str | None = None,
    ocr_languages: str | None = None,
) -> Collection:
    """The named collection, created on first use; later uses must name the same provider."""
    name = name.strip()
    if not name:
        raise RegistryError("a collection needs a name")
    if compartment:  # before the error that would say it back (another compartment)
        refuse_names(session, RegistryError(COMPARTMENT_NAMES_PROTECTED), compartment)
    found = session.execute(select(Collection).where(Collection.name == name)).scalar_one_or_none()
    if found is not None:
        if provider_name:
            prov = provider(session, provider_name, create=False)
            if prov.id != found.provider_id:
                raise RegistryError(
                    f"collection {name!r} belongs to another provider; choose a new collection name"
                )
        if compartment and compartment != found.compartment:
            raise RegistryError(
                f"collection {name!r} is in compartment {found.compartment!r}; move it with"
                f" `amanah collection set {name!r} --compartment {compartment}`"
            )
        if ocr_languages and ocr_languages != found.ocr_languages:
            found.ocr_languages = ocr_languages  # applies to items processed from now on
        if framework_id is not None and found.framework_id not in (None, framework_id):
            raise RegistryError(
                f"collection {name!r} is under framework {found.framework_id}, not {framework_id}"
            )
        return found
    checked_name(name, "a collection's name")
    if compartment:
        checked_name(compartment, "a compartment's name")
    if not provider_name:
        raise RegistryError(f"collection {name!r} is new: name its provider with --provider")
    refuse_names(session, RegistryError(COLLECTION_NAMES_PROTECTED), name, method, place, collector)
    prov = provider(session, provider_name)
    if framework_id is not None:
        fw = session.get(Framework, framework_id)
        if fw is None:
            raise RegistryError(f"no cooperation framework with id {framework_id}")
        if fw.provider_id != prov.id:
            raise RegistryError(
                f"framework {framework_id} ({fw.title!r}) is not an agreement with {prov.name!r}"
            )
    row = Collection(
        name=name,
        provider_id=prov.id,
        framework_id=framework_id,
        method=method,
        collected_on=collected_on,
        place=place,
        collector=collector,
        compartment=compartment or "default",
        created_at=now(),
        ocr_languages=ocr_languages or "ara+eng",
    )
    session.add(row)
    session.flush()
    return row


def set_compartment(session: Session, name: str, compartment: str, actor: str) -> Collection:
    """Move a collection to another need-to-know compartment: a restriction change, recorded.

    The search index copies the compartment of each item, so it follows in the same
    transaction: no search ever sees the collection under its old compartment.
    """
    compartment = compartment.strip()
    if not compartment or len(compartment) > 200:
        raise RegistryError("a compartment needs a name of 1 to 200 characters")
    checked_name(compartment, "a compartment's name")
    refuse_names(session, RegistryError(COMPARTMENT_NAMES_PROTECTED), compartment)
    coll = _named(session, name)
    before = coll.compartment
    if before == compartment:
        return coll
    coll.compartment = compartment
    session.execute(
        update(SearchDoc).where(SearchDoc.collection_id == coll.id).values(compartment=compartment)
    )
    _restriction_change(session, coll, actor, "compartment", before, compartment)
    return coll


def list_collections(session: Session, visible: Any) -> list[dict[str, Any]]:
    """Collections matching the caller's visibility condition, with their item counts: the
    items not withheld by a person's consent (a count is derived from them, and moves when
    one is withheld or handed over again; the dashboard's total counts the same)."""
    from amanah.access import not_withheld

    counts = {
        c: n
        for c, n in session.execute(
            select(Item.collection_id, func.count())
            .where(not_withheld(Item.id))
            .group_by(Item.collection_id)
        ).all()
    }
    rows = session.execute(
        select(Collection, Provider.name)
        .join(Provider, Provider.id == Collection.provider_id)
        .where(visible)
        .order_by(Collection.name)
    ).all()
    return [
        {
            "name": c.name,
            "provider": p,
            "compartment": c.compartment,
            "framework_id": c.framework_id,
            "method": c.method,
            "collected_on": c.collected_on.isoformat() if c.collected_on else None,
            "place": c.place,
            "ocr_languages": c.ocr_languages,
            "items": counts.get(c.id, 0),
            "created_at": c.created_at.isoformat(),
        }
        for c, p in rows
    ]


def new_collection(
    session: Session, name: str, provider_name: str, compartment: str, **fields: Any
) -> Collection:
    """A collection created on purpose (web, API): an existing name is an error, not a reuse."""
    if session.execute(select(Collection.id).where(Collection.name == name.strip())).first():
        raise RegistryError(f"a collection named {name.strip()!r} already exists")
    return collection(session, name, provider_name, compartment=compartment, **fields)
