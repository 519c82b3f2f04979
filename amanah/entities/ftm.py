"""FollowTheMoney interop: entities in and out as FtM JSON lines (the format of Aleph and
OpenSanctions), through the `followthemoney` package's own model and validation; and a loader
for OFAC's SDN list (sdn, alt, add CSV files) that turns it into FtM entities first, so one
import path serves every list. Aliases become names of the one person they belong to."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import (
    Caller,
    Permission,
    entities_visible,
    names_visible,
    relations_visible,
)
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import CustodyEvent, Entity, EntityName, EntityRelation
from amanah.entities.store import add_entity, add_name, record, relate
from amanah.entities.vocab import CONFIDENCE, STATUS, EntityError, parse_date, show_date

#: FtM schema -> our entity kind (anything else, e.g. a vessel, is counted and left out).
KIND_OF_SCHEMA = {
    "Person": "person",
    "Organization": "organisation",
    "Company": "organisation",
    "PublicBody": "organisation",
    "LegalEntity": "organisation",
    "Address": "place",
}
SCHEMA_OF_KIND = {
    "person": "Person",
    "organisation": "Organization",
    "facility": "Organization",
    "place": "Address",
}
#: FtM name properties -> our name kinds; the first `name` is the official one.
NAME_PROPS = (("name", "alias"), ("alias", "alias"), ("previousName", "alias"))
NAME_PROPS_WEAK = (("weakAlias", "nickname"),)
PERSON_PROPS = {
    "gender": "sex",
    "birthPlace": "birth_place",
    "nationality": "nationality",
    "fatherName": "father_name",
    "motherName": "mother_name",
    "position": "rank",
}


def home_prefix(s: Session) -> str:
    """The prefix of the FtM ids this home gives its own entities, relations and posts:
    `amanah-` and the first 16 hex digits of the id of the home's first custody event (its
    genesis, which never changes and which no other home shares; a backup restored keeps
    it). Two homes' exports then merge without two different entities sharing an id."""
    first = s.execute(
        select(CustodyEvent.event_id).order_by(CustodyEvent.seq).limit(1)
    ).scalar_one_or_none()
    tag = "".join(ch for ch in (first or "") if ch.isalnum()).lower()[:16]
    return f"amanah-{tag or 'new'}"


def own_id(prefix: str, what: str, number: int) -> str:
    """The FtM id of a row of this home (`what`: entity, relation, post)."""
    return f"{prefix}-{what}-{number}"


def _proxy(data: dict[str, Any]) -> Any:
    from followthemoney import model

    return model.get_proxy(data)


def read_lines(stream: IO[str], source: str) -> Iterator[Any]:
    """FtM entities from JSON lines; a bad line stops with its file and line number."""
    for n, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:  # json and FtM raise several kinds of error for a bad entity
            proxy = _proxy(json.loads(line))
        except Exception as exc:
            raise EntityError(f"{source}, line {n}: not a FollowTheMoney entity ({exc})") from None
        yield proxy


