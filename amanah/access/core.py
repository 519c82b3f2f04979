"""Who is asking and what their role allows: roles, permissions, the caller, the two refusals
(403 and "does not exist"), and the home's own administrator."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.db.models import (
    Collection,
    Engagement,
    Grant,
    RequestCompartment,
)
from amanah.system import default_actor

if TYPE_CHECKING:
    from amanah.workspace import Workspace


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
    READ_ENTITIES = "entities.read"  # persons, units, facilities, places, relations, links
    MANAGE_ENTITIES = "entities.manage"  # add names, relations, evidence links; import
    READ_ANNOTATIONS = "annotations.read"  # analysts' tags and notes on items they may see
    ANNOTATE = "annotations.manage"  # tag, note, save searches; staff work product


_READER = {Permission.SEARCH, Permission.READ_ITEM, Permission.READ_CONTENT}
_REQUESTS = {Permission.VIEW_REQUESTS, Permission.VIEW_PACKAGES}
_ENTITIES = {Permission.READ_ENTITIES, Permission.MANAGE_ENTITIES}
_ANNOTATE = {Permission.READ_ANNOTATIONS, Permission.ANNOTATE}
#: The whole policy as data: a new permission or role is one line here.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.INTAKE: frozenset(
        _READER
        | {
            Permission.UPLOAD,
            Permission.MANAGE_COLLECTIONS,
            Permission.VIEW_JOBS,
            Permission.READ_ANNOTATIONS,
        }
    ),
    Role.ANALYST: frozenset(_READER | {Permission.VIEW_JOBS, *_REQUESTS, *_ENTITIES, *_ANNOTATE}),
    Role.LEGAL: frozenset(
        _READER | {*_REQUESTS, Permission.MANAGE_REQUESTS, Permission.READ_ENTITIES, *_ANNOTATE}
    ),
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


DEFAULT_COMPARTMENT = "default"

#: Custody events a provider's account sees on its own items' timelines: what happened to
#: preserve them, not who at the mechanism read, derived, disclosed or restricted them.
PROVIDER_CUSTODY_TYPES: frozenset[str] = frozenset(
    {
        "ingestion",
        "message digest calculation",
        "fixity check",
        "format identification",
        "metadata extraction",
    }
)
#: Derivatives a provider's account sees listed on its own items: those made by processing
#: (text, OCR, page images, thumbnails), not the redactions the mechanism made to disclose.
PROVIDER_HIDDEN_DERIVATIVES: frozenset[str] = frozenset({"redacted", "redacted_text"})


def all_compartments(s: Session) -> frozenset[str]:
    """Every compartment in use: of collections, requests, engagements and grants, and
    `default`."""
    found = set(s.execute(select(Collection.compartment).distinct()).scalars())
    found |= set(s.execute(select(RequestCompartment.compartment).distinct()).scalars())
    found |= set(s.execute(select(Grant.compartment).distinct()).scalars())
    found |= set(s.execute(select(Engagement.compartment).distinct()).scalars())
    return frozenset(found | {DEFAULT_COMPARTMENT})


def local_administrator(ws: Workspace, actor: str | None = None) -> Caller:
    """The CLI's caller: the machine's account, holding every compartment."""
    with ws.db.reader() as s:
        found = all_compartments(s)
    return Caller(actor=actor or default_actor(), compartments=found)
