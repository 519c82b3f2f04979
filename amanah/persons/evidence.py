"""Person-list records linked to evidence (issue 17, part 3): for each record of a list, the
entities (persons) and the mentions found in items that may be the same person, found by the
entities' candidate search and scored by the one name matcher (`amanah.entities.match`, and
`name_match.score` of the text a mention found), kept as a linkage run whose pairs go into the
**same review queue** as pairs of records (`amanah.persons.review`).

- A pair is a record and an entity, or a record and a mention (`linkage_pairs.entity_id`,
  `mention_id`; `record_b_id` empty). Pairs at or above the threshold are proposed links,
  pairs within `EVIDENCE_MARGIN` below it are offered for review as well; an evidence link
  needs a person's accept either way, so both are in the queue (proposals first).
- Accepting makes the link (`accept`, a custody event): a record-entity link is an evidence
  link pinned to the list's item (SHA-256) and the record's row; a record-mention link pins
  the mention's item by SHA-256 with its derivative, page and span.
- A rejected (or accepted) record-entity or record-mention pair is never proposed again.
- Need-to-know: candidates come only from entities and mentions the caller may see (the
  matcher filters before scoring, `mentions_visible` after); a pair is seen by whom may see
  both sides (`amanah.access.linkage_pairs_visible`).
- A person whose latest consent no longer covers investigation (withdrawn) is not proposed.

Names never reach the ledger: events carry ids, counts and SHA-256 digests only."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import (
    Caller,
    NotVisible,
    Permission,
    entities_visible,
    mentions_visible,
    names_visible,
    person_records_visible,
    visible_item,
    visible_person_list,
    visible_person_record,
)
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import (
    Entity,
    EntityMention,
    EntityName,
    EvidenceLink,
    Item,
    LinkagePair,
    LinkageRun,
    PersonConsent,
    PersonList,
    PersonListRecord,
    PersonRecordLink,
)
from amanah.persons import clusters as cl
from amanah.persons import runs
from amanah.persons.linkage import EVIDENCE_MARGIN, LinkageError
from amanah.persons.reading import audit_records_read
from amanah.text import name_match as nm
from amanah.workspace import Workspace

#: Scores this far below the threshold still go to the review queue.
THRESHOLD = nm.THRESHOLD
#: Entities the matcher returns per record (their mentions are scored too).
MATCH_LIMIT = 20
KINDS = ("person",)
LINK_TYPE = "evidence"
#: At most this many characters of a derivative are read to quote a mention.
MAX_CHARS = 20_000_000


@dataclass(frozen=True)
class Proposal:
    """A record paired with an entity or a mention, the matcher's score and explanation."""

    record_id: int
    entity_id: int | None
    mention_id: int | None
    item_id: int | None  # a mention's item
    score: float
    match: bool
    explanation: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        side = (
            {"entity": self.entity_id}
            if self.entity_id is not None
            else {"mention": self.mention_id, "item": self.item_id}
        )
        return {
            "record": self.record_id,
            **side,
            "score": round(self.score, 4),
            "match": self.match,  # proposed: at or above the threshold
            "review": True,  # an evidence link waits for a person's accept either way
            "explanation": self.explanation,
        }


def _now() -> datetime:
    return datetime.now(UTC)


def record_name(row: PersonListRecord) -> str:
    """The record's name as the matcher reads it: the full name, or its parts in order."""
    if row.full_name.strip():
        return row.full_name
    return " ".join(p for p in (row.ism, row.father, row.grandfather, row.family) if p.strip())


def _explanation(sc: dict[str, Any], notes: Iterable[str] = ()) -> dict[str, Any]:
    """The matcher's explanation without the names themselves (they stay in the records and
    the entities): which part met which, how, how closely."""
    parts = [{k: p.get(k) for k in ("field", "how", "similarity")} for p in sc.get("parts", [])]
    return {"parts": parts, "notes": [*sc.get("notes", []), *notes]}


def withdrawn(s: Session, record_ids: Sequence[int]) -> set[int]:
    """The records whose person's latest consent record no longer covers investigation: their
    consent was withdrawn, so they are not proposed for linking to evidence."""
    from amanah.sharing.person_consent import covers

    latest: dict[int, PersonConsent] = {}
    ids = sorted(set(record_ids))
    for i in range(0, len(ids), 500):
        for c in s.execute(
            select(PersonConsent)
            .where(PersonConsent.person_record_id.in_(ids[i : i + 500]))
            .order_by(PersonConsent.recorded_at, PersonConsent.id)
        ).scalars():
            latest[int(c.person_record_id)] = c  # type: ignore[arg-type]
    return {r for r, c in latest.items() if not covers(c, "investigation")}


