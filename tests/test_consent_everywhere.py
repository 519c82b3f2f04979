"""A withdrawal of consent for investigation is honoured on every read path (issue 17, the
witness-protection side): real items ingested and processed, a named person mentioned in
them, an entity backed by an accepted mention (an evidence link with its quotation), a
person-list record linked to that mention through the review queue. Then the person withdraws:
search, item listings, the item's page and API, its text and bytes, mentions, the entity and
its page, the match API, the FtM export file, the record's evidence links, linkage pairs and
run counts, tags and the dashboard count no longer show the item's text, span, quote or count,
for any role; the legal officer still sees that the item exists and why. A second person who
did not withdraw stays visible throughout (the negative control), and consent given again
brings everything back. The core runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from amanah.access import (
    Caller,
    NotVisible,
    Role,
    linkage_pairs_visible,
    person_record_links_visible,
    visible_entity,
    visible_item,
    withheld_item_ids,
    withheld_reason,
)
from amanah.access.tokens import create_token
from amanah.access.users import add_user
from amanah.config import write_default_config
from amanah.db.models import (
    EntityMention,
    Item,
    LinkagePair,
    PersonList,
    PersonListRecord,
    PersonRecordLink,
)
from amanah.entities.ftm import export_file
from amanah.entities.match import match_all, query_of
from amanah.entities.mentions import decide, find_in_items, list_mentions
from amanah.entities.store import add_entity
from amanah.persons import evidence, review
from amanah.persons.lists import import_list
from amanah.processing.runner import run
from amanah.search import service
from amanah.sharing import person_consent
from amanah.web.app import create_app
from amanah.workspace import Workspace, open_workspace
from tests.conftest import amanah, ingest_folder, without_semantic

LIST = "Detainees 2025"
#: The person who will withdraw, and the one who will not (the control), as the evidence and
#: the list spell them; each statement also holds a word found nowhere else.
WITHDRAWS = ("Yusuf Mahmoud Zoubi", "zanzibarite")
STAYS = ("Khaled Omar Jasem", "quixotical")
FILES = {
    "witness.txt": f"Statement {WITHDRAWS[1]}.\nThe witness {WITHDRAWS[0]} was held in 2013.\n",
    "control.txt": f"Statement {STAYS[1]}.\nThe detainee {STAYS[0]} was held in 2014.\n",
}
PASSWORD = "a long test password"


@dataclass
class World:
    home: Path
    ws: Workspace
    items: dict[str, int]  # file name -> item id
    entities: dict[str, int]  # "w"/"k" -> entity id
    records: dict[str, int]  # "w"/"k" -> record id


def admin() -> Caller:
    return Caller(actor="local:admin", compartments=frozenset({"open", "default"}))


def analyst() -> Caller:
    return Caller(actor="web:rania", compartments=frozenset({"open"}), role=Role.ANALYST)


def legal() -> Caller:
    return Caller(actor="web:lina", compartments=frozenset({"open"}), role=Role.LEGAL)


def build(tmp: Path, home: Path) -> World:
    """The world before anyone withdraws: both persons gave consent for investigation."""
    without_semantic(home)
    ws = open_workspace(home)
    folder = tmp / "statements"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    ingest_folder(ws, folder, collection="open", compartment="open")
    run(ws, workers=1)
    with ws.db.reader() as s:
        items = {Path(i.original_path).name: i.id for i in s.execute(select(Item)).scalars()}
    boss = admin()
    with ws.db.session() as s:
        entities = {
            "w": add_entity(s, boss, "person", WITHDRAWS[0]).id,
            "k": add_entity(s, boss, "person", STAYS[0]).id,
        }
    find_in_items(ws, boss)
    with ws.db.session() as s:
        for key, file in (("w", "witness.txt"), ("k", "control.txt")):
            m = s.execute(
                select(EntityMention).where(
                    EntityMention.entity_id == entities[key],
                    EntityMention.item_id == items[file],
                )
            ).scalar_one()
            decide(ws, s, boss, m.id, True)  # an evidence link quoting the span
    table = tmp / "detainees.csv"
    with table.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "full_name", "status"])
        w.writerow(["W1", WITHDRAWS[0], "detained"])
        w.writerow(["K1", STAYS[0], "detained"])
    import_list(ws, boss, table, LIST, key="key", compartment="open", collection="lists")
    with ws.db.reader() as s:
        by_key = {r.key: r.id for r in s.execute(select(PersonListRecord)).scalars()}
    records = {"w": by_key["W1"], "k": by_key["K1"]}
    with ws.db.session() as s:
        for key, file in (("w", "witness.txt"), ("k", "control.txt")):
            ref = f"record:{records[key]}"
            person_consent.link_item(s, boss, ref, items[file])
            person_consent.give(s, boss, ref, ["investigation", "sharing"])
    _, kept, _ = evidence.link_evidence(ws, boss, LIST)
    to_mentions = [pid for pid, p in kept if p.mention_id is not None and p.match]
    assert len(to_mentions) == 2, kept
    for pair_id in to_mentions:  # the record linked to the span of its item
        review.review(ws, boss, pair_id, "accept")
    return World(home, ws, items, entities, records)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("consent-everywhere")
    home = tmp / "home"
    write_default_config(home)
    world = build(tmp, home)
    facts = {"items": world.items, "entities": world.entities, "records": world.records}
    (tmp / "facts.json").write_text(json.dumps(facts))
    world.ws.close()
    return tmp


@pytest.fixture
def world(template: Path, tmp_path: Path) -> Iterator[World]:
    """A private copy of the template: each test withdraws and gives on its own."""
    home = tmp_path / "home"
    shutil.copytree(template / "home", home, symlinks=True)
    facts = json.loads((template / "facts.json").read_text())
    ws = open_workspace(home)
    yield World(home, ws, facts["items"], facts["entities"], facts["records"])
    ws.close()


def withdraw(w: World, key: str = "w") -> None:
    with w.ws.db.session() as s:
        person_consent.withdraw(s, admin(), f"record:{w.records[key]}", ["investigation"])


def give_again(w: World, key: str = "w") -> None:
    with w.ws.db.session() as s:
        person_consent.give(s, admin(), f"record:{w.records[key]}", ["investigation"])


def core_view(w: World, caller: Caller) -> dict[str, object]:
    """What one caller sees of both persons' items through the in-process read paths."""
    wit, ctl = w.items["witness.txt"], w.items["control.txt"]
    out: dict[str, object] = {}
    with w.ws.db.reader() as s:
        out["withheld"] = set(withheld_item_ids(s))
        seen = set()
        for i in (wit, ctl):
            try:
                visible_item(s, caller, i)
                seen.add(i)
            except NotVisible:
                pass
        out["items"] = seen
        ents = set()
        for key, ent in w.entities.items():
            try:
                visible_entity(s, caller, ent)
                ents.add(key)
            except NotVisible:
                pass
        out["entities"] = ents
        out["mention_items"] = {m["item"] for m in list_mentions(w.ws, s, caller, limit=100)}
        out["pair_mentions"] = set(
            s.execute(
                select(LinkagePair.record_a_id).where(
                    LinkagePair.mention_id.is_not(None), linkage_pairs_visible(caller)
                )
            ).scalars()
        )
        out["record_links"] = set(
            s.execute(
                select(PersonRecordLink.item_id).where(person_record_links_visible(caller))
            ).scalars()
        )
        queries = [
            query_of({"schema": "Person", "properties": {"name": [n]}}, n)
            for n, _ in (WITHDRAWS, STAYS)
        ]
        out["match"] = {
            a["query"]: {r["entity"] for r in a["results"] if r["match"]}
            for a in match_all(s, caller, queries, 5)
        }
        runs = review.runs(s, caller)
        out["run_pairs"] = sum(r["pairs"] for r in runs if r["link_type"] == "evidence")
    with w.ws.db.session() as s:
        text, _summary = export_file(s, caller)
    out["ftm"] = text
    hits = service.search(w.ws, caller, f"{WITHDRAWS[1]} OR {STAYS[1]}", limit=20)
    out["search"] = {h["item_id"] for h in hits.as_json()["hits"]}
    return out


