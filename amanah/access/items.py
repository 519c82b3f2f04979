"""Need-to-know for evidence: collections, items (and items withheld by a person's consent),
their derivatives, custody events and annotations, and the scope a search runs in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, not_, select, true
from sqlalchemy.orm import Session, aliased

from amanah.access.core import (
    PROVIDER_CUSTODY_TYPES,
    PROVIDER_HIDDEN_DERIVATIVES,
    AccessDenied,
    Caller,
    NotVisible,
    Permission,
)
from amanah.db.models import (
    Collection,
    CustodyEvent,
    Item,
    Job,
)


def collections_visible(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition on `collections` for what the caller may see."""
    return collections_visible_on(caller, Collection)


def collections_visible_on(caller: Caller, coll: Any) -> ColumnElement[bool]:
    """The same condition on any alias of `collections` (for the rules built on it: items,
    requests, entities, persons): a compartment the caller holds and, for a provider's
    account, its own provider's collections only."""
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
    """The ids of every withheld item (every copy of a withheld document), for the search
    backends (tantivy, suggestions, duplicates), which filter by id rather than by SQL."""
    from amanah.sharing.person_consent import hidden_from_investigation

    return frozenset(hidden_from_investigation(s))


def items_visible(caller: Caller, item: Any = Item) -> ColumnElement[bool]:
    """The SQL condition on `items` (or an alias) for listing and counting: the item's
    collection is visible and the item is not withheld."""
    coll = aliased(Collection)
    return and_(
        exists()
        .where(coll.id == item.collection_id, collections_visible_on(caller, coll))
        .correlate_except(coll),
        not_withheld(item.id),
    )


def jobs_visible(caller: Caller, job: Any = Job) -> ColumnElement[bool]:
    """The SQL condition on `jobs` for counting them and reading their failures: the job's
    item is one the caller may list (`items_visible`). A queue counted whole moves when
    another compartment's provider hands something over (telling it exists), and a failure
    names another compartment's or a withheld item with a reason read from its content."""
    it = aliased(Item)
    return exists().where(it.id == job.item_id, items_visible(caller, it)).correlate_except(it)


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
        out["persons"] = pc.withheld_persons(s, caller, item_id)
        from amanah.sharing import near_duplicate_links

        # derived by near-duplicate: of which item (the legal officer may lift it)
        whose = {p["person"] for p in out["persons"]}
        out["near_duplicate_of"] = [
            d for d in near_duplicate_links.explain(s, caller, item_id) if d["person"] in whose
        ]
    return out


def custody_visible(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition on `custody_events` shown on an item's timeline: a provider's account
    sees preservation events only; staff see every event."""
    if caller.provider_id is not None:
        return CustodyEvent.event_type.in_(sorted(PROVIDER_CUSTODY_TYPES))
    return true()


def item_id_visible(caller: Caller, item_id_column: Any) -> ColumnElement[bool]:
    """The SQL condition "the item of this id column may be read": its collection is visible
    and it is not withheld. What every record pinned to an item (a link, a mention, an
    annotation, a list's record) is seen through."""
    item, coll = aliased(Item), aliased(Collection)
    return and_(
        exists()
        .where(
            item.id == item_id_column,
            coll.id == item.collection_id,
            collections_visible_on(caller, coll),
        )
        .correlate_except(item, coll),
        not_withheld(item_id_column),
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
    return item_id_visible(caller, item_id_column)


def annotatable_item(s: Session, caller: Caller, item_id: int) -> Item:
    """The item a tag or note goes on: the caller may annotate and may see it (else the item
    "does not exist", NotVisible, as for any read)."""
    caller.require(Permission.ANNOTATE)
    if caller.provider_id is not None:
        raise AccessDenied("a provider's account may not annotate items")
    return visible_item(s, caller, item_id)


def visible_item_ids(
    s: Session, caller: Caller, item_ids: Iterable[int], *, withheld: bool = False
) -> set[int]:
    """Those of `item_ids` the caller may see (a bulk action touches and counts these only);
    with `withheld`, withheld ones too (the consent records, as `visible_item`)."""
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
                    true() if withheld else not_withheld(Item.id),
                )
            ).scalars()
        )
    return found


def derivative_kinds_hidden(caller: Caller) -> frozenset[str]:
    """Derivative kinds left off an item's record for this caller."""
    return PROVIDER_HIDDEN_DERIVATIVES if caller.provider_id is not None else frozenset()


def compartments_seen(s: Session, caller: Caller) -> list[str]:
    """The compartments the caller may say it sees (`/api/v1/me`): its grants, except for a
    provider's account, which holds every compartment only as a formality (it is held to its
    own provider's collections by `provider_id`) and sees those of its own collections only:
    the home's other compartments are named after other providers' material."""
    if caller.provider_id is None:
        return sorted(caller.compartments)
    return sorted(
        set(
            s.execute(
                select(Collection.compartment).where(collections_visible(caller)).distinct()
            ).scalars()
        )
    )


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
