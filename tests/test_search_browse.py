"""Browse with no query, two date facets, filters chosen apart from the words, and exact
duplicates under one hit: the same on every backend, and need-to-know exactly as search."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from amanah.access import Caller, local_administrator
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.runner import run
from amanah.search.query import QueryError, parse, with_filters
from amanah.search.service import search
from amanah.workspace import Workspace, open_workspace
from tests.test_search import BACKENDS, make_search_home
from tests.webfixtures import Site

DUPLICATE = "gamma duplicate report about the checkpoint"
# (collection, provider, compartment): {name: (document date, text)}
FILES = {
    ("open-a", "Demo Centre", "default"): {
        "a.txt": ("2012-05-03", "alpha report"),
        "b.txt": ("2014-07-21", "beta report"),
        "dup.txt": ("2015-02-02", DUPLICATE),
    },
    ("open-b", "Second Centre", "default"): {
        "dup-copy.txt": ("2015-02-02", DUPLICATE),
    },
    ("sealed", "Demo Centre", "witness-protection"): {
        "dup-sealed.txt": ("2015-02-02", DUPLICATE),
        "secret.txt": ("2013-01-01", "alpha secret report"),
    },
}
OPEN_NAMES = {"a.txt", "b.txt", "dup.txt", "dup-copy.txt"}
ALL_NAMES = OPEN_NAMES | {"dup-sealed.txt", "secret.txt"}
OPEN = Caller(actor="analyst:open", compartments=frozenset({"default"}))
NOBODY = Caller(actor="analyst:none", compartments=frozenset())


@pytest.fixture(scope="module", params=BACKENDS)
def corpus(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    tmp = tmp_path_factory.mktemp("browse")
    ws = open_workspace(make_search_home(request, tmp, request.param))
    for (coll, provider, compartment), files in FILES.items():
        folder = tmp / coll
        folder.mkdir()
        for name, (day, body) in files.items():
            # The document states its date; its file's time is a year none states.
            stated = datetime.fromisoformat(day).strftime("%-d %B %Y")
            (folder / name).write_text(f"{stated}\n{body}", encoding="utf-8")
            ts = datetime(2021, 6, 15, 12, tzinfo=UTC).timestamp()
            os.utime(folder / name, (ts, ts))
        report = ingest(
            ws,
            IntakeRequest(
                sources=[str(folder)],
                collection=coll,
                provider=provider,
                compartment=compartment,
                actor="t",
            ),
        )
        assert report.status == "complete"
    assert run(ws, workers=2, wait=True).failed == 0
    yield ws
    ws.close()


def names(r: object) -> list[str]:
    return [h.path.rsplit("/", 1)[-1] for h in r.hits]  # type: ignore[attr-defined]


def admin(ws: Workspace) -> Caller:
    return local_administrator(ws, "analyst:test")


# --- the query language (no index needed) -----------------------------------------------------


def test_star_and_filters_alone_parse_to_no_words_but_empty_text_still_says_so() -> None:
    assert parse("*").match is None and parse("*").filters == []
    assert [f.field for f in parse("* lang:ar").filters] == ["lang"]
    with pytest.raises(QueryError, match="the query is empty"):
        parse("   ")
    assert parse("date:2012").filters[0].value == "2012-01-01..2013-01-01"
    assert parse("received:2024-12").filters[0].value == "2024-12-01..2025-01-01"
    assert parse("date:2012-03..2014").filters[0].value == "2012-03-01..2015-01-01"
    assert parse("date:..2014").filters[0].value == "0001-01-01..2015-01-01"
    with pytest.raises(QueryError, match=r"'date:2014\.\.2012' is not a date"):
        parse("date:2014..2012")
    with pytest.raises(QueryError, match="'received:2012-13' is not a date"):
        parse("received:2012-13")


def test_chosen_filters_join_the_words_even_with_or() -> None:
    assert with_filters("a OR b", [("lang", "ar")]) == "(a OR b) lang:ar"
    assert with_filters("a b", [("provider", "Demo Centre")]) == 'a b provider:"Demo Centre"'
    assert with_filters("", [("date", "2012")]) == "date:2012"
    with pytest.raises(QueryError, match="unknown field 'colour:'"):
        with_filters("a", [("colour", "red")])
    with pytest.raises(QueryError, match="cannot hold a quote"):
        with_filters("a", [("provider", 'x" OR "y')])
    with pytest.raises(QueryError, match="'date:soon' is not a date"):
        with_filters("a", [("date", "soon")])


# --- browse --------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["", "*", "  "])
def test_an_empty_query_browses_everything_the_caller_may_see(
    corpus: Workspace, typed: str
) -> None:
    seen = search(corpus, OPEN, typed, limit=50)
    assert set(names(seen)) == OPEN_NAMES and seen.total == len(OPEN_NAMES)
    every = search(corpus, admin(corpus), typed, limit=50)
    assert set(names(every)) == ALL_NAMES and every.total == len(ALL_NAMES)
    nothing = search(corpus, NOBODY, typed, limit=50, facets=True)
    assert nothing.hits == [] and nothing.total == 0
    assert all(sum(v["count"] for v in vs) == 0 for vs in nothing.facets.values())


def test_browse_orders_newest_and_oldest_received_and_pages_never_repeat(
    corpus: Workspace,
) -> None:
    newest = search(corpus, admin(corpus), "*", limit=50, sort="received")
    ids = [h.item_id for h in newest.hits]
    assert ids == sorted(ids, reverse=True)
    oldest = search(corpus, admin(corpus), "*", limit=50, sort="oldest")
    assert [h.item_id for h in oldest.hits] == sorted(ids)
    for sort in ("received", "oldest", "date", "relevance"):
        got, cursor = [], None
        while True:
            page = search(corpus, OPEN, "", limit=1, sort=sort, cursor=cursor)
            got += names(page)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert sorted(got) == sorted(OPEN_NAMES), sort


def test_browse_takes_the_same_filters_as_search(corpus: Workspace) -> None:
    r = search(corpus, OPEN, "", limit=50, filters=[("provider", "Second Centre")])
    assert names(r) == ["dup-copy.txt"]
    with pytest.raises(QueryError, match="there is no collection named 'sealed'"):
        search(corpus, OPEN, "*", limit=50, filters=[("collection", "sealed")])
    r = search(corpus, admin(corpus), "", limit=50, filters=[("collection", "sealed")])
    assert set(names(r)) == {"dup-sealed.txt", "secret.txt"}


# --- two date facets -----------------------------------------------------------------------------


def test_document_date_and_received_date_are_separate_facets_and_filters(
    corpus: Workspace,
) -> None:
    this_year = datetime.now(UTC).year
    r = search(corpus, OPEN, "*", limit=50, facets=True)
    year = {v["value"]: v["count"] for v in r.facets["year"]}
    received = {v["value"]: v["count"] for v in r.facets["received"]}
    assert year == {2012: 1, 2014: 1, 2015: 2}  # the sealed 2013 item is not counted
    assert received == {this_year: 4}
    assert set(names(search(corpus, OPEN, "date:2012", limit=50))) == {"a.txt"}
    assert set(names(search(corpus, OPEN, "date:2013", limit=50))) == set()
    assert set(names(search(corpus, admin(corpus), "date:2013", limit=50))) == {"secret.txt"}
    assert set(names(search(corpus, OPEN, "date:2014..2015", limit=50))) == {
        "b.txt",
        "dup.txt",
        "dup-copy.txt",
    }
    assert set(names(search(corpus, OPEN, "date:2012 date:2014", limit=50))) == {"a.txt", "b.txt"}
    assert set(names(search(corpus, OPEN, "-date:2015", limit=50))) == {"a.txt", "b.txt"}
    assert set(names(search(corpus, OPEN, f"received:{this_year}", limit=50))) == OPEN_NAMES
    assert names(search(corpus, OPEN, "received:2001", limit=50)) == []
    # the old syntax still works
    assert set(names(search(corpus, OPEN, "after:2014 before:2015", limit=50))) == {"b.txt"}
    # the facets are counted on the hits
    r = search(corpus, OPEN, "report date:2015", limit=50, facets=True)
    assert {v["value"]: v["count"] for v in r.facets["year"]} == {2015: 2}
    assert {v["value"]: v["count"] for v in r.facets["received"]} == {this_year: 2}
    r = search(corpus, OPEN, "alpha", limit=50, facets=True, filters=[("received", "2001")])
    assert r.total == 0 and r.facets["received"] == []


# --- exact duplicates ----------------------------------------------------------------------------


def test_exact_duplicates_are_one_hit_with_the_copies_the_caller_may_see(
    corpus: Workspace,
) -> None:
    r = search(corpus, OPEN, "gamma", limit=50, group=True)
    assert r.total == 2 and r.documents == 1 and len(r.hits) == 1
    copies = r.hits[0].copies
    assert sorted(c["collection"] for c in copies) == ["open-a", "open-b"]
    assert {c["provider"] for c in copies} == {"Demo Centre", "Second Centre"}
    assert "dup-sealed.txt" not in str(r.as_json())  # neither shown nor counted
    every = search(corpus, admin(corpus), "gamma", limit=50, group=True)
    assert every.total == 3 and every.documents == 1 and len(every.hits) == 1
    assert sorted(c["collection"] for c in every.hits[0].copies) == ["open-a", "open-b", "sealed"]
    # a negative control: a document with no copy is a hit of its own, with no copies
    alone = search(corpus, OPEN, "alpha", limit=50, group=True)
    assert names(alone) == ["a.txt"] and alone.hits[0].copies == [] and alone.documents == 1
    # without grouping, each copy is its own hit, as before
    assert len(search(corpus, OPEN, "gamma", limit=50).hits) == 2
    # browse counts hits and documents honestly
    b = search(corpus, OPEN, "", limit=50, group=True)
    assert b.total == 4 and b.documents == 3 and len(b.hits) == 3


# --- the search page (HTTP; the browser test is tests/test_web_browser_search.py) ---------------


def test_the_page_browses_and_shows_chosen_filters_as_chips_with_remove_links(site: Site) -> None:
    c, _ = site.browser("analyst")
    page = c.get("/search?browse=1&sort=received")
    assert page.status_code == 200
    shown = set(re.findall(r'href="/items/(\d+)\?', page.text))
    assert str(site.item("statement-b.txt")) in shown
    assert str(site.item("سري.txt")) not in shown  # red: not the analyst's
    assert 'class="chips"' not in page.text
    page = c.get("/search", params={"browse": 1, "provider": "Blue CSO", "date": "2012..2030"})
    chips = re.findall(r'<li class="chip" data-field="(\w+)">', page.text)
    assert chips == ["provider", "date"]
    assert 'name="q" value=""' in page.text  # the words box holds no filter
    # each chip's remove link is the page without it (and keeps the other)
    removes = re.findall(r'<a class="remove" href="([^"]+)"', page.text)
    assert "provider=" not in html.unescape(removes[0]) and "date=" in html.unescape(removes[0])
    assert "date=" not in html.unescape(removes[1]) and "provider=" in html.unescape(removes[1])
    # saving this search saves the filters with it
    assert '<input type="hidden" name="q" value="provider:&#34;Blue CSO&#34; date:2012..2030">' in (
        page.text
    )
    # a wrong chosen value is said, not a traceback
    bad = c.get("/search", params={"q": "witness", "date": "soon"})
    assert bad.status_code == 200 and "&#39;date:soon&#39; is not a date" in bad.text
    # a provider named that the caller may not see is "not there", whichever the page
    red = c.get("/search", params={"browse": 1, "provider": "Red CSO"})
    assert "there is no provider named &#39;Red CSO&#39;" in red.text


def test_the_page_in_arabic_says_chips_and_counts_with_plural_forms(site: Site) -> None:
    c, _ = site.browser("analyst")
    c.get("/lang/ar?next=/")
    page = c.get("/search", params={"q": "الشاهد", "language": "ar"}).text
    assert "إزالة عامل التصفية" in page and "نتيجة واحدة" in page
    assert "تاريخ الوثيقة" in page and "الاستلام" in page


@pytest.mark.parametrize("moved", ["a.txt", "b.txt"])
def test_the_received_facet_counts_each_year_whether_or_not_years_overlap_in_item_order(
    corpus: Workspace, moved: str
) -> None:
    """a.txt (the first item) received in 2020 keeps the years in their own id ranges; b.txt
    (between two items of this year) makes them overlap: both count the same."""
    this_year = datetime.now(UTC).year
    item_id = next(
        h.item_id for h in search(corpus, OPEN, "*", limit=50).hits if h.path.endswith(moved)
    )
    with corpus.db.session() as s:
        before = s.execute(
            text("SELECT intake_at FROM items WHERE id = :i"), {"i": item_id}
        ).scalar_one()
        s.execute(
            text("UPDATE items SET intake_at = :t WHERE id = :i"),
            {"t": datetime(2020, 6, 1, 12, tzinfo=UTC), "i": item_id},
        )
    try:
        r = search(corpus, OPEN, "*", limit=50, facets=True)
        assert {v["value"]: v["count"] for v in r.facets["received"]} == {2020: 1, this_year: 3}
        assert names(search(corpus, OPEN, "received:2020", limit=50)) == [moved]
        assert moved not in names(search(corpus, OPEN, f"received:{this_year}", limit=50))
        r = search(corpus, OPEN, "report", limit=50, facets=True, filters=[("date", "2015")])
        assert {v["value"]: v["count"] for v in r.facets["received"]} == {this_year: 2}
    finally:
        with corpus.db.session() as s:
            s.execute(
                text("UPDATE items SET intake_at = :t WHERE id = :i"), {"t": before, "i": item_id}
            )


def test_the_received_facet_follows_items_added_after_it_was_counted(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """An item added after a count is counted by the next search (a home of its own: the
    module's corpus is shared)."""
    this_year = datetime.now(UTC).year
    ws = open_workspace(make_search_home(request, tmp_path, "sqlite-file"))
    try:
        for n in (1, 2):
            folder = tmp_path / f"batch-{n}"
            folder.mkdir()
            (folder / f"r{n}.txt").write_text(f"report {n} on the checkpoint\n", encoding="utf-8")
            request_ = IntakeRequest(sources=[str(folder)], collection="c", provider="P", actor="t")
            assert ingest(ws, request_).status == "complete"
            assert run(ws, workers=1, wait=True).failed == 0
            r = search(ws, OPEN, "*", limit=50, facets=True)
            assert {v["value"]: v["count"] for v in r.facets["received"]} == {this_year: n}
    finally:
        ws.close()


@pytest.mark.parametrize(
    "moves",
    [
        {"secret.txt": 2019},  # a hidden item's year overlaps the others' ids: the ids looked up
        {"secret.txt": 2099, "dup-sealed.txt": 2099},  # a year only hidden items hold: by ranges
    ],
)
def test_a_hidden_compartments_years_received_move_no_count_the_caller_sees(
    corpus: Workspace, moves: dict[str, int]
) -> None:
    """The years received are found over every item, whatever its compartment (the id ranges
    each year holds); the hits counted in them are the caller's only. Moving the sealed items
    to years of their own (in their own id range, or overlapping the others') shows and moves
    nothing for a caller without the sealed compartment, while its holder sees the years."""
    queries = ["*", "report", "gamma"]
    before = {q: search(corpus, OPEN, q, limit=50, facets=True).facets for q in queries}
    ids = {
        h.path.rsplit("/", 1)[-1]: h.item_id
        for h in search(corpus, admin(corpus), "*", limit=50).hits
    }
    with corpus.db.session() as s:
        saved = {
            name: s.execute(
                text("SELECT intake_at FROM items WHERE id = :i"), {"i": ids[name]}
            ).scalar_one()
            for name in moves
        }
        for name, year in moves.items():
            s.execute(
                text("UPDATE items SET intake_at = :t WHERE id = :i"),
                {"t": datetime(year, 3, 1, 12, tzinfo=UTC), "i": ids[name]},
            )
    try:
        for q in queries:
            assert search(corpus, OPEN, q, limit=50, facets=True).facets == before[q], q
        seen = search(corpus, admin(corpus), "*", limit=50, facets=True).facets["received"]
        assert {v["value"] for v in seen} >= set(moves.values())
    finally:
        with corpus.db.session() as s:
            for name, at in saved.items():
                s.execute(
                    text("UPDATE items SET intake_at = :t WHERE id = :i"), {"t": at, "i": ids[name]}
                )


def test_the_years_received_are_found_by_index_seeks_not_a_scan_of_items(
    corpus: Workspace,
) -> None:
    """Every faceted search asks which id range each year received holds; on SQLite each of
    its statements seeks the year's index (migration 0032) instead of reading every row of
    `items` (95 ms a search at 100,000 items)."""
    from sqlalchemy import event

    from amanah.search.sql_search import received_id_ranges

    if corpus.db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL keeps its grouped query (its own backend counts received years)")
    this_year = datetime.now(UTC).year
    statements: list[tuple[str, object]] = []

    def seen(conn: object, cursor: object, sql: str, params: object, *_: object) -> None:
        statements.append((sql, params))

    with corpus.db.reader() as s:
        conn = s.connection()
        event.listen(conn, "before_cursor_execute", seen)
        try:
            ranges = received_id_ranges(s)
        finally:
            event.remove(conn, "before_cursor_execute", seen)
        assert ranges is not None and set(ranges) == {this_year}
        assert statements
        for sql, params in statements:
            plan = " ".join(
                str(row[-1])
                for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
            )
            assert "ix_items_received_year" in plan and "SCAN" not in plan, (sql, plan)


def test_a_home_with_no_item_counts_no_year_received_and_fetches_no_hit(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Search rows without items (an index restored before its database, or the search
    benchmark's homes): the received facet is empty, and no hit's id is fetched to find that."""
    from amanah.search import sql_search

    ws = open_workspace(make_search_home(request, tmp_path, "sqlite-file"))
    try:
        with ws.db.reader() as s:
            assert sql_search.received_id_ranges(s) == {}
        r = search(ws, OPEN, "*", limit=5, facets=True)
        assert r.total == 0 and r.facets["received"] == []
    finally:
        ws.close()