def assert_withheld(view: dict[str, object], w: World) -> None:
    wit, ctl = w.items["witness.txt"], w.items["control.txt"]
    assert view["withheld"] == {wit}
    assert view["items"] == {ctl}
    assert view["entities"] == {"k"}, "an entity backed only by a withheld item is hidden"
    assert view["mention_items"] == {ctl}
    assert view["pair_mentions"] == {w.records["k"]}
    assert view["record_links"] == {ctl}
    assert view["match"] == {WITHDRAWS[0]: set(), STAYS[0]: {w.entities["k"]}}
    assert view["run_pairs"] == 2  # the control's two
    assert WITHDRAWS[0] not in str(view["ftm"]) and STAYS[0] in str(view["ftm"])
    assert view["search"] == {ctl}


def assert_shown(view: dict[str, object], w: World) -> None:
    wit, ctl = w.items["witness.txt"], w.items["control.txt"]
    assert view["withheld"] == set()
    assert view["items"] == {wit, ctl}
    assert view["entities"] == {"w", "k"}
    assert view["mention_items"] == {wit, ctl}
    assert view["pair_mentions"] == {w.records["w"], w.records["k"]}
    assert view["record_links"] == {wit, ctl}
    assert view["match"] == {WITHDRAWS[0]: {w.entities["w"]}, STAYS[0]: {w.entities["k"]}}
    assert view["run_pairs"] == 4  # each record: one pair to the entity, one to the mention
    assert WITHDRAWS[0] in str(view["ftm"]) and STAYS[0] in str(view["ftm"])
    assert view["search"] == {wit, ctl}


