"""Search filters person:/unit:/facility:/place: (issue 15): items of an entity found by any
spelling of its name, in either script; items = an accepted evidence link or a mention not
rejected; need-to-know unchanged. Run on every backend: tantivy (SQLite's default),
PostgreSQL's own and FTS5."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from amanah.access import Caller, Role
from amanah.db.models import EntityMention, Item
from amanah.entities.links import link
from amanah.entities.mentions import decide
from amanah.entities.store import add_entity, add_name
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.runner import run
from amanah.search.query import QueryError
from amanah.search.service import search
from amanah.workspace import Workspace, open_workspace
from tests.test_search import make_search_home

BACKENDS = ["sqlite-file", "postgresql-file", "sqlite-file+fts5"]
ADMIN = Caller(actor="local:admin", compartments=frozenset({"open", "secret", "default"}))
ANALYST = Caller(actor="web:rania", compartments=frozenset({"open"}), role=Role.ANALYST)

DOCS = {
    "open": {
        "arabic.txt": "التقرير: محمد احمد الحبو أمر بالاعتقالات في حمص",
        "english.txt": "Report: Muhammad Ahmed Al-Hebo ordered the arrests in Homs.",
        "brother.txt": "Khaled Ahmad Al-Habbo visited Branch 215 on Monday.",
        "linked.txt": "The colonel gave the order that morning.",
        "control.txt": "A weather report: rain over the coast, arrests none.",
    },
    "secret": {"secret.txt": "Mohammad Ahmad Al-Habbo was seen at Saydnaya Prison."},
}


@dataclass
class World:
    ws: Workspace
    person: int


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """Entities first (recorded in one script only where it matters), then the items: their
    processing finds the mentions; one item is tied to the person by an evidence link only."""
    tmp = tmp_path_factory.mktemp("entity-filters")
    ws = open_workspace(make_search_home(request, tmp, request.param))
    with ws.db.session() as s:
        person = add_entity(s, ADMIN, "person", "محمد أحمد الحبو").id
        add_entity(s, ADMIN, "person", "Khaled Ahmad Al-Habbo")
        unit = add_entity(s, ADMIN, "organisation", "Branch 215").id
        add_name(s, ADMIN, unit, "الفرع 215")
        add_entity(s, ADMIN, "place", "حمص")
        add_entity(s, ADMIN, "facility", "Saydnaya Prison")
    for compartment, docs in DOCS.items():
        folder = tmp / compartment
        folder.mkdir()
        for name, body in docs.items():
            (folder / name).write_text(body, encoding="utf-8")
        report = ingest(
            ws,
            IntakeRequest(
                sources=[str(folder)],
                collection=compartment,
                provider="P",
                compartment=compartment,
                actor="t",
            ),
        )
        assert report.status == "complete"
    assert run(ws, workers=1, wait=True).failed == 0
    with ws.db.session() as s:
        linked = s.execute(select(Item.id).where(Item.original_path.like("%linked.txt"))).scalar()
        assert linked is not None
        link(ws, s, ADMIN, linked, entity_id=person, span=(4, 11), quotation="colonel")
    yield World(ws, person)
    ws.close()


def names(ws: Workspace, caller: Caller, q: str) -> set[str]:
    r = search(ws, caller, q, limit=100)
    found = {h.path.rsplit("/", 1)[-1] for h in r.hits}
    assert r.total == len(found), q
    return found


PERSON = {"arabic.txt", "english.txt", "linked.txt", "secret.txt"}


@pytest.mark.parametrize(
    "spelling",
    [
        "Muhammad Ahmed Al-Hebo",
        "Mohammad Ahmad al-Habbo",
        "محمد احمد الحبو",
        "مُحمّد أحمد الحبّو",
        "Mohamed Ahmad Alhabbo",
    ],
)
def test_person_filter_finds_the_items_in_any_spelling(world: World, spelling: str) -> None:
    assert names(world.ws, ADMIN, f'person:"{spelling}"') == PERSON


def test_each_kind_of_entity_filter(world: World) -> None:
    assert names(world.ws, ADMIN, 'person:"Khaled Ahmad Al-Habbo"') == {"brother.txt"}
    assert names(world.ws, ADMIN, 'unit:"Branch 215"') == {"brother.txt"}
    assert names(world.ws, ADMIN, 'unit:"الفرع 215"') == {"brother.txt"}
    assert names(world.ws, ADMIN, "place:Homs") == {"arabic.txt", "english.txt"}
    assert names(world.ws, ADMIN, "place:حمص") == {"arabic.txt", "english.txt"}
    assert names(world.ws, ADMIN, 'facility:"Saydnaya Prison"') == {"secret.txt"}
    # A name of another kind is not a match: Homs is a place, not a person.
    with pytest.raises(QueryError, match="there is no person named 'Homs'"):
        search(world.ws, ADMIN, "person:Homs")


def test_entity_filters_combine_with_words_and_each_other(world: World) -> None:
    p = 'person:"Mohammad Ahmad Al-Habbo"'
    assert names(world.ws, ADMIN, f"{p} place:Homs") == {"arabic.txt", "english.txt"}
    assert names(world.ws, ADMIN, f"{p} -place:Homs") == {"linked.txt", "secret.txt"}
    assert names(world.ws, ADMIN, f"arrests {p}") == {"english.txt"}
    assert names(world.ws, ADMIN, f"arrests -{p}") == {"control.txt"}  # negative control
    both = 'person:"Khaled Ahmad Al-Habbo" person:"Muhammad Ahmed Al-Hebo"'
    assert names(world.ws, ADMIN, both) == PERSON | {"brother.txt"}  # either person


def test_need_to_know_is_unchanged(world: World) -> None:
    p = 'person:"Mohammad Ahmad Al-Habbo"'
    assert names(world.ws, ANALYST, p) == PERSON - {"secret.txt"}
    assert names(world.ws, ANALYST, 'facility:"Saydnaya Prison"') == set()
    # A caller who may read no entity: the person does not exist for them.
    nobody = Caller(actor="web:x", compartments=frozenset({"open"}), role=Role.INTAKE)
    with pytest.raises(QueryError, match="there is no person named"):
        search(world.ws, nobody, p)


def test_unknown_name_is_a_clear_error(world: World) -> None:
    with pytest.raises(QueryError) as err:
        search(world.ws, ADMIN, 'torture person:"Nobody Atall Here"')
    assert err.value.message == "there is no person named 'Nobody Atall Here' (in any spelling)"
    assert err.value.position == 8
    with pytest.raises(QueryError, match="unknown field 'persona:'"):
        search(world.ws, ADMIN, "persona:x")


def test_a_rejected_mention_no_longer_counts(world: World) -> None:
    """It changes the module's world, so it puts the mention back as it was (tests run in
    random order: another test of this module may come after it)."""
    with world.ws.db.session() as s:
        english = s.execute(
            select(EntityMention.id)
            .join(Item, Item.id == EntityMention.item_id)
            .where(EntityMention.entity_id == world.person, Item.original_path.like("%english.txt"))
        ).scalar_one()
        decide(world.ws, s, ADMIN, english, accept=False)
    try:
        assert names(world.ws, ADMIN, 'person:"Muhammad Ahmed Al-Hebo"') == PERSON - {"english.txt"}
    finally:
        with world.ws.db.session() as s:
            s.execute(
                update(EntityMention)
                .where(EntityMention.id == english)
                .values(state="suggested", decided_at=None, decided_by="")
            )
    assert names(world.ws, ADMIN, 'person:"Muhammad Ahmed Al-Hebo"') == PERSON
