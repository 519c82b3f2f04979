"""Kept linkage runs and their review queue: a run of `amanah.persons.linkage` over person
lists stored with its pairs (records by id: names stay in the records), the pairs near the
threshold offered for review, each review (accept, reject, unsure) kept with who and when, and
clusters computed from links and reviews (`amanah.persons.clusters`).

Need-to-know is `amanah.access`'s: a caller sees a run when it may see one of its lists, and
sees and reviews a pair only when it may see both records' lists; clusters are built from the
pairs the caller sees, so no hidden record joins two visible ones. A run and a review are
custody events (ids and counts, never a name, never a reviewer's note); showing records is an
audited read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, desc, or_, select
from sqlalchemy.orm import Session

from amanah.access import (
    Caller,
    NotVisible,
    Permission,
    linkage_pairs_visible,
    linkage_runs_visible,
    person_lists_visible,
    person_records_linkable,
    visible_linkage_pair,
    visible_linkage_run,
    visible_person_list,
)
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import (
    LinkagePair,
    LinkageReview,
    LinkageRun,
    LinkageRunList,
    PersonList,
    PersonListRecord,
)
from amanah.persons import clusters as cl
from amanah.persons import runs as run_store
from amanah.persons.evidence import accept as accept_evidence
from amanah.persons.evidence import evidence_sides
from amanah.persons.linkage import FLOOR, REVIEW_MARGIN, THRESHOLD, LinkageError, Pair
from amanah.persons.reading import audit_records_read, person_record
from amanah.persons.record import PersonRecord
from amanah.persons.vocab import FIELDS
from amanah.sharing.protected import Matcher
from amanah.workspace import Workspace

BATCH = 5000
#: What a record shows beside another in the queue, a cluster and on its page: every field of
#: the list's vocabulary that the record keeps (a column each, in the vocabulary's order), the
#: governorate as written after its P-code. Derived, so a new field shows without a second edit.
SHOWN = tuple(
    f
    for field in FIELDS
    for f in ((field, "governorate_text") if field == "governorate" else (field,))
    if f in PersonListRecord.__table__.c
)


class ReviewError(ValueError):
    """A review asked for wrongly (an unknown decision): the request is wrong."""


def _now() -> datetime:
    return datetime.now(UTC)


# -- a kept run ---------------------------------------------------------------------------------


def read_lists(
    ws: Workspace, caller: Caller, names: Sequence[str]
) -> tuple[list[PersonList], list[list[PersonRecord]], dict[int, str]]:
    """The lists the caller may see and their records, keyed by record id (an audited read per
    list), and each record's own key by id. NotVisible for a list hidden or absent;
    LinkageError for a list named twice. Only the records linkage may read are read
    (`access.person_records_linkable`): a record the caller may not see (its release kept in
    another compartment, or withheld) would go into the kept run and be shown to its
    readers, and one whose person withdrew consent for investigation would be linked again."""
    if len(set(names)) != len(names):
        raise LinkageError("a person list is named twice")
    found: list[PersonList] = []
    records: list[list[PersonRecord]] = []
    keys: dict[int, str] = {}
    with ws.db.session() as s:
        for name in names:
            plist = visible_person_list(s, caller, name)
            rows = list(
                s.execute(
                    select(PersonListRecord)
                    .where(PersonListRecord.list_id == plist.id, person_records_linkable(caller))
                    .order_by(PersonListRecord.item_id, PersonListRecord.row)
                ).scalars()
            )
            audit_records_read(s, caller, plist, len(rows))
            records.append([_keyed(person_record(r, plist.name), r.id) for r in rows])
            keys.update((r.id, r.key) for r in rows)
            s.expunge(plist)
            found.append(plist)
    return found, records, keys


def _keyed(record: PersonRecord, record_id: int) -> PersonRecord:
    from dataclasses import replace

    return replace(record, key=str(record_id))


def store_run(
    ws: Workspace,
    caller: Caller,
    plists: Sequence[PersonList],
    pairs: Iterable[Pair],
    *,
    threshold: float = THRESHOLD,
    review_margin: float = REVIEW_MARGIN,
    floor: float = FLOOR,
    settings: dict[str, Any] | None = None,
) -> tuple[LinkageRun, list[tuple[int, Pair]]]:
    """Keep a run: its lists, settings and pairs (whose keys are record ids, as `read_lists`
    makes them), and a custody event on each list. Returns the run and (pair id, pair)."""
    caller.require(Permission.MANAGE_ENTITIES)
    kept: list[tuple[int, Pair]] = []
    # linking (a lazy generator) runs before the writing transaction opens: the database is
    # not held for the minutes a model takes to train and predict on a large list
    pairs = list(pairs)
    with ws.db.session() as s:
        for plist in plists:  # still visible, in the writing transaction
            visible_person_list(s, caller, plist.name)
        run = run_store.open_run(
            s,
            caller,
            plists,
            link_type="dedupe_only" if len(plists) == 1 else "link_only",
            threshold=threshold,
            review_margin=review_margin,
            floor=floor,
            settings=settings or {},
        )
        batch: list[tuple[dict[str, Any], Pair]] = []

        def flush() -> None:
            if not batch:
                return
            ids = run_store.insert_pairs(s, [row for row, _ in batch])
            kept.extend(zip(ids, (p for _, p in batch), strict=True))
            batch.clear()

        for p in pairs:
            a, b = int(p.a), int(p.b)
            row = {
                "run_id": run.id,
                "record_a_id": a,
                "record_b_id": b,
                "score": float(p.score),
                "match": p.match,
                "review": p.review,
                "explanation": json.dumps(p.explanation, ensure_ascii=False),
                "decision": "",
                "decided_by": "",
            }
            batch.append((row, p))
            if len(batch) >= BATCH:
                flush()
        flush()
        run_store.close_run(
            s,
            caller,
            run,
            plists,
            pairs=len(kept),
            links=sum(1 for _, p in kept if p.match),
            to_review=sum(1 for _, p in kept if p.review),
            action="person linkage run",
            details={
                "lists": [p.id for p in plists],
                "threshold": threshold,
                "pairs": len(kept),
                "links": sum(1 for _, p in kept if p.match),
                "to_review": sum(1 for _, p in kept if p.review),
            },
        )
        s.flush()
        s.expunge(run)
    return run, kept


def reviewed_labels(
    ws: Workspace, caller: Caller, plists: Sequence[PersonList]
) -> list[tuple[int, int, float]]:
    """Pairs of these lists' records a reviewer accepted (1.0) or rejected (0.0), in any run
    the caller sees, latest decision per pair of records: labels for training."""
    ids = [p.id for p in plists]
    ra, rb = PersonListRecord.__table__.alias("ra"), PersonListRecord.__table__.alias("rb")
    with ws.db.reader() as s:
        rows = s.execute(
            select(
                LinkagePair.record_a_id,
                LinkagePair.record_b_id,
                LinkagePair.decision,
                LinkagePair.decided_at,
            )
            .join(ra, ra.c.id == LinkagePair.record_a_id)
            .join(rb, rb.c.id == LinkagePair.record_b_id)
            .where(
                LinkagePair.decision.in_((cl.ACCEPTED, cl.REJECTED)),
                ra.c.list_id.in_(ids),
                rb.c.list_id.in_(ids),
                linkage_pairs_visible(caller),
            )
            .order_by(LinkagePair.decided_at)
        ).all()
    latest: dict[tuple[int, int], float] = {}
    for a, b, decision, _ in rows:
        latest[(min(a, b), max(a, b))] = 1.0 if decision == cl.ACCEPTED else 0.0
    return [(a, b, v) for (a, b), v in latest.items()]


# -- what a caller sees -------------------------------------------------------------------------


def runs(s: Session, caller: Caller) -> list[dict[str, Any]]:
    """The kept runs the caller sees, newest first, with the lists of theirs each linked."""
    found = s.execute(
        select(LinkageRun).where(linkage_runs_visible(caller)).order_by(desc(LinkageRun.id))
    ).scalars()
    return [run_dict(s, caller, r) for r in found]


def run_dict(s: Session, caller: Caller, run: LinkageRun) -> dict[str, Any]:
    names = s.execute(
        select(PersonList.name)
        .join(LinkageRunList, LinkageRunList.list_id == PersonList.id)
        .where(LinkageRunList.run_id == run.id, person_lists_visible(caller))
        .order_by(PersonList.name)
    ).scalars()
    # the run's own counts include pairs of lists, evidence or items (withheld since) a reader
    # may not see: count what this caller sees, so a hidden record's existence is no number
    counts = run_store.visible_counts(s, caller, run)
    return {
        "run": run.id,
        "lists": list(names),
        "link_type": run.link_type,
        "threshold": run.threshold,
        "review_margin": run.review_margin,
        **counts,
        "settings": json.loads(run.settings or "{}"),
        "created_at": run.created_at.isoformat(),
        "created_by": run.created_by,
    }


def run_for(s: Session, caller: Caller, run_id: int | None) -> LinkageRun:
    """The run asked for, or the newest the caller sees; NotVisible when there is none."""
    if run_id is not None:
        return visible_linkage_run(s, caller, run_id)
    found = s.execute(
        select(LinkageRun)
        .where(linkage_runs_visible(caller))
        .order_by(desc(LinkageRun.id))
        .limit(1)
    ).scalar_one_or_none()
    if found is None:
        raise NotVisible("no linkage run kept (run `amanah persons link LIST ... --store`)")
    return found


def shown_record(row: PersonListRecord, list_name: str) -> dict[str, Any]:
    """A record as the queue and pages show it, with its provenance (list, item, line)."""
    out = {"id": row.id, "list": list_name, "key": row.key, "item": row.item_id, "row": row.row}
    out.update({f: getattr(row, f) for f in SHOWN})
    return out


def show_records(
    s: Session, caller: Caller, record_ids: Iterable[int]
) -> dict[int, dict[str, Any]]:
    """The records (visible ones only) by id, each list's read audited in `s`."""
    wanted = sorted({r for r in record_ids if r is not None})
    rows: list[tuple[PersonListRecord, PersonList]] = []
    for i in range(0, len(wanted), 500):
        rows += s.execute(
            select(PersonListRecord, PersonList)
            .join(PersonList, PersonList.id == PersonListRecord.list_id)
            .where(PersonListRecord.id.in_(wanted[i : i + 500]), person_lists_visible(caller))
        ).all()
    by_list: dict[int, list[int]] = {}
    out: dict[int, dict[str, Any]] = {}
    for row, plist in rows:
        by_list.setdefault(plist.id, []).append(row.id)
        out[row.id] = shown_record(row, plist.name)
    for list_id, ids in by_list.items():
        ledger.append(
            s,
            EventType.ACCESS,
            actor=caller.actor,
            object_type="person_list",
            object_id=list_id,
            details={"action": "read person records", "records": sorted(ids), **caller.audit()},
        )
    return out


