"""Need-to-know for entities: an entity, name, relation or mention is seen through the
evidence that backs it."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, false, not_, or_, select
from sqlalchemy.orm import Session, aliased

from amanah.access.core import Caller, NotVisible, Permission
from amanah.access.items import item_id_visible
from amanah.db.models import (
    Entity,
    EntityMention,
    EntityName,
    EntityRelation,
    EvidenceLink,
)


def evidence_links_visible(caller: Caller, link: Any = EvidenceLink) -> ColumnElement[bool]:
    """The SQL condition on `evidence_links` (or an alias): staff who read entities see a link
    when they may see its item (the item's collection, as `collections_visible`)."""
    if not caller.can(Permission.READ_ENTITIES) or not caller.compartments:
        return false()
    return item_id_visible(caller, link.item_id)


def _backed(caller: Caller, on: Any) -> ColumnElement[bool]:
    """An assertion is seen when no evidence link stands behind it (an analyst's own word, a
    public list) or when at least one of its links is seen: evidence the caller may not see
    alone never reveals it. `on(link)` says which links stand behind the assertion."""
    link, seen = aliased(EvidenceLink), aliased(EvidenceLink)
    return or_(
        not_(exists().where(on(link)).correlate_except(link)),
        exists().where(on(seen), evidence_links_visible(caller, seen)).correlate_except(seen),
    )


def entities_visible(caller: Caller, entity: Any = Entity) -> ColumnElement[bool]:
    """The SQL condition on `entities` (or an alias): an entity is visible with the evidence
    behind it, i.e. the links on the entity, its names and the relations it takes part in."""
    if not caller.can(Permission.READ_ENTITIES):
        return false()
    rel, name = aliased(EntityRelation), aliased(EntityName)

    def on(link: Any) -> ColumnElement[bool]:
        return or_(
            link.entity_id == entity.id,
            exists()
            .where(name.id == link.name_id, name.entity_id == entity.id)
            .correlate_except(name),
            exists()
            .where(
                rel.id == link.relation_id,
                or_(rel.subject_id == entity.id, rel.object_id == entity.id),
            )
            .correlate_except(rel),
        )

    return _backed(caller, on)


def names_visible(caller: Caller, name: Any = EntityName) -> ColumnElement[bool]:
    """The SQL condition on `entity_names`: a name of a visible entity, itself backed by
    evidence the caller sees (or by none)."""
    ent = aliased(Entity)
    return and_(
        exists()
        .where(ent.id == name.entity_id, entities_visible(caller, ent))
        .correlate_except(ent),
        _backed(caller, lambda link: link.name_id == name.id),
    )


def relations_visible(caller: Caller, rel: Any = EntityRelation) -> ColumnElement[bool]:
    """The SQL condition on `entity_relations`: both ends visible, and the relation backed by
    evidence the caller sees (or by none). A relation whose only evidence lies in a
    compartment the caller lacks does not exist for them."""
    subj, obj = aliased(Entity), aliased(Entity)
    return and_(
        exists()
        .where(subj.id == rel.subject_id, entities_visible(caller, subj))
        .correlate_except(subj),
        exists()
        .where(obj.id == rel.object_id, entities_visible(caller, obj))
        .correlate_except(obj),
        _backed(caller, lambda link: link.relation_id == rel.id),
    )


def mentions_visible(caller: Caller, mention: Any = EntityMention) -> ColumnElement[bool]:
    """The SQL condition on `entity_mentions`: a mention says both that an item holds a name
    and which entity it names, so it is seen by staff who read entities only when they may see
    the item (its collection) and the entity."""
    if not caller.can(Permission.READ_ENTITIES) or not caller.compartments:
        return false()
    ent = aliased(Entity)
    return and_(
        item_id_visible(caller, mention.item_id),
        exists()
        .where(ent.id == mention.entity_id, entities_visible(caller, ent))
        .correlate_except(ent),
    )


def visible_entity(s: Session, caller: Caller, entity_id: int) -> Entity:
    """The entity if the caller may see it; NotVisible otherwise (hidden or absent alike)."""
    row = s.execute(_entity_by_id(_access(caller)), {"entity_id": entity_id}).scalar_one_or_none()
    if row is None:
        raise NotVisible(f"no entity with id {entity_id}")
    return row


def _access(caller: Caller) -> Caller:
    """The caller less who and whence (actor, user, address), which no condition here reads:
    callers alike in role, compartments, provider and jurisdiction share one statement."""
    return replace(caller, actor="", user_id=None, address=None)


@lru_cache(maxsize=256)
def _entity_by_id(access: Caller) -> Select[tuple[Entity]]:
    """`visible_entity`'s statement, built once per kind of caller: building the condition
    costs about 10 ms of Python (its aliases), and an imported list asked it for every name
    (1,335 names of a 622-entity sanctions list: 16 s of 26). An expression is immutable."""
    return select(Entity).where(Entity.id == bindparam("entity_id"), entities_visible(access))
