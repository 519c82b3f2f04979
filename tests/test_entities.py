"""Entities, names, relations over time, evidence links and their need-to-know (issue 15).

Real PDFs made here with PyMuPDF, ingested and processed for real; the command line run as a
user types it. Need-to-know is asserted from the side of a caller who lacks a compartment."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pymupdf
import pytest
from sqlalchemy import func, select

from amanah.access import Caller, NotVisible, Role, visible_entity
from amanah.config import write_default_config
from amanah.db.models import CustodyEvent, EvidenceLink, Item
from amanah.entities import EntityError
from amanah.entities.links import link
from amanah.entities.store import add_entity, chain, entity_dict, list_entities, relate
from amanah.items import text
from amanah.processing.runner import run
from amanah.workspace import Workspace, open_workspace
from tests.conftest import SHARED_DATA, amanah, amanah_here, ingest_folder


def pdf(pages: list[str]) -> bytes:
    """A real PDF with one line of text per page."""
    doc = pymupdf.open()
    for line in pages:
        page = doc.new_page()
        page.insert_text((72, 100), line, fontsize=12)
    data = doc.tobytes()
    doc.close()
    return data


@dataclass
class World:
    home: Path
    ws: Workspace
    open_item: int  # 3 pages, compartment "open"
    secret_item: int  # 1 page, compartment "secret"


@pytest.fixture(scope="module")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """Two processed PDFs, built once: 3 pages in compartment `open`, 1 page in `secret`."""
    tmp = tmp_path_factory.mktemp("entities")
    home = tmp / "home"
    write_default_config(home)
    ws = open_workspace(home)
    for compartment, pages in (
        ("open", ["Order of the day", "Branch 215 is commanded by the colonel", "End"]),
        ("secret", ["The colonel also commanded the prison"]),
    ):
        folder = tmp / compartment
        folder.mkdir()
        (folder / f"{compartment}.pdf").write_bytes(pdf(pages))
        ingest_folder(ws, folder, collection=compartment, compartment=compartment)
    run(ws, workers=1)
    with ws.db.reader() as s:
        ids = {Path(i.original_path).name: i.id for i in s.execute(select(Item)).scalars()}
    ws.close()
    return home, ids


@pytest.fixture
def world(world_template: tuple[Path, dict[str, int]], tmp_path: Path) -> Iterator[World]:
    """A private copy of the template: each test changes its own database."""
    home = tmp_path / "home"
    shutil.copytree(world_template[0], home)
    ids = world_template[1]
    ws = open_workspace(home)
    yield World(home, ws, ids["open.pdf"], ids["secret.pdf"])
    ws.close()


def admin(ws: Workspace) -> Caller:
    return Caller(actor="local:admin", compartments=frozenset({"open", "secret", "default"}))


def analyst(*compartments: str) -> Caller:
    return Caller(actor="web:rania", compartments=frozenset(compartments), role=Role.ANALYST)


def entity_events(ws: Workspace) -> int:
    with ws.db.reader() as s:
        return s.execute(
            select(func.count())
            .select_from(CustodyEvent)
            .where(CustodyEvent.event_type == "entity change")
        ).scalar_one()


def cli_json(home: Path, *args: str) -> object:
    """A step's JSON, from the command run in this process (`amanah_here`): each real
    `python -m amanah.cli` costs seconds of imports; each test still runs the real process for
    the output it is about."""
    return json.loads(amanah_here(home, *args, "--json", check=True).stdout)


def test_cli_entity_names_relation_round_trip(sqlite_home: Path) -> None:
    person = cli_json(
        sqlite_home, "entity", "add", "person", "Jamil Hassan", "--born", "1953",
        "--rank", "Major General", "--sex", "male", "--language", "en",
    )["id"]  # fmt: skip
    unit = cli_json(
        sqlite_home, "entity", "add", "organisation", "Air Force Intelligence",
        "--subkind", "security branch",
    )["id"]  # fmt: skip
    ws = open_workspace(sqlite_home)
    before = entity_events(ws)
    amanah_here(sqlite_home, "entity", "name", "add", str(person), "جميل حسن", "--language",
                "ar", check=True)  # fmt: skip
    amanah_here(sqlite_home, "entity", "name", "add", str(person), "أبو علي", "--kind", "kunya",
                check=True)  # fmt: skip
    made = amanah_here(sqlite_home, "entity", "relate", str(person), "commands", str(unit),
                       "--from", "2009", "--to", "2019-07", "--status", "confirmed",
                       "--confidence", "high", check=True)  # fmt: skip
    assert made.stdout.strip() == "relation 1 added"
    assert entity_events(ws) == before + 3  # every change is a custody event
    shown = cli_json(sqlite_home, "entity", "show", str(person))
    assert shown["kind"] == "person" and shown["rank"] == "Major General"
    assert shown["birth_date"] == "1953"
    assert [(n["name"], n["script"], n["kind"]) for n in shown["names"]] == [
        ("Jamil Hassan", "Latn", "official"),
        ("جميل حسن", "Arab", "alias"),
        ("أبو علي", "Arab", "kunya"),
    ]
    (rel,) = shown["relations"]
    assert (rel["subject"], rel["kind"], rel["object"]) == (person, "commands", unit)
    assert (rel["valid_from"], rel["valid_from_precision"]) == ("2009", "year")
    assert (rel["valid_to"], rel["valid_to_precision"]) == ("2019-07", "month")
    assert (rel["status"], rel["confidence"]) == ("confirmed", "high")
    listed = cli_json(sqlite_home, "entity", "list", "--kind", "organisation")
    assert listed == [
        {"id": unit, "kind": "organisation", "subkind": "security branch",
         "name": "Air Force Intelligence"}
    ]  # fmt: skip
    printed = amanah(sqlite_home, "entity", "show", str(person), check=True).stdout
    assert printed.splitlines()[:2] == [
        f"entity {person} (person)",
        "  name 1: Jamil Hassan [official, Latn]",
    ]
    assert (
        f"relation 1: {person} commands {unit} 2009 to 2019-07 (confirmed, high confidence)"
        in printed
    )
    table = amanah_here(sqlite_home, "entity", "list", check=True).stdout
    assert "Air Force Intelligence" in table and "Jamil Hassan" in table
    # names never enter the append-only ledger in clear
    with ws.db.reader() as s:
        details = " ".join(s.execute(select(CustodyEvent.details)).scalars())
    assert "جميل" not in details and "Jamil" not in details
    ws.close()


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("entity", "add", "robot", "X"), "unknown entity kind 'robot'"),
        (("entity", "show", "99"), "no entity with id 99"),
        (("entity", "name", "add", "99", "X"), "no entity with id 99"),
        (("entity", "relate", "1", "commands", "99"), "no entity with id 99"),
        (("entity", "relate", "1", "bribes", "1"), "unknown relation kind 'bribes'"),
        (("entity", "add", "person", "X", "--born", "1960-13"), "month must be in 1..12"),
        (("entity", "chain", "1", "--as-of", "2012"), "give a day (YYYY-MM-DD)"),
    ],
)
def test_cli_refusals_are_exit_2_with_the_reason(
    sqlite_home: Path, args: tuple[str, ...], reason: str
) -> None:
    amanah_here(sqlite_home, "entity", "add", "organisation", "Branch 215", check=True)
    proc = amanah(sqlite_home, *args)  # the refusal itself from a real process
    assert proc.returncode == 2, proc.stderr
    assert reason in proc.stderr
    assert "Traceback" not in proc.stderr


def test_evidence_link_with_a_page_rectangle_round_trip_and_refusals(world: World) -> None:
    h = world.home
    unit = cli_json(h, "entity", "add", "organisation", "Branch 215")["id"]
    person = cli_json(h, "entity", "add", "person", "The Colonel")["id"]
    amanah_here(h, "entity", "relate", str(person), "commands", str(unit), check=True)
    done = amanah(h, "entity", "link", str(world.open_item), "--relation", "1", "--page", "2",
                  "--rect", "72,88.5,320,104", "--rect", "72,110,200,124",
                  "--quote", "Branch 215 is commanded by the colonel",
                  "--translation", "الفرع 215 بقيادة العقيد", check=True)  # fmt: skip
    assert done.stdout.strip() == "evidence link 1 added"
    (ev,) = cli_json(h, "entity", "show", str(unit))["evidence"]
    with world.ws.db.reader() as s:
        sha = s.get(Item, world.open_item).sha256
    assert ev["item"] == world.open_item and ev["sha256"] == sha and ev["relation"] == 1
    assert ev["locator"] == {"page": 2, "rects": [[72, 88.5, 320, 104], [72, 110, 200, 124]]}
    assert ev["translation"] == "الفرع 215 بقيادة العقيد" and ev["stance"] == "supports"
    # the link is on the item's custody timeline, and so is each showing of its quotation
    item = cli_json(h, "item", "show", str(world.open_item))
    assert any(e["type"] == "entity change" for e in item["custody"])
    with world.ws.db.reader() as s:
        reads = [
            json.loads(d)
            for d in s.execute(
                select(CustodyEvent.details).where(
                    CustodyEvent.event_type == "access",
                    CustodyEvent.object_type == "item",
                    CustodyEvent.object_id == str(world.open_item),
                )
            ).scalars()
        ]
    assert [d["links"] for d in reads if d.get("action") == "read evidence links"] == [[1]]

    # a character span of the text derivative: the quotation is the text found there
    body = text(world.ws, world.open_item, "t")
    start = body.index("Branch 215")
    amanah_here(h, "entity", "link", str(world.open_item), "--entity", str(unit),
                "--span", f"{start}:{start + 10}", check=True)  # fmt: skip
    spans = [e for e in cli_json(h, "entity", "show", str(unit))["evidence"] if e["id"] == 2]
    assert spans[0]["quotation"] == "Branch 215"
    assert spans[0]["locator"] == {"derivative": "text", "span": [start, start + 10]}

    item_id = str(world.open_item)
    refusals = [
        (("--relation", "1", "--page", "4"), "has 3 page(s): page 4 is outside it"),
        (("--relation", "1", "--page", "0"), "page 0 is outside it"),
        (("--relation", "1", "--page", "1", "--rect", "300,10,20,40"), "need 0 <= x0 < x1"),
        (("--relation", "1", "--page", "1", "--rect", "1,2,3"), "is not x0,y0,x1,y1"),
        (("--relation", "9", "--page", "1"), "no relation with id 9"),
        (("--entity", "9", "--page", "1"), "no entity with id 9"),
        (("--entity", str(unit)), "give exactly one locator"),
        (("--entity", str(unit), "--span", f"0:{len(body) + 1}"), "is outside its 'text' text"),
        (
            ("--entity", str(unit), "--span", f"{start}:{start + 10}", "--quote", "Branch 216"),
            "the quotation is not the text at",
        ),
        (("--entity", str(unit), "--span", "5:x"), "is not START:END"),
        (("--entity", str(unit), "--time", "0:1000"), "its duration is not known"),
    ]
    # in this process (a real one refuses in test_cli_refusals_are_exit_2_with_the_reason);
    # the last from a real process, with no traceback
    for extra, reason in refusals:
        proc = amanah_here(h, "entity", "link", item_id, *extra)
        assert proc.returncode == 2 and reason in proc.stderr, (extra, proc.stderr)
    proc = amanah(h, "entity", "link", "999", "--entity", str(unit), "--page", "1")
    assert proc.returncode == 2 and "no item with id 999" in proc.stderr
    assert "Traceback" not in proc.stderr
    with world.ws.db.reader() as s:  # nothing half-kept by a refusal
        assert s.execute(select(func.count()).select_from(EvidenceLink)).scalar_one() == 2


def test_need_to_know_hides_what_only_hidden_evidence_stands_behind(world: World) -> None:
    ws, boss = world.ws, admin(world.ws)
    with ws.db.session() as s:
        colonel = add_entity(s, boss, "person", "The Colonel").id
        branch = add_entity(s, boss, "organisation", "Branch 215").id
        prison = add_entity(s, boss, "facility", "The prison").id
        public = add_entity(s, boss, "organisation", "Ministry", origin="ftm:test").id
        seen = relate(s, boss, colonel, "commands", branch).id
        hidden = relate(s, boss, colonel, "commands", prison).id
        bare = relate(s, boss, branch, "subordinate_of", public).id
        link(ws, s, boss, world.open_item, relation_id=seen, page=2)
        link(ws, s, boss, world.secret_item, relation_id=hidden, page=1)
        link(ws, s, boss, world.secret_item, relation_id=seen, page=1)
    rania, both = analyst("open"), analyst("open", "secret")
    with ws.db.reader() as s:
        mine = entity_dict(s, rania, visible_entity(s, rania, colonel))
        assert {r["id"] for r in mine["relations"]} == {seen}
        assert [e["item"] for e in mine["evidence"]] == [world.open_item]
        with pytest.raises(NotVisible, match="no entity with id"):
            visible_entity(s, rania, prison)  # known only from the secret item
        assert {e["id"] for e in list_entities(s, rania)} == {colonel, branch, public}
        branch_seen = entity_dict(s, rania, visible_entity(s, rania, branch))
        assert {r["id"] for r in branch_seen["relations"]} == {seen, bare}  # no evidence: seen
        full = entity_dict(s, both, visible_entity(s, both, colonel))
        assert {r["id"] for r in full["relations"]} == {seen, hidden}
        assert len(full["evidence"]) == 3
        # nobody without a compartment, no provider account, sees entities behind evidence
        assert {e["id"] for e in list_entities(s, analyst())} == {public}
        provider = Caller(actor="p", compartments=frozenset({"open"}), role=Role.PROVIDER)
        assert list_entities(s, provider) == []
        # one statement per kind of caller, kept: whoever asked before, each gets its own
        # answer, and another analyst holding rania's compartments gets hers
        assert visible_entity(s, both, prison).id == prison
        with pytest.raises(NotVisible):
            visible_entity(s, rania, prison)
        omar = Caller("web:omar", frozenset({"open"}), Role.ANALYST, user_id=7, address="10.0.0.9")
        with pytest.raises(NotVisible):
            visible_entity(s, omar, prison)
        assert visible_entity(s, omar, colonel).id == colonel
        for nobody in (provider, analyst("secret-2")):
            with pytest.raises(NotVisible):
                visible_entity(s, nobody, colonel)
    # a caller cannot link to what it cannot see
    with ws.db.session() as s, pytest.raises(EntityError, match="no entity with id"):
        link(ws, s, rania, world.open_item, entity_id=prison, page=1)
    hidden_item = f"no item with id {world.secret_item}"
    with ws.db.session() as s, pytest.raises(EntityError, match=hidden_item):
        link(ws, s, rania, world.secret_item, entity_id=colonel, page=1)


def test_command_chain_as_of_a_day(sqlite_home: Path) -> None:
    h = sqlite_home

    def add(kind: str, name: str) -> int:
        return cli_json(h, "entity", "add", kind, name)["id"]

    division, unit = add("organisation", "4th Division"), add("organisation", "Branch 215")
    first, second, general = add("person", "First"), add("person", "Second"), add("person", "Gen")
    for args in (
        (unit, "subordinate_of", division, "--from", "2010"),
        (first, "commands", unit, "--from", "2011-03", "--to", "2012"),
        (second, "commands", unit, "--from", "2013-01-15"),
        (general, "commands", division, "--from", "~2005-06-01"),
    ):
        amanah_here(h, "entity", "relate", *map(str, args), check=True)

    def commanders(day: str) -> list[tuple[int, list[str]]]:
        rows = cli_json(h, "entity", "chain", str(unit), "--as-of", day)
        return [(r["unit"], [c["name"] for c in r["commanders"]]) for r in rows]

    assert commanders("2009-12-31") == [(unit, [])]  # not yet subordinate to the division
    assert commanders("2011-02-28") == [(unit, []), (division, ["Gen"])]
    assert commanders("2011-03-01") == [(unit, ["First"]), (division, ["Gen"])]
    assert commanders("2012-12-31") == [(unit, ["First"]), (division, ["Gen"])]  # year: all of it
    assert commanders("2013-01-01") == [(unit, []), (division, ["Gen"])]
    assert commanders("2013-01-15") == [(unit, ["Second"]), (division, ["Gen"])]
    printed = amanah(h, "entity", "chain", str(unit), "--as-of", "2012-06-01", check=True)
    assert printed.stdout.splitlines() == [
        f"Branch 215 ({unit}): First ({first})",
        f"  4th Division ({division}): Gen ({general})",
    ]
    proc = amanah_here(h, "entity", "chain", str(first), "--as-of", "2012-06-01")
    assert proc.returncode == 2 and "is a person, not an organisation" in proc.stderr


def test_chain_leaves_out_a_commander_known_only_from_hidden_evidence(world: World) -> None:
    ws, boss = world.ws, admin(world.ws)
    with ws.db.session() as s:
        unit = add_entity(s, boss, "organisation", "Branch 215").id
        cmd = add_entity(s, boss, "person", "The Colonel").id
        rel = relate(s, boss, cmd, "commands", unit, valid_from="2011").id
        link(ws, s, boss, world.secret_item, relation_id=rel, page=1)
    with ws.db.reader() as s, pytest.raises(EntityError, match=f"no entity with id {unit}"):
        chain(s, analyst("open"), unit, "2012-01-01")  # known only from the secret item
    with ws.db.session() as s:
        link(ws, s, boss, world.open_item, entity_id=unit, page=2)
    with ws.db.reader() as s:
        assert chain(s, analyst("open"), unit, "2012-01-01")[0]["commanders"] == []
        (c,) = chain(s, analyst("secret"), unit, "2012-01-01")[0]["commanders"]
        assert c["subject"] == cmd


OFAC = SHARED_DATA / "ofac_sdn_syria"


def _ofac_expected() -> tuple[int, int]:
    """Persons and organisations in the SDN file, and their names (own + a.k.a./f.k.a.)."""
    with (OFAC / "sdn_syria.csv").open(encoding="utf-8", newline="") as f:
        kept = {r["ent_num"] for r in csv.DictReader(f) if r["sdn_type"] in ("individual", "-0-")}
    with (OFAC / "alt_syria.csv").open(encoding="utf-8", newline="") as f:
        alts = sum(1 for r in csv.DictReader(f) if r["ent_num"] in kept)
    return len(kept), len(kept) + alts


@pytest.mark.skipif(not OFAC.is_dir(), reason="shared data ofac_sdn_syria absent")
def test_ofac_list_round_trips_through_followthemoney(tmp_path: Path) -> None:
    entities, names = _ofac_expected()
    first, second = tmp_path / "a", tmp_path / "b"
    write_default_config(first)
    write_default_config(second)
    loaded = cli_json(first, "entity", "import", str(OFAC), "--ofac")
    assert loaded["added"] == entities and loaded["skipped"] > 0  # vessels, aircraft
    # duplicate names inside one record collapse; the count can only be lower by those
    assert names - 5 <= loaded["names"] <= names
    again = cli_json(first, "entity", "import", str(OFAC), "--ofac")
    assert again["added"] == 0 and again["present"] == entities  # idempotent
    exported = tmp_path / "out.ftm.json"
    amanah(first, "entity", "export", "--output", str(exported), check=True)
    rows = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == entities and all(r["id"].startswith("ofac-") for r in rows)
    # aliases are names of one person: an entity with a.k.a.s carries them all
    with (OFAC / "alt_syria.csv").open(encoding="utf-8", newline="") as f:
        per = {}
        for r in csv.DictReader(f):
            per[r["ent_num"]] = per.get(r["ent_num"], 0) + 1
    by_id = {r["id"]: r for r in rows}
    busiest = max((k for k in per if f"ofac-{k}" in by_id), key=lambda k: per[k])
    props = by_id[f"ofac-{busiest}"]["properties"]
    assert len(props["name"]) == 1
    assert len(props.get("alias", [])) + len(props.get("previousName", [])) >= per[busiest] - 1
    # into a second home and out again: the same entities and names
    assert cli_json(second, "entity", "import", str(exported))["added"] == entities
    back = tmp_path / "back.ftm.json"
    amanah(second, "entity", "export", "--output", str(back), check=True)

    def names_of(path: Path) -> dict[str, set[str]]:
        out = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            p = r["properties"]
            out[r["id"]] = {*p.get("name", []), *p.get("alias", []), *p.get("weakAlias", [])}
        return out

    assert names_of(back) == names_of(exported)


def test_import_refuses_a_bad_line_naming_file_and_line(sqlite_home: Path, tmp_path: Path) -> None:
    good = {"id": "p1", "schema": "Person", "properties": {"name": ["Jamil Hassan"]}}
    bad = tmp_path / "list.ftm.json"
    bad.write_text(json.dumps(good) + "\n" + '{"id": "x", "schema": "Nope"}\n', encoding="utf-8")
    proc = amanah(sqlite_home, "entity", "import", str(bad))
    assert proc.returncode == 2 and "list.ftm.json, line 2: not a FollowTheMoney entity" in (
        proc.stderr
    )
    assert cli_json(sqlite_home, "entity", "list") == []  # nothing half-imported
    bad.write_text(json.dumps(good) + "\n", encoding="utf-8")
    assert cli_json(sqlite_home, "entity", "import", str(bad))["added"] == 1