def import_entities(
    s: Session, caller: Caller, proxies: Iterable[Any], dataset: str
) -> dict[str, int]:
    """Add each FtM entity not yet here (by its FtM id); counts of added, present, skipped."""
    caller.require(Permission.MANAGE_ENTITIES)
    counts = {"added": 0, "present": 0, "skipped": 0, "names": 0}
    intervals: list[Any] = []
    posts: dict[str, Any] = {}
    for proxy in proxies:
        if proxy.schema.name in KIND_OF_INTERVAL:  # relations: once every end is here
            intervals.append(proxy)
            continue
        if proxy.schema.name == "Position":
            posts[proxy.id] = proxy
            continue
        kind = KIND_OF_SCHEMA.get(proxy.schema.name)
        names = [v for prop, _ in NAME_PROPS for v in proxy.get(prop, quiet=True)]
        if not names and kind == "place":  # an Address has its one name as `full`
            names = list(proxy.get("full", quiet=True))
        if kind is None or not proxy.id or not names:
            counts["skipped"] += 1
            continue
        if s.execute(select(Entity.id).where(Entity.ftm_id == proxy.id)).first():
            counts["present"] += 1
            continue
        fields: dict[str, Any] = {}
        if kind == "person":
            for prop, col in PERSON_PROPS.items():
                vals = proxy.get(prop, quiet=True)
                if vals:
                    fields[col] = "; ".join(vals)
            born = proxy.get("birthDate", quiet=True)
            if born:
                fields["birth_date"] = sorted(born)[0][:10]
        ent = add_entity(
            s, caller, kind, names[0], fields=fields, origin=f"ftm:{dataset}", ftm_id=proxy.id
        )
        counts["added"] += 1
        counts["names"] += 1
        seen = {names[0]}
        for prop, name_kind in (*NAME_PROPS, *NAME_PROPS_WEAK):
            for value in proxy.get(prop, quiet=True):
                if value not in seen:
                    seen.add(value)
                    add_name(s, caller, ent.id, value, kind=name_kind)
                    counts["names"] += 1
    for key, n in import_relations(s, caller, intervals, posts).items():
        counts[key] = counts.get(key, 0) + n  # skipped entities and relations add up
    record(s, caller, "entity", 0, action="import", dataset=dataset, **counts)
    return counts


def export_entities(s: Session, caller: Caller) -> Iterator[dict[str, Any]]:
    """Every entity the caller may see, as FtM entities (names the caller may see only)."""
    from followthemoney import model

    prefix = home_prefix(s)
    names: dict[int, list[EntityName]] = {}
    for n in s.execute(
        select(EntityName).where(names_visible(caller)).order_by(EntityName.id)
    ).scalars():
        names.setdefault(n.entity_id, []).append(n)
    visible = (
        select(Entity)
        .where(entities_visible(caller), Entity.merged_into_id.is_(None))
        .order_by(Entity.id)
    )
    for ent in s.execute(visible).scalars():
        proxy = model.make_entity(SCHEMA_OF_KIND[ent.kind])
        proxy.id = ent.ftm_id or own_id(prefix, "entity", ent.id)
        own = names.get(ent.id, [])
        official = ([n for n in own if n.kind == "official"] or own)[:1]
        for n in own:
            if ent.kind == "place":  # an FtM Address has one full form
                if n in official:
                    proxy.add("full", n.full_name, quiet=True)
                continue
            prop = "name" if n in official else "weakAlias" if n.kind == "nickname" else "alias"
            proxy.add(prop, n.full_name, quiet=True)
        if ent.kind == "person":
            for prop, col in PERSON_PROPS.items():
                value = getattr(ent, col)
                if value:
                    proxy.add(prop, value.split("; "), quiet=True)
            if ent.birth_date:
                born = show_date(ent.birth_date, ent.birth_date_precision)
                proxy.add("birthDate", born.lstrip("~"), quiet=True)
        yield proxy.to_dict()


