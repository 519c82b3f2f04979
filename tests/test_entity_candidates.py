"""Candidate search for `entity match` by pair keys (issue 15, part 8): recall on generated
names asked for in the other script, need-to-know before anything is scored, the index kept
right through merge, unmerge, split and added names, and the same candidates on SQLite and
PostgreSQL. Names are generated from the romanizer's dictionary words, not taken from a list
of people."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import select

from amanah.access import Caller, Role
from amanah.db.models import EntityName, EntityNamePair
from amanah.entities import candidates as cand
from amanah.entities import match as em
from amanah.entities.links import link
from amanah.entities.merge import merge, split, unmerge
from amanah.entities.store import add_entity, add_name
from amanah.text import name_match as nm
from amanah.workspace import Workspace, open_workspace
from benchmarks.entity_match import vocabulary
from tests.conftest import make_home
from tests.webfixtures import Site

ADMIN = Caller(actor="local:test", compartments=frozenset({"blue", "red", "default"}))
PERSON = ("person",)


@pytest.fixture(scope="module")
def words() -> list[tuple[str, list[str], int]]:
    """Dictionary words the parser reads as one part in both scripts, romanised once."""
    vocab = vocabulary()[:400]
    nm.prepare_many([a for a, _, _ in vocab])
    return [v for v in vocab if all(len(nm.parse(w).parts) == 1 for w in (v[0], *v[1][:3]))]


def generated(words: list[tuple[str, list[str], int]], n: int, seed: int) -> list[tuple]:
    """n three-part names: (vocabulary indexes, stored in Arabic, stored name, asked name in
    the other script)."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        parts = rnd.sample(range(len(words)), 3)
        arabic = rnd.random() < 0.5
        ar = " ".join(words[p][0] for p in parts)
        la = " ".join(rnd.choice(words[p][1][:3]) for p in parts)
        out.append((tuple(parts), arabic, ar if arabic else la, la if arabic else ar))
    return out


def ids_of(s, ids: set[int]) -> set[str]:  # type: ignore[no-untyped-def]
    return set(s.execute(select(EntityName.full_name).where(EntityName.id.in_(ids))).scalars())


def pairs_right(ws: Workspace) -> None:
    """Every name's stored pair keys are exactly those of its full name."""
    with ws.db.reader() as s:
        stored: dict[int, set[int]] = {}
        for key, name_id in s.execute(select(EntityNamePair.key, EntityNamePair.name_id)):
            stored.setdefault(name_id, set()).add(key)
        for name_id, full in s.execute(select(EntityName.id, EntityName.full_name)):
            assert stored.get(name_id, set()) == cand.pair_keys(full), full


def test_generated_names_in_both_scripts_are_found_first_by_their_pair_keys(
    sqlite_home: Path, words: list
) -> None:
    people = generated(words, 300, seed=3)
    ws = open_workspace(sqlite_home)
    nm.prepare_many([p[2] for p in people] + [p[3] for p in people])
    with ws.db.session() as s:
        ents = [add_entity(s, ADMIN, "person", stored).id for _, _, stored, _ in people]
    pairs_right(ws)
    hits = namesakes = 0
    asked = random.Random(5).sample(range(len(people)), 60)
    with ws.db.reader() as s:
        for i in asked:
            parts, _, _, query = people[i]
            ranked = cand._ranked_by_pairs(s, cand.pair_keys(query))
            want = s.execute(
                select(EntityName.id).where(EntityName.entity_id == ents[i])
            ).scalar_one()
            assert want in ranked[:5], "the person asked for shares the most pair keys"
            got = em.match(s, ADMIN, em.Query("q", PERSON, (query,), frozenset()), limit=5)
            top = [r["entity"] for r in got["results"]]
            hits += top[:1] == [ents[i]]
            namesakes += bool(top) and people[ents.index(top[0])][0] == parts
    assert (hits, namesakes) == (60, 60)
    ws.close()


