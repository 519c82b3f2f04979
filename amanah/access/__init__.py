"""Need-to-know: who may see which compartments. Every search, listing and read asks here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from amanah.db.models import Collection
from amanah.workspace import Workspace, default_actor


@dataclass(frozen=True)
class Caller:
    """Who is asking, and the compartments they hold grants for (nothing else is visible)."""

    actor: str
    compartments: frozenset[str]

    def may_see(self, compartment: str) -> bool:
        return compartment in self.compartments


def local_administrator(ws: Workspace, actor: str | None = None) -> Caller:
    """The CLI's caller until users exist: the machine's account, holding every compartment."""
    with ws.db.reader() as s:
        found = set(s.execute(select(Collection.compartment).distinct()).scalars())
    return Caller(actor=actor or default_actor(), compartments=frozenset(found | {"default"}))
