"""FollowTheMoney export of entities with their relations, the export's custody event, and the
import of those relations back (issue 15). The command line runs as a user types it; the
file is read back with the `followthemoney` package itself."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from followthemoney import model
from sqlalchemy import select

from amanah.access import Caller, Role
from amanah.config import write_default_config
from amanah.db.models import CustodyEvent, EvidenceLink, Item
from amanah.entities.ftm import export_file
from amanah.entities.store import add_entity, relate
from amanah.workspace import open_workspace
from tests.conftest import amanah, ingest_folder

#: (subject, kind, object, options, the FtM schema it must become)
RELATIONS = [
    ("hassan", "commands", "branch", ["--from", "2011-03", "--to", "2012"], "Directorship"),
    ("branch", "subordinate_of", "afi", ["--from", "~2005"], "Membership"),
    ("khalil", "member_of", "afi", ["--to", "2013-06-30", "--status", "confirmed"], "Membership"),
    ("hassan", "holds_post", "afi", ["--detail", "Major General", "--from", "2009"], "Occupancy"),
    ("khalil", "family", "hassan", ["--detail", "cousin", "--confidence", "low"], "Family"),
    ("khalil", "associate", "hassan", ["--status", "disputed"], "Associate"),
    ("branch", "operates", "mezzeh", ["--from", "2011-04-15", "--to", "~2014"], "UnknownLink"),
    ("khalil", "held_at", "mezzeh", ["--from", "2012-01", "--to", "2012-02"], "UnknownLink"),
    ("mezzeh", "located_in", "damascus", [], "UnknownLink"),
]


def cli_json(home: Path, *args: str) -> Any:
    return json.loads(amanah(home, *args, "--json", check=True).stdout)


def build(home: Path) -> dict[str, int]:
    """The entities and relations, through the library (the commands under test are export
    and import; `entity relate` has its own tests)."""
    admin = Caller(actor="local:admin", compartments=frozenset({"default"}))
    ws = open_workspace(home)
    try:
        with ws.db.session() as s:
            ids = {
                key: add_entity(s, admin, kind, name, fields=fields).id
                for key, kind, name, fields in (
                    ("hassan", "person", "Jamil Hassan", {}),
                    ("khalil", "person", "جميل حسن خليل", {}),
                    ("afi", "organisation", "Air Force Intelligence", {}),
                    ("branch", "organisation", "Branch 215", {}),
                    ("mezzeh", "facility", "Mezzeh airport prison", {}),
                    ("damascus", "place", "Damascus", {"pcode": "SY01"}),
                )
            }
            for subj, kind, obj, options, _ in RELATIONS:
                opts = dict(zip(options[::2], options[1::2], strict=True))
                relate(
                    s,
                    admin,
                    ids[subj],
                    kind,
                    ids[obj],
                    valid_from=opts.get("--from"),
                    valid_to=opts.get("--to"),
                    status=opts.get("--status", "alleged"),
                    confidence=opts.get("--confidence", "medium"),
                    detail=opts.get("--detail", ""),
                )
    finally:
        ws.close()
    return ids


def read(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for r in rows:  # every line is an FtM entity the package accepts
        assert model.get_proxy(r).schema.name == r["schema"]
    return rows


def relations_of(rows: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    """Each exported relation as (kind, subject FtM id, object FtM id, dates, doubt, detail),
    the object of a post being its Position's organisation."""
    by_id = {r["id"]: r for r in rows}
    out = set()
    for r in rows:
        summary = r["properties"].get("summary", [""])[0]
        if not summary.startswith("amanah:"):
            continue
        facts = json.loads(summary.removeprefix("amanah:"))
        p = r["properties"]
        subj_prop, obj_prop = {
            "Directorship": ("director", "organization"),
            "Membership": ("member", "organization"),
            "Occupancy": ("holder", "post"),
            "Family": ("person", "relative"),
            "Associate": ("person", "associate"),
            "UnknownLink": ("subject", "object"),
        }[r["schema"]]
        obj = p[obj_prop][0]
        if r["schema"] == "Occupancy":
            obj = by_id[obj]["properties"]["organization"][0]
        out.add(
            (
                r["schema"],
                facts["kind"],
                p[subj_prop][0],
                obj,
                facts["from"],
                facts["to"],
                facts["confidence"],
                facts["status"],
                facts["detail"],
                tuple(p.get("startDate", [])),
                tuple(p.get("endDate", [])),
            )
        )
    return out


