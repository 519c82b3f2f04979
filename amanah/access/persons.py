"""Need-to-know for person lists, their records, linkage runs and pairs, record links and
engagements."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, select
from sqlalchemy.orm import Session, aliased

from amanah.access.core import AccessDenied, Caller, NotVisible, Permission
from amanah.access.entities import entities_visible, mentions_visible
from amanah.access.items import collections_visible_on, item_id_visible
from amanah.db.models import (
    Collection,
    Engagement,
    Entity,
    EntityMention,
    Item,
    LinkagePair,
    LinkageRun,
    LinkageRunList,
    PersonItem,
    PersonList,
    PersonListRecord,
)

#: A person's key: (protected person id, person-list record id), exactly one set.
PersonKey = tuple[int | None, int | None]


def person_lists_visible(caller: Caller, plist: Any = PersonList) -> ColumnElement[bool]:
    """The SQL condition on `person_lists` (or an alias): staff who read entities see a list
    when they hold its compartment and may see the preserved file it was read from (the
    item's collection, as `collections_visible`). Its records go with it."""
    if not caller.can(Permission.READ_ENTITIES) or not caller.compartments:
        return false()
    item, coll = aliased(Item), aliased(Collection)
    return and_(
        plist.compartment.in_(sorted(caller.compartments)),
        exists()
        .where(
            item.id == plist.item_id,
            coll.id == item.collection_id,
            collections_visible_on(caller, coll),
        )
        .correlate_except(item, coll),
    )


def engagements_visible(caller: Caller, engagement: Any = Engagement) -> ColumnElement[bool]:
    """The SQL condition on `engagements`: staff who read entities (persons) and hold the
    engagement's compartment; nobody else (a provider's or recipient's account never)."""
    if not caller.can(Permission.READ_ENTITIES) or caller.provider_id is not None:
        return false()
    if not caller.compartments:
        return false()
    return engagement.compartment.in_(sorted(caller.compartments))


def visible_engagement(s: Session, caller: Caller, engagement_id: int) -> Engagement:
    """The engagement if the caller may see it; NotVisible otherwise (hidden or absent)."""
    row = s.execute(
        select(Engagement).where(Engagement.id == engagement_id, engagements_visible(caller))
    ).scalar_one_or_none()
    if row is None:
        raise NotVisible(f"no engagement with id {engagement_id}")
    return row


def require_engagement_manager(caller: Caller) -> None:
    """Recording engagements is for those who manage entities (analysts) or requests (legal
    officers)."""
    if not (caller.can(Permission.MANAGE_ENTITIES) or caller.can(Permission.MANAGE_REQUESTS)):
        raise AccessDenied(f"the {caller.role} role may not record engagements")


def visible_person_list(s: Session, caller: Caller, name: str) -> PersonList:
    """The person list by name if the caller may see it; NotVisible otherwise (hidden or
    absent alike)."""
    row = s.execute(
        select(PersonList).where(PersonList.name == name, person_lists_visible(caller))
    ).scalar_one_or_none()
    if row is None:
        raise NotVisible(f"no person list named {name!r}")
    return row


def person_records_visible(caller: Caller, record: Any = PersonListRecord) -> ColumnElement[bool]:
    """The SQL condition on `person_records` (or an alias): a record is seen by who may see
    its list **and** the preserved file it was read from (a list's release); a release kept
    in a collection of another compartment must not ride on the list's visibility."""
    if not caller.can(Permission.READ_ENTITIES) or not caller.compartments:
        return false()
    plist = aliased(PersonList)
    return and_(
        exists()
        .where(plist.id == record.list_id, person_lists_visible(caller, plist))
        .correlate_except(plist),
        item_id_visible(caller, record.item_id),
    )


def visible_person_record(s: Session, caller: Caller, record_id: int) -> PersonListRecord:
    """The person record if the caller may see its list; NotVisible otherwise."""
    row = s.execute(
        select(PersonListRecord).where(
            PersonListRecord.id == record_id, person_records_visible(caller)
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotVisible(f"no person record with id {record_id}")
    return row


def person_records_linkable(caller: Caller, record: Any = PersonListRecord) -> ColumnElement[bool]:
    """The SQL condition on `person_records` (or an alias): the records linkage may read and
    pairs may name, for the caller: those it may see (`person_records_visible`) whose person
    has not withdrawn consent for investigation (linkage is investigation;
    `person_consent.record_withdrawn_condition`). The record itself stays listed."""
    from amanah.sharing.person_consent import record_withdrawn_condition

    return and_(person_records_visible(caller, record), not_(record_withdrawn_condition(record.id)))


def linkage_pairs_visible(caller: Caller, pair: Any = LinkagePair) -> ColumnElement[bool]:
    """The SQL condition on `linkage_pairs` (or an alias): a pair is seen (and reviewed) only
    by a caller who may see both its records' lists; that two records are one person says
    something about each. A pair naming a record whose person withdrew consent for
    investigation is seen by no one, though it was kept before the withdrawal
    (`person_records_linkable`)."""
    ra, rb = aliased(PersonListRecord), aliased(PersonListRecord)
    ent, men = aliased(Entity), aliased(EntityMention)
    # A pair of a record and evidence (an entity, a mention in an item) is seen only by who
    # may see both sides too: each side that is set must be visible.
    return and_(
        exists()
        .where(ra.id == pair.record_a_id, person_records_linkable(caller, ra))
        .correlate_except(ra),
        or_(
            pair.record_b_id.is_(None),
            exists()
            .where(rb.id == pair.record_b_id, person_records_linkable(caller, rb))
            .correlate_except(rb),
        ),
        or_(
            pair.entity_id.is_(None),
            exists()
            .where(ent.id == pair.entity_id, entities_visible(caller, ent))
            .correlate_except(ent),
        ),
        or_(
            pair.mention_id.is_(None),
            exists()
            .where(men.id == pair.mention_id, mentions_visible(caller, men))
            .correlate_except(men),
        ),
    )


def person_record_links_visible(caller: Caller, link: Any = None) -> ColumnElement[bool]:
    """The SQL condition on `person_record_links`: a record's link to evidence is seen by who
    may see the record, the item it pins, and the entity or mention it names."""
    from amanah.db.models import PersonRecordLink

    link = PersonRecordLink if link is None else link
    rec = aliased(PersonListRecord)
    ent, men = aliased(Entity), aliased(EntityMention)
    return and_(
        exists()
        .where(rec.id == link.record_id, person_records_visible(caller, rec))
        .correlate_except(rec),
        item_id_visible(caller, link.item_id),
        or_(
            link.entity_id.is_(None),
            exists()
            .where(ent.id == link.entity_id, entities_visible(caller, ent))
            .correlate_except(ent),
        ),
        or_(
            link.mention_id.is_(None),
            exists()
            .where(men.id == link.mention_id, mentions_visible(caller, men))
            .correlate_except(men),
        ),
    )


def linkage_runs_visible(caller: Caller, run: Any = LinkageRun) -> ColumnElement[bool]:
    """The SQL condition on `linkage_runs`: seen by a caller who may see one of the lists it
    linked (its pairs are then filtered by `linkage_pairs_visible`)."""
    rl, plist = aliased(LinkageRunList), aliased(PersonList)
    return (
        exists()
        .where(rl.run_id == run.id, plist.id == rl.list_id, person_lists_visible(caller, plist))
        .correlate_except(rl, plist)
    )


def visible_linkage_run(s: Session, caller: Caller, run_id: int) -> LinkageRun:
    """The linkage run if the caller may see one of its lists; NotVisible otherwise."""
    row = s.execute(
        select(LinkageRun).where(LinkageRun.id == run_id, linkage_runs_visible(caller))
    ).scalar_one_or_none()
    if row is None:
        raise NotVisible(f"no linkage run with id {run_id}")
    return row


def visible_linkage_pair(s: Session, caller: Caller, pair_id: int) -> LinkagePair:
    """The pair if the caller may see both its records; NotVisible otherwise (hidden or
    absent alike)."""
    row = s.execute(
        select(LinkagePair).where(LinkagePair.id == pair_id, linkage_pairs_visible(caller))
    ).scalar_one_or_none()
    if row is None:
        raise NotVisible(f"no linkage pair with id {pair_id}")
    return row


def require_whole_view(s: Session, caller: Caller, what: str) -> None:
    """A change that rewrites rows of entities the caller might not all see (merging or
    splitting entities moves names, relations, evidence links and mentions) needs a caller
    who sees every such row. Whether one entity has rows hidden from the caller is itself
    need-to-know, so this is decided on the caller alone, never on the entity: staff (no
    provider scope) holding every compartment of the home's collections. The refusal is the
    same for every entity and says nothing about any of them."""
    needed = set(s.execute(select(Collection.compartment).distinct()).scalars())
    if caller.provider_id is not None or not needed <= caller.compartments:
        raise AccessDenied(f"{what} needs a grant to every compartment of this home's collections")


def consent_records_visible(caller: Caller, record: Any = PersonListRecord) -> ColumnElement[bool]:
    """The SQL condition on `person_records` whose consent is shown (an engagement's persons,
    the consent pages): its list is visible and so is the collection of the file it was read
    from, withheld or not (its consent is managed here, a withdrawal lifted here). A record
    moved out of the caller's compartments by a restriction change is not theirs to see or
    change."""
    if not caller.compartments:
        return false()
    plist, item, coll = aliased(PersonList), aliased(Item), aliased(Collection)
    return and_(
        exists()
        .where(plist.id == record.list_id, person_lists_visible(caller, plist))
        .correlate_except(plist),
        exists()
        .where(
            item.id == record.item_id,
            coll.id == item.collection_id,
            collections_visible_on(caller, coll),
        )
        .correlate_except(item, coll),
    )


def _items_about(s: Session, persons: Iterable[PersonKey]) -> dict[PersonKey, set[int]]:
    """The items that say who a person is: those their own links name (made by a legal
    officer). A link derived from a near-duplicate (`PersonItem.derived_from`) withholds the
    copy wherever it is, but tells no one who the person is: it is counted only for a person
    left with no link of their own."""
    keys = set(persons)
    pids = sorted({p for p, _ in keys if p is not None})
    rids = sorted({r for _, r in keys if r is not None})
    own: dict[PersonKey, set[int]] = {}
    every: dict[PersonKey, set[int]] = {}
    for column, ids in (
        (PersonItem.protected_person_id, pids),
        (PersonItem.person_record_id, rids),
    ):
        for i in range(0, len(ids), 900):
            for p, r, item_id, derived in s.execute(
                select(
                    PersonItem.protected_person_id,
                    PersonItem.person_record_id,
                    PersonItem.item_id,
                    PersonItem.derived_from,
                ).where(column.in_(ids[i : i + 900]))
            ).all():
                every.setdefault((p, r), set()).add(item_id)
                if derived is None:
                    own.setdefault((p, r), set()).add(item_id)
    return {k: own.get(k) or every[k] for k in every}


def consent_persons_known(
    s: Session, caller: Caller, persons: Iterable[PersonKey]
) -> set[PersonKey]:
    """Of these persons, those the caller may know (see, name, be told the consent of): one
    who sees an item that says who they are (`_items_about`, withheld ones too), or anyone
    while none does; a person-list record also needs its record visible
    (`consent_records_visible`). Every other person is named to the caller as "a person"
    only, wherever their consent withholds or refuses something the caller sees."""
    from amanah.access.items import visible_item_ids

    keys = set(persons)
    about = _items_about(s, keys)
    seen = visible_item_ids(s, caller, {i for ids in about.values() for i in ids}, withheld=True)
    rids = sorted({r for _, r in keys if r is not None})
    records = (
        set(
            s.execute(
                select(PersonListRecord.id).where(
                    PersonListRecord.id.in_(rids), consent_records_visible(caller)
                )
            ).scalars()
        )
        if rids
        else set()
    )
    return {
        k
        for k in keys
        if (k[1] is None or k[1] in records) and (not about.get(k) or about[k] & seen)
    }


def require_consent_person_known(s: Session, caller: Caller, person: PersonKey) -> None:
    """A person whose consent is recorded is known to a legal officer who sees one of the
    items linked to them by hand (withheld ones too), or to every legal officer while none is
    linked; a person linked only to items of other compartments (or known to them only by a
    near-duplicate's derived link) does not exist for the caller (NotVisible, as an unknown
    pseudonym): not their consent records, not what was told."""
    if person not in consent_persons_known(s, caller, [person]):
        raise NotVisible("no such person")


def require_consent_changeable(s: Session, caller: Caller, person: PersonKey) -> None:
    """A person's consent is changed (given, withdrawn) only by a legal officer who sees
    every item linked to them by hand: a consent record withholds or releases all of them,
    and a release of items the caller cannot see is not theirs to decide (AccessDenied). The
    near-duplicates derived from those items follow the decision wherever they are; they
    neither block it nor tell the caller they exist."""
    from amanah.access.items import visible_item_ids

    wanted = _items_about(s, [person]).get(person, set())
    seen = visible_item_ids(s, caller, wanted, withheld=True)
    if len(seen) < len(wanted):
        raise AccessDenied(
            "this person's consent also governs items outside your need-to-know: a legal"
            " officer who holds every compartment of their items records it"
        )
