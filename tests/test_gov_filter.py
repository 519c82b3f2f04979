"""`gov:` in the query language: the items whose GPS point lies in a governorate, named by
P-code, English or Arabic name or a common spelling, on every backend (tantivy, FTS5,
PostgreSQL) through the same service call; it only narrows what need-to-know, a provider's
scope and consent already allow; an unknown or hostile value is refused with the names that
are accepted, in English and Arabic, never a traceback. Real JPEGs with EXIF GPS, ingested
and processed; the governorate written at processing, and by `fill` for items processed
before it existed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from amanah.access import Caller, Role, local_administrator
from amanah.db.models import Collection, Item
from amanah.geo import names, placed
from amanah.processing.runner import run
from amanah.search.engine import Results
from amanah.search.query import QueryError, parse
from amanah.search.service import search
from amanah.workspace import Workspace, open_workspace
from tests.conftest import amanah, ingest_folder
from tests.test_search import make_search_home
from tests.test_web_map import ALEPPO, BEIRUT, DAMASCUS, DOUMA, HOMS, _photo

#: Within Aleppo city, a second point (Aleppo's eastern districts).
ALEPPO_EAST = (36.2100, 37.1900)
BLUE = {
    "aleppo.jpg": ALEPPO,
    "aleppo-east.jpg": ALEPPO_EAST,
    "damascus.jpg": DAMASCUS,
    "douma.jpg": DOUMA,
    "beirut.jpg": BEIRUT,
}
RED = {"homs-red.jpg": HOMS, "aleppo-red.jpg": ALEPPO}
BLUE_ANALYST = Caller("user:blue", frozenset({"blue"}), Role.ANALYST)
RED_ANALYST = Caller("user:red", frozenset({"red"}), Role.ANALYST)
BOTH = Caller("user:both", frozenset({"blue", "red"}), Role.ANALYST)


def _build(home: Path, tmp: Path) -> Workspace:
    ws = open_workspace(home)
    for coll, photos, provider, compartment in (
        ("blue-photos", BLUE, "Blue CSO", "blue"),
        ("red-photos", RED, "Red CSO", "red"),
    ):
        folder = tmp / coll
        folder.mkdir()
        for n, (name, (lat, lon)) in enumerate(photos.items()):
            (folder / name).write_bytes(_photo(lat, lon, n))
        # Aleppo named in words, with no place: gov: is not a word search.
        (folder / f"{coll}-report.txt").write_text("A report on Aleppo and حلب.\n", "utf-8")
        ingest_folder(ws, folder, coll, provider, compartment=compartment)
    assert run(ws, workers=2, wait=True).failed == 0
    return ws


@pytest.fixture(scope="module", params=["sqlite-file", "sqlite-file+fts5", "postgresql-file"])
def ws(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    tmp = tmp_path_factory.mktemp("gov")
    made = _build(make_search_home(request, tmp, request.param), tmp)
    yield made
    made.close()


def _names(r: Results) -> set[str]:
    return {h.path.rsplit("/", 1)[-1] for h in r.hits}


def _find(ws: Workspace, caller: Caller, q: str, **kw: object) -> set[str]:
    return _names(search(ws, caller, q, limit=100, **kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    ["Aleppo", "حلب", "SY02", "sy02", "Halab", '"Aleppo"', "ALEPPO"],
)
def test_gov_finds_the_items_captured_there_by_any_of_its_names(ws: Workspace, value: str) -> None:
    assert _find(ws, BOTH, f"gov:{value}") == {"aleppo.jpg", "aleppo-east.jpg", "aleppo-red.jpg"}


def test_each_governorate_holds_its_own_items_and_the_words_still_apply(ws: Workspace) -> None:
    assert _find(ws, BOTH, 'gov:"Rural Damascus"') == {"douma.jpg"}
    assert _find(ws, BOTH, 'gov:"ريف دمشق"') == {"douma.jpg"}
    assert _find(ws, BOTH, "gov:Damascus") == {"damascus.jpg"}  # not Rural Damascus's
    assert _find(ws, BOTH, "gov:Idlib") == set()  # a governorate with no item: nothing
    # Either of two; excluded with a minus; with a word search, both must hold.
    assert _find(ws, BOTH, "gov:Homs gov:Damascus") == {"homs-red.jpg", "damascus.jpg"}
    everything = _find(ws, BOTH, "has:gps")
    assert "beirut.jpg" in everything  # outside Syria: in no governorate
    assert _find(ws, BOTH, "has:gps -gov:Aleppo") == everything - {
        "aleppo.jpg",
        "aleppo-east.jpg",
        "aleppo-red.jpg",
    }
    # The reports that name Aleppo in words have no place: not found by gov:, found by words.
    assert _find(ws, BOTH, "aleppo") == {"blue-photos-report.txt", "red-photos-report.txt"}
    assert _find(ws, BOTH, "aleppo gov:Aleppo") == set()
    # The service's filter parameter (the API's `governorate=`) is the same filter.
    assert _find(ws, BOTH, "*", filters=[("gov", "حلب")]) == _find(ws, BOTH, "gov:SY02")


def test_gov_only_narrows_what_need_to_know_allows(ws: Workspace) -> None:
    assert _find(ws, BLUE_ANALYST, "gov:Aleppo") == {"aleppo.jpg", "aleppo-east.jpg"}
    assert _find(ws, RED_ANALYST, "gov:Aleppo") == {"aleppo-red.jpg"}
    assert _find(ws, BLUE_ANALYST, "gov:Homs") == set()  # the red photo stays unseen
    r = search(ws, BLUE_ANALYST, "gov:Homs", facets=True)
    assert r.total == 0 and not any(r.facets.values())
    # A provider's account: its own provider's items only, gov: or not.
    with ws.db.reader() as s:
        red_provider = s.execute(
            select(Collection.provider_id).where(Collection.name == "red-photos")
        ).scalar_one()
    provider = Caller("user:redcso", frozenset({"red"}), Role.PROVIDER, provider_id=red_provider)
    assert _find(ws, provider, "gov:Aleppo") == {"aleppo-red.jpg"}
    assert _find(ws, provider, "gov:Damascus") == set()


def test_a_photo_whose_person_withdrew_consent_is_not_found_by_gov(ws: Workspace) -> None:
    from amanah.sharing import person_consent, protected

    admin = local_administrator(ws)
    with ws.db.reader() as s:
        photo = s.execute(
            select(Item.id).where(Item.original_path.like("%aleppo-east.jpg"))
        ).scalar_one()
    with ws.db.session() as s:
        protected.add(s, admin, "Witness Gov", ["Rami Shaheen Fictional"])
        person_consent.link_item(s, admin, "Witness Gov", photo)
        person_consent.withdraw(s, admin, "Witness Gov", ["investigation"])
    try:
        assert _find(ws, BOTH, "gov:Aleppo") == {"aleppo.jpg", "aleppo-red.jpg"}
    finally:
        with ws.db.session() as s:
            person_consent.give(s, admin, "Witness Gov", ["investigation"])
    assert "aleppo-east.jpg" in _find(ws, BOTH, "gov:Aleppo")  # control: given again


@pytest.mark.parametrize(
    "value",
    ["Narnia", '"; drop table items; --"', "x" * 3000, "SY99", "SY1", "'", "حلبب"],
)
def test_an_unknown_governorate_is_named_with_the_accepted_names_in_both_languages(
    value: str,
) -> None:
    with pytest.raises(QueryError) as caught:
        parse(f"gov:{value}")
    message = str(caught.value)
    shown = value.strip('"')[:60]
    assert f"gov:{shown}" in message and f"«{shown}" in message
    assert "Aleppo (SY02)" in message and "حلب (SY02)" in message  # both languages
    assert "ليست محافظة" in message and len(message) < 1200


def test_hostile_values_are_refused_by_every_entry_point_without_a_traceback(
    ws: Workspace,
) -> None:
    for q in ("gov:", "gov:   ", "gov:" + "x" * 10_000, 'gov:"; drop'):
        with pytest.raises(QueryError) as caught:
            search(ws, BOTH, q)
        assert "Traceback" not in str(caught.value)
    with pytest.raises(QueryError, match="needs a value"):
        parse("gov:")
    with pytest.raises(QueryError, match="longer than 4,000"):
        search(ws, BOTH, "*", filters=[("gov", "x" * 10_000)])
    with pytest.raises(QueryError, match=r"'gov:x{60}…' is not a governorate"):
        search(ws, BOTH, "*", filters=[("gov", "x" * 300)])
    # Nothing was harmed: the same search still answers.
    assert "aleppo.jpg" in _find(ws, BOTH, "gov:Aleppo")


def test_every_shipped_name_and_spelling_names_one_governorate_only() -> None:
    from amanah.geo.boundaries import load

    seen: dict[str, str] = {}
    for g in load().governorates:
        for name in (g.pcode, g.en, g.ar, *names.VARIANTS[g.pcode]):
            key = names.fold(name)
            assert seen.setdefault(key, g.pcode) == g.pcode, (name, seen[key], g.pcode)
            assert names.find(name) is not None and names.find(name).pcode == g.pcode  # type: ignore[union-attr]
    assert len(names.VARIANTS) == 14


def test_items_processed_before_the_key_are_placed_and_fill_writes_it(ws: Workspace) -> None:
    """An item whose metadata lacks the key (processed by an earlier version) is still found
    (placed on the fly); `amanah upgrade` writes it (`fill`, also run by reindex), once."""
    with ws.db.session() as s:
        rows = s.execute(
            select(Item.id, Item.doc_metadata).where(Item.doc_metadata.like('%"latitude"%'))
        ).all()
        assert rows and all(json.loads(m)[placed.KEY] is not None for _, m in rows)
        for item_id, metadata in rows:
            old = {k: v for k, v in json.loads(metadata).items() if k != placed.KEY}
            s.execute(update(Item).where(Item.id == item_id).values(doc_metadata=json.dumps(old)))
    assert _find(ws, BOTH, "gov:Aleppo") == {"aleppo.jpg", "aleppo-east.jpg", "aleppo-red.jpg"}
    done = amanah(ws.settings.home, "upgrade", "--json", check=True)
    assert json.loads(done.stdout)["placed"] == len(rows)
    with ws.db.session() as s:
        assert placed.fill(s) == 0  # written once
        beirut = s.execute(
            select(Item.doc_metadata).where(Item.original_path.like("%beirut.jpg"))
        ).scalar_one()
        assert json.loads(beirut)[placed.KEY] == ""
    assert _find(ws, BOTH, "gov:Aleppo") == {"aleppo.jpg", "aleppo-east.jpg", "aleppo-red.jpg"}


def test_a_key_planted_in_a_metadata_dump_places_nothing(ws: Workspace) -> None:
    """Only the key `place` writes first counts: a same-named key in an EXIF dump, or inside
    a string, is not the item's governorate (and gov: does not find the item by it)."""
    nested = placed.dumps({"raw": {"governorate": "SY02"}, "latitude": 1, "longitude": 1})
    in_string = placed.dumps({"note": '{"governorate": "SY02", "x": 1}'})
    real = placed.dumps(placed.place({"latitude": ALEPPO[0], "longitude": ALEPPO[1]}))
    assert real.startswith('{"governorate": "SY02", ')
    assert placed._AT_START.match(real)[1] == "SY02"  # type: ignore[index]
    assert placed._AT_START.match(nested) is None and placed._AT_START.match(in_string) is None
    with ws.db.session() as s:
        beirut = s.execute(
            select(Item.id).where(Item.original_path.like("%beirut.jpg"))
        ).scalar_one()
        was = s.get(Item, beirut).doc_metadata  # type: ignore[union-attr]
        planted = {"raw": {"governorate": "SY02"}} | {
            k: v for k, v in json.loads(was).items() if k != placed.KEY
        }
        s.execute(update(Item).where(Item.id == beirut).values(doc_metadata=json.dumps(planted)))
    try:
        assert "beirut.jpg" not in _find(ws, BOTH, "gov:Aleppo")
        assert "beirut.jpg" in _find(ws, BOTH, "has:gps")  # control: still found otherwise
    finally:
        with ws.db.session() as s:
            s.execute(update(Item).where(Item.id == beirut).values(doc_metadata=was))
