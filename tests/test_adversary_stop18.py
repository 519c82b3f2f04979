"""Adversary tests of stop 18's new surfaces: the map and the stored metadata it reads, the
API's search filters as oracles, exact duplicates across compartments, replayed cursors, and
the edits of frameworks. Each finding's test failed on the code before its fix; the tests of
what held are kept as guards, each with its negative control."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select, update

from amanah.access import local_administrator
from amanah.db.models import CustodyEvent, Framework, Item
from amanah.processing.runner import run
from tests.conftest import ingest_folder
from tests.webfixtures import BLUE_JURISDICTION, FILES, RED_JURISDICTION, Site

ALEPPO = '{"latitude": 36.2021, "longitude": 37.1343}'

# -- stored metadata of any shape: one reader, and no page, index or map broken by it --------

#: What a damaged or planted record of an item's metadata may hold (a restored home, an old
#: version's bug, a hand edit): none of it is a dict of plain values.
HOSTILE_METADATA = {
    "not-json": "not json",
    "a-list": "[1, 2]",
    "nested": "[" * 100_000 + "]" * 100_000,
    "nested-in-a-field": '{"pages": ' + "[" * 50_000 + "]" * 50_000 + "}",
    "huge-integer": '{"latitude": 1' + "0" * 400 + ', "longitude": 36.5}',
    "exponent": '{"latitude": 1e308, "longitude": -1e308}',
    "pages-a-list": '{"pages": [1], "duration_seconds": "9"}',
}


def _plant(site: Site, item_id: int, record: str) -> None:
    """The record stored as the item's metadata, and the item indexed again from it (as
    `amanah index rebuild` does), so that `has:gps` reads what is stored."""
    from amanah.search import index

    with site.ws.db.session() as s:
        s.execute(update(Item).where(Item.id == item_id).values(doc_metadata=record))
    index.reindex(site.ws, workers=1)


def _map_items(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'class="mark item[^"]*" data-item="(\d+)"', html)}


@pytest.mark.parametrize("record", list(HOSTILE_METADATA.values()), ids=list(HOSTILE_METADATA))
def test_stored_metadata_of_any_shape_breaks_no_page_no_index_and_no_map(
    site: Site, record: str
) -> None:
    """The item page, the item API, a rebuild of the search index, the map and the evidence
    locators all read an item's stored metadata: each took it on trust (a list, a deep
    nesting or an integer too big for a float raised out of them, a 500 or a failed rebuild
    of the whole index)."""
    from amanah.entities.links import page_count

    blank = site.item("blank.png")
    _plant(site, blank, record)
    c, _ = site.browser("analyst")
    assert c.get(f"/items/{blank}").status_code == 200
    shown = site.api("analyst").get(f"/api/v1/items/{blank}")
    assert shown.status_code == 200 and isinstance(shown.json()["metadata"], dict)
    page = c.get("/map")
    assert page.status_code == 200 and blank not in _map_items(page.text)
    with site.ws.db.reader() as s:
        assert page_count(s, s.get(Item, blank)) == 1  # an image: one page, whatever is stored


def test_a_planted_record_that_is_a_place_is_read_by_the_map(site: Site) -> None:
    """The negative control of the test above: a record that is a place, planted the same way,
    is plotted in its governorate (so the map did read the planted records)."""
    blank = site.item("blank.png")
    _plant(site, blank, ALEPPO)
    c, _ = site.browser("analyst")
    page = c.get("/map")
    assert page.status_code == 200 and blank in _map_items(page.text)
    assert c.get(f"/items/{blank}").status_code == 200


# -- the search's filters as oracles: a hidden thing answers as an absent one ----------------


def _red_entity_and_tag(site: Site) -> None:
    """A person and a tag known only from the red compartment's item."""
    from amanah.analyst import tags
    from amanah.entities import links, store

    admin = local_administrator(site.ws, "analyst:test")
    red = site.item("سري.txt")
    with site.ws.db.session() as s:
        ent = store.add_entity(s, admin, "person", "Qasim Hidden-Redman")
        links.link(site.ws, s, admin, red, entity_id=ent.id, span=(0, 6))
        tags.add(s, admin, red, "redonly")


def _same_answer(a: object, b: object, hidden: str, absent: str) -> None:
    ra, rb = a.json(), b.json()  # type: ignore[attr-defined]
    assert a.status_code == b.status_code == 400, (ra, rb)  # type: ignore[attr-defined]
    assert ra["error"].replace(hidden, "X") == rb["error"].replace(absent, "X")


