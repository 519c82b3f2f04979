"""Merge, unmerge and split of entities with provenance (issue 15).

Real PDFs made here with PyMuPDF, ingested and processed for real, mentions found by the real
matcher; the command line run as a user types it. Need-to-know is asserted from the side of a
caller who lacks a compartment: a refusal must say nothing about hidden evidence."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymupdf
import pytest
from sqlalchemy import func, select

from amanah.access import AccessDenied, Caller, Role
from amanah.config import write_default_config
from amanah.db.models import (
    CustodyEvent,
    Entity,
    EntityMention,
    EntityNameKey,
    EntityRelation,
    Item,
)
from amanah.entities import EntityError
from amanah.entities.links import link
from amanah.entities.mentions import find_in_items
from amanah.entities.merge import keeper_of, merge, split, unmerge
from amanah.entities.store import add_entity, add_name, entity_dict, list_entities, relate
from amanah.processing.runner import run
from amanah.workspace import Workspace, open_workspace
from tests.conftest import amanah, ingest_folder, without_semantic

NAMES_IN_CLEAR = ("Habbo", "الحبو", "Halabi", "Jamil")


def pdf(pages: list[str]) -> bytes:
    doc = pymupdf.open()
    for line in pages:
        doc.new_page().insert_text((72, 100), line, fontsize=12)
    data = doc.tobytes()
    doc.close()
    return data


@dataclass
class World:
    home: Path
    ws: Workspace
    open_item: int
    secret_item: int


@pytest.fixture(scope="module")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """Two processed PDFs: `open.pdf` (3 pages, compartment open), `secret.pdf` (secret)."""
    tmp = tmp_path_factory.mktemp("merge")
    home = tmp / "home"
    write_default_config(home)
    without_semantic(home)
    ws = open_workspace(home)
    for compartment, pages in (
        (
            "open",
            [
                "Muhammad Ahmad al-Habbo was seen at the branch",
                "A report on Abu Omar al-Halabi and the checkpoint",
                "End of the report",
            ],
        ),
        ("secret", ["The source says the colonel was there"]),
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
    home = tmp_path / "home"
    shutil.copytree(world_template[0], home)
    ws = open_workspace(home)
    yield World(home, ws, world_template[1]["open.pdf"], world_template[1]["secret.pdf"])
    ws.close()


ADMIN = Caller(actor="local:admin", compartments=frozenset({"open", "secret", "default"}))


def analyst(*compartments: str) -> Caller:
    return Caller(actor="web:rania", compartments=frozenset(compartments), role=Role.ANALYST)


def entity_events(ws: Workspace) -> list[CustodyEvent]:
    with ws.db.reader() as s:
        return list(
            s.execute(
                select(CustodyEvent)
                .where(CustodyEvent.event_type == "entity change")
                .order_by(CustodyEvent.seq)
            ).scalars()
        )


def snapshot(ws: Workspace, ids: list[int]) -> dict[str, Any]:
    """Everything a merge touches, as plain data: each entity as shown, and who owns each
    mention and each name key."""
    with ws.db.reader() as s:
        return {
            "entities": {i: entity_dict(s, ADMIN, s.get(Entity, i)) for i in ids},
            "mentions": sorted(
                (m.id, m.entity_id, m.name_id) for m in s.execute(select(EntityMention)).scalars()
            ),
            "keys": sorted(
                set(s.execute(select(EntityNameKey.name_id, EntityNameKey.entity_id)).all())
            ),
        }


@dataclass
class Pair:
    keep: int
    other: int
    unit: int
    third: int
    member_of: int
    associate: int
    same_as: int
    other_names: list[int]


def make_pair(w: World) -> Pair:
    """KEEP and OTHER, one person recorded twice: OTHER with an Arabic name, an alias that
    KEEP lacks, a relation at each end, evidence on it and on its relation, mentions."""
    with w.ws.db.session() as s:
        keep = add_entity(s, ADMIN, "person", "Muhammad Ahmad al-Habbo").id
        other = add_entity(s, ADMIN, "person", "محمد أحمد الحبو").id
        alias = add_name(s, ADMIN, other, "Abu Omar al-Halabi", kind="alias").id
        unit = add_entity(s, ADMIN, "organisation", "Branch 215").id
        third = add_entity(s, ADMIN, "person", "Jamil Hassan Khalil").id
        member_of = relate(s, ADMIN, other, "member_of", unit, valid_from="2011-03").id
        associate = relate(s, ADMIN, third, "associate", other, valid_to="2012").id
        same_as = relate(s, ADMIN, keep, "same_as", other).id
        relate(s, ADMIN, keep, "holds_post", unit, detail="officer")
    with w.ws.db.session() as s:
        link(w.ws, s, ADMIN, w.open_item, entity_id=other, page=2, rects=["72,80,300,110"])
        link(w.ws, s, ADMIN, w.open_item, relation_id=member_of, page=1, rects=["72,80,300,110"])
        with_name = s.execute(
            select(func.min(EntityNameKey.name_id)).where(EntityNameKey.entity_id == other)
        ).scalar_one()
    find_in_items(w.ws, ADMIN, [w.open_item])
    return Pair(keep, other, unit, third, member_of, associate, same_as, sorted({with_name, alias}))


def test_merge_moves_everything_in_one_event_and_unmerge_restores_exactly(world: World) -> None:
    w = world
    p = make_pair(w)
    ids = [p.keep, p.other, p.unit, p.third]
    before = snapshot(w.ws, ids)
    other_mentions = [m for m in before["mentions"] if m[1] == p.other]
    assert any(m[2] == p.other_names[1] for m in other_mentions), "the alias was not found"
    events = len(entity_events(w.ws))

    with w.ws.db.session() as s:
        done = merge(s, ADMIN, p.keep, p.other, reason="one passport number")
    after = snapshot(w.ws, ids)
    new_events = entity_events(w.ws)[events:]
    assert len(new_events) == 1  # one custody event for the whole merge
    details = json.loads(new_events[0].details)
    assert (details["action"], details["keep"], details["other"]) == ("merge", p.keep, p.other)
    assert details["names"] == p.other_names
    assert details["relations_subject"] == [p.member_of]
    assert details["relations_object"] == [p.associate]
    assert details["same_as"] == [p.same_as]
    assert len(details["reason_sha256"]) == 64
    assert not any(n in new_events[0].details for n in (*NAMES_IN_CLEAR, "passport"))

    keep = after["entities"][p.keep]
    moved_names = {n["id"] for n in keep["names"]} & set(p.other_names)
    assert moved_names == set(p.other_names)
    assert after["entities"][p.other]["names"] == []
    rels = {r["id"]: r for r in keep["relations"]}
    assert rels[p.member_of]["subject"] == p.keep and rels[p.member_of]["valid_from"] == "2011-03"
    assert rels[p.associate]["object"] == p.keep
    # `same as` between the two is the suggestion taken: it stays as it was.
    assert (rels[p.same_as]["subject"], rels[p.same_as]["object"]) == (p.keep, p.other)
    assert {x["id"] for x in before["entities"][p.other]["evidence"]} <= {
        x["id"] for x in keep["evidence"]
    }
    # Name keys follow their names; the mention of the alias (KEEP had none there) moves,
    # mentions of the same words KEEP was already found at stay behind, as recorded.
    assert all(e == p.keep for n, e in after["keys"] if n in p.other_names)
    owner = {m[0]: m[1] for m in after["mentions"]}
    for mid, _, _name in other_mentions:
        assert owner[mid] == (p.other if mid in details["mentions_left"] else p.keep)
        assert (mid in details["mentions"]) != (mid in details["mentions_left"])
    assert any(m[2] == p.other_names[1] and owner[m[0]] == p.keep for m in other_mentions)
    assert done["moved"] == {
        "names": 2,
        "relations": 2,
        "links": 1,
        "mentions": len(details["mentions"]),
    }

    with w.ws.db.reader() as s:
        assert keeper_of(s, ADMIN, p.other)[0].id == p.keep
        assert p.other not in {e["id"] for e in list_entities(s, ADMIN)}
    with w.ws.db.session() as s, pytest.raises(EntityError, match=f"merged into entity {p.keep}"):
        add_name(s, ADMIN, p.other, "Another Name")
    with w.ws.db.session() as s:  # a name added to the keeper after the merge stays with it
        later = add_name(s, ADMIN, p.keep, "M. A. Habbo").id

    with w.ws.db.session() as s:
        undone = unmerge(s, ADMIN, p.other)
    assert undone["moved"] == done["moved"]
    restored = snapshot(w.ws, ids)
    keep_now = restored["entities"][p.keep]
    assert [n["id"] for n in keep_now["names"]][-1] == later
    keep_now["names"] = [n for n in keep_now["names"] if n["id"] != later]
    restored["keys"] = [k for k in restored["keys"] if k[0] != later]
    assert restored == before
    last = json.loads(entity_events(w.ws)[-1].details)
    assert (last["action"], last["merge"]) == ("unmerge", done["merge"])
    with w.ws.db.session() as s, pytest.raises(EntityError, match="is not merged"):
        unmerge(s, ADMIN, p.other)


def test_cli_merge_show_unmerge_and_refusals(sqlite_home: Path) -> None:
    def add(kind: str, name: str) -> int:
        return json.loads(
            amanah(sqlite_home, "entity", "add", kind, name, "--json", check=True).stdout
        )["id"]

    keep, other, unit = (
        add("person", "Ali Mamlouk"),
        add("person", "علي مملوك"),
        add("organisation", "National Security Bureau"),
    )
    son = add("person", "Ali Mamlouk Junior")
    amanah(sqlite_home, "entity", "relate", str(other), "commands", str(unit), check=True)
    amanah(sqlite_home, "entity", "relate", str(keep), "family", str(son), check=True)

    for args, reason in (
        ((str(keep), str(keep)), f"entity {keep} cannot be merged into itself"),
        ((str(keep), str(unit)), "only entities of one kind can be merged"),
        ((str(keep), str(son)), "they are not merged"),
        ((str(keep), "999"), "no entity with id 999"),
    ):
        proc = amanah(sqlite_home, "entity", "merge", *args)
        assert proc.returncode == 2, proc
        assert reason in proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr

    proc = amanah(sqlite_home, "entity", "merge", str(keep), str(other), "--reason", "same man")
    assert proc.returncode == 0, proc.stderr
    assert f"entity {other} merged into {keep}: 1 name(s), 1 relation(s)" in proc.stdout
    shown = amanah(sqlite_home, "entity", "show", str(other), check=True).stdout
    assert f"entity {other} merged into {keep}" in shown and "علي مملوك" in shown
    data = json.loads(amanah(sqlite_home, "entity", "show", str(other), "--json").stdout)
    assert data["merged_into"] == keep and data["keeper"]["id"] == keep
    assert {r["subject"] for r in data["keeper"]["relations"] if r["kind"] == "commands"} == {keep}
    listed = json.loads(amanah(sqlite_home, "entity", "list", "--json").stdout)
    assert other not in {e["id"] for e in listed}
    again = amanah(sqlite_home, "entity", "merge", str(keep), str(other))
    assert again.returncode == 2 and f"merged into entity {keep}" in again.stdout + again.stderr

    proc = amanah(sqlite_home, "entity", "unmerge", str(other), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["moved"]["names"] == 1
    back = json.loads(amanah(sqlite_home, "entity", "show", str(other), "--json").stdout)
    assert [n["name"] for n in back["names"]] == ["علي مملوك"]
    assert [r["subject"] for r in back["relations"]] == [other]

    # split the command back off, with its name, into a new entity
    rel = back["relations"][0]["id"]
    proc = amanah(sqlite_home, "entity", "name", "add", str(other), "Abu Ayman", "--kind", "kunya")
    name = int(proc.stdout.split()[1])
    proc = amanah(
        sqlite_home, "entity", "split", str(other), "--names", str(name), "--relations", str(rel)
    )
    assert proc.returncode == 0, proc.stderr
    assert f"split from {other}: 1 name(s), 1 relation(s)" in proc.stdout
    bad = amanah(sqlite_home, "entity", "split", str(other), "--names", "one,two")
    assert (
        bad.returncode == 2 and "--names 'one,two' is not a list of ids" in bad.stdout + bad.stderr
    )


def test_merge_need_to_know(world: World) -> None:
    """No permission: refused. An entity known only from evidence the caller cannot see: the
    same words as an absent one. A visible entity with hidden evidence: refused by a rule on
    the caller, in words that are the same for an entity with nothing hidden."""
    w = world
    with w.ws.db.session() as s:
        a = add_entity(s, ADMIN, "person", "Rafiq Shahadah").id
        b = add_entity(s, ADMIN, "person", "رفيق شحادة").id
        hidden = add_entity(s, ADMIN, "person", "Hidden Source Person").id
        c = add_entity(s, ADMIN, "person", "Rafiq Shehadeh").id
        unit = add_entity(s, ADMIN, "organisation", "Branch 235").id
        rel = relate(s, ADMIN, c, "commands", unit).id
    with w.ws.db.session() as s:
        link(w.ws, s, ADMIN, w.secret_item, entity_id=hidden, page=1, rects=["72,80,300,110"])
        link(w.ws, s, ADMIN, w.secret_item, relation_id=rel, page=1, rects=["72,80,300,110"])
        # c is seen (evidence in `open`), its relation is not (only evidence in `secret`).
        link(w.ws, s, ADMIN, w.open_item, entity_id=c, page=3, rects=["72,80,300,110"])
    events = len(entity_events(w.ws))
    legal = Caller(actor="web:l", compartments=ADMIN.compartments, role=Role.LEGAL)
    with w.ws.db.session() as s, pytest.raises(AccessDenied, match=r"may not entities\.manage"):
        merge(s, legal, a, b)

    outsider = analyst("open", "default")
    with w.ws.db.session() as s, pytest.raises(EntityError) as seen_hidden:
        merge(s, outsider, a, hidden)
    with w.ws.db.session() as s, pytest.raises(EntityError) as seen_absent:
        merge(s, outsider, a, 99999)
    assert str(seen_hidden.value) == f"no entity with id {hidden}"
    assert str(seen_absent.value) == "no entity with id 99999"

    refusals = []
    for first, second in ((a, c), (a, b)):  # c has a hidden relation, b nothing hidden
        with w.ws.db.session() as s, pytest.raises(AccessDenied) as refused:
            merge(s, outsider, first, second)
        refusals.append(str(refused.value))
    with w.ws.db.session() as s, pytest.raises(AccessDenied) as refused:
        split(s, outsider, c, [])
    refusals.append(str(refused.value).replace("splitting", "merging"))
    assert len(set(refusals)) == 1 and "every compartment" in refusals[0]
    assert str(c) not in refusals[0] and str(rel) not in refusals[0]
    assert len(entity_events(w.ws)) == events  # nothing happened

    with w.ws.db.session() as s:  # who holds every compartment may
        assert merge(s, ADMIN, a, c)["moved"]["relations"] == 1
    with w.ws.db.reader() as s:
        assert s.get(EntityRelation, rel).subject_id == a


def test_split_makes_a_new_entity_from_chosen_rows(world: World) -> None:
    w = world
    with w.ws.db.session() as s:
        person = add_entity(s, ADMIN, "person", "Muhammad Ahmad al-Habbo").id
        brother = add_name(s, ADMIN, person, "Abu Omar al-Halabi").id
        keep_name = add_name(s, ADMIN, person, "محمد أحمد الحبو").id
        unit = add_entity(s, ADMIN, "organisation", "Branch 215").id
        r1 = relate(s, ADMIN, person, "member_of", unit, valid_from="2012").id
        r2 = relate(s, ADMIN, person, "holds_post", unit).id
    with w.ws.db.session() as s:
        l1 = link(w.ws, s, ADMIN, w.open_item, entity_id=person, page=2, rects=["1,1,9,9"]).id
        l2 = link(w.ws, s, ADMIN, w.open_item, entity_id=person, page=1, rects=["1,1,9,9"]).id
    find_in_items(w.ws, ADMIN, [w.open_item])
    with w.ws.db.reader() as s:
        alias_mentions = set(
            s.execute(select(EntityMention.id).where(EntityMention.name_id == brother)).scalars()
        )
    assert alias_mentions, "the alias was not found in the PDF"

    for kwargs, reason in (
        ({"names": [keep_name + 100]}, f"name {keep_name + 100} is not a name of entity"),
        ({"names": []}, "at least one name"),
        ({"names": [brother], "relations": [r1 + 100]}, "does not involve entity"),
        ({"names": [brother], "links": [l1 + 100]}, "is not on entity"),
    ):
        with w.ws.db.session() as s, pytest.raises(EntityError, match=reason):
            split(s, ADMIN, person, **kwargs)
    with w.ws.db.reader() as s:
        every = [n["id"] for n in entity_dict(s, ADMIN, s.get(Entity, person))["names"]]
    with w.ws.db.session() as s, pytest.raises(EntityError, match="would keep no name"):
        split(s, ADMIN, person, every)

    events = len(entity_events(w.ws))
    with w.ws.db.session() as s:
        done = split(s, ADMIN, person, [brother], [r1], [l1])
    new = done["entity"]
    assert len(entity_events(w.ws)) == events + 1
    with w.ws.db.reader() as s:
        shown = entity_dict(s, ADMIN, s.get(Entity, new))
        old = entity_dict(s, ADMIN, s.get(Entity, person))
        moved_mentions = set(
            s.execute(select(EntityMention.id).where(EntityMention.entity_id == new)).scalars()
        )
        keys = set(
            s.execute(
                select(EntityNameKey.entity_id).where(EntityNameKey.name_id == brother)
            ).scalars()
        )
    assert [n["id"] for n in shown["names"]] == [brother]
    assert keep_name in [n["id"] for n in old["names"]]
    assert [r["id"] for r in shown["relations"]] == [r1]
    assert [r["id"] for r in old["relations"]] == [r2]
    assert [x["id"] for x in shown["evidence"] if x.get("entity") == new] == [l1]
    assert l2 in [x["id"] for x in old["evidence"]]
    assert moved_mentions == alias_mentions and keys == {new}
    assert shown["kind"] == "person" and shown["origin"] == f"split:{person}"
