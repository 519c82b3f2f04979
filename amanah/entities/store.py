"""Entities, names and relations: adding them (each a custody event in the same transaction)
and reading them through need-to-know. Names are never written to the ledger in clear: an
event records a name's SHA-256, so a name that later proves to be a protected person's can
be withdrawn from the database without leaving a copy in the append-only record."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from amanah.access import (
    Caller,
    NotVisible,
    Permission,
    entities_visible,
    evidence_links_visible,
    names_visible,
    relations_visible,
    visible_entity,
)
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import Entity, EntityName, EntityRelation, EvidenceLink
from amanah.entities.vocab import (
    CONFIDENCE,
    KINDS,
    NAME_KINDS,
    RELATION_KINDS,
    STATUS,
    EntityError,
    choose,
    parse_date,
    script_of,
    show_date,
)


def now() -> datetime:
    return datetime.now(UTC)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record(s: Session, caller: Caller, object_type: str, object_id: int, **details: Any) -> None:
    """The custody event of one change, in the caller's transaction."""
    ledger.append(
        s,
        EventType.ENTITY_CHANGE,
        actor=caller.actor,
        object_type=object_type,
        object_id=object_id,
        details={**details, **caller.audit()},
    )


def entity(s: Session, caller: Caller, entity_id: int) -> Entity:
    """An entity the caller sees, to change or to read from; one merged into another is
    refused with its keeper's id (`amanah.entities.merge.keeper_of` resolves it)."""
    try:
        ent = visible_entity(s, caller, entity_id)
    except NotVisible as exc:
        raise EntityError(str(exc)) from None
    if ent.merged_into_id is not None:
        raise EntityError(f"entity {entity_id} is merged into entity {ent.merged_into_id}")
    return ent


def add_entity(
    s: Session,
    caller: Caller,
    kind: str,
    name: str,
    *,
    script: str | None = None,
    language: str = "",
    fields: dict[str, Any] | None = None,
    origin: str = "",
    ftm_id: str | None = None,
) -> Entity:
    """A new entity with its first (official) name."""
    caller.require(Permission.MANAGE_ENTITIES)
    kind = choose(kind, KINDS, "entity kind")
    if not name.strip():
        raise EntityError("an entity needs a name")
    values = dict(fields or {})
    born = values.pop("birth_date", None)
    if isinstance(born, str) and born:
        pd = parse_date(born, "birth date")
        values["birth_date"], values["birth_date_precision"] = pd.first, pd.precision
    if "identifiers" in values and not isinstance(values["identifiers"], str):
        values["identifiers"] = json.dumps(values["identifiers"], ensure_ascii=False)
    defaults = {c: "" for c in _TEXT_FIELDS}
    defaults["identifiers"] = "[]"
    ent = Entity(
        kind=kind,
        **{**defaults, **values},
        origin=origin,
        ftm_id=ftm_id,
        created_at=now(),
        created_by=caller.actor,
    )
    s.add(ent)
    s.flush()
    record(s, caller, "entity", ent.id, action="add entity", kind=kind, origin=origin)
    add_name(s, caller, ent.id, name, kind="official", script=script, language=language)
    return ent


_TEXT_FIELDS = (
    "subkind",
    "sex",
    "birth_date_precision",
    "birth_place",
    "nationality",
    "rank",
    "father_name",
    "mother_name",
    "pcode",
    "notes",
)


def add_name(
    s: Session,
    caller: Caller,
    entity_id: int,
    full_name: str,
    *,
    kind: str = "alias",
    script: str | None = None,
    language: str = "",
) -> EntityName:
    caller.require(Permission.MANAGE_ENTITIES)
    owner = entity(s, caller, entity_id)
    full_name = " ".join(full_name.split())
    if not full_name:
        raise EntityError("a name cannot be empty")
    row = EntityName(
        entity_id=entity_id,
        full_name=full_name,
        script=script or script_of(full_name),
        language=language,
        kind=choose(kind, NAME_KINDS, "name kind"),
        created_at=now(),
        created_by=caller.actor,
    )
    s.add(row)
    s.flush()
    from amanah.entities.nameparts import index_name

    index_name(s, row, owner.kind)  # its parts and blocking keys, in the same transaction
    record(
        s,
        caller,
        "entity",
        entity_id,
        action="add name",
        name_id=row.id,
        kind=row.kind,
        script=row.script,
        name_sha256=digest(full_name),
    )
    return row


