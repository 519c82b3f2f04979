"""Name parts stored on entity names, their backfill, and `entity match` (CLI and API):
FtM entities as queries, candidates by blocking keys, need-to-know on every result."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import delete, select, update

from amanah.access import Caller
from amanah.db.models import CustodyEvent, EntityName, EntityNameKey
from amanah.entities.links import link
from amanah.entities.store import add_entity, add_name
from amanah.workspace import open_workspace
from tests.conftest import amanah
from tests.webfixtures import Site


def cli_json(home: Path, *args: str) -> object:
    return json.loads(amanah(home, *args, "--json", check=True).stdout)


def test_name_parts_are_stored_when_a_name_is_added_and_shown(sqlite_home: Path) -> None:
    person = cli_json(sqlite_home, "entity", "add", "person", "عبد الرحمن بن خالد بن عمر الحبو")
    pid = person["id"]  # type: ignore[index]
    amanah(sqlite_home, "entity", "name", "add", str(pid), "Abu Omar", "--kind", "kunya",
           check=True)  # fmt: skip
    unit = cli_json(sqlite_home, "entity", "add", "organisation", "Air Force Intelligence")
    shown = cli_json(sqlite_home, "entity", "show", str(pid))
    parts = [n["parts"] for n in shown["names"]]  # type: ignore[index]
    assert parts[0] == {
        "ism": "عبد الرحمن", "father": "خالد", "grandfather": "عمر", "family": "الحبو",
    }  # fmt: skip
    assert parts[1] == {"kunya": "abu omar"}
    # a unit's name has no ism: no parts, but keys for candidate search
    org = cli_json(sqlite_home, "entity", "show", str(unit["id"]))  # type: ignore[index]
    assert org["names"][0]["parts"] == {}  # type: ignore[index]
    printed = amanah(sqlite_home, "entity", "show", str(pid), check=True).stdout
    assert "    parts: ism عبد الرحمن, father خالد, grandfather عمر, family الحبو" in printed
    ws = open_workspace(sqlite_home)
    with ws.db.reader() as s:
        keys = set(s.execute(select(EntityNameKey.key)).scalars())
        assert "l:haba" in keys and "c:hb" in keys  # الحبو, read in both alphabets
    ws.close()


def test_names_kept_before_parsing_are_backfilled(sqlite_home: Path) -> None:
    pid = cli_json(sqlite_home, "entity", "add", "person", "Mohammad Ahmad Al-Habbo")["id"]  # type: ignore[index]
    ws = open_workspace(sqlite_home)
    with ws.db.session() as s:  # as a name row kept before 0022: no parts, no keys
        s.execute(delete(EntityNameKey))
        s.execute(update(EntityName).values(ism="", father="", family=""))
    ws.close()
    shown = cli_json(sqlite_home, "entity", "show", str(pid))
    assert shown["names"][0]["parts"] == {}  # type: ignore[index]
    done = amanah(sqlite_home, "entity", "name", "parse", check=True)
    assert done.stdout.strip() == "1 names parsed"
    shown = cli_json(sqlite_home, "entity", "show", str(pid))
    assert shown["names"][0]["parts"] == {  # type: ignore[index]
        "ism": "mohammad", "father": "ahmad", "family": "habbo",
    }  # fmt: skip
    again = amanah(sqlite_home, "entity", "name", "parse", check=True)
    assert again.stdout.strip() == "0 names parsed"  # re-runnable: nothing left to do
    assert amanah(sqlite_home, "entity", "name", "parse", "--all", check=True).stdout.strip() == (
        "1 names parsed"
    )
    ws = open_workspace(sqlite_home)
    with ws.db.reader() as s:
        details = [json.loads(d) for d in s.execute(select(CustodyEvent.details)).scalars()]
    ws.close()
    assert [d["names"] for d in details if d.get("action") == "parse names"] == [1, 1]


QUERIES = [
    {"id": "q-ar", "schema": "Person", "properties": {"name": ["محمد أحمد الحبو"]}},
    {"id": "q-brother", "schema": "Person", "properties": {"name": ["Omar Ahmad al-Habbo"]}},
    {"id": "q-born", "schema": "Person",
     "properties": {"name": ["Mohamed Ahmed Al-Hebo"], "birthDate": ["1990-02-01"]}},
    {"id": "q-place", "schema": "Address", "properties": {"full": ["Dayr az-Zawr"]}},
]  # fmt: skip


def test_cli_match_prints_one_json_line_per_query_with_verdict_and_explanation(
    sqlite_home: Path, tmp_path: Path
) -> None:
    for kind, name, *more in (
        ("person", "Mohamed Ahmed Al-Hebo", "--born", "1961"),
        ("person", "Ali Ahmad Al-Habbo"),  # a brother: same father, same family
        ("place", "Deir-ez-Zor"),
        ("organisation", "Deir ez-Zor Military Airport"),  # not a place: never a candidate
    ):
        amanah(sqlite_home, "entity", "add", kind, name, *more, check=True)
    queries = tmp_path / "q.ftm.json"
    queries.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in QUERIES))
    proc = amanah(sqlite_home, "entity", "match", str(queries), "--limit", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [a["query"] for a in answers] == ["q-ar", "q-brother", "q-born", "q-place"]
    # this home's own ids carry its prefix (`entities.ftm.home_prefix`): compared without it
    got = {
        a["query"]: [(re.sub(r"^amanah-[0-9a-z]+-", "amanah-", r["id"]), r["match"]) for r in rs]
        for a in answers
        for rs in [a["results"]]
    }
    assert got["q-ar"] == [("amanah-entity-1", True), ("amanah-entity-2", False)]
    assert all(not m for _, m in got["q-brother"])  # brothers are not merged
    assert got["q-born"][0] == ("amanah-entity-1", False)  # 1961 is not 1990
    assert got["q-place"] == [("amanah-entity-3", True)]
    top = answers[0]["results"][0]
    assert top["score"] >= 0.8 and top["kind"] == "person"
    why = top["explanation"]
    assert why["query_name"] == "محمد أحمد الحبو" and why["name"] == "Mohamed Ahmed Al-Hebo"
    assert [p["field"] for p in why["parts"]] == ["ism", "father", "family"]
    assert "ism: contradicts" in answers[0]["results"][1]["explanation"]["notes"]
    assert "birth years differ" in answers[2]["results"][0]["explanation"]["notes"]


def test_cli_match_refuses_a_bad_query_file_with_file_and_line(
    sqlite_home: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    good = json.dumps(QUERIES[0], ensure_ascii=False)
    vessel = json.dumps({"id": "v", "schema": "Vessel", "properties": {"name": ["Sea"]}})
    cases = [
        (f"{good}\n{{oops\n", "line 2: not JSON"),
        (f"{good}\n{vessel}\n", "line 2: query v: schema Vessel cannot be matched"),
        (f"{good}\n", "--limit 0: give 1 to 100"),
    ]
    for text, reason in cases:
        bad.write_text(text)
        limit = "0" if "limit" in reason else "3"
        proc = amanah(sqlite_home, "entity", "match", str(bad), "--limit", limit, "--json")
        assert proc.returncode == 2, proc.stderr
        assert reason in proc.stderr and "Traceback" not in proc.stderr
        assert proc.stdout == ""


def test_api_match_never_shows_what_the_caller_may_not_see(site: Site) -> None:
    """An entity known only from red evidence, and a name of an entity seen on blue evidence
    known only from red, do not exist for a blue analyst: not as a match, not as a score."""
    admin = Caller(actor="local:test", compartments=frozenset({"blue", "red"}))
    red_item = site.item("سري.txt")
    with site.ws.db.session() as s:
        public = add_entity(s, admin, "person", "Jamil Hassan").id
        link(site.ws, s, admin, site.item("statement-b.txt"), entity_id=public, span=(0, 3))
        alias = add_name(s, admin, public, "Kamal Tartousi", kind="alias").id
        link(site.ws, s, admin, red_item, name_id=alias, span=(0, 6))
        hidden = add_entity(s, admin, "person", "Jamil Hasan Makhlouf").id
        link(site.ws, s, admin, red_item, entity_id=hidden, span=(0, 6))
    body = {
        "queries": {
            "by-alias": {"schema": "Person", "properties": {"name": ["Kamal Tartousi"]}},
            "by-name": {"schema": "Person", "properties": {"name": ["Jamil Hassan Makhlouf"]}},
        }
    }

    def ask(role: str) -> dict[str, list[tuple[int, bool]]]:
        r = site.api(role).post("/api/v1/match?limit=5", json=body)
        assert r.status_code == 200, r.text
        out = r.json()["responses"]
        return {q: [(x["entity"], x["match"]) for x in out[q]["results"]] for q in out}

    seen = ask("admin")
    assert seen["by-alias"] == [(public, True)]
    assert seen["by-name"][0] == (hidden, True) and (public, False) in seen["by-name"]
    analyst = ask("analyst")
    assert analyst["by-alias"] == []  # the alias stands only on red evidence
    assert [e for e, _ in analyst["by-name"]] == [public]  # the hidden entity is absent
    for role in ("provider", "recipient"):
        refused = site.api(role).post("/api/v1/match", json=body)
        assert refused.status_code == 403 and "may not" in refused.json()["error"]
    wrong = site.api("analyst").post(
        "/api/v1/match", json={"queries": {"v": {"schema": "Vessel", "properties": {}}}}
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == (
        "query v: schema Vessel cannot be matched"
        " (one of Person, Organization, Company, PublicBody, LegalEntity, Address)"
    )