def test_withdrawal_hides_every_core_read_and_consent_again_restores(world: World) -> None:
    for caller in (admin(), analyst()):
        assert_shown(core_view(world, caller), world)
    withdraw(world)
    for caller in (admin(), analyst(), legal()):
        view = core_view(world, caller)
        if caller.role is Role.LEGAL:  # reads no entities: the entity paths are empty anyway
            assert view["withheld"] == {world.items["witness.txt"]}
            assert view["search"] == {world.items["control.txt"]}
            continue
        assert_withheld(view, world)
    give_again(world)
    assert_shown(core_view(world, analyst()), world)


def test_withdrawal_of_another_use_withholds_nothing(world: World) -> None:
    """Negative control: withdrawing sharing only leaves investigation, and the item, alone."""
    with world.ws.db.session() as s:
        person_consent.withdraw(s, admin(), f"record:{world.records['w']}", ["sharing"])
    assert_shown(core_view(world, analyst()), world)


def test_withdrawal_is_honoured_on_postgresql(postgres: object, tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_default_config(home, postgres.create_database())  # type: ignore[attr-defined]
    w = build(tmp_path, home)
    try:
        assert_shown(core_view(w, analyst()), w)
        withdraw(w)
        assert_withheld(core_view(w, analyst()), w)
        give_again(w)
        assert_shown(core_view(w, analyst()), w)
    finally:
        w.ws.close()


def _clients(w: World) -> dict[str, TestClient]:
    app = create_app(w.ws)
    out = {}
    for role in (Role.ANALYST, Role.LEGAL):
        add_user(w.ws, role.value, role.value, PASSWORD, compartments=("open",), by="local:test")
        c = TestClient(app)
        c.headers["Authorization"] = f"Bearer {create_token(w.ws, role.value)}"
        out[role.value] = c
    return out


def test_web_pages_and_api_in_both_languages(world: World) -> None:
    wit, ctl = world.items["witness.txt"], world.items["control.txt"]
    clients = _clients(world)
    web = clients["analyst"]
    before = web.get(f"/items/{wit}")
    assert before.status_code == 200 and WITHDRAWS[1] in before.text  # it was readable
    withdraw(world)
    for lang, notice in (
        ("en", "Withheld: consent for investigation withdrawn."),
        ("ar", "محجوب: سُحبت الموافقة على الاستخدام في التحقيق."),
    ):
        for role, c in clients.items():
            page = c.get(f"/items/{wit}", params={"lang": lang})
            assert page.status_code == 200, page.text[:300]
            assert notice in page.text
            for secret in (WITHDRAWS[0], WITHDRAWS[1], "witness.txt"):
                assert secret not in page.text, (role, lang, secret)
            shown = f"record:{world.records['w']}" in page.text
            assert shown is (role == "legal"), "only the legal officer sees whose consent"
        control = web.get(f"/items/{ctl}", params={"lang": lang})
        assert control.status_code == 200 and STAYS[1] in control.text
        entity = web.get(f"/entities/{world.entities['w']}", params={"lang": lang})
        assert entity.status_code == 404
        kept = web.get(f"/entities/{world.entities['k']}", params={"lang": lang})
        assert kept.status_code == 200 and STAYS[0] in kept.text
        record = web.get(f"/persons/records/{world.records['w']}", params={"lang": lang})
        assert record.status_code == 200
        assert WITHDRAWS[1] not in record.text and "witness.txt" not in record.text
    for path in ("", "/text", "/content"):
        got = web.get(f"/api/v1/items/{wit}{path}")
        assert got.status_code == 404, (path, got.status_code)
        assert web.get(f"/api/v1/items/{ctl}{path}").status_code == 200
    found = web.get("/api/v1/search", params={"q": f"{WITHDRAWS[1]} OR {STAYS[1]}"}).json()
    assert {h["item_id"] for h in found["hits"]} == {ctl}
    answer = web.post(
        "/api/v1/match",
        json={"queries": {"q": {"schema": "Person", "properties": {"name": [WITHDRAWS[0]]}}}},
    ).json()
    assert [r for r in answer["responses"]["q"]["results"] if r["match"]] == []
    dashboard = web.get("/")
    assert dashboard.status_code == 200 and "witness.txt" not in dashboard.text
    give_again(world)
    again = web.get(f"/items/{wit}")
    assert again.status_code == 200 and WITHDRAWS[1] in again.text


def test_cli_search_items_and_ftm_export(world: World) -> None:
    wit, ctl = world.items["witness.txt"], world.items["control.txt"]
    withdraw(world)
    world.ws.close()
    found = amanah(world.home, "search", f"{WITHDRAWS[1]} OR {STAYS[1]}", "--json", check=True)
    assert {h["item_id"] for h in json.loads(found.stdout)["hits"]} == {ctl}
    listed = amanah(world.home, "items", "--json", check=True)
    ids = {row["id"] for row in json.loads(listed.stdout)}
    assert wit not in ids and ctl in ids
    shown = amanah(world.home, "item", "show", str(wit))
    assert shown.returncode == 2 and WITHDRAWS[1] not in shown.stdout + shown.stderr
    assert f"no item with id {wit}" in shown.stderr
    out = world.home.parent / "export.ftm.json"
    amanah(world.home, "entity", "export", "--output", str(out), check=True)
    text = out.read_text("utf-8")
    assert WITHDRAWS[0] not in text and STAYS[0] in text
    ids_out = [json.loads(line)["id"] for line in text.splitlines()]
    assert all(re.fullmatch(r"amanah-[0-9a-f]{16}-(entity|relation|post)-\d+", i) for i in ids_out)
    world.ws = open_workspace(world.home)


def test_ftm_ids_differ_between_homes(world: World, tmp_path: Path) -> None:
    other = tmp_path / "other"
    write_default_config(other)
    ws = open_workspace(other)
    try:
        with ws.db.session() as s:
            add_entity(s, admin(), "person", STAYS[0])
        with ws.db.session() as s:
            there = {json.loads(x)["id"] for x in export_file(s, admin())[0].splitlines()}
    finally:
        ws.close()
    with world.ws.db.session() as s:
        here = {json.loads(x)["id"] for x in export_file(s, admin())[0].splitlines()}
    assert here and there and not here & there


def test_withheld_reason_for_the_legal_officer_only(world: World) -> None:
    wit, ctl = world.items["witness.txt"], world.items["control.txt"]
    withdraw(world)
    with world.ws.db.reader() as s:
        assert withheld_reason(s, analyst(), ctl) is None
        plain = withheld_reason(s, analyst(), wit)
        full = withheld_reason(s, legal(), wit)
        hidden = withheld_reason(
            s, Caller(actor="web:x", compartments=frozenset({"red"}), role=Role.LEGAL), wit
        )
    assert plain == {"item_id": wit, "reason": "consent for investigation withdrawn"}
    assert full is not None and [p["person"] for p in full["persons"]] == [
        f"record:{world.records['w']}"
    ]
    assert hidden is None, "outside the caller's compartments it does not exist at all"


def test_record_run_counts_only_pairs_of_lists_the_reader_sees(world: World) -> None:
    """A record-to-record run across a list of the reader's compartment and one of another:
    the run's counts, as the reader gets them, are of the pairs they may see only."""
    from amanah.persons import runs

    table = world.home.parent / "red.csv"
    table.write_text(f"key,full_name\nR1,{STAYS[0]}\nR2,{WITHDRAWS[0]}\n", encoding="utf-8")
    boss = Caller(actor="local:admin", compartments=frozenset({"open", "red", "default"}))
    import_list(world.ws, boss, table, "Red list", key="key", compartment="red", collection="red")
    with world.ws.db.session() as s:
        lists = {p.name: p for p in s.execute(select(PersonList)).scalars()}
        recs = {r.key: r.id for r in s.execute(select(PersonListRecord)).scalars()}
        run_row = runs.open_run(
            s,
            boss,
            [lists[LIST], lists["Red list"]],
            link_type="link_only",
            threshold=0.9,
            review_margin=0.1,
            floor=0.8,
            settings={},
        )
        base = {"run_id": run_row.id, "explanation": "{}", "decision": "", "decided_by": ""}
        runs.insert_pairs(
            s,
            [
                {**base, "record_a_id": recs["K1"], "record_b_id": recs["R1"], "score": 0.99,
                 "match": True, "review": False},
                {**base, "record_a_id": recs["W1"], "record_b_id": recs["R2"], "score": 0.85,
                 "match": False, "review": True},
                {**base, "record_a_id": recs["K1"], "record_b_id": recs["W1"], "score": 0.2,
                 "match": False, "review": False},
            ],
        )  # fmt: skip
        runs.close_run(
            s, boss, run_row, [lists[LIST]], pairs=3, links=1, to_review=1, action="t", details={}
        )
        run_id = run_row.id
    with world.ws.db.reader() as s:
        shown = {r["run"]: r for r in review.runs(s, analyst())}
        full = {r["run"]: r for r in review.runs(s, boss)}
    assert {k: shown[run_id][k] for k in ("pairs", "links", "to_review")} == {
        "pairs": 1,
        "links": 0,
        "to_review": 0,
    }
    assert {k: full[run_id][k] for k in ("pairs", "links", "to_review")} == {
        "pairs": 3,
        "links": 1,
        "to_review": 1,
    }