def test_a_name_only_on_evidence_the_caller_may_not_see_is_never_a_candidate(
    site: Site,
) -> None:
    blue = Caller(actor="web:rania", compartments=frozenset({"blue"}), role=Role.ANALYST)
    with site.ws.db.session() as s:
        seen = add_entity(s, ADMIN, "person", "Rafiq Suleiman Tlass").id
        link(site.ws, s, ADMIN, site.item("statement-b.txt"), entity_id=seen, span=(0, 3))
        red = add_entity(s, ADMIN, "person", "Rafiq Sulayman Tlass").id
        link(site.ws, s, ADMIN, site.item("سري.txt"), entity_id=red, span=(0, 3))
        alias = add_name(s, ADMIN, seen, "رفيق سليمان طلاس", kind="transliteration").id
        link(site.ws, s, ADMIN, site.item("سري.txt"), name_id=alias, span=(0, 3))
        names = {
            n.entity_id: n.id
            for n in s.execute(select(EntityName).where(EntityName.id != alias)).scalars()
        }
    query = ("رفيق سليمان طلاس",)
    with site.ws.db.reader() as s:
        everything = cand.candidates(s, ADMIN, query, PERSON)
        # negative control: the caller who holds red sees all three, found by their pairs
        assert {names[seen], names[red], alias} <= everything
        assert {names[seen], names[red], alias} <= set(
            cand._ranked_by_pairs(s, cand.pair_keys(query[0]))
        )
        assert cand.candidates(s, blue, query, PERSON) == {names[seen]}
        # nor by the single keys (the fall-back), nor by another kind asked
        assert cand.candidates(s, blue, ("Tlass",), PERSON) == {names[seen]}
        assert cand.candidates(s, ADMIN, query, ("organisation",)) == set()


def test_the_index_stays_right_through_added_names_merge_unmerge_and_split(
    sqlite_home: Path,
) -> None:
    ws = open_workspace(sqlite_home)
    query = ("Mohammad Ahmad al-Habbo",)
    with ws.db.session() as s:
        keep = add_entity(s, ADMIN, "person", "Muhammad Ahmed Al-Hebo").id
        other = add_entity(s, ADMIN, "person", "محمد أحمد الحبو").id
        add_entity(s, ADMIN, "person", "Omar Khaled Tlass")  # shares no pair: never found
    pairs_right(ws)

    def found() -> dict[str, int]:
        with ws.db.reader() as s:
            ids = cand.candidates(s, ADMIN, query, PERSON)
            return dict(
                s.execute(
                    select(EntityName.full_name, EntityName.entity_id).where(EntityName.id.in_(ids))
                ).all()
            )

    assert found() == {"Muhammad Ahmed Al-Hebo": keep, "محمد أحمد الحبو": other}
    with ws.db.session() as s:
        added = add_name(s, ADMIN, keep, "Mohamad Ahmad Habbo", kind="alias").id
    pairs_right(ws)
    assert found()["Mohamad Ahmad Habbo"] == keep
    with ws.db.session() as s:
        merge(s, ADMIN, keep, other)
    pairs_right(ws)
    assert set(found().values()) == {keep}
    with ws.db.reader() as s:
        answer = em.match(s, ADMIN, em.Query("q", PERSON, query, frozenset()))
    assert [r["entity"] for r in answer["results"]] == [keep]  # one entity, not two
    with ws.db.session() as s:
        unmerge(s, ADMIN, other)
    pairs_right(ws)
    assert found() == {
        "Muhammad Ahmed Al-Hebo": keep,
        "محمد أحمد الحبو": other,
        "Mohamad Ahmad Habbo": keep,
    }
    with ws.db.session() as s:
        new = split(s, ADMIN, keep, [added])["entity"]
    pairs_right(ws)
    assert found()["Mohamad Ahmad Habbo"] == new != keep
    ws.close()


NAMES = [
    "محمد أحمد الحبو",
    "Mohamed Ahmed Al-Hebo",
    "Ali Ahmad Al-Habbo",
    "يوسف خالد القباني",
    "Youssef Khaled Kabbani",
    "Jamil Hassan",
    "Deir ez-Zor",
]
ASKED = ["Muhammad Ahmad Habbo", "يوسف خالد قباني", "جميل حسن", "Hassan"]


def test_sqlite_and_postgresql_give_the_same_candidates(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    answers = []
    for engines in ("sqlite-file", "postgresql-file"):
        ws = open_workspace(make_home(request, tmp_path / engines, engines))
        with ws.db.session() as s:
            for name in NAMES:
                add_entity(s, ADMIN, "person", name)
        pairs_right(ws)
        with ws.db.reader() as s:
            answers.append({q: ids_of(s, cand.candidates(s, ADMIN, (q,), PERSON)) for q in ASKED})
        ws.close()
    assert answers[0] == answers[1]
    assert answers[0]["Muhammad Ahmad Habbo"] >= {
        "محمد أحمد الحبو",
        "Mohamed Ahmed Al-Hebo",
        "Ali Ahmad Al-Habbo",
    }
    assert "Youssef Khaled Kabbani" in answers[0]["يوسف خالد قباني"]
    assert "Jamil Hassan" in answers[0]["جميل حسن"]