@pytest.mark.parametrize("field", ["collection", "provider", "person", "tag"])
def test_a_filter_on_a_hidden_thing_answers_as_on_an_absent_one(site: Site, field: str) -> None:
    _red_entity_and_tag(site)
    hidden = {
        "collection": "red-collection",
        "provider": "Red CSO",
        "person": "Qasim Hidden-Redman",
        "tag": "redonly",
    }[field]
    absent = "Nobody Anywhere"
    api = site.api("analyst")
    for q in ("", "witness"):
        a = api.get("/api/v1/search", params={"q": q, field: hidden, "group": "true"})
        b = api.get("/api/v1/search", params={"q": q, field: absent, "group": "true"})
        _same_answer(a, b, hidden, absent)
        # what the caller typed is said back; nothing else of the red compartment
        rest = a.text.replace(hidden, "X")
        assert "red-" not in rest and "Red" not in rest
    # Negative control: who holds the red compartment finds it by the same filter.
    every = site.api("admin").get("/api/v1/search", params={field: hidden})
    assert every.status_code == 200 and site.item("سري.txt") in {
        h["item_id"] for h in every.json()["hits"]
    }


# -- exact duplicates across compartments: a copy out of sight is never shown or counted -----


def _statement_copy(site: Site, tmp_path: object, name: str, compartment: str) -> int:
    """The blue statement's bytes handed over again as `name`, into a new collection of
    `compartment` (by the red provider in red): an item of its own, linked to nobody."""
    from pathlib import Path

    folder = Path(str(tmp_path)) / f"copy-{compartment}"
    folder.mkdir()
    statement = FILES["blue-collection"]["statements/statement-b.txt"]
    (folder / name).write_bytes(statement)
    provider = "Red CSO" if compartment == "red" else "Blue CSO"
    ingest_folder(site.ws, folder, f"{compartment}-copies", provider, compartment=compartment)
    assert run(site.ws, workers=1, wait=True).failed == 0
    with site.ws.db.reader() as s:
        return s.execute(select(Item.id).where(Item.original_path.like(f"%{name}"))).scalar_one()


def _red_copy(site: Site, tmp_path: object) -> int:
    """In the red compartment, its name chosen so it ranks first among equals."""
    return _statement_copy(site, tmp_path, "aaa-first-copy.txt", "red")


def test_a_copy_in_another_compartment_is_neither_shown_nor_counted(site: Site, tmp_path) -> None:
    red = _red_copy(site, tmp_path)
    blue = site.item("statement-b.txt")
    for params in (
        {"q": "checkpoint"},
        {"q": ""},
        {"q": "checkpoint", "sort": "oldest"},
        {"q": "checkpoint", "sort": "received"},  # the red copy, newest, ranks first
    ):
        seen = site.api("analyst").get(
            "/api/v1/search", params={**params, "group": "true", "limit": 100}
        )
        assert seen.status_code == 200
        body = seen.json()
        ids = {h["item_id"] for h in body["hits"]}
        assert blue in ids and red not in ids
        hit = next(h for h in body["hits"] if h["item_id"] == blue)
        assert hit["copies"] == []  # one copy in sight: no "2 copies"
        assert red not in {c["item_id"] for h in body["hits"] for c in h["copies"]}
        assert "red-copies" not in seen.text and "aaa-first-copy" not in seen.text
        assert body["documents"] in (None, body["total"])
    html = site.browser("analyst")[0].get("/search", params={"q": "checkpoint", "group": 1})
    assert html.status_code == 200 and "red-copies" not in html.text
    assert f"/items/{red}" not in html.text and "2 copies" not in html.text
    # Negative control: an administrator sees both copies under one hit.
    every = site.api("admin").get("/api/v1/search", params={"q": "checkpoint", "group": "true"})
    hits = every.json()["hits"]
    assert len(hits) == 1 and {c["item_id"] for c in hits[0]["copies"]} == {blue, red}


# -- a cursor of another caller, or forged, pages only what the caller may see ---------------


