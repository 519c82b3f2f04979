"""Merge and split of entities, with provenance.

A merge moves everything of OTHER (its names with their keys, both ends of its relations, the
evidence links on it, the mentions of its names) to KEEP, and keeps OTHER, pointing at KEEP,
so its id still resolves. What moved is recorded row by row (`entity_merges.moved`), so that
`unmerge` moves exactly those rows back and leaves alone what was added to KEEP since. A split
makes a new entity from chosen rows. Each is one custody event, in the same transaction,
naming the entities and the ids moved (never a name in clear: a reason is kept in the
database and only its SHA-256 goes into the ledger).

Need-to-know: these change rows the caller might not see, so they need `entities.manage`,
sight of the entities named (hidden and absent answer alike, "no entity with id N"), and a
caller who sees everything (`require_whole_view`, decided on the caller, not on the entity,
so a refusal reveals nothing about hidden evidence)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from amanah.access import Caller, NotVisible, Permission, require_whole_view, visible_entity
from amanah.db.models import (
    Entity,
    EntityMention,
    EntityMerge,
    EntityName,
    EntityNameKey,
    EntityRelation,
    EvidenceLink,
)
from amanah.entities.store import digest, entity, now, record
from amanah.entities.vocab import EntityError

#: The relation kind that says two entities may be one: a suggestion for a merge, not one.
SAME_AS = "same_as"


def _live(s: Session, caller: Caller, entity_id: int) -> Entity:
    """An entity the caller sees and that is not merged into another (refused with its
    keeper's id otherwise)."""
    return entity(s, caller, entity_id)


def _seen(s: Session, caller: Caller, entity_id: int) -> Entity:
    """An entity the caller sees, merged or not; hidden and absent answer alike."""
    try:
        return visible_entity(s, caller, entity_id)
    except NotVisible as exc:
        raise EntityError(str(exc)) from None


def _ids(s: Session, stmt: Any) -> list[int]:
    return sorted(s.execute(stmt).scalars())


#: Where each kind of moved row points at its entity: (key in `moved`, what it is called in
#: a refusal, its model, the column naming the entity). Names' blocking keys follow their name.
MOVED_ROWS: tuple[tuple[str, str, Any, Any], ...] = (
    ("names", "name", EntityName, EntityName.entity_id),
    ("relations_subject", "relation", EntityRelation, EntityRelation.subject_id),
    ("relations_object", "relation", EntityRelation, EntityRelation.object_id),
    ("links", "evidence link", EvidenceLink, EvidenceLink.entity_id),
    ("mentions", "mention", EntityMention, EntityMention.entity_id),
)


def _move(s: Session, moved: dict[str, list[int]], source: int, target: int) -> None:
    """Move the rows listed in `moved` from entity `source` to entity `target`."""
    for key, _, model, column in MOVED_ROWS:
        ids = moved.get(key, [])
        if not ids:
            continue
        s.execute(
            update(model).where(model.id.in_(ids), column == source).values({column.key: target})
        )
        if model is EntityName:
            # Blocking keys follow their name; parts do not change (the kind is the same).
            s.execute(
                update(EntityNameKey).where(EntityNameKey.name_id.in_(ids)).values(entity_id=target)
            )
    s.flush()


def _mentions_of_names(
    s: Session, source: int, target: int, names: list[int]
) -> tuple[list[int], list[int]]:
    """The mentions of `names` on `source` that can move to `target`, and those that cannot
    (the target already has a mention at the same place: the unique span)."""
    if not names:
        return [], []
    here = s.execute(
        select(EntityMention).where(
            EntityMention.entity_id == source, EntityMention.name_id.in_(names)
        )
    ).scalars()
    taken = {
        (m.item_id, m.derivative, m.start, m.end)
        for m in s.execute(select(EntityMention).where(EntityMention.entity_id == target)).scalars()
    }
    move, left = [], []
    for m in here:
        (left if (m.item_id, m.derivative, m.start, m.end) in taken else move).append(m.id)
    return sorted(move), sorted(left)


def _counts(moved: dict[str, list[int]]) -> dict[str, int]:
    return {
        "names": len(moved.get("names", [])),
        "relations": len(
            set(moved.get("relations_subject", [])) | set(moved.get("relations_object", []))
        ),
        "links": len(moved.get("links", [])),
        "mentions": len(moved.get("mentions", [])),
    }


def merge(
    s: Session, caller: Caller, keep_id: int, other_id: int, reason: str = ""
) -> dict[str, Any]:
    """Move everything of OTHER to KEEP and mark OTHER merged into KEEP; one custody event.
    Refused for entities of two kinds, and for two entities related by anything but `same as`
    (father and son, two units of one chain are not one entity)."""
    caller.require(Permission.MANAGE_ENTITIES)
    if keep_id == other_id:
        raise EntityError(f"entity {keep_id} cannot be merged into itself")
    keep, other = _live(s, caller, keep_id), _live(s, caller, other_id)
    require_whole_view(s, caller, "merging entities")
    if keep.kind != other.kind:
        raise EntityError(
            f"entity {keep_id} is a {keep.kind} and entity {other_id} a {other.kind}:"
            " only entities of one kind can be merged"
        )
    r = EntityRelation
    between = list(
        s.execute(
            select(r)
            .where(
                or_(
                    (r.subject_id == keep_id) & (r.object_id == other_id),
                    (r.subject_id == other_id) & (r.object_id == keep_id),
                )
            )
            .order_by(r.id)
        ).scalars()
    )
    blocking = [x for x in between if x.kind != SAME_AS]
    if blocking:
        raise EntityError(
            f"entities {keep_id} and {other_id} are related ({blocking[0].kind}, relation"
            f" {blocking[0].id}): one entity cannot be related to itself, they are not merged"
        )
    names = _ids(s, select(EntityName.id).where(EntityName.entity_id == other_id))
    mentions, left = _mentions_of_names(s, other_id, keep_id, names)
    moved: dict[str, list[int]] = {
        "names": names,
        # A `same as` between the two stays as it was, on record: the suggestion taken.
        "relations_subject": _ids(
            s, select(r.id).where(r.subject_id == other_id, r.object_id != keep_id)
        ),
        "relations_object": _ids(
            s, select(r.id).where(r.object_id == other_id, r.subject_id != keep_id)
        ),
        "links": _ids(s, select(EvidenceLink.id).where(EvidenceLink.entity_id == other_id)),
        "mentions": mentions,
    }
    _move(s, moved, other_id, keep_id)
    other.merged_into_id = keep_id
    row = EntityMerge(
        keep_id=keep_id,
        other_id=other_id,
        reason=reason,
        moved=json.dumps({**moved, "mentions_left": left, "same_as": [x.id for x in between]}),
        created_at=now(),
        created_by=caller.actor,
    )
    s.add(row)
    s.flush()
    counts = _counts(moved)
    record(
        s,
        caller,
        "entity",
        keep_id,
        action="merge",
        merge=row.id,
        keep=keep_id,
        other=other_id,
        **moved,
        mentions_left=left,
        same_as=[x.id for x in between],
        counts=counts,
        reason_sha256=digest(reason) if reason else "",
    )
    return {"merge": row.id, "keep": keep_id, "other": other_id, "moved": counts}


def unmerge(s: Session, caller: Caller, other_id: int) -> dict[str, Any]:
    """Undo the merge of OTHER: move back exactly the rows that came from it (rows added to
    the keeper since stay there); one custody event. Refused when a moved row is no longer
    where the merge put it (the keeper was merged or split since: undo that first)."""
    caller.require(Permission.MANAGE_ENTITIES)
    other = _seen(s, caller, other_id)
    require_whole_view(s, caller, "unmerging entities")
    m = s.execute(
        select(EntityMerge)
        .where(EntityMerge.other_id == other_id, EntityMerge.undone_at.is_(None))
        .order_by(EntityMerge.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if other.merged_into_id is None or m is None:
        raise EntityError(f"entity {other_id} is not merged into another")
    keep_id = m.keep_id
    keeper = s.get(Entity, keep_id)
    if keeper is not None and keeper.merged_into_id is not None:
        raise EntityError(
            f"entity {keep_id} was merged into entity {keeper.merged_into_id} since:"
            f" unmerge entity {keep_id} first"
        )
    recorded = json.loads(m.moved)
    moved: dict[str, list[int]] = {
        k: list(recorded.get(k, []))
        for k in ("names", "relations_subject", "relations_object", "links")
    }
    for key, what, model, column in MOVED_ROWS:
        ids = moved.get(key, [])
        if not ids:
            continue
        there = set(
            s.execute(select(model.id).where(model.id.in_(ids), column == keep_id)).scalars()
        )
        gone = sorted(set(ids) - there)
        if gone:
            raise EntityError(
                f"{what} {gone[0]} is no longer on entity {keep_id} (moved since the merge):"
                f" entity {other_id} cannot be unmerged exactly"
            )
    # Mentions follow their names: those of the names that came from OTHER go back, whether
    # recorded by the merge or found since (processing replaces suggestions on a new text).
    moved["mentions"], _ = _mentions_of_names(s, keep_id, other_id, moved["names"])
    _move(s, moved, keep_id, other_id)
    other.merged_into_id = None
    m.undone_at, m.undone_by = now(), caller.actor
    counts = _counts(moved)
    record(
        s,
        caller,
        "entity",
        other_id,
        action="unmerge",
        merge=m.id,
        keep=keep_id,
        other=other_id,
        **moved,
        counts=counts,
    )
    return {"merge": m.id, "keep": keep_id, "other": other_id, "moved": counts}


def split(
    s: Session,
    caller: Caller,
    entity_id: int,
    names: list[int],
    relations: list[int] | None = None,
    links: list[int] | None = None,
    reason: str = "",
) -> dict[str, Any]:
    """A new entity of the same kind made from chosen rows of ENTITY: names (with their
    mentions), its end of chosen relations, evidence links on it; one custody event."""
    caller.require(Permission.MANAGE_ENTITIES)
    ent = _live(s, caller, entity_id)
    require_whole_view(s, caller, "splitting entities")
    names, relations, links = (
        sorted(set(names)),
        sorted(set(relations or [])),
        sorted(set(links or [])),
    )
    if not names:
        raise EntityError("a split needs at least one name (--names) for the new entity")
    own = set(_ids(s, select(EntityName.id).where(EntityName.entity_id == entity_id)))
    for n in names:
        if n not in own:
            raise EntityError(f"name {n} is not a name of entity {entity_id}")
    if own <= set(names):
        raise EntityError(f"entity {entity_id} would keep no name: leave it at least one")
    r = EntityRelation
    subj = set(_ids(s, select(r.id).where(r.id.in_(relations), r.subject_id == entity_id)))
    obj = set(_ids(s, select(r.id).where(r.id.in_(relations), r.object_id == entity_id)))
    for rel in relations:
        if rel not in subj | obj:
            raise EntityError(f"relation {rel} does not involve entity {entity_id}")
    on = set(_ids(s, select(EvidenceLink.id).where(EvidenceLink.entity_id == entity_id)))
    for x in links:
        if x not in on:
            raise EntityError(f"evidence link {x} is not on entity {entity_id}")
    new = Entity(
        kind=ent.kind,
        subkind=ent.subkind,
        origin=f"split:{entity_id}",
        identifiers="[]",
        created_at=now(),
        created_by=caller.actor,
    )
    s.add(new)
    s.flush()
    mentions, _ = _mentions_of_names(s, entity_id, new.id, names)
    moved = {
        "names": names,
        "relations_subject": sorted(subj),
        "relations_object": sorted(obj),
        "links": links,
        "mentions": mentions,
    }
    _move(s, moved, entity_id, new.id)
    counts = _counts(moved)
    record(
        s,
        caller,
        "entity",
        new.id,
        action="split",
        source=entity_id,
        entity=new.id,
        **moved,
        counts=counts,
        reason_sha256=digest(reason) if reason else "",
    )
    return {"entity": new.id, "source": entity_id, "moved": counts}


def keeper_of(s: Session, caller: Caller, entity_id: int) -> tuple[Entity, list[int]]:
    """The entity an id stands for now: itself, or the live entity it was merged into
    (following merges of merges), with the ids on the way. A keeper the caller may not see
    makes the id not visible either, in the same words as an absent one."""
    try:
        ent = visible_entity(s, caller, entity_id)
        path = [ent.id]
        while ent.merged_into_id is not None and ent.merged_into_id not in path:
            ent = visible_entity(s, caller, ent.merged_into_id)
            path.append(ent.id)
    except NotVisible:
        raise EntityError(f"no entity with id {entity_id}") from None
    return ent, path
