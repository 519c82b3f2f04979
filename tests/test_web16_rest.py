"""The rest of issue 16: the API's search at parity with the page, exact duplicates grouped
across pages on every backend, the document date never a file's modification time, facet
values labelled in both languages, and the legal officer's edits of frameworks and
jurisdictions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from amanah.access import Caller, local_administrator
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.runner import run
from amanah.search.service import search
from amanah.workspace import Workspace, open_workspace
from tests.conftest import amanah, amanah_here
from tests.test_search import BACKENDS, make_search_home
from tests.webfixtures import Site

# --- exact duplicates across pages -------------------------------------------------------------

#: Seven documents; five of them handed over twice (by two providers), so a search for the
#: common word finds 12 hits and 7 documents, and pages of 2 put copies on different pages.
DOCS = {f"doc{i}": f"convoy report number {i} " + "convoy " * i for i in range(7)}
TWICE = {"doc0", "doc2", "doc3", "doc5", "doc6"}
OPEN = Caller(actor="analyst:open", compartments=frozenset({"default"}))


@pytest.fixture(scope="module", params=BACKENDS)
def copies(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    tmp = tmp_path_factory.mktemp("copies")
    ws = open_workspace(make_search_home(request, tmp, request.param))
    handovers = {
        ("first", "Demo Centre"): DOCS,
        ("second", "Second Centre"): {k: v for k, v in DOCS.items() if k in TWICE},
    }
    for (coll, provider), docs in handovers.items():
        folder = tmp / coll
        folder.mkdir()
        for name, body in docs.items():
            (folder / f"{coll}-{name}.txt").write_text(body, encoding="utf-8")
        report = ingest(
            ws,
            IntakeRequest(sources=[str(folder)], collection=coll, provider=provider, actor="t"),
        )
        assert report.status == "complete"
    assert run(ws, workers=2, wait=True).failed == 0
    yield ws
    ws.close()


def _pages(ws: Workspace, caller: Caller, q: str, sort: str | None, group: bool) -> list:
    hits, cursor, pages = [], None, 0
    while True:
        r = search(ws, caller, q, limit=2, sort=sort, cursor=cursor, group=group)
        assert len(r.hits) <= 2
        hits += r.hits
        pages += 1
        cursor = r.next_cursor
        if cursor is None:
            return hits
        assert pages < 20, "the cursor does not move"


def _doc(hit: object) -> str:
    return hit.path.rsplit("-", 1)[-1].removesuffix(".txt")  # type: ignore[attr-defined]


@pytest.mark.parametrize("q,sort", [("convoy", None), ("", "received"), ("", "oldest")])
def test_each_document_is_one_hit_across_every_page_at_its_best_copys_rank(
    copies: Workspace, q: str, sort: str | None
) -> None:
    ungrouped = _pages(copies, OPEN, q, sort, group=False)
    assert len(ungrouped) == 12  # more than one page of hits, copies on different pages
    grouped = _pages(copies, OPEN, q, sort, group=True)
    shas = [h.sha256 for h in grouped]
    assert len(shas) == len(set(shas)) == 7  # each document once, none skipped
    # at the rank of its best copy: the order of first appearances in the ungrouped list
    first: list[str] = []
    for h in ungrouped:
        if h.sha256 not in first:
            first.append(h.sha256)
    assert shas == first
    best = {}
    for h in ungrouped:
        best.setdefault(h.sha256, h.item_id)
    assert [h.item_id for h in grouped] == [best[s] for s in shas]
    # each grouped hit carries its copies (both providers' for the five handed over twice)
    for h in grouped:
        assert len(h.copies) == (2 if _doc(h) in TWICE else 0), h.path
    # counts say hits and documents apart
    r = search(copies, OPEN, q, limit=2, sort=sort, group=True)
    assert (r.total, r.documents) == (12, 7)


def test_a_copy_outside_the_filters_or_the_callers_sight_does_not_hide_the_hit(
    copies: Workspace,
) -> None:
    """A document's only copy the filter admits is shown, though a better-ranked copy exists
    elsewhere: the best copy is chosen among the hits, never among all items."""
    r = search(copies, OPEN, "convoy", limit=50, group=True, filters=[("collection", "second")])
    assert sorted(_doc(h) for h in r.hits) == sorted(TWICE)
    assert all(h.path.startswith("second") or "/second" in h.path for h in r.hits)
    admin = local_administrator(copies, "analyst:test")
    assert len(search(copies, admin, "convoy", limit=50, group=True).hits) == 7


# --- the API's search at parity with the page --------------------------------------------------


def _page_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<h3>(?:<input[^>]*> )?<a href="/items/(\d+)\?', page)]


def test_the_api_searches_as_the_page_does_filters_sorts_browse_and_grouping(site: Site) -> None:
    api = site.api("analyst")
    page, _ = site.browser("analyst")
    for params in (
        {"q": "witness"},
        {"q": "", "provider": "Blue CSO", "sort": "received"},
        {"q": "*", "type": "text", "sort": "oldest"},
        {"q": "", "has": "text", "language": "en", "sort": "received"},
    ):
        html_ids = _page_ids(page.get("/search", params={**params, "browse": 1}).text)
        r = api.get("/api/v1/search", params={**params, "group": "true", "limit": 20})
        assert r.status_code == 200, r.text
        assert [h["item_id"] for h in r.json()["hits"]] == html_ids, params
        assert html_ids, params  # a search that finds something, or the comparison is empty
    # a filter narrows as on the page (negative control: the other provider's items)
    blue = api.get("/api/v1/search", params={"provider": "Blue CSO", "limit": 100}).json()
    assert blue["total"] == 5 and {h["provider"] for h in blue["hits"]} == {"Blue CSO"}
    images = api.get("/api/v1/search", params={"type": "image"}).json()["hits"]
    assert sorted(h["path"].rsplit("/", 1)[-1] for h in images) == ["blank.png", "map.svg"]


def test_the_api_obeys_need_to_know_exactly_as_the_page(site: Site) -> None:
    """An analyst of the blue compartment: the red provider 'does not exist', browsing shows
    blue items only, and the facets count blue items only; an administrator sees both."""
    api = site.api("analyst")
    red = api.get("/api/v1/search", params={"provider": "Red CSO"})
    assert red.status_code == 400
    assert red.json()["error"].startswith("there is no provider named 'Red CSO' (known: Blue CSO)")
    page, _ = site.browser("analyst")
    assert (
        "there is no provider named &#39;Red CSO&#39;"
        in page.get("/search", params={"browse": 1, "provider": "Red CSO"}).text
    )
    seen = api.get("/api/v1/search", params={"limit": 100, "facets": "true"}).json()
    ids = {h["item_id"] for h in seen["hits"]}
    assert site.item("سري.txt") not in ids and site.item("statement-b.txt") in ids
    providers = {v["value"] for v in seen["facets"]["provider"]}
    assert providers == {"Blue CSO"}
    every = site.api("admin").get("/api/v1/search", params={"limit": 100}).json()
    assert site.item("سري.txt") in {h["item_id"] for h in every["hits"]}
    # a wrong value is named, as JSON, not a traceback
    bad = api.get("/api/v1/search", params={"date": "soon"})
    assert bad.status_code == 400 and "'date:soon' is not a date" in bad.json()["error"]
    assert api.get("/api/v1/search", params={"sort": "sideways"}).status_code == 422


def test_the_openapi_schema_documents_the_search_filters(site: Site) -> None:
    schema = site.api("admin").get("/api/v1/openapi.json").json()
    params = {p["name"] for p in schema["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert {
        "q",
        "group",
        "sort",
        "provider",
        "date",
        "received",
        "tag",
        "has",
        "language",
    } <= params


# --- facet and chip values in words, in both languages -----------------------------------------


def _facet(page: str, name: str) -> str:
    found = re.search(rf'<ul data-facet="{name}">(.*?)</ul>', page, re.S)
    assert found, name
    return found.group(1)


@pytest.mark.parametrize(
    "lang,words",
    [
        ("en", {"has_ocr": "Without OCR text", "language": "English", "media_type": "Text"}),
        (
            "ar",
            {"has_ocr": "بلا نص بالتعرّف الضوئي", "language": "الإنجليزية", "media_type": "النص"},
        ),
    ],
)
def test_facet_and_chip_values_are_words_in_the_pages_language(
    site: Site, lang: str, words: dict[str, str]
) -> None:
    c, _ = site.browser("analyst")
    c.get(f"/lang/{lang}?next=/")
    page = c.get("/search", params={"browse": 1, "has": "text", "type": "text"}).text
    for facet, word in words.items():
        shown = re.sub(r'title="[^"]*"', "", _facet(page, facet))
        assert word in shown, (facet, shown)
        # no raw boolean, language code or media type as the words shown
        for raw in ("True", "False", ">en<", ">ar<", "text/plain", "has_ocr"):
            assert raw not in shown, (facet, raw)
    chip = r'<li class="chip" data-field="(\w+)">.*?<bdi dir="auto">([^<]*)</bdi>'
    said = dict(re.findall(chip, page))
    assert (
        said
        == {
            "en": {"has": "With text", "type": "Text"},
            "ar": {"has": "فيه نص", "type": "النص"},
        }[lang]
    )
    # each hit says its media type as a family, the exact type kept in its title
    assert f'<span dir="auto" title="text/plain">{words["media_type"]}</span>' in page


# --- editing frameworks and jurisdictions ------------------------------------------------------


def _events(ws_home: object, kind: str) -> list[dict[str, object]]:
    import json as _json

    from sqlalchemy import select

    from amanah.db.models import CustodyEvent

    ws = open_workspace(ws_home)  # type: ignore[arg-type]
    try:
        with ws.db.reader() as s:
            rows = s.execute(select(CustodyEvent).where(CustodyEvent.event_type == kind)).scalars()
            return [
                {"object_id": r.object_id, "actor": r.actor, **_json.loads(r.details)} for r in rows
            ]
    finally:
        ws.close()


def test_the_cli_edits_a_framework_with_the_checks_of_adding_and_a_custody_event(
    sqlite_home: Path,
) -> None:
    home = sqlite_home
    amanah_here(home, "jurisdiction", "add", "DE-GBA", "--state", "Germany", "--authority", "GBA",
                check=True)  # fmt: skip
    out = amanah_here(home, "framework", "add", "--provider", "Detainees Association", "--title",
                      "MoU 2023", "--terms", "Signed by Rami Haddad for the association",
                      check=True).stdout  # fmt: skip
    fid = re.match(r"framework (\d+):", out).group(1)  # type: ignore[union-attr]
    done = amanah_here(home, "framework", "edit", fid, "--disclosure", "named", "--jurisdiction",
                       "DE-GBA", "--terms", "Amended by Rami Haddad in 2024",
                       check=True)  # fmt: skip
    assert done.stdout.strip() == f"framework {fid}: changed disclosure, jurisdictions, terms"
    listed = amanah_here(home, "framework", "list", "--json", check=True).stdout
    row = next(f for f in json.loads(listed) if str(f["id"]) == fid)
    assert (row["disclosure"], row["jurisdictions"]) == ("named", ["DE-GBA"])
    assert row["provider"] == "Detainees Association" and row["title"] == "MoU 2023"
    (event,) = _events(home, "framework change")
    assert event["object_id"] == fid
    assert event["changed"] == ["disclosure", "jurisdictions", "terms"]
    assert event["before"] == {"disclosure": "consent", "jurisdictions": []}
    assert event["after"] == {"disclosure": "named", "jurisdictions": ["DE-GBA"]}
    assert "Rami" not in json.dumps(event)  # free text is named, never copied
    # refusals: exit 2, the field named, nothing written
    for args, said in (
        (["--disclosure", "sometimes"], "disclosure 'sometimes' is not known"),
        (["--disclosure", "consent"], "jurisdictions are named only with disclosure 'named'"),
        (["--title", "  "], "a cooperation framework needs a title"),
        (["--signed-on", "2024-05-01", "--expires-on", "2024-01-01"], "expiry 2024-01-01"),
        (["--signed-on", "May 2024"], "--signed-on 'May 2024': expected a date"),
        (["--jurisdiction", "XX-NONE"], "jurisdictions: no jurisdiction 'XX-NONE'"),
    ):
        r = amanah(home, "framework", "edit", fid, *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert said in " ".join(r.stderr.split()), (args, r.stderr)
    gone = amanah(home, "framework", "edit", "99", "--title", "x")
    assert gone.returncode == 2 and "no cooperation framework 99" in gone.stderr
    assert len(_events(home, "framework change")) == 1
    # the same values again: nothing changed, no event (a negative control)
    same = amanah_here(home, "framework", "edit", fid, "--disclosure", "named", check=True)
    assert same.stdout.strip() == f"framework {fid}: nothing changed"
    assert len(_events(home, "framework change")) == 1


def test_the_cli_edits_a_jurisdiction_and_the_event_never_holds_its_contacts(
    sqlite_home: Path,
) -> None:
    home = sqlite_home
    amanah_here(home, "jurisdiction", "add", "DE-GBA", "--state", "Germany", "--authority", "GBA",
                check=True)  # fmt: skip
    r = amanah_here(home, "jurisdiction", "edit", "DE-GBA", "--unit", "S4", "--contacts",
                    "Dr. Lena Vogt, +49 721 0000", check=True)  # fmt: skip
    assert r.stdout.strip() == "jurisdiction DE-GBA: changed unit, contacts"
    (event,) = _events(home, "jurisdiction change")
    assert event["object_id"] == "DE-GBA" and event["changed"] == ["unit", "contacts"]
    assert "Vogt" not in json.dumps(event) and "S4" not in json.dumps(event)
    listed = json.loads(amanah_here(home, "jurisdiction", "list", "--json", check=True).stdout)
    assert listed[0]["unit"] == "S4" and listed[0]["contacts"].startswith("Dr. Lena Vogt")
    bad = amanah(home, "jurisdiction", "edit", "DE-GBA", "--authority", " ")
    assert bad.returncode == 2 and "authority: a jurisdiction needs" in bad.stderr
    missing = amanah(home, "jurisdiction", "edit", "XX-NONE", "--unit", "u")
    assert missing.returncode == 2 and "no jurisdiction 'XX-NONE'" in missing.stderr
    assert len(_events(home, "jurisdiction change")) == 1


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_the_legal_officer_edits_a_framework_and_a_jurisdiction_on_the_web(site: Site) -> None:
    from amanah.intake.registry import add_framework

    with site.ws.db.session() as s:
        fid = add_framework(s, "Blue CSO", "Blue MoU", None).id
    c, csrf = site.browser("legal")
    form = c.get(f"/frameworks/{fid}/edit")
    assert form.status_code == 200 and 'value="Blue MoU"' in form.text
    # a problem re-shows the form with what was typed, and names what is wrong
    bad = c.post(
        f"/frameworks/{fid}/edit",
        data={"csrf": csrf, "title": "Blue MoU 2", "disclosure": "named", "scope": "typed scope"},
    )
    assert bad.status_code == 400
    assert "Disclosure to named jurisdictions needs at least one jurisdiction." in bad.text
    assert "typed scope" in bad.text and 'value="Blue MoU 2"' in bad.text
    ok = c.post(
        f"/frameworks/{fid}/edit",
        data={"csrf": csrf, "title": "Blue MoU", "disclosure": "named", "jurisdiction": "XB-PROS",
              "kind": "protocol", "confidentiality": "restricted"},
        follow_redirects=False,
    )  # fmt: skip
    assert (
        ok.status_code == 303
        and ok.headers["location"] == f"/frameworks?changed={fid}#framework-{fid}"
    )
    listed = c.get(ok.headers["location"]).text
    assert f"Cooperation framework {fid} changed." in listed
    (event,) = [e for e in _events(site.ws.settings.home, "framework change")]
    assert event["actor"] == "user:legal"
    assert event["changed"] == ["kind", "disclosure", "jurisdictions", "confidentiality"]
    # a jurisdiction: the code stays, the record changes
    page = c.get("/jurisdictions/XB-PROS/edit")
    assert page.status_code == 200
    empty = c.post("/jurisdictions/XB-PROS/edit", data={"csrf": csrf, "state": "Blueland"})
    assert empty.status_code == 400
    assert "A jurisdiction needs its state and its authority." in empty.text
    assert 'value="Blueland"' in empty.text
    done = c.post(
        "/jurisdictions/XB-PROS/edit",
        data={"csrf": csrf, "state": "Blueland", "authority": "Blue Prosecutor", "unit": "W"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "Blue Prosecutor" in c.get("/jurisdictions").text
    assert c.get("/jurisdictions/NO-SUCH/edit").status_code == 404
    assert c.get("/frameworks/999999/edit").status_code == 404
    # in Arabic the form and its words are Arabic
    c.get("/lang/ar?next=/")
    assert "حفظ التعديلات" in c.get(f"/frameworks/{fid}/edit").text


@pytest.mark.parametrize("role", ["analyst", "recipient", "provider"])
def test_without_requests_manage_editing_is_refused(site: Site, role: str) -> None:
    c, csrf = site.browser(role)
    r = c.post(
        "/jurisdictions/XB-PROS/edit",
        data={"csrf": csrf, "state": "Nowhere", "authority": "Nobody"},
        follow_redirects=False,
    )
    assert r.status_code == 403 and "may not" in r.text
    assert c.get("/frameworks/1/edit", follow_redirects=False).status_code == 403
    legal, _ = site.browser("legal")
    assert "Nowhere" not in legal.get("/jurisdictions").text
    assert _events(site.ws.settings.home, "jurisdiction change") == []


def test_the_language_filter_is_not_the_pages_language(site: Site) -> None:
    """`?lang=` chooses the page's language on every page; the `lang:` filter is `?language=`.
    Before, choosing the English-documents facet on an Arabic page turned the page English, and
    `/search?lang=ar` (the language switch) filtered out every English document."""
    c, _ = site.browser("analyst")
    c.get("/lang/ar?next=/")
    page = c.get("/search", params={"browse": 1}).text
    link = re.search(r'href="([^"]*)"[^>]*>[^<]*الإنجليزية', _facet(page, "language"))
    assert link, _facet(page, "language")
    href = link.group(1).replace("&amp;", "&")
    assert "language=en" in href and "lang=" not in href.replace("language=", ""), href
    chosen = c.get(href).text
    assert '<html lang="ar" dir="rtl">' in chosen
    assert re.search(r'<li class="chip" data-field="lang">', chosen)
    # the page's own language switch keeps every document
    english = c.get("/search", params={"browse": 1, "lang": "en"}).text
    assert '<html lang="en" dir="ltr">' in english
    assert not re.search(r'<li class="chip" data-field="lang">', english)
    assert _hit_ids(english) == _hit_ids(page)
    # the chip's form keeps the filter under its URL name
    assert '<input type="hidden" name="language" value="en">' in chosen


def _hit_ids(page: str) -> list[str]:
    return re.findall(r'href="/items/(\d+)"', page)
