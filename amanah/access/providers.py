"""Need-to-know for providers and their cooperation frameworks: a provider is known to
whoever sees one of its collections (or to every member of staff while it has none yet); its
frameworks' terms govern all of its material, so changing them, or recording a new one,
takes a caller who sees every collection it has; new collections go into compartments the
caller holds, under a provider it knows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, not_, or_, select
from sqlalchemy.orm import Session, aliased

from amanah.access.core import AccessDenied, Caller, NotVisible, Role
from amanah.access.items import collections_visible_on
from amanah.db.models import Collection, Framework, Provider


def providers_visible(caller: Caller, provider: Any = Provider) -> ColumnElement[bool]:
    """The SQL condition on `providers` (or an alias): one of its collections is visible to
    the caller, or it has none yet (a provider's account: its own provider only)."""
    if caller.provider_id is not None:
        return provider.id == caller.provider_id  # type: ignore[no-any-return]
    seen, any_ = aliased(Collection), aliased(Collection)
    return or_(
        exists().where(seen.provider_id == provider.id, collections_visible_on(caller, seen)),
        not_(exists().where(any_.provider_id == provider.id)),
    )


def _whole(caller: Caller, provider: Any = Provider) -> ColumnElement[bool]:
    """None of the provider's collections is hidden from the caller."""
    hidden = aliased(Collection)
    return not_(
        exists().where(
            hidden.provider_id == provider.id, not_(collections_visible_on(caller, hidden))
        )
    )


def frameworks_visible(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition on `frameworks`: its provider is known to the caller."""
    p = aliased(Provider)
    return exists().where(p.id == Framework.provider_id, providers_visible(caller, p))


def require_framework_editable(s: Session, caller: Caller, framework_id: int) -> None:
    """A framework the caller may change: NotVisible when its provider is unknown to the
    caller (the same answer as no such framework), AccessDenied when the caller does not see
    every collection its terms govern."""
    fw = s.get(Framework, framework_id)
    if (
        fw is None
        or not s.execute(
            select(Provider.id).where(Provider.id == fw.provider_id, providers_visible(caller))
        ).first()
    ):
        raise NotVisible(f"no cooperation framework {framework_id}")
    if not s.execute(
        select(Provider.id).where(Provider.id == fw.provider_id, _whole(caller))
    ).first():
        raise AccessDenied(
            f"cooperation framework {framework_id} governs collections in compartments you"
            " hold no grant for: its terms are changed by someone who holds them all"
        )


def require_provider_usable(s: Session, caller: Caller, name: str, *, whole: bool) -> None:
    """An existing provider named `name` that the caller may record something under (a
    collection: it knows the provider; a framework, `whole`: it sees all of its
    collections). A new name is free to use. The provider's account: its own only."""
    found = s.execute(select(Provider).where(Provider.name == name.strip())).scalar_one_or_none()
    if found is None:
        if caller.provider_id is not None:
            raise AccessDenied("a provider's account records nothing under another provider")
        return
    if not s.execute(
        select(Provider.id).where(Provider.id == found.id, providers_visible(caller))
    ).first():
        raise NotVisible(f"no provider named {name.strip()!r} that you may see")
    if (
        whole
        and not s.execute(
            select(Provider.id).where(Provider.id == found.id, _whole(caller))
        ).first()
    ):
        raise AccessDenied(
            f"provider {name.strip()!r} has collections in compartments you hold no grant for:"
            " its frameworks are recorded by someone who holds them all"
        )


def require_compartment_held(caller: Caller, compartment: str) -> None:
    """A new collection goes into a compartment the caller holds a grant for (the
    administrator, who grants them, may open a new one)."""
    if caller.role is not Role.ADMIN and not caller.may_see(compartment):
        raise AccessDenied(f"you hold no grant for compartment {compartment!r}")


def require_collection_creatable(
    s: Session, caller: Caller, provider: str, compartment: str
) -> None:
    """A collection the caller may create: in a compartment it holds, under a provider it
    knows (or a new one)."""
    require_compartment_held(caller, compartment)
    require_provider_usable(s, caller, provider, whole=False)