def decided(s: Session, record_ids: Sequence[int]) -> set[tuple[int, str, int]]:
    """(record, "entity" | "mention", id) of every evidence pair someone accepted or rejected,
    in any run: never proposed again."""
    out: set[tuple[int, str, int]] = set()
    ids = sorted(set(record_ids))
    for i in range(0, len(ids), 500):
        for rec, ent, men in s.execute(
            select(LinkagePair.record_a_id, LinkagePair.entity_id, LinkagePair.mention_id).where(
                LinkagePair.record_a_id.in_(ids[i : i + 500]),
                LinkagePair.record_b_id.is_(None),
                LinkagePair.decision.in_((cl.ACCEPTED, cl.REJECTED)),
            )
        ).all():
            if ent is not None:
                out.add((rec, "entity", ent))
            if men is not None:
                out.add((rec, "mention", men))
    return out


def read_text(ws: Workspace, sha256: str, cache: dict[str, str]) -> str:
    """A text derivative's characters (remembered per SHA-256 in `cache`)."""
    if sha256 not in cache:
        with ws.blobs.open(sha256) as f:
            cache[sha256] = f.read(MAX_CHARS * 4).decode("utf-8", errors="replace")
    return cache[sha256]


def propose(
    ws: Workspace,
    s: Session,
    caller: Caller,
    plist: PersonList,
    threshold: float = THRESHOLD,
    margin: float = EVIDENCE_MARGIN,
) -> tuple[list[Proposal], dict[int, list[int]], dict[str, int]]:
    """Every pair of the list's visible records with an entity or mention the caller may see
    scoring at least `threshold - margin`; also the mentions read per item (for the audit)
    and counts of the records left out (no name, consent withdrawn)."""
    from amanah.entities.match import Query, match

    rows = list(
        s.execute(
            select(PersonListRecord)
            .where(PersonListRecord.list_id == plist.id, person_records_visible(caller))
            .order_by(PersonListRecord.item_id, PersonListRecord.row)
        ).scalars()
    )
    audit_records_read(s, caller, plist, len(rows))
    gone = withdrawn(s, [r.id for r in rows])
    done = decided(s, [r.id for r in rows])
    floor = threshold - margin
    named = [(r, record_name(r)) for r in rows if r.id not in gone and record_name(r)]
    nm.prepare_many([n for _, n in named])
    out: list[Proposal] = []
    reads: dict[int, list[int]] = {}
    texts: dict[str, str] = {}
    for row, name in named:
        years = frozenset({row.birth_year} if row.birth_year else ())
        found = match(s, caller, Query(str(row.id), KINDS, (name,), years), MATCH_LIMIT, threshold)
        for r in found["results"]:
            if r["score"] >= floor and (row.id, "entity", r["entity"]) not in done:
                why, value = _explanation(r["explanation"]), r["score"]
                sure = value >= threshold
                out.append(Proposal(row.id, r["entity"], None, None, value, sure, why))
        entity_ids = [r["entity"] for r in found["results"]]
        if not entity_ids:
            continue
        for m in s.execute(
            select(EntityMention)
            .where(EntityMention.entity_id.in_(entity_ids), mentions_visible(caller))
            .order_by(EntityMention.id)
        ).scalars():
            if (row.id, "mention", m.id) in done:
                continue
            said = " ".join(read_text(ws, m.derivative_sha256, texts)[m.start : m.end].split())
            reads.setdefault(m.item_id, []).append(m.id)
            sc = nm.score(name, said)
            if sc.value >= floor:
                why = _explanation(sc.to_json())
                out.append(
                    Proposal(row.id, None, m.id, m.item_id, sc.value, sc.value >= threshold, why)
                )
    counts = {
        "records": len(rows),
        "withdrawn": len(gone & {r.id for r in rows}),
        "unnamed": sum(1 for r in rows if r.id not in gone and not record_name(r)),
    }
    return out, {k: sorted(set(v)) for k, v in reads.items()}, counts


