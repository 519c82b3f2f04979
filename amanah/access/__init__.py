"""Need-to-know in one place: who may do what, and which collections, items, requests,
packages, searches, consent records and custody events they may see.

The API, the pages, the CLI and search all ask here; nothing else decides. A caller sees a
collection when they hold its compartment and, for a provider's account, when it is their
provider's. A request has compartments too: a caller sees it only when holding all of them,
and the request itself sees items of its compartments only. A package is seen by staff who may
see every item in it (and its request), and by the recipient it was built for. Outside that,
the thing "does not exist" (the API answers 404, not 403).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, literal, not_, or_, select, true
from sqlalchemy.orm import Session, aliased

from amanah.db.models import (
    Collection,
    CustodyEvent,
    Engagement,
    Entity,
    EntityMention,
    EntityName,
    EntityRelation,
    EvidenceLink,
    Grant,
    Item,
    LinkagePair,
    LinkageRun,
    LinkageRunList,
    Package,
    PackageItem,
    PersonList,
    PersonListRecord,
    Request,
    RequestCompartment,
    SavedSearch,
    SearchLog,
    User,
)
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


def collections_visible(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition on `collections` for what the caller may see."""
    return _collections_visible(caller, Collection)


def _collections_visible(caller: Caller, coll: Any) -> ColumnElement[bool]:
    if not caller.compartments:
        return false()
    cond = coll.compartment.in_(sorted(caller.compartments))
    if caller.provider_id is not None:
        cond = and_(cond, coll.provider_id == caller.provider_id)
    return cond


def item_withheld(item_id: Any) -> ColumnElement[bool]:
    """The SQL condition "this item is withheld": a victim or survivor it is about withdrew
    consent for investigation. The rule is the consent records'
    (`amanah.sharing.person_consent.withheld_condition`); this is the one place every read
    asks. A withheld item and everything derived from it (text, spans, mentions, evidence
    links, annotations, counts) is outside every caller's analysis; only its existence and
    the reason are shown, on its page (`withheld_reason`)."""
    from amanah.sharing.person_consent import withheld_condition

    return withheld_condition(item_id)


def not_withheld(item_id: Any) -> ColumnElement[bool]:
    """The SQL condition for item-derived content a caller may read: its item is not
    withheld (`item_withheld`)."""
    return not_(item_withheld(item_id))


def withheld_item_ids(s: Session) -> frozenset[int]:
    """The ids of every withheld item, for the search backends (tantivy, suggestions,
    duplicates), which filter by id rather than by SQL."""
    from amanah.db.models import PersonItem

    return frozenset(
        s.execute(
            select(PersonItem.item_id).distinct().where(item_withheld(PersonItem.item_id))
        ).scalars()
    )


def items_visible(caller: Caller, item: Any = Item) -> ColumnElement[bool]:
    """The SQL condition on `items` (or an alias) for listing and counting: the item's
    collection is visible and the item is not withheld."""
    coll = aliased(Collection)
    return and_(
        exists()
        .where(coll.id == item.collection_id, _collections_visible(caller, coll))
        .correlate_except(coll),
        not_withheld(item.id),
    )


def withheld_reason(s: Session, caller: Caller, item_id: int) -> dict[str, Any] | None:
    """For an item in a collection the caller may see that is withheld: what its page says.
    Everyone sees that it is withheld and why in one phrase; the legal officer who manages
    consent (`MANAGE_REQUESTS`) also sees whose consent (pseudonym or `record:ID`) and when
    it changed. None when the item is not withheld (or not visible at all)."""
    from amanah.sharing import person_consent as pc

    found = s.execute(
        select(Item.id)
        .join(Collection, Collection.id == Item.collection_id)
        .where(Item.id == item_id, collections_visible(caller), item_withheld(Item.id))
    ).scalar_one_or_none()
    if found is None:
        return None
    out: dict[str, Any] = {"item_id": item_id, "reason": "consent for investigation withdrawn"}
    if caller.can(Permission.MANAGE_REQUESTS):
        out["persons"] = pc.withheld_persons(s, item_id)
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


