"""FollowTheMoney interop: entities in and out as FtM JSON lines (the format of Aleph and
OpenSanctions), through the `followthemoney` package's own model and validation; and a loader
for OFAC's SDN list (sdn, alt, add CSV files) that turns it into FtM entities first, so one
import path serves every list. Aliases become names of the one person they belong to."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import Caller, Permission, entities_visible, names_visible
from amanah.db.models import Entity, EntityName
from amanah.entities.store import add_entity, add_name, record
from amanah.entities.vocab import EntityError, show_date

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
    for proxy in proxies:
        kind = KIND_OF_SCHEMA.get(proxy.schema.name)
        names = [v for prop, _ in NAME_PROPS for v in proxy.get(prop, quiet=True)]
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
    record(s, caller, "entity", 0, action="import", dataset=dataset, **counts)
    return counts


def export_entities(s: Session, caller: Caller) -> Iterator[dict[str, Any]]:
    """Every entity the caller may see, as FtM entities (names the caller may see only)."""
    from followthemoney import model

    names: dict[int, list[EntityName]] = {}
    for n in s.execute(
        select(EntityName).where(names_visible(caller)).order_by(EntityName.id)
    ).scalars():
        names.setdefault(n.entity_id, []).append(n)
    visible = select(Entity).where(entities_visible(caller)).order_by(Entity.id)
    for ent in s.execute(visible).scalars():
        proxy = model.make_entity(SCHEMA_OF_KIND[ent.kind])
        proxy.id = ent.ftm_id or f"amanah-entity-{ent.id}"
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