def export_events(home: Path) -> list[CustodyEvent]:
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            return list(
                s.execute(
                    select(CustodyEvent)
                    .where(CustodyEvent.object_type == "entity_export")
                    .order_by(CustodyEvent.seq)
                ).scalars()
            )
    finally:
        ws.close()


def test_relations_round_trip_with_dates_and_one_event_per_export(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write_default_config(first)
    write_default_config(second)
    ids = build(first)
    out = tmp_path / "out.ftm.json"
    proc = amanah(first, "entity", "export", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = read(out)
    schemata = Counter(r["schema"] for r in rows)
    assert schemata == {
        "Person": 2,
        "Organization": 3,  # a facility is an Organization in FtM
        "Address": 1,
        "Directorship": 1,
        "Membership": 2,
        "Occupancy": 1,
        "Position": 1,
        "Family": 1,
        "Associate": 1,
        "UnknownLink": 3,
    }
    assert "15 written" in proc.stdout or f"{len(rows)} written" in proc.stdout
    # this home's own ids carry its prefix (`entities.ftm.home_prefix`)
    prefix = next(r["id"] for r in rows if r["schema"] == "Person").rsplit("-entity-", 1)[0]
    assert re.fullmatch(r"amanah-[0-9a-f]{16}", prefix), prefix
    ftm = {k: f"{prefix}-entity-{v}" for k, v in ids.items()}
    rels = relations_of(rows)
    expect = {
        ("Directorship", "commands", ftm["hassan"], ftm["branch"], "2011-03", "2012",
         "medium", "alleged", "", ("2011-03",), ("2012",)),
        ("Membership", "subordinate_of", ftm["branch"], ftm["afi"], "~2005-01-01", "",
         "medium", "alleged", "", ("2005-01-01",), ()),
        ("Occupancy", "holds_post", ftm["hassan"], ftm["afi"], "2009", "", "medium",
         "alleged", "Major General", ("2009",), ()),
        ("UnknownLink", "operates", ftm["branch"], ftm["mezzeh"], "2011-04-15",
         "~2014-12-31", "medium", "alleged", "", ("2011-04-15",), ("2014-12-31",)),
    }  # fmt: skip
    assert expect <= rels and len(rels) == len(RELATIONS)
    family = next(r for r in rows if r["schema"] == "Family")["properties"]
    assert family["relationship"] == ["cousin"]
    post = next(r for r in rows if r["schema"] == "Position")["properties"]
    assert post["name"] == ["Major General"]

    # The export's custody event: who, how many of each schema, the SHA-256 of the file.
    events = export_events(first)
    assert len(events) == 1 and events[0].event_type == "download"
    details = json.loads(events[0].details)
    assert details["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert details["schemata"] == dict(schemata) and details["rows"] == len(rows)
    assert "Jamil" not in events[0].details  # counts and a digest, never a name
    amanah(first, "entity", "export", check=True)  # to standard output: an event too
    assert len(export_events(first)) == 2

    # Into a second home and out again: the same relations, ends by FtM id.
    loaded = cli_json(second, "entity", "import", str(out))
    assert (loaded["added"], loaded["relations"], loaded["skipped"]) == (6, len(RELATIONS), 0)
    back = tmp_path / "back.ftm.json"
    amanah(second, "entity", "export", "--output", str(back), check=True)
    assert relations_of(read(back)) == rels
    again = cli_json(second, "entity", "import", str(out))
    assert (again["relations"], again["relations_present"]) == (0, len(RELATIONS))


def test_import_reads_foreign_intervals_and_skips_what_it_cannot_place(tmp_path: Path) -> None:
    """A list from elsewhere (no Amanah summary): the schema says the kind; an end that is not
    an entity here, or a generic link without a kind, is counted as skipped."""
    home = tmp_path / "home"
    write_default_config(home)
    lines = [
        {"id": "p1", "schema": "Person", "properties": {"name": ["Ali Mamlouk"]}},
        {"id": "o1", "schema": "Organization", "properties": {"name": ["National Security"]}},
        {"id": "m1", "schema": "Membership", "properties": {
            "member": ["p1"], "organization": ["o1"], "role": ["head"],
            "startDate": ["2012-07"], "status": ["confirmed"]}},
        {"id": "m2", "schema": "Membership", "properties": {
            "member": ["nobody"], "organization": ["o1"]}},
        {"id": "u1", "schema": "UnknownLink", "properties": {"subject": ["p1"], "object": ["o1"]}},
        {"id": "v1", "schema": "Vessel", "properties": {"name": ["Sea Star"]}},
    ]  # fmt: skip
    src = tmp_path / "list.ftm.json"
    src.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    loaded = cli_json(home, "entity", "import", str(src))
    # the vessel and the two intervals: skipped entities and relations add up
    assert (loaded["added"], loaded["relations"], loaded["skipped"]) == (2, 1, 3)
    person = cli_json(home, "entity", "list", "--kind", "person")[0]["id"]
    shown = cli_json(home, "entity", "show", str(person))
    (rel,) = shown["relations"]
    assert (rel["kind"], rel["detail"], rel["valid_from"], rel["status"]) == (
        "member_of",
        "head",
        "2012-07",
        "confirmed",
    )


def test_a_relation_known_only_from_hidden_evidence_is_not_exported(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_default_config(home)
    ws = open_workspace(home)
    try:
        for compartment in ("open", "secret"):
            folder = tmp_path / compartment
            folder.mkdir()
            (folder / f"{compartment}.txt").write_text(f"a {compartment} note\n", "utf-8")
            ingest_folder(ws, folder, collection=compartment, compartment=compartment)
        admin = Caller(actor="local:admin", compartments=frozenset({"open", "secret", "default"}))
        with ws.db.session() as s:
            items = {Path(i.original_path).stem: i for i in s.execute(select(Item)).scalars()}
            a = add_entity(s, admin, "person", "Rafiq Shahadah").id
            unit = add_entity(s, admin, "organisation", "Branch 235").id
            hidden = relate(s, admin, a, "commands", unit, valid_from="2011").id
            seen = relate(s, admin, a, "member_of", unit, valid_from="2008").id
            bare = relate(s, admin, a, "associate", unit).id  # no evidence: an analyst's word
            for rel, item in ((hidden, items["secret"]), (seen, items["open"])):
                s.add(
                    EvidenceLink(
                        relation_id=rel,
                        item_id=item.id,
                        item_sha256=item.sha256,
                        locator_kind="page",
                        page=1,
                        created_at=datetime.now(UTC),
                        created_by="local:admin",
                    )
                )
        rania = Caller(actor="web:rania", compartments=frozenset({"open"}), role=Role.ANALYST)
        with ws.db.session() as s:
            text, summary = export_file(s, rania)
        with ws.db.session() as s:
            full, _ = export_file(s, admin)
    finally:
        ws.close()

    def own(rows: str) -> set[str]:  # this home's ids, without its prefix
        found = (json.loads(line)["id"] for line in rows.splitlines())
        return {re.sub(r"^amanah-[0-9a-f]+-", "amanah-", i) for i in found}

    exported = own(text)
    assert f"amanah-relation-{seen}" in exported and f"amanah-relation-{bare}" in exported
    assert f"amanah-relation-{hidden}" not in exported
    assert f"amanah-relation-{hidden}" in own(full)
    assert "Directorship" not in summary["schemata"]  # the counts do not betray it either
    events = export_events(home)
    assert [e.actor for e in events] == ["web:rania", "local:admin"]
    assert json.loads(events[0].details)["schemata"] == summary["schemata"]
