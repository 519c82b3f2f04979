"""Victims' and survivors' consent, per person, and the items it governs.

A person known to the home is a protected person (named here by pseudonym only) or a record of
a person list (`record:ID`). Items about a person (their statement, an interview recording)
are linked to them; the person's latest consent record then decides, for each use
(investigation, sharing, publication, contact) and each recipient (a jurisdiction's code, or
all), whether those items may be used. A package build leaves out the items of every person
whose consent does not cover the request's recipient for sharing, with the reason (pseudonym,
never a name); a withdrawal after a build is shown on the package's page. Every change is a
custody event naming the person by pseudonym or record id.

A link names one item, but consent is about the document: every item with the same bytes
(SHA-256; the same file handed over again, by the same or another provider) is governed by
the same links (`_persons_of`, `withheld_condition`). And a document's parts are the
document: an attachment of a linked email, a member of a linked archive (to `ANCESTRY`
levels) is governed by the links of the item it came from, so a withdrawal withholds the
statement and the files handed over inside it alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    column,
    exists,
    literal,
    not_,
    or_,
    select,
    table,
    true,
    union,
)
from sqlalchemy.orm import Session, aliased

from amanah.access import (
    Caller,
    NotVisible,
    Permission,
    consent_persons_known,
    consent_records_visible,
    require_consent_changeable,
    require_consent_person_known,
    visible_item,
    visible_item_ids,
)
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import (
    Item,
    Jurisdiction,
    Package,
    PackageItem,
    PersonConsent,
    PersonItem,
    PersonListRecord,
    ProtectedPerson,
)
from amanah.sharing import SharingError
from amanah.sharing.protected import Matcher

INVESTIGATION = "investigation"
USES = (INVESTIGATION, "sharing", "publication", "contact")
ALL = "all"
STATUSES = ("given", "withdrawn")
RECORD_PREFIX = "record:"


@dataclass(frozen=True)
class Person:
    """A person known to the home: exactly one of the two ids is set; `label` is what logs,
    the ledger and reasons may show (a pseudonym or `record:ID`)."""

    protected_person_id: int | None
    person_record_id: int | None
    label: str

    def where(self, table: Any) -> Any:
        """The SQL condition on a table holding the two person columns."""
        if self.protected_person_id is not None:
            return table.protected_person_id == self.protected_person_id
        return table.person_record_id == self.person_record_id

    @property
    def key(self) -> tuple[int | None, int | None]:
        return (self.protected_person_id, self.person_record_id)

    def columns(self) -> dict[str, int | None]:
        return {
            "protected_person_id": self.protected_person_id,
            "person_record_id": self.person_record_id,
        }


def resolve(s: Session, caller: Caller, ref: str) -> Person:
    """A person by pseudonym or `record:ID`; a record only if the caller may see its list.
    An unknown person and a hidden one get the same answer."""
    ref = ref.strip()
    if ref.startswith(RECORD_PREFIX):
        raw = ref[len(RECORD_PREFIX) :]
        if not raw.isdigit():
            raise SharingError(f"{ref!r}: a person-list record is named record:ID (a number)")
        row = s.execute(
            select(PersonListRecord.id).where(
                PersonListRecord.id == int(raw), consent_records_visible(caller)
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotVisible(f"no person-list record {ref}")
        return _known(s, caller, Person(None, int(raw), f"{RECORD_PREFIX}{int(raw)}"), ref)
    caller.require(Permission.MANAGE_REQUESTS)  # protected persons are the legal officers'
    pid = s.execute(
        select(ProtectedPerson.id).where(ProtectedPerson.pseudonym == ref)
    ).scalar_one_or_none()
    if pid is None:
        if Matcher.load(s).names(ref):
            # a name typed where its pseudonym belongs: never said back (a response, a log)
            raise NotVisible(
                "that is a protected person's name, not a pseudonym: name them by pseudonym"
                " (see `amanah protected list`)"
            )
        raise NotVisible(
            f"no protected person {ref!r} (see `amanah protected list`; a person-list record"
            " is named record:ID)"
        )
    return _known(s, caller, Person(pid, None, ref), ref)


def _known(s: Session, caller: Caller, person: Person, ref: str) -> Person:
    """The person, if the caller may know them (`require_consent_person_known`); the same
    answer as an unknown one otherwise."""
    try:
        require_consent_person_known(s, caller, person.key)
    except NotVisible:
        raise NotVisible(
            f"no protected person {ref!r} (see `amanah protected list`; a person-list record"
            " is named record:ID)"
            if not ref.startswith(RECORD_PREFIX)
            else f"no person-list record {ref}"
        ) from None
    return person


def person_labels(s: Session, rows: Iterable[Any]) -> dict[tuple[int | None, int | None], str]:
    keys = {(r.protected_person_id, r.person_record_id) for r in rows}
    pids = {p for p, _ in keys if p is not None}
    names = (
        dict(
            s.execute(
                select(ProtectedPerson.id, ProtectedPerson.pseudonym).where(
                    ProtectedPerson.id.in_(pids)
                )
            ).all()
        )
        if pids
        else {}
    )
    return {
        (p, r): (names.get(p, f"protected person {p}") if p is not None else f"{RECORD_PREFIX}{r}")
        for p, r in keys
    }


#: How a person the caller may not know is named (`consent_persons_known`): the withholding or
#: refusal is said, never whose consent it is nor who may know them.
A_PERSON = "a person"


def caller_labels(
    s: Session, caller: Caller, rows: Iterable[Any]
) -> dict[tuple[int | None, int | None], str]:
    """`person_labels` as this caller may read them: a person of another compartment's
    items (known to the caller only through a copy, a part or a near-duplicate it holds) is
    `A_PERSON`."""
    labels = person_labels(s, rows)
    known = consent_persons_known(s, caller, labels)
    return {k: (v if k in known else A_PERSON) for k, v in labels.items()}


def _clean(s: Session, text: str) -> str:
    """Free text with every protected name replaced by its pseudonym: names never at rest."""
    return Matcher.load(s).at_rest(text, "the text")[0]


def _event(s: Session, caller: Caller, person: Person, details: dict[str, Any]) -> None:
    ledger.append(
        s,
        EventType.RESTRICTION_CHANGE,
        actor=caller.actor,
        object_type="person",
        object_id=person.label,
        details={**details, **caller.audit()},
    )


# -- items about a person --------------------------------------------------------------------


def item_event(s: Session, actor: str, item_id: int, details: dict[str, Any]) -> None:
    """A change of what governs an item (a link made, derived or lifted): a custody event
    naming the person by pseudonym or record id only."""
    ledger.append(
        s,
        EventType.RESTRICTION_CHANGE,
        actor=actor,
        object_type="item",
        object_id=item_id,
        details=details,
    )


def link_item(
    s: Session, caller: Caller, ref: str, item_id: int, source: str = "by hand"
) -> PersonItem:
    """Say an item is about a person: from now on their consent governs it."""
    caller.require(Permission.MANAGE_REQUESTS)
    person = resolve(s, caller, ref)
    visible_item(s, caller, item_id, withheld=True)  # linking is how consent is managed
    found = s.execute(
        select(PersonItem).where(person.where(PersonItem), PersonItem.item_id == item_id)
    ).scalar_one_or_none()
    if found is not None:
        return found
    row = PersonItem(
        **person.columns(),
        item_id=item_id,
        source=source,
        linked_by=caller.actor,
        linked_at=datetime.now(UTC),
    )
    s.add(row)
    s.flush()
    item_event(
        s,
        caller.actor,
        item_id,
        {"action": "person link", "person": person.label, "source": source, **caller.audit()},
    )
    from amanah.sharing import near_duplicate_links  # it derives links from this one

    near_duplicate_links.follow(s, [item_id], caller.actor, parts=True)
    return row


# -- consent records -------------------------------------------------------------------------


def _check_uses(uses: Sequence[str]) -> list[str]:
    chosen = sorted({u.strip().lower() for u in uses if u.strip()})
    unknown = [u for u in chosen if u not in USES]
    if unknown:
        raise SharingError(f"use {', '.join(unknown)} is not known: choose {', '.join(USES)}")
    return chosen


def _check_recipients(s: Session, recipients: Sequence[str]) -> list[str]:
    chosen = sorted({r.strip() for r in recipients if r.strip()})
    if not chosen or ALL in chosen:
        return [ALL]
    known = set(s.execute(select(Jurisdiction.code).where(Jurisdiction.code.in_(chosen))).scalars())
    unknown = [r for r in chosen if r not in known]
    if unknown:
        raise SharingError(
            f"recipient {', '.join(unknown)} is not a known jurisdiction code"
            " (see `amanah jurisdiction list`), or say all"
        )
    return chosen


def latest(s: Session, person: Person) -> PersonConsent | None:
    return s.execute(
        select(PersonConsent)
        .where(person.where(PersonConsent))
        .order_by(PersonConsent.recorded_at.desc(), PersonConsent.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def give(
    s: Session,
    caller: Caller,
    ref: str,
    uses: Sequence[str],
    recipients: Sequence[str] = (),
    *,
    told: str = "",
    given_on: date | None = None,
) -> PersonConsent:
    """Record consent given for these uses and recipients (the scope that now holds)."""
    caller.require(Permission.MANAGE_REQUESTS)
    person = resolve(s, caller, ref)
    chosen = _check_uses(uses)
    if not chosen:
        raise SharingError(f"say which uses the consent covers (--use: {', '.join(USES)})")
    return _record(
        s, caller, person, "given", chosen, _check_recipients(s, recipients), told, given_on, {}
    )


def withdraw(
    s: Session,
    caller: Caller,
    ref: str,
    uses: Sequence[str] = (),
    recipients: Sequence[str] = (),
    *,
    told: str = "",
    given_on: date | None = None,
) -> PersonConsent:
    """Record a withdrawal: of the uses named (for every recipient), or of the recipients
    named (for every use), or of everything when neither is named. The scope that remains is
    stored with the record, so the latest record alone decides."""
    caller.require(Permission.MANAGE_REQUESTS)
    person = resolve(s, caller, ref)
    gone_uses = _check_uses(uses)
    named = [r.strip() for r in recipients if r.strip() and r.strip() != ALL]
    gone_to = [r for r in _check_recipients(s, named) if r != ALL] if named else []
    if gone_uses and gone_to:
        raise SharingError("withdraw either uses (--use) or recipients (--recipient), not both")
    before = latest(s, person)
    kept_uses: list[str] = json.loads(before.uses) if before is not None else []
    kept_to: list[str] = json.loads(before.recipients) if before is not None else [ALL]
    if gone_uses:
        kept_uses = [u for u in kept_uses if u not in gone_uses]
    elif gone_to:
        if kept_to == [ALL]:
            raise SharingError(
                f"{person.label}'s consent covers all recipients: record it again for the"
                " recipients that remain (`consent person give --recipient ...`)"
            )
        kept_to = [r for r in kept_to if r not in gone_to]
        if not kept_to:
            kept_uses, kept_to = [], [ALL]
    else:
        kept_uses = []  # everything withdrawn
    withdrawn = {"uses": gone_uses or ([] if gone_to else list(USES)), "recipients": gone_to}
    return _record(
        s, caller, person, "withdrawn", kept_uses, kept_to, told, given_on, {"withdrawn": withdrawn}
    )


def _record(
    s: Session,
    caller: Caller,
    person: Person,
    status: str,
    uses: list[str],
    recipients: list[str],
    told: str,
    given_on: date | None,
    extra: dict[str, Any],
) -> PersonConsent:
    require_consent_changeable(s, caller, person.key)
    row = PersonConsent(
        **person.columns(),
        status=status,
        uses=json.dumps(uses),
        recipients=json.dumps(recipients),
        told=_clean(s, told),
        given_on=given_on,
        recorded_by=caller.actor,
        recorded_at=datetime.now(UTC),
    )
    s.add(row)
    s.flush()
    _event(
        s,
        caller,
        person,
        {
            "action": f"consent {status}",
            "person": person.label,
            "uses": uses,
            "recipients": recipients,
            **extra,
        },
    )
    return row


def covers(row: PersonConsent | None, use: str, recipient: str | None = None) -> bool:
    """Whether a consent record allows a use (for a recipient's code, when one is given)."""
    if row is None:
        return False
    if use not in json.loads(row.uses):
        return False
    to = json.loads(row.recipients)
    return recipient is None or ALL in to or recipient in to


def _describe(row: PersonConsent, label: str) -> dict[str, Any]:
    return {
        "person": label,
        "status": row.status,
        "uses": json.loads(row.uses),
        "recipients": json.loads(row.recipients),
        "told": row.told,
        "given_on": row.given_on.isoformat() if row.given_on else "",
        "recorded_by": row.recorded_by,
        "recorded_at": row.recorded_at.isoformat(),
    }


def history(s: Session, caller: Caller, ref: str) -> dict[str, Any]:
    """A person's consent records, oldest first, and the items linked to them that the
    caller may see."""
    person = resolve(s, caller, ref)
    rows = s.execute(
        select(PersonConsent)
        .where(person.where(PersonConsent))
        .order_by(PersonConsent.recorded_at, PersonConsent.id)
    ).scalars()
    linked = s.execute(select(PersonItem.item_id).where(person.where(PersonItem))).scalars()
    # the items the caller may see (withheld ones too: their consent is managed here); an
    # item of another compartment, linked or derived from a near-duplicate, is not said
    items = sorted(visible_item_ids(s, caller, linked, withheld=True))
    records = [_describe(r, person.label) for r in rows]
    return {
        "person": person.label,
        "current": records[-1] if records else None,
        "history": records,
        "items": items,
    }


def list_all(s: Session, caller: Caller) -> list[dict[str, Any]]:
    """Every person with a consent record or an item linked, with their current consent.
    Records of person lists the caller may not see are left out."""
    caller.require(Permission.MANAGE_REQUESTS)
    consents = list(
        s.execute(
            select(PersonConsent).order_by(PersonConsent.recorded_at, PersonConsent.id)
        ).scalars()
    )
    links = list(s.execute(select(PersonItem)).scalars())
    labels = person_labels(s, [*consents, *links])
    known = consent_persons_known(s, caller, labels)
    current: dict[tuple[int | None, int | None], PersonConsent] = {}
    for c in consents:
        current[(c.protected_person_id, c.person_record_id)] = c
    counts: dict[tuple[int | None, int | None], int] = {}
    seen_items = visible_item_ids(s, caller, {link.item_id for link in links}, withheld=True)
    for link in links:
        key = (link.protected_person_id, link.person_record_id)
        if link.item_id not in seen_items:
            continue  # another compartment's item: neither said nor counted
        counts[key] = counts.get(key, 0) + 1
    out = []
    for key in sorted(set(current) | set(counts), key=lambda k: labels[k]):
        if key not in known:
            continue  # another compartment's person (or list's record): not for the caller
        c = current.get(key)
        out.append(
            {
                "person": labels[key],
                "status": c.status if c else "none",
                "uses": json.loads(c.uses) if c else [],
                "recipients": json.loads(c.recipients) if c else [],
                "items": counts.get(key, 0),
                "recorded_at": c.recorded_at.isoformat() if c else "",
            }
        )
    return out


def visible_records(s: Session, caller: Caller, ids: set[int]) -> set[int]:
    """The person-list records among `ids` the caller may see (their list's need-to-know)."""
    if not ids:
        return set()
    return set(
        s.execute(
            select(PersonListRecord.id).where(
                PersonListRecord.id.in_(sorted(ids)), consent_records_visible(caller)
            )
        ).scalars()
    )


# -- what consent allows ---------------------------------------------------------------------


#: How many levels up a part looks for the links of the item it came from: above the
#: pipeline's nesting limit (`amanah.processing.pipeline.MAX_DEPTH`, checked by a test).
ANCESTRY = 8


def _lineage(s: Session, item_ids: Sequence[int]) -> dict[int, list[int]]:
    """Each item with the items it came from (its parent, their parent, … to `ANCESTRY`)."""
    lineage = {i: [i] for i in set(item_ids)}
    parent_of: dict[int, int | None] = {}
    wanted = set(lineage)
    for _ in range(ANCESTRY + 1):
        ask = sorted(wanted - parent_of.keys())
        if not ask:
            break
        for i in range(0, len(ask), 900):
            parent_of.update(
                s.execute(
                    select(Item.id, Item.parent_id).where(Item.id.in_(ask[i : i + 900]))
                ).all()
            )
        wanted = {p for p in (parent_of.get(a) for a in ask) if p is not None}
    for chain in lineage.values():
        while len(chain) <= ANCESTRY and (up := parent_of.get(chain[-1])) is not None:
            chain.append(up)
    return lineage


def _parts(s: Session, item_ids: Sequence[int]) -> dict[int, list[int]]:
    """Each item with the items that came from it (its parts, their parts, … to `ANCESTRY`)."""
    parts: dict[int, list[int]] = {i: [] for i in set(item_ids)}
    level = {i: i for i in parts}  # a part at this level: the item it is a part of
    for _ in range(ANCESTRY):
        ask = sorted(level)
        found: dict[int, int] = {}
        for i in range(0, len(ask), 900):
            for part, parent in s.execute(
                select(Item.id, Item.parent_id).where(Item.parent_id.in_(ask[i : i + 900]))
            ).all():
                top = level[parent]
                if part != top and part not in parts[top]:
                    parts[top].append(part)
                    found[part] = top
        if not found:
            break
        level = found
    return parts


def _persons_of(
    s: Session, item_ids: Sequence[int], derived: bool = True
) -> dict[int, list[tuple[Any, Any]]]:
    """The persons each item is about: the links on it, on any item with its bytes, on an
    item it came from (an attachment is about whom its email is about), or on a part of it
    (an archive, an email is about whom its members, its attachments are about: it carries
    their bytes). Without `derived`, only the links a person made (not those derived from a
    near-duplicate)."""
    lineage = _lineage(s, item_ids)
    for item_id, below in _parts(s, item_ids).items():
        lineage[item_id].extend(below)
    direct: dict[int, list[tuple[Any, Any]]] = {}
    ids = sorted({a for chain in lineage.values() for a in chain})
    linked = aliased(Item)
    for i in range(0, len(ids), 900):
        for item_id, person, record in s.execute(
            select(Item.id, PersonItem.protected_person_id, PersonItem.person_record_id)
            .join(linked, linked.sha256 == Item.sha256)
            .join(PersonItem, PersonItem.item_id == linked.id)
            .where(
                Item.id.in_(ids[i : i + 900]),
                true() if derived else PersonItem.derived_from.is_(None),
            )
            .order_by(Item.id, PersonItem.id)
        ).all():
            keys = direct.setdefault(item_id, [])
            if (person, record) not in keys:
                keys.append((person, record))
    out: dict[int, list[tuple[Any, Any]]] = {}
    for item_id, chain in lineage.items():
        keys = [k for a in chain for k in direct.get(a, [])]
        if keys:
            out[item_id] = list(dict.fromkeys(keys))
    return out


def _current(s: Session, keys: set[tuple[Any, Any]]) -> dict[tuple[Any, Any], PersonConsent | None]:
    found: dict[tuple[Any, Any], PersonConsent | None] = dict.fromkeys(keys)
    pids = sorted({p for p, _ in keys if p is not None})
    rids = sorted({r for _, r in keys if r is not None})
    conds = []
    if pids:
        conds.append(PersonConsent.protected_person_id.in_(pids))
    if rids:
        conds.append(PersonConsent.person_record_id.in_(rids))
    if not conds:
        return found
    for c in s.execute(
        select(PersonConsent)
        .where(or_(*conds))
        .order_by(PersonConsent.recorded_at, PersonConsent.id)
    ).scalars():
        key = (c.protected_person_id, c.person_record_id)
        if key in found:
            found[key] = c
    return found


def refusals(
    s: Session,
    caller: Caller,
    items: dict[int, Sequence[int]],
    use: str,
    recipient: str | None,
) -> dict[int, str]:
    """For each item (with the ids of its parts: an email's attachment, an archive's member),
    why its persons' consent does not allow this use for this recipient; items allowed are
    absent. The reasons name persons by pseudonym or record id only, and a person the caller
    may not know as `A_PERSON` (`caller_labels`)."""
    every = {i for root, parts in items.items() for i in (root, *parts)}
    persons = _persons_of(s, sorted(every))
    if not persons:
        return {}
    consents = _current(s, {k for ks in persons.values() for k in ks})
    labels = caller_labels(
        s,
        caller,
        [_Key(p, r) for p, r in consents],  # type: ignore[arg-type]
    )
    out: dict[int, str] = {}
    for root, parts in items.items():
        why = []
        said: set[tuple[Any, Any]] = set()  # a part inherits its root's persons: say them once
        for i in (root, *parts):
            for key in persons.get(i, []):
                if key in said:
                    continue
                said.add(key)
                c = consents[key]
                if covers(c, use, recipient):
                    continue
                where = "" if i == root else f" (its part item {i})"
                label = labels[key]
                if c is None:
                    why.append(f"no consent recorded for {label}{where}")
                elif use not in json.loads(c.uses):
                    verb = "withdrawn" if c.status == "withdrawn" else "not given"
                    why.append(f"consent of {label} for {use} {verb}{where}")
                else:
                    why.append(f"consent of {label} does not cover recipient {recipient}{where}")
        if why:
            out[root] = "; ".join(dict.fromkeys(why))
    return out


@dataclass(frozen=True)
class _Key:
    protected_person_id: int | None
    person_record_id: int | None


def _slim(model: Any, *names: str) -> Any:
    """A model's table with only the named columns (types kept). The withholding condition
    aliases items ten times per level it climbs; an alias of the whole mapped table makes a
    proxy of every column each time (about 180 ms of Python per condition built, paid by
    every search and item read), an alias of this one a proxy of three."""
    mapped = model.__table__
    return table(mapped.name, *(column(n, mapped.c[n].type) for n in names))


_ITEMS = _slim(Item, "id", "parent_id", "sha256")
_PERSON_ITEMS = _slim(PersonItem, "item_id", "protected_person_id", "person_record_id")
_PERSON_CONSENTS = _slim(
    PersonConsent, "id", "protected_person_id", "person_record_id", "recorded_at", "uses"
)


def record_withdrawn_condition(record_id: Any) -> ColumnElement[bool]:
    """The SQL condition "this person-list record's person withdrew consent for
    investigation": its latest consent record leaves investigation out. Such a record is
    not linked (linkage is investigation), and no pair that names it is shown, whenever the
    pair was kept. `amanah.access.person_records_linkable` applies it; the rule lives here."""
    return record_id.in_(_withdrawn_records())  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def _withdrawn_records() -> Any:
    """Every person-list record whose latest consent leaves investigation out, as one
    uncorrelated statement (built once, like `_withheld_ids`)."""
    return _refusing("person_record_id")


def _refusing(column: str) -> Any:
    """The persons (by `column`) whose latest consent record leaves investigation out."""
    # read from the consent records that do (withdrawals, few), each checked for a later
    # one by index, never from every link
    c, later = _PERSON_CONSENTS.alias(), _PERSON_CONSENTS.alias()
    newer = (
        exists()
        .where(
            later.c[column] == c.c[column],
            or_(
                later.c.recorded_at > c.c.recorded_at,
                and_(later.c.recorded_at == c.c.recorded_at, later.c.id > c.c.id),
            ),
        )
        .correlate(c)
    )
    return select(c.c[column]).where(
        c.c[column].is_not(None), _leaves_out_investigation(c.c), not_(newer)
    )


def withheld_condition(item_id: Any) -> ColumnElement[bool]:
    """The SQL condition "this item is withheld from investigation": a person it is about has
    a latest consent record that no longer covers investigation (withdrawn). An item with no
    consent recorded for its persons is not withheld (consent is recorded when known; a
    package still asks for it explicitly, `refusals`). `amanah.access` applies this to every
    read of item-derived content; the rule itself lives here, with the consent records."""
    return item_id.in_(_withheld_ids())  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def _withheld_ids() -> Any:
    """Every withheld item's id, as one uncorrelated statement worked out from the links'
    side: the links whose person's latest consent leaves investigation out, every item with
    the bytes of a linked item (the same document), their parts down to `ANCESTRY` levels
    (an attachment, an archive's member), and the items that hold any of them up to
    `ANCESTRY` levels (the email, the archive: their bytes carry the part), with their
    copies. Uncorrelated, each engine computes it once per statement (a few links, an index
    walk along `parent_id`) whatever the number of items a list or a count reads; the depth
    bound also ends a forged loop of parents. Built once: an expression is immutable, and
    one object renders one WITH clause however often a statement holds it."""

    # A link names a protected person or a person-list record.
    by_person, by_record = _PERSON_ITEMS.alias(), _PERSON_ITEMS.alias()
    refused_links = union(
        select(by_person.c.item_id).where(
            by_person.c.protected_person_id.in_(_refusing("protected_person_id"))
        ),
        select(by_record.c.item_id).where(
            by_record.c.person_record_id.in_(_refusing("person_record_id"))
        ),
    )
    linked, copy, part = _ITEMS.alias(), _ITEMS.alias(), _ITEMS.alias()
    tree = (
        select(copy.c.id.label("id"), literal(0).label("depth"))
        .where(copy.c.sha256.in_(select(linked.c.sha256).where(linked.c.id.in_(refused_links))))
        .cte("withheld_items", recursive=True)
    )
    tree = tree.union_all(
        select(part.c.id, tree.c.depth + 1).where(
            part.c.parent_id == tree.c.id, tree.c.depth < ANCESTRY
        )
    )
    # Up, too: an archive or an email that carries a withheld part carries its bytes (its
    # original, its text and inventory, a package of it): withheld with every copy of it.
    below, holder, same = _ITEMS.alias(), _ITEMS.alias(), _ITEMS.alias()
    up = (
        select(below.c.parent_id.label("id"), literal(0).label("depth"))
        .where(below.c.id.in_(select(tree.c.id)), below.c.parent_id.is_not(None))
        .cte("withheld_holders", recursive=True)
    )
    up = up.union_all(
        select(holder.c.parent_id, up.c.depth + 1).where(
            holder.c.id == up.c.id, holder.c.parent_id.is_not(None), up.c.depth < ANCESTRY
        )
    )
    holders = select(same.c.id).where(
        same.c.sha256.in_(select(holder.c.sha256).where(holder.c.id.in_(select(up.c.id))))
    )
    return union(select(tree.c.id), holders)


def hidden_from_investigation(s: Session) -> set[int]:
    """Items whose person's latest consent record exists and no longer allows investigation
    (withdrawn): no analytical read shows them, to anyone (`amanah.access.withheld_item_ids`
    is the way callers ask)."""
    # Only a consent record that leaves investigation out can withhold anything: a home
    # without one (most homes, most of the time) answers from one index-free probe, built
    # once (building it cost more than running it, on every search and item read).
    if not s.execute(_any_leaving_out()).scalar():
        return set()
    return set(s.execute(_withheld_ids()).scalars())


@lru_cache(maxsize=1)
def _any_leaving_out() -> Select[tuple[bool]]:
    return select(exists().where(_leaves_out_investigation(PersonConsent)))


def _leaves_out_investigation(c: Any) -> ColumnElement[bool]:
    """A consent record (or an alias of the table) whose remaining uses exclude
    investigation: `uses` is the JSON list of the uses that remain (`json.dumps`)."""
    return not_(c.uses.contains(f'"{INVESTIGATION}"'))


def withheld_persons(s: Session, caller: Caller, item_id: int) -> list[dict[str, str]]:
    """Whose withdrawal withholds an item, and when it was recorded: what the legal officer
    managing consent sees on the item's page (pseudonym or `record:ID`, never a name; a
    person the caller may not know as `A_PERSON`)."""
    persons = _persons_of(s, [item_id]).get(item_id, [])
    consents = _current(s, set(persons))
    labels = caller_labels(s, caller, [_Key(p, r) for p, r in consents])
    return [
        {"person": labels[key], "known": labels[key] != A_PERSON, "at": c.recorded_at.isoformat()}
        for key, c in sorted(consents.items(), key=lambda kv: labels[kv[0]])
        if c is not None and not covers(c, INVESTIGATION)
    ]


def withdrawn_since(s: Session, caller: Caller, package_id: str) -> list[dict[str, Any]]:
    """Consent changed after a package was built so that it no longer covers some of the
    package's items: what the package page must say (pseudonyms, item ids, when; a person
    the caller may not know as `A_PERSON`)."""
    pkg = s.get(Package, package_id)
    if pkg is None:
        return []
    code = s.execute(
        select(Jurisdiction.code).where(Jurisdiction.id == pkg.jurisdiction_id)
    ).scalar_one()
    ids = list(
        s.execute(select(PackageItem.item_id).where(PackageItem.package_id == package_id)).scalars()
    )
    persons = _persons_of(s, ids)
    if not persons:
        return []
    consents = _current(s, {k for ks in persons.values() for k in ks})
    labels = caller_labels(s, caller, [_Key(p, r) for p, r in consents])
    built = pkg.created_at if pkg.created_at.tzinfo else pkg.created_at.replace(tzinfo=UTC)
    out: dict[tuple[Any, Any], dict[str, Any]] = {}
    for item_id in sorted(persons):
        for key in persons[item_id]:
            c = consents[key]
            if c is None or covers(c, "sharing", code):
                continue
            at = c.recorded_at if c.recorded_at.tzinfo else c.recorded_at.replace(tzinfo=UTC)
            if at <= built:
                continue
            entry = out.setdefault(
                key,
                {
                    "person": labels[key],
                    "known": labels[key] != A_PERSON,
                    "at": at.isoformat(),
                    "items": [],
                },
            )
            entry["items"].append(item_id)
    return list(out.values())


__all__ = [
    "ALL",
    "A_PERSON",
    "STATUSES",
    "USES",
    "Person",
    "covers",
    "give",
    "hidden_from_investigation",
    "history",
    "latest",
    "link_item",
    "list_all",
    "refusals",
    "resolve",
    "withdraw",
    "withdrawn_since",
    "withheld_condition",
]