def test_a_cursor_replayed_by_another_caller_pages_only_what_it_may_see(site: Site) -> None:
    admin = site.api("admin")
    first = admin.get("/api/v1/search", params={"q": "", "sort": "received", "limit": 1})
    cursor = first.json()["next_cursor"]
    assert cursor
    mine = site.api("analyst").get(
        "/api/v1/search", params={"q": "", "sort": "received", "limit": 100, "cursor": cursor}
    )
    assert mine.status_code == 200
    assert site.item("سري.txt") not in {h["item_id"] for h in mine.json()["hits"]}
    # A cursor naming the hidden item answers as one naming an item that does not exist.
    import base64

    def forged(item_id: int) -> str:
        raw = json.dumps({"sort": "received", "k": 0.0, "i": item_id}).encode()
        return base64.urlsafe_b64encode(raw).decode()

    answers = []
    for item_id in (site.item("سري.txt"), 10**9):
        r = site.api("analyst").get(
            "/api/v1/search",
            params={"q": "", "sort": "received", "limit": 100, "cursor": forged(item_id)},
        )
        answers.append((r.status_code, [h["item_id"] for h in r.json().get("hits", [])]))
    assert answers[0][0] == answers[1][0]
    assert site.item("سري.txt") not in answers[0][1] + answers[1][1]


# -- editing a framework: the same terms in another order change nothing ---------------------


def _framework_events(site: Site) -> int:
    with site.ws.db.reader() as s:
        return s.execute(
            select(func.count()).where(CustodyEvent.event_type == "framework change")
        ).scalar_one()


