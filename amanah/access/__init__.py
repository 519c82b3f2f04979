"""Need-to-know in one place: who may do what, and which collections and items they may see.

The API, the pages, the CLI and search all ask here; nothing else decides. A caller sees a
collection when they hold its compartment and, for a provider's account, when it is their
provider's. Outside that, an item "does not exist" (the API answers 404, not 403).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, false, select, true
from sqlalchemy.orm import Session

from amanah.db.models import Collection, Item, Package
from amanah.workspace import Workspace, default_actor


class Role(StrEnum):
    ADMIN = "admin"
    INTAKE = "intake"
    ANALYST = "analyst"
    LEGAL = "legal"
    PROVIDER = "provider"
    RECIPIENT = "recipient"


class Permission(StrEnum):
    SEARCH = "search"
    READ_ITEM = "item.read"  # metadata, provenance, custody timeline
    READ_CONTENT = "item.content"  # original bytes, text, page images
    UPLOAD = "upload"
    MANAGE_COLLECTIONS = "collections.manage"
    VIEW_JOBS = "jobs.view"
    MANAGE_USERS = "users.manage"
    VIEW_AUDIT = "audit.view"
    VIEW_REQUESTS = "requests.view"  # requests, review, packages, response metrics
    MANAGE_REQUESTS = "requests.manage"  # jurisdictions, requests, consent, redaction, packages
    VIEW_PACKAGES = "packages.view"  # staff see all; a recipient its jurisdiction's only


_READER = {Permission.SEARCH, Permission.READ_ITEM, Permission.READ_CONTENT}
_REQUESTS = {Permission.VIEW_REQUESTS, Permission.VIEW_PACKAGES}
#: The whole policy as data: a new permission or role is one line here.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.INTAKE: frozenset(
        _READER | {Permission.UPLOAD, Permission.MANAGE_COLLECTIONS, Permission.VIEW_JOBS}
    ),
    Role.ANALYST: frozenset(_READER | {Permission.VIEW_JOBS, *_REQUESTS}),
    Role.LEGAL: frozenset(_READER | {*_REQUESTS, Permission.MANAGE_REQUESTS}),
    Role.PROVIDER: frozenset(_READER | {Permission.UPLOAD}),
    Role.RECIPIENT: frozenset({Permission.VIEW_PACKAGES}),
}


class AccessDenied(Exception):
    """The caller's role does not allow this (HTTP 403)."""


class NotVisible(Exception):
    """Outside the caller's need-to-know, or absent: the same answer for both (HTTP 404)."""


@dataclass(frozen=True)
class Caller:
    """Who is asking, from where, and the compartments they hold grants for."""

    actor: str
    compartments: frozenset[str]
    role: Role = Role.ADMIN
    user_id: int | None = None
    #: Set for a provider's account: it sees its own provider's collections only.
    provider_id: int | None = None
    address: str | None = None
    #: Set for a recipient's account: it sees its own jurisdiction's packages only.
    jurisdiction_id: int | None = None

    def may_see(self, compartment: str) -> bool:
        return compartment in self.compartments

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise AccessDenied(f"the {self.role} role may not {permission.value}")

    def audit(self) -> dict[str, Any]:
        """What the ledger records about the caller next to each access."""
        out: dict[str, Any] = {"role": str(self.role)}
        if self.address:
            out["address"] = self.address
        return out


def collections_visible(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition on `collections` for what the caller may see."""
    if not caller.compartments:
        return false()
    cond = Collection.compartment.in_(sorted(caller.compartments))
    if caller.provider_id is not None:
        cond = and_(cond, Collection.provider_id == caller.provider_id)
    return cond


def packages_visible(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition on `packages`: whoever manages requests sees them all; a recipient
    sees those built for its jurisdiction; nobody else sees any."""
    if caller.can(Permission.VIEW_REQUESTS):
        return true()
    if caller.can(Permission.VIEW_PACKAGES) and caller.jurisdiction_id is not None:
        return Package.jurisdiction_id == caller.jurisdiction_id
    return false()


def visible_collection(s: Session, caller: Caller, name: str) -> Collection:
    coll = s.execute(
        select(Collection).where(Collection.name == name, collections_visible(caller))
    ).scalar_one_or_none()
    if coll is None:
        raise NotVisible(f"no collection named {name!r}")
    return coll


def visible_item(s: Session, caller: Caller, item_id: int) -> Item:
    item = s.execute(
        select(Item)
        .join(Collection, Collection.id == Item.collection_id)
        .where(Item.id == item_id, collections_visible(caller))
    ).scalar_one_or_none()
    if item is None:
        raise NotVisible(f"no item with id {item_id}")
    return item


def visible_collection_id(s: Session, caller: Caller, collection_id: int) -> Collection:
    coll = s.execute(
        select(Collection).where(Collection.id == collection_id, collections_visible(caller))
    ).scalar_one_or_none()
    if coll is None:
        raise NotVisible(f"no collection with id {collection_id}")
    return coll


def index_scope(caller: Caller) -> tuple[list[str], dict[str, Any]]:
    """The same rule as `collections_visible`, for the search index (`search_docs d`), which
    keeps a copy of each item's compartment and provider: SQL conditions and parameters
    (`compartments` is an expanding parameter)."""
    if not caller.compartments:
        return ["1 = 0"], {}
    where = ["d.compartment IN :compartments"]
    params: dict[str, Any] = {"compartments": sorted(caller.compartments)}
    if caller.provider_id is not None:
        where.append("d.provider_id = :own_provider")
        params["own_provider"] = caller.provider_id
    return where, params


def all_compartments(s: Session) -> frozenset[str]:
    found = set(s.execute(select(Collection.compartment).distinct()).scalars())
    return frozenset(found | {"default"})


def local_administrator(ws: Workspace, actor: str | None = None) -> Caller:
    """The CLI's caller: the machine's account, holding every compartment."""
    with ws.db.reader() as s:
        found = all_compartments(s)
    return Caller(actor=actor or default_actor(), compartments=found)
