"""Providers, cooperation frameworks and collections: who gave what, under which agreement."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import Collection, Framework, Item, Provider, SearchDoc


class RegistryError(Exception):
    """A provider, framework or collection does not exist or does not fit the others."""


def now() -> datetime:
    return datetime.now(UTC)


def provider(session: Session, name: str, create: bool = True) -> Provider:
    name = name.strip()
    if not name:
        raise RegistryError("a provider needs a name")
    found = session.execute(select(Provider).where(Provider.name == name)).scalar_one_or_none()
    if found is not None:
        return found
    if not create:
        raise RegistryError(f"no provider named {name!r}")
    row = Provider(name=name, created_at=now())
    session.add(row)
    session.flush()
    return row


def add_framework(
    session: Session, provider_name: str, title: str, signed_on: date | None, terms: str
) -> Framework:
    if not title.strip():
        raise RegistryError("a cooperation framework needs a title")
    prov = provider(session, provider_name)
    row = Framework(
        provider_id=prov.id, title=title.strip(), signed_on=signed_on, terms=terms, created_at=now()
    )
    session.add(row)
    session.flush()
    return row


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
    if not provider_name:
        raise RegistryError(f"collection {name!r} is new: name its provider with --provider")
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
    coll = session.execute(select(Collection).where(Collection.name == name)).scalar_one_or_none()
    if coll is None:
        raise RegistryError(f"no collection named {name!r}")
    before = coll.compartment
    if before == compartment:
        return coll
    coll.compartment = compartment
    session.execute(
        update(SearchDoc).where(SearchDoc.collection_id == coll.id).values(compartment=compartment)
    )
    ledger.append(
        session,
        EventType.RESTRICTION_CHANGE,
        actor=actor,
        object_type="collection",
        object_id=coll.id,
        details={"collection": coll.name, "compartment": {"from": before, "to": compartment}},
    )
    return coll


def list_collections(session: Session, visible: Any) -> list[dict[str, Any]]:
    """Collections matching the caller's visibility condition, with their item counts."""
    counts = {
        c: n
        for c, n in session.execute(
            select(Item.collection_id, func.count()).group_by(Item.collection_id)
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