#: Our relation kind -> the FtM interval schema, its subject and object properties, and the
#: property that holds the detail (a post's rank or title, a kinship). Kinds FtM has no
#: schema for (commands, subordinate unit of, operates facility, held at, located in, same
#: as) take the nearest; the kind itself always travels in `summary` (below).
SCHEMA_OF_RELATION: dict[str, tuple[str, str, str, str | None]] = {
    "member_of": ("Membership", "member", "organization", "role"),
    "subordinate_of": ("Membership", "member", "organization", "role"),
    "commands": ("Directorship", "director", "organization", "role"),
    "holds_post": ("Occupancy", "holder", "post", None),  # post: a Position made for it
    "family": ("Family", "person", "relative", "relationship"),
    "associate": ("Associate", "person", "associate", "relationship"),
    "operates": ("UnknownLink", "subject", "object", "role"),
    "held_at": ("UnknownLink", "subject", "object", "role"),
    "located_in": ("UnknownLink", "subject", "object", "role"),
    "same_as": ("UnknownLink", "subject", "object", "role"),
}
#: FtM interval schema -> (subject property, object property, detail property, our kind when
#: the file carries no Amanah summary, e.g. a list from OpenSanctions; None: not imported).
KIND_OF_INTERVAL: dict[str, tuple[str, str, str | None, str | None]] = {
    "Membership": ("member", "organization", "role", "member_of"),
    "Directorship": ("director", "organization", "role", "holds_post"),
    "Employment": ("employee", "employer", "role", "holds_post"),
    "Occupancy": ("holder", "post", None, "holds_post"),
    "Family": ("person", "relative", "relationship", "family"),
    "Associate": ("person", "associate", "relationship", "associate"),
    "UnknownLink": ("subject", "object", "role", None),
}
#: `summary` of an exported relation: this prefix, then JSON with what FtM has no property
#: for (kind, dates as written with their precision, confidence, status, detail).
SUMMARY_PREFIX = "amanah:"


def _relation_proxies(
    rel: EntityRelation, ids: dict[int, str], schemas: dict[int, str], prefix: str
) -> list[Any]:
    """One relation as its FtM interval (and, for a post, the Position it points at)."""
    from followthemoney import model

    schema, subj_prop, obj_prop, detail_prop = SCHEMA_OF_RELATION[rel.kind]
    fits = all(
        model.get(schemas[end]).is_a(model.get(schema).get(prop).range)  # type: ignore[union-attr]
        for end, prop in ((rel.subject_id, subj_prop), (rel.object_id, obj_prop))
        if prop != "post"
    )
    if not fits:  # e.g. `family` of two units: the generic link, the kind in `summary`
        schema, subj_prop, obj_prop, detail_prop = SCHEMA_OF_RELATION["same_as"]
    out = []
    proxy = model.make_entity(schema)
    proxy.id = own_id(prefix, "relation", rel.id)
    proxy.add(subj_prop, ids[rel.subject_id])
    if obj_prop == "post":
        post = model.make_entity("Position")
        post.id = own_id(prefix, "post", rel.id)
        post.add("name", rel.detail or "post")
        post.add("organization", ids[rel.object_id])
        proxy.add("post", post.id)
        out.append(post)
    else:
        proxy.add(obj_prop, ids[rel.object_id])
    if detail_prop and rel.detail:
        proxy.add(detail_prop, rel.detail)
    valid_from = show_date(rel.valid_from, rel.valid_from_precision)
    valid_to = show_date(rel.valid_to, rel.valid_to_precision)
    if valid_from:
        proxy.add("startDate", valid_from.lstrip("~"), quiet=True)
    if valid_to:
        proxy.add("endDate", valid_to.lstrip("~"), quiet=True)
    proxy.add("status", rel.status, quiet=True)  # not every interval has it
    facts = {
        "kind": rel.kind,
        "from": valid_from,
        "to": valid_to,
        "confidence": rel.confidence,
        "status": rel.status,
        "detail": rel.detail,
    }
    proxy.add("summary", SUMMARY_PREFIX + json.dumps(facts, ensure_ascii=False, sort_keys=True))
    out.append(proxy)
    return out


def export_relations(s: Session, caller: Caller, ids: dict[int, str]) -> Iterator[dict[str, Any]]:
    """The relations the caller may see between exported entities (`ids`: entity id -> FtM
    id), as FtM intervals; a relation whose only evidence the caller may not see is not one."""
    kinds = {i: k for i, k in s.execute(select(Entity.id, Entity.kind)).all()}
    schemas = {i: SCHEMA_OF_KIND[k] for i, k in kinds.items()}
    prefix = home_prefix(s)
    stmt = select(EntityRelation).where(relations_visible(caller)).order_by(EntityRelation.id)
    for rel in s.execute(stmt).scalars():
        if rel.subject_id in ids and rel.object_id in ids:
            for proxy in _relation_proxies(rel, ids, schemas, prefix):
                yield proxy.to_dict()