def test_the_same_jurisdictions_in_another_order_record_no_change(site: Site) -> None:
    """A framework's named jurisdictions are a set: the CLI's repeated option or a form's
    checkboxes in another order are the same terms, and record no custody event."""
    from amanah.rfa import frameworks

    with site.ws.db.reader() as s:
        fid = s.execute(select(Framework.id).where(Framework.title == "Blue MoU")).scalar_one()
    both = sorted([BLUE_JURISDICTION, RED_JURISDICTION])
    with site.ws.db.session() as s:
        assert frameworks.edit(s, fid, "local:test", disclosure="named", jurisdictions=both)
    before = _framework_events(site)
    with site.ws.db.session() as s:
        assert frameworks.edit(s, fid, "local:test", jurisdictions=both[::-1]) == []
        assert frameworks.edit(s, fid, "local:test", jurisdictions=[*both, both[0]]) == []
    c, csrf = site.browser("legal")
    with site.ws.db.reader() as s:
        now = frameworks.current(s, fid)
    r = c.post(
        f"/frameworks/{fid}/edit",
        data={
            "csrf": csrf,
            "title": now["title"],
            "kind": now["kind"],
            "disclosure": "named",
            "jurisdiction": both[::-1],
            "signed_on": now["signed_on"].isoformat(),
            "confidentiality": now["confidentiality"],
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[-2000:]
    assert _framework_events(site) == before
    # Negative control: naming one jurisdiction fewer is a change, recorded once.
    with site.ws.db.session() as s:
        assert frameworks.edit(s, fid, "local:test", jurisdictions=both[:1]) == ["jurisdictions"]
    assert _framework_events(site) == before + 1


# -- a person list's names typed by the mechanism: never a protected person's ---------------

#: The site's protected person (tests/webfixtures.py), as typed carelessly.
PROTECTED_FORMS = ["Zaid Nobody-Here", "ZAID NOBODY-HERE family list", "Zaid <b>Nobody-Here</b>"]


def _bare_list(tmp_path: object) -> object:
    from pathlib import Path

    path = Path(str(tmp_path)) / "bare.csv"
    path.write_bytes("\ufeff1,Ahmad Ali,m,30\r\n2,Mona Saleh,f,41\r\n".encode())
    return path


def _stored_list_words(site: Site) -> str:
    from sqlalchemy import text

    with site.ws.db.reader() as s:
        rows = [
            *s.execute(text("select name || key_column || mapping || report from person_lists")),
            *s.execute(text("select name from collections")),
            *s.execute(text("select coalesce(extra, '') from person_records")),
            *s.execute(text("select coalesce(details, '') from custody_events")),
        ]
    return " ".join(str(r[0]) for r in rows)


@pytest.mark.parametrize("typed", PROTECTED_FORMS)
@pytest.mark.parametrize("where", ["list", "columns"])
def test_a_person_list_or_column_named_after_a_protected_person_is_refused(
    site: Site, tmp_path: object, typed: str, where: str
) -> None:
    """A list's name and the names --columns gives are the mechanism's words, kept in clear
    and shown to everyone who reads the list: like a jurisdiction's words, they may not name
    a protected person (the refusal does not repeat the name, and nothing is recorded)."""
    from amanah.persons.lists import PersonsError, import_list

    admin = local_administrator(site.ws, "analyst:test")
    name = typed if where == "list" else "Bare list"
    columns = ["id", "full_name", "sex", typed if where == "columns" else "age"]
    with pytest.raises(PersonsError) as refused:
        import_list(site.ws, admin, _bare_list(tmp_path), name, key="id", columns=columns)
    assert "protected person" in str(refused.value)
    assert "zaid" not in str(refused.value).casefold()
    assert "zaid" not in _stored_list_words(site).casefold()


def test_a_person_list_under_plain_words_is_read(site: Site, tmp_path: object) -> None:
    """The negative control of the refusals above: the same file and the same request, with
    plain words, is read (both rows, the BOM not part of the first key)."""
    from amanah.persons.lists import import_list

    admin = local_administrator(site.ws, "analyst:test")
    columns = ["id", "full_name", "sex", "age"]
    bare = _bare_list(tmp_path)
    report = import_list(site.ws, admin, bare, "Bare list", key="id", columns=columns)
    assert report.imported == 2
    assert "Bare list" in _stored_list_words(site)


# -- a withdrawal of consent follows the document, not one of its copies ---------------------


def test_an_exact_copy_of_a_withheld_item_is_withheld_too(site: Site, tmp_path: object) -> None:
    """A witness withdrew consent for investigation of their statement; the same file handed
    over again by another provider is the same statement: its text, hits and page were still
    shown (the withdrawal was kept per item id, not per document)."""
    from amanah.sharing import person_consent

    original = site.item("statement-b.txt")
    copy = _statement_copy(site, tmp_path, "statement-copy.txt", "blue")
    legal = local_administrator(site.ws, "legal:test")
    with site.ws.db.session() as s:
        person_consent.link_item(s, legal, "Witness Z", original)
        person_consent.withdraw(s, legal, "Witness Z", ["investigation"])
    api = site.api("analyst")
    found = api.get("/api/v1/search", params={"q": "checkpoint", "group": "true"}).json()
    assert found["total"] == 0 and found["hits"] == []
    assert api.get(f"/api/v1/items/{copy}/text").status_code == 404
    page = site.browser("analyst")[0].get(f"/items/{copy}")
    assert "Withheld: consent for investigation withdrawn." in page.text
    assert "checkpoint" not in page.text and "statement-copy" not in page.text
    assert copy not in {h["item_id"] for h in api.get("/api/v1/search").json()["hits"]}
    # Sharing follows the document too: a package may not carry the copy.
    with site.ws.db.reader() as s:
        assert set(
            person_consent.refusals(
                s, local_administrator(site.ws), {copy: []}, "sharing", BLUE_JURISDICTION
            )
        ) == {copy}
    # Negative control: consent given again shows both copies again, grouped as one document.
    with site.ws.db.session() as s:
        person_consent.give(s, legal, "Witness Z", ["investigation", "sharing"])
    again = api.get("/api/v1/search", params={"q": "checkpoint", "group": "true"}).json()
    assert [sorted(c["item_id"] for c in h["copies"]) for h in again["hits"]] == [
        sorted([original, copy])
    ]
    assert api.get(f"/api/v1/items/{copy}/text").status_code == 200


# -- did you mean: never a word only a hidden item holds ------------------------------------


def test_did_you_mean_never_suggests_a_word_of_a_hidden_compartment(
    site: Site, tmp_path: object
) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path)) / "red-words"
    folder.mkdir()
    (folder / "ledger.txt").write_text("The quartermaster signed the transfer.\n")
    ingest_folder(site.ws, folder, "red-words", "Red CSO", compartment="red")
    assert run(site.ws, workers=1, wait=True).failed == 0
    params = {"q": "quartermastr", "fuzzy": "true"}
    blue = site.api("analyst").get("/api/v1/search", params=params)
    assert blue.status_code == 200 and "quartermaster" not in blue.text
    assert blue.json()["total"] == 0 and blue.json()["suggestion"] is None
    # Negative control: who holds red is offered the word, and the corrected search runs.
    red = site.api("admin").get("/api/v1/search", params=params).json()
    assert red["suggestion"] and "quartermaster" in red["suggestion"]["query"]
    assert red["total"] == 1


# -- the filters one search resolves are bounded, however they are given ----------------------