def _pair_dict(
    p: LinkagePair,
    records: dict[int, dict[str, Any]],
    sides: dict[int, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    kind = "record" if p.record_b_id is not None else "entity" if p.entity_id else "mention"
    return {
        "pair": p.id,
        "kind": kind,
        "run": p.run_id,
        "score": round(p.score, 6),
        "match": p.match,
        "review": p.review,
        "decision": p.decision,
        "decided_by": p.decided_by,
        "decided_at": p.decided_at.isoformat() if p.decided_at else None,
        "explanation": json.loads(p.explanation or "{}"),
        "a": records.get(p.record_a_id),
        "b": records.get(p.record_b_id) if p.record_b_id is not None else None,
        "evidence": (sides or {}).get(p.id) if kind != "record" else None,
    }


def queue(
    s: Session,
    caller: Caller,
    run_id: int | None = None,
    *,
    include_decided: bool = False,
    limit: int | None = None,
    ws: Workspace | None = None,
) -> tuple[LinkageRun, list[dict[str, Any]]]:
    """The pairs of a run that need review and that the caller sees (both records), closest
    to the threshold first, with both records side by side (or the record and its evidence:
    the entity, or the mention's item, span and, with `ws`, the quoted text) and the
    explanation; without
    `include_decided`, those no one has accepted or rejected yet (unsure ones last)."""
    run = run_for(s, caller, run_id)
    stmt = select(LinkagePair).where(
        LinkagePair.run_id == run.id, LinkagePair.review.is_(True), linkage_pairs_visible(caller)
    )
    if not include_decided:
        stmt = stmt.where(LinkagePair.decision.in_(("", cl.UNSURE)))
    pairs = list(s.execute(stmt).scalars())
    pairs.sort(key=lambda p: (p.decision == cl.UNSURE, abs(p.score - run.threshold), p.id))
    if limit is not None:
        pairs = pairs[:limit]
    records = show_records(s, caller, [x for p in pairs for x in (p.record_a_id, p.record_b_id)])
    sides = evidence_sides(ws, s, caller, [p for p in pairs if p.record_b_id is None])
    return run, [_pair_dict(p, records, sides) for p in pairs]


def pair(s: Session, caller: Caller, pair_id: int, ws: Workspace | None = None) -> dict[str, Any]:
    """One pair the caller sees, its records (or record and evidence) side by side and its
    reviews (audited read)."""
    p = visible_linkage_pair(s, caller, pair_id)
    records = show_records(s, caller, (p.record_a_id, p.record_b_id))
    sides = evidence_sides(ws, s, caller, [p]) if p.record_b_id is None else {}
    out = _pair_dict(p, records, sides)
    out["reviews"] = [
        {"decision": r.decision, "actor": r.actor, "at": r.at.isoformat(), "note": r.note}
        for r in s.execute(
            select(LinkageReview).where(LinkageReview.pair_id == p.id).order_by(LinkageReview.id)
        ).scalars()
    ]
    return out


# -- reviews ------------------------------------------------------------------------------------


def review(
    ws: Workspace, caller: Caller, pair_id: int, decision: str, note: str = ""
) -> dict[str, Any]:
    """Accept, reject or mark unsure one pair the caller sees: kept with who and when, a
    custody event (no names, no note) in the same transaction. Says the two records' cluster
    before and after."""
    caller.require(Permission.MANAGE_ENTITIES)
    if decision not in cl.DECISIONS:
        raise ReviewError(f"{decision!r}: a review is accept, reject or unsure")
    verdict = cl.DECISIONS[decision]
    with ws.db.session() as s:
        p = visible_linkage_pair(s, caller, pair_id)
        evidence = p.record_b_id is None
        if evidence and p.decision == cl.ACCEPTED and verdict != cl.ACCEPTED:
            raise ReviewError(f"pair {p.id} was accepted: its link to evidence stands")
        before = None if evidence else _together(s, caller, p)
        at = _now()
        # A reviewer's note rests as any free text does: protected names as pseudonyms.
        note = Matcher.load(s).at_rest(note, "the note", ReviewError)[0]
        s.add(LinkageReview(pair_id=p.id, decision=verdict, note=note, actor=caller.actor, at=at))
        made = None
        if evidence and verdict == cl.ACCEPTED and p.decision != cl.ACCEPTED:
            made = accept_evidence(s, caller, p)
        p.decision, p.decided_by, p.decided_at = verdict, caller.actor, at
        s.flush()
        after = None if evidence else _together(s, caller, p)
        lists = s.execute(
            select(PersonListRecord.list_id).where(
                PersonListRecord.id.in_([r for r in (p.record_a_id, p.record_b_id) if r])
            )
        ).scalars()
        sides = {"entity": p.entity_id} if p.entity_id else {}
        sides |= {"mention": p.mention_id} if p.mention_id else {}
        sides |= {"record_link": made.id} if made is not None else {}
        ledger.append(
            s,
            EventType.ENTITY_CHANGE,
            actor=caller.actor,
            object_type="linkage_pair",
            object_id=p.id,
            details={
                "action": "person linkage review",
                "decision": verdict,
                "run": p.run_id,
                "records": [r for r in (p.record_a_id, p.record_b_id) if r is not None],
                **sides,
                "lists": sorted(set(lists)),
                "score": round(p.score, 6),
                "together_before": before,
                "together_after": after,
                **caller.audit(),
            },
        )
        return {
            "pair": p.id,
            "run": p.run_id,
            "decision": verdict,
            "by": caller.actor,
            "at": at.isoformat(),
            "together_before": before,
            "together_after": after,
            **sides,
        }


def _together(s: Session, caller: Caller, p: LinkagePair) -> bool:
    found = cl.cluster_of(component(s, caller, p.run_id, p.record_a_id), p.record_a_id)
    return found is not None and p.record_b_id in found.records


# -- clusters -----------------------------------------------------------------------------------


def _edge(p: LinkagePair) -> cl.Edge:
    return cl.Edge(p.id, p.record_a_id, p.record_b_id, p.score, p.match, p.decision)


def _joining() -> Any:
    """Pairs of two records that join them; a record's pair with evidence joins no records."""
    return and_(
        LinkagePair.record_b_id.is_not(None),
        or_(LinkagePair.match.is_(True), LinkagePair.decision == cl.ACCEPTED),
    )


def component(s: Session, caller: Caller, run_id: int, record_id: int) -> list[cl.Edge]:
    """The visible pairs of a run that can join a record to others (links, accepts), followed
    out from the record, and the rejects among the records they reach: enough to cluster it
    without reading the whole run."""
    seen, frontier = {record_id}, {record_id}
    edges: dict[int, cl.Edge] = {}
    while frontier:
        ids = sorted(frontier)
        frontier = set()
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            for p in s.execute(
                select(LinkagePair).where(
                    LinkagePair.run_id == run_id,
                    _joining(),
                    or_(LinkagePair.record_a_id.in_(chunk), LinkagePair.record_b_id.in_(chunk)),
                    linkage_pairs_visible(caller),
                )
            ).scalars():
                edges[p.id] = _edge(p)
                for x in (p.record_a_id, p.record_b_id):
                    if x not in seen:
                        seen.add(x)
                        frontier.add(x)
    members = sorted(seen)
    for i in range(0, len(members), 500):
        chunk = members[i : i + 500]
        for p in s.execute(
            select(LinkagePair).where(
                LinkagePair.run_id == run_id,
                LinkagePair.decision == cl.REJECTED,
                LinkagePair.record_a_id.in_(chunk),
                linkage_pairs_visible(caller),
            )
        ).scalars():
            if p.record_b_id in seen:
                edges[p.id] = _edge(p)
    return list(edges.values())


def run_clusters(
    s: Session, caller: Caller, run_id: int | None = None
) -> tuple[LinkageRun, list[cl.Cluster]]:
    """Every cluster of a run, from the pairs the caller sees."""
    run = run_for(s, caller, run_id)
    stmt = select(LinkagePair).where(
        LinkagePair.run_id == run.id,
        LinkagePair.record_b_id.is_not(None),
        or_(_joining(), LinkagePair.decision == cl.REJECTED),
        linkage_pairs_visible(caller),
    )
    edges = [_edge(p) for p in s.execute(stmt.execution_options(yield_per=BATCH)).scalars()]
    return run, cl.build(edges)


def cluster_dict(
    s: Session, caller: Caller, run: LinkageRun, found: cl.Cluster, show: bool = True
) -> dict[str, Any]:
    """A cluster with the provenance of every record (list, item, line); with `show`, all
    the records hold (an audited read)."""
    out: dict[str, Any] = {
        "run": run.id,
        "cluster": found.id,
        "size": len(found.records),
        "joined_by": sorted(found.joined_by),
        "held_apart": sorted(found.held_apart),
        "conflicts": sorted(found.conflicts),
    }
    if show:
        records = show_records(s, caller, found.records)
        out["records"] = [records[r] for r in sorted(found.records) if r in records]
    else:
        rows = s.execute(
            select(
                PersonListRecord.id,
                PersonList.name,
                PersonListRecord.key,
                PersonListRecord.item_id,
                PersonListRecord.row,
            )
            .join(PersonList, PersonList.id == PersonListRecord.list_id)
            .where(PersonListRecord.id.in_(sorted(found.records)))
            .order_by(PersonListRecord.id)
        ).all()
        out["records"] = [
            {"id": i, "list": n, "key": k, "item": it, "row": r} for i, n, k, it, r in rows
        ]
    return out


def record_cluster(
    s: Session, caller: Caller, run_id: int, record_id: int
) -> tuple[LinkageRun, cl.Cluster | None]:
    """The cluster of one record in a run the caller sees (None: linked to nothing)."""
    run = visible_linkage_run(s, caller, run_id)
    return run, cl.cluster_of(component(s, caller, run.id, record_id), record_id)