def link_evidence(
    ws: Workspace,
    caller: Caller,
    list_name: str,
    *,
    threshold: float = THRESHOLD,
    margin: float = EVIDENCE_MARGIN,
) -> tuple[LinkageRun, list[tuple[int, Proposal]], dict[str, int]]:
    """`amanah persons link-evidence`: propose and keep the pairs of a list's records with
    evidence as a run of the review queue, in one transaction with its custody events (the
    records read, the mentions read per item, the run on the list). Returns the run, (pair
    id, proposal) and the counts."""
    caller.require(Permission.MANAGE_ENTITIES)
    if not 0.0 < threshold <= 1.0:
        raise LinkageError(f"--threshold {threshold}: give a probability in (0, 1]")
    if not 0.0 <= margin < threshold:
        raise LinkageError(f"--margin {margin}: give 0 or more, below the threshold")
    with ws.db.session() as s:
        plist = visible_person_list(s, caller, list_name)
        proposals, reads, counts = propose(ws, s, caller, plist, threshold, margin)
        run = runs.open_run(
            s,
            caller,
            [plist],
            link_type=LINK_TYPE,
            threshold=threshold,
            review_margin=margin,
            floor=threshold - margin,
            settings={"matcher": "entities.match", "kinds": list(KINDS), "limit": MATCH_LIMIT},
        )
        ids = runs.insert_pairs(
            s,
            [
                {
                    "run_id": run.id,
                    "record_a_id": p.record_id,
                    "record_b_id": None,
                    "entity_id": p.entity_id,
                    "mention_id": p.mention_id,
                    "score": float(p.score),
                    "match": p.match,
                    "review": True,
                    "explanation": json.dumps(p.explanation, ensure_ascii=False),
                    "decision": "",
                    "decided_by": "",
                }
                for p in proposals
            ],
        )
        kept: list[tuple[int, Proposal]] = list(zip(ids, proposals, strict=True))
        for item_id, mention_ids in sorted(reads.items()):
            ledger.append(
                s,
                EventType.ACCESS,
                actor=caller.actor,
                object_type="item",
                object_id=item_id,
                details={
                    "action": "read mentions for person linkage",
                    "mentions": mention_ids,
                    "run": run.id,
                    **caller.audit(),
                },
            )
        proposed = sum(1 for _, p in kept if p.match)
        runs.close_run(
            s,
            caller,
            run,
            [plist],
            pairs=len(kept),
            links=proposed,
            to_review=len(kept),
            action="person evidence linkage run",
            details={
                "threshold": threshold,
                "margin": margin,
                "pairs": len(kept),
                "proposed": proposed,
                **counts,
            },
        )
        s.flush()
        s.expunge(run)
    return run, kept, counts


# -- accepting ----------------------------------------------------------------------------------


def accept(s: Session, caller: Caller, pair: LinkagePair) -> PersonRecordLink:
    """Make the link an accepted record-evidence pair stands for, with its custody event: for
    an entity, an evidence link pinned to the list's item and the record's row; for a mention,
    the mention's item pinned by SHA-256 with its derivative, page and span."""
    record = visible_person_record(s, caller, pair.record_a_id)
    if record.id in withdrawn(s, [record.id]):
        # consent withdrawn since the pair was proposed: honoured here too
        raise LinkageError(
            f"pair {pair.id}: the person of record {record.id} withdrew consent; not linked"
        )
    at = _now()
    if pair.entity_id is not None:
        entity = s.execute(
            select(Entity).where(Entity.id == pair.entity_id, entities_visible(caller))
        ).scalar_one_or_none()
        if entity is None:
            raise NotVisible(f"no entity with id {pair.entity_id}")
        item = visible_item(s, caller, record.item_id)
        locator = {"list": record.list_id, "row": record.row, "record": record.id}
        evidence = EvidenceLink(
            entity_id=entity.id,
            item_id=item.id,
            item_sha256=item.sha256,
            locator_kind="row",
            start=record.row,
            end=record.row,
            rects="[]",
            derivative="",
            quotation="",
            translation="",
            stance="supports",
            created_at=at,
            created_by=caller.actor,
        )
        s.add(evidence)
        s.flush()
        made = PersonRecordLink(
            record_id=record.id,
            pair_id=pair.id,
            entity_id=entity.id,
            evidence_link_id=evidence.id,
            item_id=item.id,
            item_sha256=item.sha256,
            locator=json.dumps(locator),
            linked_by=caller.actor,
            linked_at=at,
        )
        target: dict[str, Any] = {"entity": entity.id, "evidence_link": evidence.id}
    else:
        m = s.execute(
            select(EntityMention).where(
                EntityMention.id == pair.mention_id, mentions_visible(caller)
            )
        ).scalar_one_or_none()
        if m is None:
            raise NotVisible(f"no mention with id {pair.mention_id}")
        locator = {
            "derivative": m.derivative,
            "derivative_sha256": m.derivative_sha256,
            "page": m.page,
            "span": [m.start, m.end],
        }
        made = PersonRecordLink(
            record_id=record.id,
            pair_id=pair.id,
            mention_id=m.id,
            item_id=m.item_id,
            item_sha256=m.item_sha256,
            locator=json.dumps(locator),
            linked_by=caller.actor,
            linked_at=at,
        )
        target = {"mention": m.id}
    s.add(made)
    s.flush()
    ledger.append(
        s,
        EventType.ENTITY_CHANGE,
        actor=caller.actor,
        object_type="item",
        object_id=made.item_id,
        details={
            "action": "link person record to evidence",
            "record_link": made.id,
            "record": record.id,
            "list": record.list_id,
            "pair": pair.id,
            "sha256": made.item_sha256,
            "locator": locator,
            **target,
            **caller.audit(),
        },
    )
    return made