def relate(
    s: Session,
    caller: Caller,
    subject_id: int,
    kind: str,
    object_id: int,
    *,
    valid_from: str | None = None,
    valid_to: str | None = None,
    confidence: str = "medium",
    status: str = "alleged",
    detail: str = "",
) -> EntityRelation:
    """subject --kind--> object, e.g. a person `commands` a unit, a unit `subordinate_of`
    another, from and to dates at their precision."""
    caller.require(Permission.MANAGE_ENTITIES)
    kind = choose(kind, RELATION_KINDS, "relation kind")
    if subject_id == object_id:
        raise EntityError(f"entity {subject_id} cannot be related to itself")
    entity(s, caller, subject_id)
    entity(s, caller, object_id)
    start = parse_date(valid_from, "--from") if valid_from else None
    end = parse_date(valid_to, "--to") if valid_to else None
    if start and end and end.last < start.first:
        raise EntityError(f"--to {valid_to} is before --from {valid_from}")
    rel = EntityRelation(
        subject_id=subject_id,
        object_id=object_id,
        kind=kind,
        detail=detail,
        valid_from=start.first if start else None,
        valid_from_precision=start.precision if start else "",
        valid_to=end.last if end else None,
        valid_to_precision=end.precision if end else "",
        confidence=choose(confidence, CONFIDENCE, "confidence"),
        status=choose(status, STATUS, "status"),
        created_at=now(),
        created_by=caller.actor,
    )
    s.add(rel)
    s.flush()
    record(
        s,
        caller,
        "entity_relation",
        rel.id,
        action="add relation",
        subject=subject_id,
        kind=kind,
        object=object_id,
        valid_from=show_date(rel.valid_from, rel.valid_from_precision),
        valid_to=show_date(rel.valid_to, rel.valid_to_precision),
        confidence=rel.confidence,
        status=rel.status,
    )
    return rel


def relation_dict(rel: EntityRelation) -> dict[str, Any]:
    return {
        "id": rel.id,
        "subject": rel.subject_id,
        "kind": rel.kind,
        "object": rel.object_id,
        "detail": rel.detail,
        "valid_from": show_date(rel.valid_from, rel.valid_from_precision),
        "valid_from_precision": rel.valid_from_precision,
        "valid_to": show_date(rel.valid_to, rel.valid_to_precision),
        "valid_to_precision": rel.valid_to_precision,
        "confidence": rel.confidence,
        "status": rel.status,
    }


def name_dict(n: EntityName) -> dict[str, Any]:
    return {
        "id": n.id,
        "name": n.full_name,
        "script": n.script,
        "language": n.language,
        "kind": n.kind,
        "parts": {
            k: v
            for k, v in (
                ("ism", n.ism),
                ("father", n.father),
                ("grandfather", n.grandfather),
                ("family", n.family),
                ("kunya", n.kunya),
            )
            if v
        },
    }