@pytest.mark.parametrize("field", ["person", "tag", "has"])
def test_a_query_holding_hundreds_of_filters_is_refused_before_any_is_resolved(
    site: Site, field: str
) -> None:
    """The API refused a 51st filter given as a parameter, but the words may hold filters
    too: 2,000 characters of `person:x` are 220 name-matcher scans of every person's names
    (and `tag:`, one query each) in one request, on the page, the API and the map alike."""
    value = {"person": "x", "tag": "x", "has": "text"}[field]
    many = " ".join([f"{field}:{value}"] * 200)
    api = site.api("analyst")
    for url in ("/api/v1/search", "/search", "/map"):
        r = api.get(url, params={"q": many})
        assert r.status_code in (200, 400), (url, r.status_code)
        assert "at most 50 filters in one search" in r.text, url
    # the parameters and the words count together
    r = api.get(
        "/api/v1/search", params={"q": " ".join(["has:text"] * 30), "path": ["statement"] * 21}
    )
    assert r.status_code == 400 and "at most 50 filters" in r.json()["error"]
    # Negative control: fifty are one search, run.
    r = api.get("/api/v1/search", params={"q": " ".join(["has:text"] * 50)})
    assert r.status_code == 200 and r.json()["total"] > 0


# -- a withdrawal follows the document into its parts ---------------------------------------


def test_the_parts_of_a_withheld_archive_are_withheld_too(site: Site, tmp_path: object) -> None:
    """A witness handed over an archive (a statement inside, and another archive inside that);
    consent is linked to the archive they gave. After a withdrawal its members, at every
    level, were still found, read and shareable: they have other bytes and no link of their
    own. A part is governed by the links of the item it came from."""
    import io
    import zipfile
    from pathlib import Path

    from amanah.processing.pipeline import MAX_DEPTH
    from amanah.sharing import person_consent

    assert person_consent.ANCESTRY > MAX_DEPTH  # every part the pipeline opens looks up far enough
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("deeper/annex.txt", "The orchard tunnel was used at night.\n")
    folder = Path(str(tmp_path)) / "handed-over"
    folder.mkdir()
    with zipfile.ZipFile(folder / "testimony.zip", "w") as z:
        z.writestr("testimony.txt", "I was taken through the orchard gate.\n")
        z.writestr("annex.zip", inner.getvalue())
    ingest_folder(site.ws, folder, "blue-handed-over", "Blue CSO", compartment="blue")
    assert run(site.ws, workers=1, wait=True).failed == 0
    with site.ws.db.reader() as s:
        rows = dict(
            s.execute(
                select(Item.original_path, Item.id).where(
                    Item.original_path.like("%testimony.zip%")
                    | Item.original_path.like("%annex%")
                    | Item.original_path.like("%testimony.txt")
                )
            ).all()
        )
    archive = next(i for p, i in rows.items() if p.endswith("testimony.zip"))
    statement = next(i for p, i in rows.items() if p.endswith("testimony.txt"))
    annex = next(i for p, i in rows.items() if p.endswith("annex.txt"))
    api = site.api("analyst")
    assert api.get("/api/v1/search", params={"q": "orchard"}).json()["total"] == 2
    legal = local_administrator(site.ws, "legal:test")
    with site.ws.db.session() as s:
        person_consent.link_item(s, legal, "Witness Z", archive)
        person_consent.withdraw(s, legal, "Witness Z", ["investigation"])
    found = api.get("/api/v1/search", params={"q": "orchard"}).json()
    assert found["total"] == 0 and found["hits"] == []
    for part in (statement, annex):
        assert api.get(f"/api/v1/items/{part}/text").status_code == 404
        page = site.browser("analyst")[0].get(f"/items/{part}")
        assert "Withheld: consent for investigation withdrawn." in page.text
        assert "orchard" not in page.text
    with site.ws.db.reader() as s:
        assert {statement, annex} <= person_consent.hidden_from_investigation(s)
        refused = person_consent.refusals(
            s, local_administrator(site.ws), {statement: [], annex: []}, "sharing", None
        )
        assert set(refused) == {statement, annex}
    # Negative control: consent given again returns both parts.
    with site.ws.db.session() as s:
        person_consent.give(s, legal, "Witness Z", ["investigation", "sharing"])
    assert api.get("/api/v1/search", params={"q": "orchard"}).json()["total"] == 2
    assert api.get(f"/api/v1/items/{annex}/text").status_code == 200