def export_file(s: Session, caller: Caller) -> tuple[str, dict[str, Any]]:
    """The whole export as FtM JSON lines (entities, then relations), and one custody event
    for it: who, how many of each schema, how many rows were withheld because they name a
    protected person, the SHA-256 of the text written."""
    rows = list(export_entities(s, caller))
    ids = _exported_ids(s, caller)
    rows += list(export_relations(s, caller, ids))
    rows, withheld = without_protected(s, rows)
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
    summary = {
        "action": "export",
        "format": "followthemoney",
        "schemata": dict(sorted(Counter(r["schema"] for r in rows).items())),
        "rows": len(rows),
        "withheld": withheld,
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "bytes": len(text.encode("utf-8")),
    }
    ledger.append(
        s,
        EventType.DOWNLOAD,
        actor=caller.actor,
        object_type="entity_export",
        object_id=0,
        details={**summary, **caller.audit()},
    )
    return text, summary


def _values(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _values(v)
    elif isinstance(value, list):
        for v in value:
            yield from _values(v)


def without_protected(s: Session, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """An export is sharing (rule 8): every row is read with the protected persons' matcher
    (every property: names, a father's name, a relation's detail and summary). A row that
    names one is withheld, and so is every row that points at a withheld one (a relation
    whose end or post is withheld), in the one pass rows come in (entities before the
    relations and posts that refer to them). Returns the rows kept and how many were not."""
    from amanah.sharing.protected import Matcher

    matcher = Matcher.load(s)
    if not matcher:
        return rows, 0
    gone: set[str] = set()
    kept = []
    for row in rows:
        values = list(_values(row.get("properties", {})))
        if gone.intersection(values) or matcher.find("\n".join(values)):
            gone.add(str(row.get("id")))
            continue
        kept.append(row)
    return kept, len(rows) - len(kept)


def _exported_ids(s: Session, caller: Caller) -> dict[int, str]:
    """Entity id -> FtM id of every entity `export_entities` writes for the caller."""
    stmt = select(Entity.id, Entity.ftm_id).where(
        entities_visible(caller), Entity.merged_into_id.is_(None)
    )
    prefix = home_prefix(s)
    return {i: f or own_id(prefix, "entity", i) for i, f in s.execute(stmt).all()}


def import_relations(
    s: Session, caller: Caller, intervals: list[Any], posts: dict[str, Any]
) -> dict[str, int]:
    """FtM intervals as relations between entities here (found by FtM id); an interval whose
    ends are not here, or of a kind we cannot tell, is counted as skipped. A relation already
    here (same ends, kind, dates and detail) is present, so a file can be imported again."""
    counts = {"relations": 0, "relations_present": 0, "skipped": 0}
    used: set[str] = set()
    for proxy in intervals:
        subj_prop, obj_prop, detail_prop, default_kind = KIND_OF_INTERVAL[proxy.schema.name]
        facts: dict[str, Any] = {}
        for text in proxy.get("summary", quiet=True):
            if text.startswith(SUMMARY_PREFIX):
                try:
                    facts = json.loads(text[len(SUMMARY_PREFIX) :])
                except ValueError:
                    facts = {}
                break
        kind = facts.get("kind") or default_kind
        subject = _first(proxy, subj_prop)
        obj = _first(proxy, obj_prop)
        detail = facts.get("detail", "")
        if obj_prop == "post":
            post = posts.get(obj or "")
            used.add(obj or "")
            obj = _first(post, "organization") if post is not None else None
            if post is not None and not facts:
                detail = _first(post, "name") or ""
        elif detail_prop and not facts:
            detail = _first(proxy, detail_prop) or ""
        ends = [_here(s, x) for x in (subject, obj)]
        if kind not in SCHEMA_OF_RELATION or None in ends:
            counts["skipped"] += 1
            continue
        status = facts.get("status") or _first(proxy, "status") or "alleged"
        valid_from = facts.get("from") or _first(proxy, "startDate") or None
        valid_to = facts.get("to") or _first(proxy, "endDate") or None
        try:
            if _present(s, ends[0], kind, ends[1], valid_from, valid_to, detail):  # type: ignore[arg-type]
                counts["relations_present"] += 1
                continue
            confidence = facts.get("confidence")
            relate(
                s,
                caller,
                ends[0],  # type: ignore[arg-type]
                kind,
                ends[1],  # type: ignore[arg-type]
                valid_from=valid_from,
                valid_to=valid_to,
                confidence=confidence if confidence in CONFIDENCE else "medium",
                status=status if status in STATUS else "alleged",
                detail=detail,
            )
        except EntityError as exc:
            raise EntityError(f"relation {proxy.id}: {exc}") from None
        counts["relations"] += 1
    counts["skipped"] += len(set(posts) - used)
    return counts


def _first(proxy: Any, prop: str) -> str | None:
    values = sorted(proxy.get(prop, quiet=True))
    return values[0] if values else None


def _here(s: Session, ftm_id: str | None) -> int | None:
    """The live entity here with this FtM id (one merged since stands for its keeper)."""
    if not ftm_id:
        return None
    row = s.execute(select(Entity.id, Entity.merged_into_id).where(Entity.ftm_id == ftm_id)).first()
    if row is None:
        return None
    return int(row[1] or row[0])


def _present(
    s: Session,
    subject: int,
    kind: str,
    obj: int,
    valid_from: str | None,
    valid_to: str | None,
    detail: str,
) -> bool:
    """A relation with the same ends, kind, detail and dates (as stored) is already here."""
    r = EntityRelation
    start = parse_date(valid_from, "--from") if valid_from else None
    end = parse_date(valid_to, "--to") if valid_to else None
    stmt = select(r.id).where(
        r.subject_id == subject,
        r.object_id == obj,
        r.kind == kind,
        r.detail == detail,
        r.valid_from.is_(None) if start is None else r.valid_from == start.first,
        r.valid_to.is_(None) if end is None else r.valid_to == end.last,
        r.valid_from_precision == (start.precision if start else ""),
        r.valid_to_precision == (end.precision if end else ""),
    )
    return s.execute(stmt.limit(1)).first() is not None


def ofac_proxies(folder: Path) -> Iterator[Any]:
    """OFAC's SDN files (sdn_*.csv, alt_*.csv) as FtM entities: an individual a Person, an
    entity an Organization, every a.k.a. an alias and every f.k.a. a previous name of it.
    Vessels and aircraft come out as Vessel/Airplane, which the import counts and skips."""
    from followthemoney import model

    def one(pattern: str) -> Path:
        found = sorted(folder.glob(pattern))
        if not found:
            raise EntityError(f"{folder}: no {pattern} file (an OFAC SDN export)")
        return found[0]

    aliases: dict[str, list[tuple[str, str]]] = {}
    with one("alt*.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            aliases.setdefault(row["ent_num"], []).append((row["alt_type"], row["alt_name"]))
    schema = {"individual": "Person", "-0-": "Organization", "vessel": "Vessel"}
    with one("sdn*.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            proxy = model.make_entity(schema.get(row["sdn_type"].strip(), "Airplane"))
            proxy.id = f"ofac-{row['ent_num']}"
            proxy.add("name", row["sdn_name"])
            for alt_type, name in aliases.get(row["ent_num"], []):
                proxy.add("previousName" if alt_type == "fka" else "alias", name)
            if row.get("title", "-0-") not in ("-0-", "") and proxy.schema.name == "Person":
                proxy.add("position", row["title"])
            yield proxy