def requests_visible(caller: Caller, request: Any = Request) -> ColumnElement[bool]:
    """The SQL condition on `requests` (or an alias of it): staff who view requests and hold
    every compartment of the request (a request recorded without any counts as `default`)."""
    if not caller.can(Permission.VIEW_REQUESTS):
        return false()
    rc = aliased(RequestCompartment)
    held = sorted(caller.compartments)
    outside = exists().where(
        rc.request_id == request.id, rc.compartment.not_in(held) if held else true()
    )
    if DEFAULT_COMPARTMENT in caller.compartments:
        return not_(outside)
    rc_any = aliased(RequestCompartment)
    return and_(not_(outside), exists().where(rc_any.request_id == request.id))


def packages_visible(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition on `packages`: staff see a package only when they may see every item
    in it and its request; a recipient sees those built for its jurisdiction; nobody else
    sees any."""
    if caller.can(Permission.VIEW_REQUESTS):
        pi, item, coll, req = (
            aliased(PackageItem),
            aliased(Item),
            aliased(Collection),
            aliased(Request),
        )
        hidden_item = exists().where(
            pi.package_id == Package.id,
            item.id == pi.item_id,
            coll.id == item.collection_id,
            not_(_collections_visible(caller, coll)),
        )
        request_seen = exists().where(req.id == Package.request_id, requests_visible(caller, req))
        return and_(not_(hidden_item), request_seen)
    if caller.can(Permission.VIEW_PACKAGES) and caller.jurisdiction_id is not None:
        return Package.jurisdiction_id == caller.jurisdiction_id
    return false()


def searches_visible(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition on `search_log`: a search run for a request is seen by whoever sees
    the request; any other search by its author and by auditors."""
    req = aliased(Request)
    for_request = and_(
        SearchLog.request_id.is_not(None),
        exists().where(req.id == SearchLog.request_id, requests_visible(caller, req)),
    )
    own = SearchLog.actor == caller.actor
    if caller.can(Permission.VIEW_AUDIT):
        own = true()
    return or_(for_request, and_(SearchLog.request_id.is_(None), own))


def custody_visible(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition on `custody_events` shown on an item's timeline: a provider's account
    sees preservation events only; staff see every event."""
    if caller.provider_id is not None:
        return CustodyEvent.event_type.in_(sorted(PROVIDER_CUSTODY_TYPES))
    return true()


def evidence_links_visible(caller: Caller, link: Any = EvidenceLink) -> ColumnElement[bool]:
    """The SQL condition on `evidence_links` (or an alias): staff who read entities see a link
    when they may see its item (the item's collection, as `collections_visible`)."""
    if not caller.can(Permission.READ_ENTITIES) or not caller.compartments:
        return false()
    item, coll = aliased(Item), aliased(Collection)
    return and_(
        exists()
        .where(
            item.id == link.item_id,
            coll.id == item.collection_id,
            _collections_visible(caller, coll),
        )
        .correlate_except(item, coll),
        not_withheld(link.item_id),
    )


def annotations_visible(caller: Caller, item_id_column: Any) -> ColumnElement[bool]:
    """The SQL condition on an analyst's tags or notes (`item_id_column`: their item id): work
    product of the mechanism's staff, seen by staff who read annotations when they may see the
    item (its collection, as `collections_visible`). A provider's account never sees them,
    not even on its own items, nor does a recipient."""
    if (
        not caller.can(Permission.READ_ANNOTATIONS)
        or caller.provider_id is not None
        or not caller.compartments
    ):
        return false()
    item, coll = aliased(Item), aliased(Collection)
    return and_(
        exists()
        .where(
            item.id == item_id_column,
            coll.id == item.collection_id,
            _collections_visible(caller, coll),
        )
        .correlate_except(item, coll),
        not_withheld(item_id_column),
    )


def annotatable_item(s: Session, caller: Caller, item_id: int) -> Item:
    """The item a tag or note goes on: the caller may annotate and may see it (else the item
    "does not exist", NotVisible, as for any read)."""
    caller.require(Permission.ANNOTATE)
    if caller.provider_id is not None:
        raise AccessDenied("a provider's account may not annotate items")
    return visible_item(s, caller, item_id)


def visible_item_ids(s: Session, caller: Caller, item_ids: Iterable[int]) -> set[int]:
    """Those of `item_ids` the caller may see (a bulk action touches and counts these only)."""
    wanted = sorted(set(item_ids))
    found: set[int] = set()
    for i in range(0, len(wanted), 900):
        found.update(
            s.execute(
                select(Item.id)
                .join(Collection, Collection.id == Item.collection_id)
                .where(
                    Item.id.in_(wanted[i : i + 900]),
                    collections_visible(caller),
                    not_withheld(Item.id),
                )
            ).scalars()
        )
    return found


def saved_searches_visible(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition on `saved_searches`: a user's own, and those shared with a
    compartment the user holds; for staff who annotate (a provider's account and a recipient
    see none)."""
    if not caller.can(Permission.ANNOTATE) or caller.provider_id is not None:
        return false()
    held = sorted(caller.compartments)
    shared = SavedSearch.shared_with.in_(held) if held else false()
    # A share is its owner's act within a team: it lasts while the owner holds the
    # compartment (an account that lost it no longer speaks into the team). The machine's
    # local account (not `user:`) holds every compartment, and so does an administrator's
    # account (as `users.caller_for` gives it), without a grant row.
    owner = aliased(User)
    owner_holds = or_(
        ~SavedSearch.owner.startswith("user:"),
        exists().where(
            literal("user:").concat(owner.name) == SavedSearch.owner,
            owner.role == Role.ADMIN.value,
        ),
        exists().where(
            literal("user:").concat(owner.name) == SavedSearch.owner,
            Grant.user_id == owner.id,
            Grant.compartment == SavedSearch.shared_with,
        ),
    )
    return or_(
        SavedSearch.owner == caller.actor,
        and_(SavedSearch.shared_with != "", shared, owner_holds),
    )


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
    item, coll, ent = aliased(Item), aliased(Collection), aliased(Entity)
    return and_(
        exists()
        .where(
            item.id == mention.item_id,
            coll.id == item.collection_id,
            _collections_visible(caller, coll),
        )
        .correlate_except(item, coll),
        not_withheld(mention.item_id),
        exists()
        .where(ent.id == mention.entity_id, entities_visible(caller, ent))
        .correlate_except(ent),
    )


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
            _collections_visible(caller, coll),
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
    plist, item, coll = aliased(PersonList), aliased(Item), aliased(Collection)
    return and_(
        exists()
        .where(plist.id == record.list_id, person_lists_visible(caller, plist))
        .correlate_except(plist),
        exists()
        .where(
            item.id == record.item_id,
            coll.id == item.collection_id,
            _collections_visible(caller, coll),
        )
        .correlate_except(item, coll),
        not_withheld(record.item_id),
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


def linkage_pairs_visible(caller: Caller, pair: Any = LinkagePair) -> ColumnElement[bool]:
    """The SQL condition on `linkage_pairs` (or an alias): a pair is seen (and reviewed) only
    by a caller who may see both its records' lists; that two records are one person says
    something about each."""
    ra, rb = aliased(PersonListRecord), aliased(PersonListRecord)
    ent, men = aliased(Entity), aliased(EntityMention)
    # A pair of a record and evidence (an entity, a mention in an item) is seen only by who
    # may see both sides too: each side that is set must be visible.
    return and_(
        exists()
        .where(ra.id == pair.record_a_id, person_records_visible(caller, ra))
        .correlate_except(ra),
        or_(
            pair.record_b_id.is_(None),
            exists()
            .where(rb.id == pair.record_b_id, person_records_visible(caller, rb))
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
    rec, item, coll = aliased(PersonListRecord), aliased(Item), aliased(Collection)
    ent, men = aliased(Entity), aliased(EntityMention)
    return and_(
        exists()
        .where(rec.id == link.record_id, person_records_visible(caller, rec))
        .correlate_except(rec),
        exists()
        .where(
            item.id == link.item_id,
            coll.id == item.collection_id,
            _collections_visible(caller, coll),
        )
        .correlate_except(item, coll),
        not_withheld(link.item_id),
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


def visible_entity(s: Session, caller: Caller, entity_id: int) -> Entity:
    """The entity if the caller may see it; NotVisible otherwise (hidden or absent alike)."""
    row = s.execute(
        select(Entity).where(Entity.id == entity_id, entities_visible(caller))
    ).scalar_one_or_none()
    if row is None:
        raise NotVisible(f"no entity with id {entity_id}")
    return row


def derivative_kinds_hidden(caller: Caller) -> frozenset[str]:
    """Derivative kinds left off an item's record for this caller."""
    return PROVIDER_HIDDEN_DERIVATIVES if caller.provider_id is not None else frozenset()


def request_compartments(s: Session, request_id: int) -> frozenset[str]:
    found = frozenset(
        s.execute(
            select(RequestCompartment.compartment).where(
                RequestCompartment.request_id == request_id
            )
        ).scalars()
    )
    return found or frozenset({DEFAULT_COMPARTMENT})


def visible_request(
    s: Session, caller: Caller, *, request_id: int | None = None, reference: str | None = None
) -> Request:
    """The request, by id or reference, if the caller may see it; NotVisible (404) otherwise,
    with the same words whether it is hidden or absent."""
    stmt = select(Request).where(requests_visible(caller))
    if request_id is not None:
        stmt, what = stmt.where(Request.id == request_id), f"with id {request_id}"
    elif reference is not None:
        stmt, what = stmt.where(Request.reference == reference), f"{reference!r}"
    else:
        raise ValueError("a request id or reference is needed")
    row = s.execute(stmt).scalar_one_or_none()
    if row is None:
        raise NotVisible(f"no request for assistance {what}")
    return row


def for_request(s: Session, caller: Caller, request: Request) -> Caller:
    """The caller as it works on one request: it sees only items of the request's
    compartments (candidates, searches run for it, letters, packages)."""
    return replace(caller, compartments=caller.compartments & request_compartments(s, request.id))


def choose_request_compartments(caller: Caller, wanted: Iterable[str] | None) -> frozenset[str]:
    """The compartments a new request gets: those asked for, each one the caller holds (a
    caller cannot file a request where they could not see it). Nothing asked for: `default`
    when the caller holds it, else every compartment the caller holds."""
    chosen = frozenset(c.strip() for c in wanted or () if c.strip())
    if not chosen:
        if DEFAULT_COMPARTMENT in caller.compartments:
            return frozenset({DEFAULT_COMPARTMENT})
        if not caller.compartments:
            raise AccessDenied("you hold no compartment: a request needs one of yours")
        return caller.compartments
    foreign = sorted(chosen - caller.compartments)
    if foreign:
        raise AccessDenied(
            f"you do not hold compartment {', '.join(foreign)}: choose among"
            f" {', '.join(sorted(caller.compartments)) or 'none'}"
        )
    return chosen


def visible_collection(s: Session, caller: Caller, name: str) -> Collection:
    coll = s.execute(
        select(Collection).where(Collection.name == name, collections_visible(caller))
    ).scalar_one_or_none()
    if coll is None:
        raise NotVisible(f"no collection named {name!r}")
    return coll


def visible_item(s: Session, caller: Caller, item_id: int, *, withheld: bool = False) -> Item:
    """The item if the caller may see it; NotVisible otherwise. A withheld item
    (`item_withheld`) is not visible unless `withheld` is set, which only the consent records
    themselves do (linking an item to a person, whose consent is then managed)."""
    item = s.execute(
        select(Item)
        .join(Collection, Collection.id == Item.collection_id)
        .where(
            Item.id == item_id,
            collections_visible(caller),
            true() if withheld else not_withheld(Item.id),
        )
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


@dataclass(frozen=True)
class SearchScope:
    """Need-to-know for a search, as one value every search backend enforces inside its own
    query (SQL conditions, tantivy clauses): the compartments held and, for a provider's
    account, its provider. No compartment: nothing at all."""

    compartments: frozenset[str]
    provider_id: int | None = None

    @property
    def empty(self) -> bool:
        return not self.compartments


def search_scope(caller: Caller) -> SearchScope:
    """The same rule as `collections_visible`, as a value for the search backends."""
    return SearchScope(compartments=frozenset(caller.compartments), provider_id=caller.provider_id)


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