# -- showing ------------------------------------------------------------------------------------


def _item_title(item: Item) -> str:
    return item.original_path.replace("\\", "/").rsplit("/", 1)[-1]


def _entity_side(s: Session, caller: Caller, entity_id: int) -> dict[str, Any]:
    names = list(
        s.execute(
            select(EntityName.full_name)
            .where(EntityName.entity_id == entity_id, names_visible(caller))
            .order_by(EntityName.id)
        ).scalars()
    )
    kind = s.execute(select(Entity.kind).where(Entity.id == entity_id)).scalar_one()
    return {"kind": "entity", "entity": entity_id, "entity_kind": kind, "names": names}


def evidence_sides(
    ws: Workspace | None, s: Session, caller: Caller, pairs: Iterable[Any]
) -> dict[int, dict[str, Any]]:
    """The evidence side of record-evidence pairs (or record links), by their id: an entity
    with its visible names, or a mention with its item's title, SHA-256, page, span and, with
    `ws`, the quoted span (read from the derivative: an audited access per item). Pairs whose
    evidence the caller may not see are left out."""
    out: dict[int, dict[str, Any]] = {}
    texts: dict[str, str] = {}
    quoted: dict[int, list[int]] = {}
    for p in pairs:
        if p.entity_id is not None:
            if s.execute(
                select(Entity.id).where(Entity.id == p.entity_id, entities_visible(caller))
            ).first():
                out[p.id] = _entity_side(s, caller, p.entity_id)
        elif p.mention_id is not None:
            found = s.execute(
                select(EntityMention, Item)
                .join(Item, Item.id == EntityMention.item_id)
                .where(EntityMention.id == p.mention_id, mentions_visible(caller))
            ).first()
            if found is None:
                continue
            m, item = found
            side = {
                "kind": "mention",
                "mention": m.id,
                "entity": m.entity_id,
                "item": item.id,
                "title": _item_title(item),
                "sha256": m.item_sha256,
                "derivative": m.derivative,
                "page": m.page,
                "span": [m.start, m.end],
            }
            if ws is not None:
                side["quotation"] = read_text(ws, m.derivative_sha256, texts)[m.start : m.end]
                quoted.setdefault(item.id, []).append(m.id)
            out[p.id] = side
    for item_id, ids in sorted(quoted.items()):
        ledger.append(
            s,
            EventType.ACCESS,
            actor=caller.actor,
            object_type="item",
            object_id=item_id,
            details={"action": "read mentions", "mentions": sorted(set(ids)), **caller.audit()},
        )
    return out


def record_links(
    ws: Workspace | None, s: Session, caller: Caller, record_id: int
) -> list[dict[str, Any]]:
    """A record's links to evidence the caller may see, with their evidence side."""
    from amanah.access import person_record_links_visible

    rows = list(
        s.execute(
            select(PersonRecordLink)
            .where(PersonRecordLink.record_id == record_id, person_record_links_visible(caller))
            .order_by(PersonRecordLink.id)
        ).scalars()
    )
    sides = evidence_sides(ws, s, caller, rows)
    return [
        {
            "id": x.id,
            "record": x.record_id,
            "pair": x.pair_id,
            "item": x.item_id,
            "sha256": x.item_sha256,
            "locator": json.loads(x.locator or "{}"),
            "evidence_link": x.evidence_link_id,
            "linked_by": x.linked_by,
            "linked_at": x.linked_at.isoformat(),
            "evidence": sides.get(x.id),
        }
        for x in rows
        if x.id in sides
    ]