def entity_dict(s: Session, caller: Caller, ent: Entity) -> dict[str, Any]:
    """An entity as the caller may see it: its names, relations and evidence links."""
    names = (
        s.execute(
            select(EntityName)
            .where(EntityName.entity_id == ent.id, names_visible(caller))
            .order_by(EntityName.id)
        )
        .scalars()
        .all()
    )
    rels = (
        s.execute(
            select(EntityRelation)
            .where(
                or_(EntityRelation.subject_id == ent.id, EntityRelation.object_id == ent.id),
                relations_visible(caller),
            )
            .order_by(EntityRelation.id)
        )
        .scalars()
        .all()
    )
    from amanah.entities.links import link_dict

    rel_ids = [r.id for r in rels]
    name_ids = [n.id for n in names]
    links = (
        s.execute(
            select(EvidenceLink)
            .where(
                or_(
                    EvidenceLink.entity_id == ent.id,
                    EvidenceLink.name_id.in_(name_ids),
                    EvidenceLink.relation_id.in_(rel_ids),
                ),
                evidence_links_visible(caller),
            )
            .order_by(EvidenceLink.id)
        )
        .scalars()
        .all()
    )
    out: dict[str, Any] = {"id": ent.id, "kind": ent.kind}
    for f in ("subkind", "sex", "birth_place", "nationality", "rank", "pcode", "origin"):
        if getattr(ent, f):
            out[f] = getattr(ent, f)
    for f in ("father_name", "mother_name", "notes"):
        if getattr(ent, f):
            out[f] = getattr(ent, f)
    if ent.birth_date:
        out["birth_date"] = show_date(ent.birth_date, ent.birth_date_precision)
    if ent.identifiers != "[]":
        out["identifiers"] = json.loads(ent.identifiers)
    if ent.latitude is not None:
        out["coordinates"] = [ent.latitude, ent.longitude]
    if ent.ftm_id:
        out["ftm_id"] = ent.ftm_id
    out["names"] = [name_dict(n) for n in names]
    out["relations"] = [relation_dict(r) for r in rels]
    out["evidence"] = [link_dict(x) for x in links]
    return out


def list_entities(
    s: Session, caller: Caller, kind: str | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    stmt = (
        select(Entity)
        .where(entities_visible(caller), Entity.merged_into_id.is_(None))
        .order_by(Entity.id)
        .limit(limit)
    )
    if kind:
        stmt = stmt.where(Entity.kind == choose(kind, KINDS, "entity kind"))
    ents = s.execute(stmt).scalars().all()
    first: dict[int, str] = {}
    if ents:
        for n in s.execute(
            select(EntityName)
            .where(EntityName.entity_id.in_([e.id for e in ents]), names_visible(caller))
            .order_by(EntityName.id)
        ).scalars():
            first.setdefault(n.entity_id, n.full_name)
    return [
        {"id": e.id, "kind": e.kind, "subkind": e.subkind, "name": first.get(e.id, "")}
        for e in ents
    ]


def chain(s: Session, caller: Caller, unit_id: int, as_of: str) -> list[dict[str, Any]]:
    """The command chain of a unit on a day: the unit, who commanded it then, the unit it was
    subordinate to then and who commanded that, up to the top. A relation counts when the
    day lies inside its valid interval (an open end is open); dates with a precision cover
    every day they name, so '2012' covers the whole year."""
    day = parse_date(as_of, "--as-of")
    if day.precision not in ("day",):
        raise EntityError(f"--as-of {as_of!r}: give a day (YYYY-MM-DD)")
    when = day.first
    ent = entity(s, caller, unit_id)
    if ent.kind != "organisation":
        raise EntityError(f"entity {unit_id} is a {ent.kind}, not an organisation or unit")
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    current: int | None = unit_id
    while current is not None and current not in seen:
        seen.add(current)
        commanders = [
            relation_dict(r)
            for r in _valid(s, caller, when, EntityRelation.object_id == current, "commands")
        ]
        parents = _valid(s, caller, when, EntityRelation.subject_id == current, "subordinate_of")
        out.append(
            {
                "unit": current,
                "name": _first_name(s, caller, current),
                "commanders": [
                    {**c, "name": _first_name(s, caller, c["subject"])} for c in commanders
                ],
                "subordinate_of": parents[0].object_id if parents else None,
            }
        )
        current = parents[0].object_id if parents else None
    return out


def _valid(s: Session, caller: Caller, when: date, cond: Any, kind: str) -> list[EntityRelation]:
    r = EntityRelation
    return list(
        s.execute(
            select(r)
            .where(
                cond,
                r.kind == kind,
                or_(r.valid_from.is_(None), r.valid_from <= when),
                or_(r.valid_to.is_(None), r.valid_to >= when),
                and_(relations_visible(caller)),
            )
            .order_by(r.id)
        ).scalars()
    )


def _first_name(s: Session, caller: Caller, entity_id: int) -> str:
    return (
        s.execute(
            select(EntityName.full_name)
            .where(EntityName.entity_id == entity_id, names_visible(caller))
            .order_by(EntityName.id)
            .limit(1)
        ).scalar_one_or_none()
        or ""
    )
