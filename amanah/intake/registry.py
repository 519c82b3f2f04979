"""Providers, cooperation frameworks and collections: who gave what, under which agreement."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.db.models import Collection, Framework, Provider


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
