"""Person-list records linked to evidence (issue 17, part 3): a generated list in Arabic, entities
named in either script, items (a detention register in Arabic, a report in English, a statement
in a compartment others lack) whose mentions are found for real; the proposals' precision, the
review queue's accept and reject, need-to-know with its negative control, withdrawn consent.

Items are real files ingested and processed here; the command line runs as a user types it."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from amanah.access import Caller, NotVisible, Role, visible_linkage_pair
from amanah.config import write_default_config
from amanah.db.models import (
    CustodyEvent,
    EntityMention,
    EvidenceLink,
    Item,
    LinkagePair,
    PersonListRecord,
    PersonRecordLink,
)
from amanah.entities.mentions import decide, find_in_items
from amanah.entities.store import add_entity
from amanah.persons import evidence, review
from amanah.persons.lists import import_list
from amanah.persons.review import ReviewError
from amanah.processing.runner import run
from amanah.sharing import person_consent
from amanah.workspace import Workspace, open_workspace
from tests.conftest import amanah, ingest_folder

LIST = "Families 2024"
#: key: (the list's spelling, the entity's spelling or None, birth year)
PEOPLE = {
    "F1": ("محمد أحمد عبد الله الحلبي", "محمد أحمد عبدالله الحلبي", 1985),  # split compound
    "F2": ("خالد عمر الجاسم", "Khaled Omar Al-Jasem", 1979),  # the entity in Latin
    "F3": ("سمير يوسف الخطيب", None, 1990),  # named nowhere in evidence
    "F4": ("فاطمة حسن العلي", "فاطمة حسن العلي", 1992),  # only in the secret compartment
    "F5": ("يوسف محمود الزعبي", "يوسف محمود الزعبي", 1970),  # consent withdrawn
    "F6": ("خالد أحمد عبد الله الحلبي", None, 1988),  # F1's brother: must not take F1's links
}
REGISTER = (
    "سجل الموقوفين - الفرع 215\n"
    "1. محمد أحمد عبدالله الحلبي - تاريخ التوقيف 2013/04/02\n"
    "2. يوسف محمود الزعبي - تاريخ التوقيف 2013/05/11\n"
)
REPORT = "Detention report.\nThe witness saw Khaled Omar Al-Jasem in the branch in 2014.\n"
SECRET = "Statement.\nفاطمة حسن العلي كانت في الزنزانة مع محمد أحمد عبدالله الحلبي.\n"


@dataclass
class World:
    home: Path
    ws: Workspace
    items: dict[str, int]  # file name -> item id
    entities: dict[str, int]  # list key -> entity id
    records: dict[str, int]  # list key -> record id


def admin() -> Caller:
    return Caller(actor="local:admin", compartments=frozenset({"open", "secret", "default"}))


def analyst(*compartments: str) -> Caller:
    return Caller(actor="web:rania", compartments=frozenset(compartments), role=Role.ANALYST)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("persons-evidence")
    home = tmp / "home"
    write_default_config(home)
    ws = open_workspace(home)
    for compartment, files in {
        "open": {"register.txt": REGISTER, "report.txt": REPORT},
        "secret": {"statement.txt": SECRET},
    }.items():
        folder = tmp / compartment
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        ingest_folder(ws, folder, collection=compartment, compartment=compartment)
    run(ws, workers=1)
    with ws.db.reader() as s:
        items = {Path(i.original_path).name: i.id for i in s.execute(select(Item)).scalars()}
    boss = admin()
    entities: dict[str, int] = {}
    with ws.db.session() as s:
        for key, (_, spelling, year) in PEOPLE.items():
            if spelling:
                fields = {"birth_date": str(year)}
                entities[key] = add_entity(s, boss, "person", spelling, fields=fields).id
    find_in_items(ws, boss)
    with ws.db.session() as s:
        # F4's entity is backed by the secret statement only: others may not see it at all
        m = s.execute(
            select(EntityMention).where(
                EntityMention.entity_id == entities["F4"],
                EntityMention.item_id == items["statement.txt"],
            )
        ).scalar_one()
        decide(ws, s, boss, m.id, True)
    table = tmp / "families.csv"
    with table.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["رقم", "الاسم الكامل", "سنة الميلاد", "الحالة"])
        for key, (name, _, year) in PEOPLE.items():
            w.writerow([key, name, year, "معتقل"])
    import_list(ws, boss, table, LIST, key="رقم", compartment="open", collection="families")
    with ws.db.session() as s:
        records = {
            r.key: r.id for r in s.execute(select(PersonListRecord)).scalars() if r.key in PEOPLE
        }
        person_consent.give(s, boss, f"record:{records['F5']}", ["investigation", "sharing"])
        person_consent.withdraw(s, boss, f"record:{records['F5']}")
        person_consent.give(s, boss, f"record:{records['F2']}", ["investigation"])  # control
    ws.close()
    return home, {"items": items, "entities": entities, "records": records}


@pytest.fixture
def world(template: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[World]:
    home = tmp_path / "home"
    shutil.copytree(template[0], home)
    ws = open_workspace(home)
    facts = template[1]
    yield World(home, ws, facts["items"], facts["entities"], facts["records"])
    ws.close()


def _mention(w: World, key: str, item: str) -> int:
    with w.ws.db.reader() as s:
        return s.execute(
            select(EntityMention.id).where(
                EntityMention.entity_id == w.entities[key],
                EntityMention.item_id == w.items[item],
            )
        ).scalar_one()


def _sides(w: World, proposals: list[dict[str, Any]]) -> set[tuple[str, str, int]]:
    """(list key, "entity" | "mention", id) of the proposals the matcher is sure of."""
    keys = {v: k for k, v in w.records.items()}
    return {
        (
            keys[p["record"]],
            "entity" if "entity" in p else "mention",
            p.get("entity", p.get("mention")),
        )
        for p in proposals
        if p["match"]
    }


def test_proposals_are_the_same_persons_in_both_scripts_and_nobody_else(world: World) -> None:
    done = amanah(world.home, "persons", "link-evidence", LIST, "--json")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(x) for x in done.stdout.splitlines()]
    run_id = lines[0]["run"]
    assert "kept as linkage run" in done.stderr and "1 withdrawn consent" in done.stderr
    truth = {
        ("F1", "entity", world.entities["F1"]),
        ("F1", "mention", _mention(world, "F1", "register.txt")),
        ("F1", "mention", _mention(world, "F1", "statement.txt")),
        ("F2", "entity", world.entities["F2"]),  # Arabic record, Latin entity
        ("F2", "mention", _mention(world, "F2", "report.txt")),
        ("F4", "entity", world.entities["F4"]),
        ("F4", "mention", _mention(world, "F4", "statement.txt")),
    }
    assert _sides(world, lines) == truth  # precision and recall: exactly these
    keys = {v: k for k, v in world.records.items()}
    # the brother (another ism) and the man named nowhere take nothing; nor does F5 (consent)
    assert not [x for x in lines if keys[x["record"]] in ("F3", "F5")]
    assert not [x for x in lines if keys[x["record"]] == "F6" and x["match"]]
    assert all(set(x["explanation"]) == {"parts", "notes"} for x in lines)
    with world.ws.db.reader() as s:
        events = [e.details for e in s.execute(select(CustodyEvent)).scalars()]
    runs = [d for d in map(json.loads, events) if d.get("action") == "person evidence linkage run"]
    assert [(d["run"], d["pairs"], d["withdrawn"]) for d in runs] == [(run_id, len(lines), 1)]
    for name, spelling, _ in PEOPLE.values():
        for x in (name, spelling or name):
            assert x not in "\n".join(events)  # no name at rest in the ledger


def test_accept_links_record_to_entity_and_mention_reject_is_remembered(world: World) -> None:
    boss = admin()
    run1, kept, _ = evidence.link_evidence(world.ws, boss, LIST)
    by = {(p.record_id, p.entity_id, p.mention_id): pid for pid, p in kept}
    f1, f2 = world.records["F1"], world.records["F2"]
    to_entity = by[(f1, world.entities["F1"], None)]
    register = _mention(world, "F1", "register.txt")
    to_mention = by[(f1, None, register)]
    rejected = by[(f2, world.entities["F2"], None)]
    done = review.review(world.ws, boss, to_entity, "accept")
    assert done["record_link"] and done["together_before"] is None
    review.review(world.ws, boss, to_mention, "accept")
    review.review(world.ws, boss, rejected, "reject")
    with world.ws.db.reader() as s:
        rec = s.get(PersonListRecord, f1)
        assert rec is not None
        links = list(
            s.execute(select(PersonRecordLink).where(PersonRecordLink.record_id == f1)).scalars()
        )
        assert len(links) == 2
        entity_link = next(x for x in links if x.entity_id is not None)
        ev = s.get(EvidenceLink, entity_link.evidence_link_id)
        item = s.get(Item, rec.item_id)
        assert ev is not None and item is not None
        # the record's evidence link: pinned to the list's own file and the record's row
        assert (ev.entity_id, ev.item_id, ev.item_sha256) == (
            world.entities["F1"],
            rec.item_id,
            item.sha256,
        )
        assert (ev.locator_kind, ev.start) == ("row", rec.row)
        mention_link = next(x for x in links if x.mention_id is not None)
        m = s.get(EntityMention, register)
        assert m is not None
        assert (mention_link.item_id, mention_link.item_sha256) == (m.item_id, m.item_sha256)
        assert json.loads(mention_link.locator)["span"] == [m.start, m.end]
        made = [
            json.loads(e.details)
            for e in s.execute(
                select(CustodyEvent).where(CustodyEvent.object_type == "item")
            ).scalars()
            if "link person record to evidence" in e.details
        ]
        assert {d["record_link"] for d in made} == {x.id for x in links}
    with world.ws.db.session() as s:
        shown = evidence.record_links(world.ws, s, boss, f1)
    assert {x["evidence"]["kind"] for x in shown} == {"entity", "mention"}
    quoted = next(x for x in shown if x["evidence"]["kind"] == "mention")["evidence"]
    assert quoted["title"] == "register.txt"
    assert " ".join(quoted["quotation"].split()) == "محمد أحمد عبدالله الحلبي"
    # an accepted link stands; decided pairs are never proposed again, the rest are
    with pytest.raises(ReviewError, match="its link to evidence stands"):
        review.review(world.ws, boss, to_entity, "reject")
    _, again, _ = evidence.link_evidence(world.ws, boss, LIST)
    pairs = {(p.record_id, p.entity_id, p.mention_id) for _, p in again}
    assert (f1, world.entities["F1"], None) not in pairs
    assert (f1, None, register) not in pairs
    assert (f2, world.entities["F2"], None) not in pairs
    assert (f2, None, _mention(world, "F2", "report.txt")) in pairs  # not decided: again
    assert run1.id


def test_need_to_know_a_hidden_compartment_is_never_proposed_nor_counted(world: World) -> None:
    rania = analyst("open")
    secret = world.items["statement.txt"]
    run_r, kept, _ = evidence.link_evidence(world.ws, rania, LIST)
    items = {p.item_id for _, p in kept}
    ents = {p.entity_id for _, p in kept}
    assert secret not in items and world.entities["F4"] not in ents
    assert not [p for _, p in kept if p.record_id == world.records["F4"]]
    assert {world.entities["F1"], world.entities["F2"]} <= ents  # the same query, she sees
    assert run_r.pairs == len(kept)
    # the negative control: who holds the compartment gets the hidden side proposed
    run_a, everything, _ = evidence.link_evidence(world.ws, admin(), LIST)
    hidden = [
        pid for pid, p in everything if p.item_id == secret or p.entity_id == world.entities["F4"]
    ]
    assert hidden and run_a.pairs > len(kept)
    with world.ws.db.session() as s:
        # the administrator's run, as she sees it: her pairs, her counts
        mine = review.run_dict(s, rania, review.run_for(s, rania, run_a.id))
        assert mine["pairs"] == len(kept) == mine["to_review"]
        _, queue = review.queue(s, rania, run_a.id, ws=world.ws)
        assert len(queue) == len(kept)
        assert not [q for q in queue if q["evidence"] and q["evidence"].get("item") == secret]
        for pid in hidden:
            with pytest.raises(NotVisible):
                visible_linkage_pair(s, rania, pid)
            with pytest.raises(NotVisible):
                review.pair(s, rania, pid)
    with pytest.raises(NotVisible):
        review.review(world.ws, rania, hidden[0], "accept")
    with world.ws.db.reader() as s:
        assert s.get(LinkagePair, hidden[0]).decision == ""  # type: ignore[union-attr]


def test_withdrawn_consent_is_not_proposed_given_consent_is(world: World) -> None:
    _, kept, counts = evidence.link_evidence(world.ws, admin(), LIST)
    records = {p.record_id for _, p in kept}
    assert world.records["F5"] not in records and counts["withdrawn"] == 1
    assert world.records["F2"] in records  # consent given for investigation: proposed
    with world.ws.db.session() as s:  # consent given again: proposed again
        person_consent.give(s, admin(), f"record:{world.records['F5']}", ["investigation"])
    _, kept, counts = evidence.link_evidence(world.ws, admin(), LIST)
    assert world.records["F5"] in {p.record_id for _, p in kept if p.match}
    assert counts["withdrawn"] == 0
    # withdrawn again before anyone reviewed: the waiting pair is seen by no one, so it
    # cannot be accepted (`evidence.accept` still refuses it too)
    with world.ws.db.session() as s:
        person_consent.withdraw(s, admin(), f"record:{world.records['F5']}")
    waiting = next(pid for pid, p in kept if p.record_id == world.records["F5"])
    done = amanah(world.home, "persons", "review", "accept", str(waiting))
    assert done.returncode == 2 and f"no linkage pair with id {waiting}" in done.stderr
    with world.ws.db.reader() as s:
        assert s.get(LinkagePair, waiting).decision == ""  # type: ignore[union-attr]
        assert not s.execute(
            select(PersonRecordLink).where(PersonRecordLink.record_id == world.records["F5"])
        ).first()


def test_queue_on_the_command_line_shows_the_evidence_beside_the_record(world: World) -> None:
    run_a, kept, _ = evidence.link_evidence(world.ws, admin(), LIST)
    shown = amanah(world.home, "persons", "review", "--run", str(run_a.id))
    assert shown.returncode == 1, shown.stderr  # pairs wait for review
    assert "register.txt" in shown.stdout and "report.txt" in shown.stdout
    assert "Khaled Omar Al-Jasem" in shown.stdout  # the entity's name beside the record
    listed = json.loads(
        amanah(world.home, "persons", "review", "--run", str(run_a.id), "--json").stdout
    )
    kinds = {p["kind"] for p in listed["pairs"]}
    assert kinds == {"entity", "mention"}
    pid = next(pid for pid, p in kept if p.mention_id is not None and p.match)
    done = amanah(world.home, "persons", "review", "accept", str(pid), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["record_link"] >= 1
    wrong = amanah(world.home, "persons", "link-evidence", "No such list")
    assert wrong.returncode == 2 and "no person list named 'No such list'" in wrong.stderr


def test_pages_show_a_records_evidence_and_the_queue_its_quoted_span(world: World) -> None:
    from amanah.access.users import add_user
    from amanah.web.app import create_app
    from tests.test_web_arabic_pages import english_words
    from tests.webfixtures import PASSWORD, TestClient, sign_in

    boss = admin()
    run_a, kept, _ = evidence.link_evidence(world.ws, boss, LIST)
    f1, f4 = world.records["F1"], world.records["F4"]
    for pid, p in kept:
        if p.match and p.record_id in (f1, f4):
            review.review(world.ws, boss, pid, "accept")
    add_user(world.ws, "rania", "analyst", PASSWORD, compartments=("open",), by="local:test")
    c = TestClient(create_app(world.ws))  # type: ignore[arg-type]
    sign_in(c, "rania")
    page = c.get(f"/persons/records/{f1}")
    assert page.status_code == 200
    assert "register.txt" in page.text and "محمد أحمد عبدالله الحلبي" in page.text
    assert f'href="/entities/{world.entities["F1"]}"' in page.text
    assert "statement.txt" not in page.text  # linked, but in a compartment she lacks
    hidden = c.get(f"/persons/records/{f4}")  # a record of her list: its secret links hidden
    assert hidden.status_code == 200 and "statement.txt" not in hidden.text
    # the accepted record-entity link is evidence in her list's own file: she sees it
    assert f'href="/entities/{world.entities["F4"]}"' in hidden.text
    none = c.get(f"/persons/records/{world.records['F3']}")
    assert "No evidence linked that you may see." in none.text
    # the queue shows the record beside the evidence: the item's title or the entity's names
    run_b, _, _ = evidence.link_evidence(world.ws, boss, LIST)
    queue = c.get(f"/persons/runs/{run_b.id}/review")
    assert queue.status_code == 200
    assert "Evidence" in queue.text and ("report.txt" in queue.text or "Khaled" in queue.text)
    assert "statement.txt" not in queue.text
    c.cookies.set("amanah_lang", "ar")
    for url in (f"/persons/records/{f1}", f"/persons/runs/{run_b.id}/review"):
        ar = c.get(url)
        assert ar.status_code == 200 and '<html lang="ar" dir="rtl">' in ar.text
        assert english_words(ar.text) == [], (url, english_words(ar.text))
    assert "الأدلة المربوطة" in c.get(f"/persons/records/{f1}").text
    assert run_a.id != run_b.id


def test_the_queue_schema_migrates_on_postgresql(tmp_path: Path, postgres: Any) -> None:
    """Migration 0030 on the scale-out engine: a pair's second record may be empty, the
    evidence columns and the record links exist."""
    from sqlalchemy import inspect

    home = tmp_path / "home"
    write_default_config(home, postgres.create_database())
    ws = open_workspace(home)
    try:
        found = inspect(ws.db.engine)
        columns = {c["name"]: c for c in found.get_columns("linkage_pairs")}
        assert columns["record_b_id"]["nullable"] is True
        assert {"entity_id", "mention_id"} <= set(columns)
        assert "evidence_link_id" in {c["name"] for c in found.get_columns("person_record_links")}
    finally:
        ws.close()
