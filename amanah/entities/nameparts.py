"""Name parts and blocking keys of entity names, both derived from the full name by the one
name matcher (`amanah.text.name_match`): the parts (ism, father, grandfather, family/nisba,
kunya) of a person's name, and for every name the keys candidate search looks up. Filled when
a name is added or imported; `backfill` fills names kept before this existed (or all names
again after the matcher changed). Derived data: rebuilding it changes no assertion."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from amanah.access import Caller, Permission
from amanah.db.models import Entity, EntityName, EntityNameKey
from amanah.entities.candidates import index_pairs
from amanah.text import name_match as nm

#: The part columns of `entity_names`, in the parser's field names.
PART_FIELDS = ("ism", "father", "grandfather", "family", "kunya")


def parts_of(full_name: str) -> dict[str, str]:
    """The parser's reading of a person's name, one column per field (several parts of one
    field, e.g. two nisbas, joined by a space)."""
    parsed = nm.parse(full_name)
    out = dict.fromkeys(PART_FIELDS, "")
    for field in PART_FIELDS:
        out[field] = " ".join(p.text for p in parsed.get(field))
    return out


def index_name(s: Session, row: EntityName, entity_kind: str) -> None:
    """Fill a name row's parts (a person's names only: a unit's name has no ism) and replace
    its blocking keys."""
    parts = parts_of(row.full_name) if entity_kind == "person" else dict.fromkeys(PART_FIELDS, "")
    for field, value in parts.items():
        setattr(row, field, value)
    s.execute(delete(EntityNameKey).where(EntityNameKey.name_id == row.id))
    for key in sorted(nm.keys(row.full_name)):
        s.add(EntityNameKey(name_id=row.id, key=key[:80], entity_id=row.entity_id))
    s.flush()
    index_pairs(s, row.id, row.full_name)


def backfill(s: Session, caller: Caller, *, everything: bool = False, batch: int = 500) -> int:
    """Parse the names that have no keys yet (or, with `everything`, all names again); the
    number of names parsed. Arabic parts are romanised a batch at a time."""
    caller.require(Permission.MANAGE_ENTITIES)
    stmt = select(EntityName, Entity.kind).join(Entity, Entity.id == EntityName.entity_id)
    if not everything:
        stmt = stmt.where(~exists().where(EntityNameKey.name_id == EntityName.id))
    rows: Sequence[tuple[EntityName, str]] = s.execute(stmt.order_by(EntityName.id)).tuples().all()
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        nm.prepare_many([r.full_name for r, _ in chunk])
        for row, kind in chunk:
            index_name(s, row, kind)
    return len(rows)
