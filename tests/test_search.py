"""Search finds every spelling, on both backends, and shows nobody what they may not see."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from amanah.access import Caller, Role, local_administrator
from amanah.config import CONFIG_NAME, write_default_config
from amanah.db.models import CustodyEvent, SearchDoc, SearchVector
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.preservation.audit import verify
from amanah.processing.runner import run
from amanah.search.engine import Results, history
from amanah.search.index import _CHECKED, IndexOutdated, reindex
from amanah.search.query import QueryError
from amanah.search.service import search
from amanah.text.analyzer import analyze
from amanah.workspace import Workspace, open_workspace
from tests.conftest import amanah, make_home

# Fictional documents. Names, places and units are invented.
OPEN_DOCS = {
    "hamza.txt": ("ar", "2012-05-03", "شهادة أحمد إبراهيم عن الاعتقال في مدينة النخيل"),
    "bare.txt": ("ar", "2013-01-10", "قال احمد ابراهيم ان الاعتقال تم في الفرع"),
    "harakat.txt": ("ar", "2014-07-21", "وَصَلَ الشّاهِدُ إِلَى المَدْرَسَةِ في قريةِ الزيتون"),
    "tatweel.txt": ("ar", "2015-02-02", "مــدرســة القرية وفرع المخابرات الجوية"),
    "particles.txt": ("ar", "2016-03-03", "نُقل المعتقلون بالفرع ثم للمستشفى والمدرسه"),
    "persian.txt": ("ar", "2016-09-09", "کتاب من المستشفی عن یوم الحادثة"),
    "digits.txt": ("ar", "2017-12-12", "وقع القصف عام ٢٠١١ وفي عام ۲۰۱۰ ايضا"),
    "english.txt": (
        "en",
        "2018-04-04",
        "The detainees were held at the branch; witnesses detained.",
    ),
    "phrase.txt": ("en", "2019-06-06", "Air Force Intelligence ran the checkpoint near Al-Nakhil."),
    "scrambled.txt": ("en", "2019-07-07", "intelligence about the force in the air was scarce"),
    "minister.txt": ("ar", "2020-01-01", "صرح الوزير بأن فلسطين"),
    "controls.txt": (
        "en",
        "2020-02-02",
        "evil \x1b[31mred\x1b[0m text \u202eesrever\u202c checkpoint",
    ),
}
PROTECTED_DOCS = {
    "witness-w7.txt": ("ar", "2012-08-08", "إفادة الشاهد السري عن الفرع ٢١٥ والمدرسة"),
}


def _write(folder: Path, docs: dict[str, tuple[str, str, str]]) -> None:
    """Each document states its date on its first line (Arabic ones in Eastern Arabic digits,
    day first); every file's time is one later year that no document states, so a date taken
    from the file's time shows in the facets and fails the tests."""
    folder.mkdir(parents=True)
    for name, (lang, day, body) in docs.items():
        p = folder / name
        p.write_text(f"{stated(day, lang)}\n{body}", encoding="utf-8")
        ts = _epoch(FILE_TIME)
        os.utime(p, (ts, ts))


#: The modification time of every file of the corpus: a year no document states.
FILE_TIME = "2021-06-15"


def stated(day: str, lang: str) -> str:
    """A date line as such a document writes it: `٠٣/٠٥/٢٠١٢` (Arabic), `2012-05-03`."""
    if lang != "ar":
        return day
    y, m, d = day.split("-")
    return f"{d}/{m}/{y}".translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


def _epoch(day: str) -> float:
    from datetime import UTC, datetime

    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC).timestamp()


def build_corpus(home: Path, tmp: Path) -> Workspace:
    ws = open_workspace(home)
    for folder, docs, coll, compartment in (
        ("open", OPEN_DOCS, "open-handover", "default"),
        ("protected", PROTECTED_DOCS, "protected-witnesses", "witness-protection"),
    ):
        _write(tmp / folder, docs)
        report = ingest(
            ws,
            IntakeRequest(
                sources=[str(tmp / folder)],
                collection=coll,
                provider="Demo Centre",
                compartment=compartment,
                actor="t",
            ),
        )
        assert report.status == "complete"
    result = run(ws, workers=2, wait=True)
    assert result.failed == 0
    return ws


def use_backend(home: Path, backend: str) -> None:
    """Select a search backend in the home's amanah.toml."""
    config = home / CONFIG_NAME
    text = config.read_text(encoding="utf-8")
    assert 'search_backend = "default"' in text
    config.write_text(text.replace('search_backend = "default"', f'search_backend = "{backend}"'))


#: Search by meaning is searched here on every backend: the homes keep it on (conftest).
pytestmark = pytest.mark.semantic


def make_search_home(request: pytest.FixtureRequest, tmp: Path, param: str) -> Path:
    """`engines` or `engines+backend`: the database and blob store, and the search backend."""
    engines, _, backend = param.partition("+")
    home = make_home(request, tmp, engines)
    if backend:
        use_backend(home, backend)
    return home


#: Every search test runs on each backend: tantivy (SQLite's default), PostgreSQL's own
#: (tsvector) and FTS5 (still selectable).
BACKENDS = ["sqlite-file", "postgresql-s3", "sqlite-file+fts5"]


@pytest.fixture(scope="module")
def corpus_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus on the embedded default (SQLite, a folder), built and processed once for
    this file: five of its tests need that corpus, each a copy of its own (`corpus_copy`)."""
    tmp = tmp_path_factory.mktemp("corpus-template")
    home = tmp / "home"
    write_default_config(home)
    build_corpus(home, tmp).close()
    return home


def corpus_copy(template: Path, tmp: Path) -> Path:
    """A private copy of the template's home: what a test changes stays its own."""
    home = tmp / "home"
    shutil.copytree(template, home, symlinks=True)
    return home


@pytest.fixture(scope="module", params=BACKENDS)
def corpus(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    tmp = tmp_path_factory.mktemp("corpus")
    if request.param == "sqlite-file":
        ws = open_workspace(corpus_copy(request.getfixturevalue("corpus_template"), tmp))
    else:
        ws = build_corpus(make_search_home(request, tmp, request.param), tmp)
    yield ws
    ws.close()


def admin(ws: Workspace) -> Caller:
    return local_administrator(ws, "analyst:test")


def names(r: Results) -> set[str]:
    return {h.path.rsplit("/", 1)[-1] for h in r.hits}


OPEN_ONLY = Caller(actor="analyst:open", compartments=frozenset({"default"}))


def find(ws: Workspace, q: str, caller: Caller = OPEN_ONLY, **kw: object) -> set[str]:
    """Names of the items found (as someone without the witness-protection compartment)."""
    return names(search(ws, caller, q, limit=100, **kw))  # type: ignore[arg-type]


# --- spelling variants (both backends) ---------------------------------------------------------

VARIANTS = [
    ("أحمد", {"hamza.txt", "bare.txt"}),
    ("احمد", {"hamza.txt", "bare.txt"}),
    ("إبراهيم", {"hamza.txt", "bare.txt"}),
    ("مدرسة", {"harakat.txt", "tatweel.txt", "particles.txt"}),  # ة/ه, harakat, tatweel, و+ال
    ("المدرسه", {"harakat.txt", "tatweel.txt", "particles.txt"}),
    ("فرع", {"bare.txt", "tatweel.txt", "particles.txt"}),  # الفرع, وفرع, بالفرع
    ("مستشفى", {"particles.txt", "persian.txt"}),  # للمستشفى, Persian ی
    ("كتاب", {"persian.txt"}),  # Persian ک
    ("يوم", {"persian.txt"}),  # Persian ی
    ("2011", {"digits.txt"}),  # Eastern Arabic digits in the text
    ("٢٠١٠", {"digits.txt"}),  # and in the query (Persian digits in the text)
    ("detainee", {"english.txt"}),  # plural in text
    ("detain", {"english.txt"}),  # tense
    ("DETAINED", {"english.txt"}),
    ('"air force intelligence"', {"phrase.txt"}),  # the phrase, not the same words scrambled
    ("air force intelligence", {"phrase.txt", "scrambled.txt"}),
    ("الشاهد", {"harakat.txt"}),
    ("وزير", {"minister.txt"}),  # begins with و: not destroyed
    ("فلسطين", {"minister.txt"}),  # begins with ف
    ("=وزير", {"minister.txt"}),
    ("معتقل*", {"particles.txt"}),
    ("المعتقلون", {"particles.txt"}),
    ("Al-Nakhil", {"phrase.txt"}),
]


@pytest.mark.parametrize(("query", "expected"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_every_spelling_variant_finds_the_same_documents(
    corpus: Workspace, query: str, expected: set[str]
) -> None:
    assert find(corpus, query) == expected


BOOLEAN = [
    ("فرع OR مستشفى", {"bare.txt", "tatweel.txt", "particles.txt", "persian.txt"}),
    ("فرع -مدرسة", {"bare.txt"}),
    ("فرع NOT مدرسة", {"bare.txt"}),
    ("(فرع OR كتاب) مدرسة", {"tatweel.txt", "particles.txt"}),
    ("فرع AND مدرسة", {"tatweel.txt", "particles.txt"}),
    ("-فرع lang:ar after:2016", {"persian.txt", "digits.txt", "minister.txt"}),
    ("مدرسة lang:ar before:2015", {"harakat.txt"}),
    ("مدرسة after:2015-02-02 before:2016-03-04", {"tatweel.txt", "particles.txt"}),
    ("lang:en -lang:ar checkpoint", {"phrase.txt", "controls.txt"}),
    ("checkpoint path:phrase", {"phrase.txt"}),
    ("checkpoint -path:phrase", {"controls.txt"}),
    ('collection:"open-handover" type:text has:text احمد', {"hamza.txt", "bare.txt"}),
    ('provider:"demo centre" has:ocr', set()),
]


@pytest.mark.parametrize(("query", "expected"), BOOLEAN, ids=[b[0] for b in BOOLEAN])
def test_operators_and_filters(corpus: Workspace, query: str, expected: set[str]) -> None:
    assert find(corpus, query) == expected


def test_a_word_that_only_looks_like_a_prefix_ranks_its_own_spelling_first(
    corpus: Workspace,
) -> None:
    # "زير" shares the stem of "وزير"; the exact spelling is the better hit.
    r = search(corpus, admin(corpus), "وزير")
    assert r.hits[0].path.endswith("minister.txt")
    assert r.hits[0].score > 0


# --- need-to-know ------------------------------------------------------------------------------


def test_hits_counts_facets_and_snippets_stay_inside_the_callers_compartments(
    corpus: Workspace,
) -> None:
    everyone = admin(corpus)
    outsider = Caller(actor="analyst:open-only", compartments=frozenset({"default"}))
    nobody = Caller(actor="analyst:none", compartments=frozenset())

    full = search(corpus, everyone, "مدرسة", facets=True, limit=100)
    assert "witness-w7.txt" in names(full)
    assert full.total == 4

    seen = search(corpus, outsider, "مدرسة", facets=True, limit=100)
    assert "witness-w7.txt" not in names(seen)
    assert seen.total == 3
    assert sum(v["count"] for v in seen.facets["collection"]) == 3
    assert {v["value"] for v in seen.facets["collection"]} == {"open-handover"}
    assert all("السري" not in h.snippet for h in seen.hits)

    # A word only the protected item holds: nothing at all, not even a count.
    secret = search(corpus, outsider, "السري", facets=True)
    assert (secret.total, secret.hits) == (0, [])
    assert all(values == [] for values in secret.facets.values())
    assert search(corpus, everyone, "السري").total == 1
    assert search(corpus, nobody, "lang:ar").total == 0
    # Naming the protected collection tells an outsider nothing, not even that it exists.
    assert search(corpus, everyone, "collection:protected-witnesses").total == 1
    with pytest.raises(QueryError) as err:
        search(corpus, outsider, "collection:protected-witnesses")
    assert "no collection named" in err.value.message
    assert "protected-witnesses" not in err.value.message.split("(known:")[-1]


# --- results: facets, pages, sorting, snippets ---------------------------------------------------


def test_facet_counts_respect_every_filter(corpus: Workspace) -> None:
    r = search(corpus, admin(corpus), "lang:ar after:2016", facets=True, limit=100)
    assert names(r) == {"particles.txt", "persian.txt", "digits.txt", "minister.txt"}
    facets = r.facets
    assert {v["value"]: v["count"] for v in facets["year"]} == {
        2016: 2,
        2017: 1,
        2020: 1,
    }
    assert {v["value"]: v["count"] for v in facets["language"]}["ar"] == 4
    assert facets["collection"] == [{"value": "open-handover", "id": 1, "count": 4}]
    assert facets["has_ocr"] == [{"value": False, "count": 4}]
    assert sum(v["count"] for v in facets["media_type"]) == 4


def test_keyset_pages_walk_every_hit_once(corpus: Workspace) -> None:
    for sort in ("relevance", "date"):
        everything = search(corpus, admin(corpus), "lang:ar", sort=sort, limit=100)
        seen: list[int] = []
        cursor = None
        while True:
            page = search(corpus, admin(corpus), "lang:ar", sort=sort, limit=3, cursor=cursor)
            assert page.total == everything.total
            seen += [h.item_id for h in page.hits]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == [h.item_id for h in everything.hits]
        assert len(set(seen)) == everything.total
    dates = [h.date for h in search(corpus, admin(corpus), "lang:ar", sort="date").hits]
    assert dates == sorted(dates, reverse=True)
    with pytest.raises(ValueError, match="cursor"):
        search(corpus, admin(corpus), "lang:ar", sort="relevance", cursor="bm90IGEgY3Vyc29y")


def test_snippets_mark_the_words_as_written_and_blank_control_characters(
    corpus: Workspace,
) -> None:
    hit = search(corpus, admin(corpus), "الشاهد مدرسة").hits[0]
    marked = {hit.snippet[s:e] for s, e in hit.highlights}
    assert marked == {"الشّاهِدُ", "المَدْرَسَةِ"}

    hit = search(corpus, admin(corpus), "esrever").hits[0]
    assert "\x1b" not in hit.snippet and "\u202e" not in hit.snippet
    assert {hit.snippet[s:e] for s, e in hit.highlights} == {"esrever"}


def test_malformed_queries_say_where(corpus: Workspace) -> None:
    cases = {
        "a (b": 2,
        'a "b': 2,
        "a OR": 2,
        "foo:bar": 0,
        "(lang:ar)": 1,
        "after:2012-13": 0,
        "a OR -b": 5,
        "provider:nobody x": 0,
        "**": 0,  # "" and "*" alone browse everything (tests/test_search_browse.py)
        "=*": 0,
    }
    for q, position in cases.items():
        with pytest.raises(QueryError) as err:
            search(corpus, admin(corpus), q)
        assert err.value.position == position, (q, err.value)


# --- the search log ------------------------------------------------------------------------------


def test_the_search_log_shows_a_caller_only_the_searches_they_may_see(corpus: Workspace) -> None:
    """Someone else's words are not for an analyst (`access.searches_visible`): the log shows
    an analyst their own searches, an auditor (the local administrator) everyone's."""
    me = Caller(actor="analyst:me", compartments=frozenset({"default"}), role=Role.ANALYST)
    other = Caller(actor="analyst:other", compartments=frozenset({"default"}), role=Role.ANALYST)
    mine = search(corpus, me, "checkpoint", limit=1).search_id
    theirs = search(corpus, other, "hospital", limit=1).search_id
    seen = {e["id"]: e["actor"] for e in history(corpus, me, limit=1000)}
    assert mine in seen and theirs not in seen
    assert set(seen.values()) == {"analyst:me"}
    everyone = {e["id"] for e in history(corpus, admin(corpus), limit=1000)}
    assert {mine, theirs} <= everyone


def test_every_search_is_logged_with_who_what_and_which_items(corpus: Workspace) -> None:
    r = search(corpus, admin(corpus), "احمد lang:ar", limit=1)
    entry = history(corpus, admin(corpus), limit=1)[0]
    assert entry["id"] == r.search_id
    assert entry["actor"] == "analyst:test"
    assert entry["query"] == "احمد lang:ar"
    assert entry["hits"] == 2
    assert entry["shown"] == [r.hits[0].item_id]
    with corpus.db.reader() as s:
        event = s.execute(
            select(CustodyEvent).where(
                CustodyEvent.object_type == "search",
                CustodyEvent.object_id == str(r.search_id),
            )
        ).scalar_one()
    assert json.loads(event.details)["shown"] == [r.hits[0].item_id]
    assert verify(corpus, actor="t").ok


# --- the index is derived ------------------------------------------------------------------------


@pytest.mark.parametrize("engines", ["sqlite-file", "postgresql-file"])
def test_reindex_rebuilds_the_same_index_from_the_database(
    request: pytest.FixtureRequest, tmp_path: Path, engines: str
) -> None:
    if engines == "sqlite-file":
        ws = open_workspace(corpus_copy(request.getfixturevalue("corpus_template"), tmp_path))
    else:
        ws = build_corpus(make_home(request, tmp_path, engines), tmp_path)
    try:
        queries = [q for q, _ in VARIANTS] + [q for q, _ in BOOLEAN]
        before = {q: find(ws, q) for q in queries}
        with ws.db.session() as s:
            s.execute(SearchDoc.__table__.delete())
        assert find(ws, "احمد") == set()
        stats = reindex(ws, workers=1)
        # An index another analyzer version built is refused, not silently searched.
        with ws.db.session() as s:
            s.execute(SearchDoc.__table__.update().values(analyzer=0))
        _CHECKED.clear()
        with pytest.raises(IndexOutdated, match="amanah reindex"):
            search(ws, OPEN_ONLY, "احمد")
        stats = reindex(ws, workers=1)
        assert stats.items == len(OPEN_DOCS) + len(PROTECTED_DOCS)
        assert stats.index_bytes > 0
        assert {q: find(ws, q) for q in queries} == before
    finally:
        ws.close()


def test_items_processed_before_search_existed_are_indexed_after_the_upgrade(
    corpus_template: Path, tmp_path: Path
) -> None:
    from alembic import command

    from amanah.db.engine import alembic_config

    home = corpus_copy(corpus_template, tmp_path)
    ws = open_workspace(home)
    command.downgrade(alembic_config(ws.db.engine), "0004")  # as an installation before search
    ws.close()
    ws = open_workspace(home)  # upgrades, queuing one index job per processed item
    try:
        assert run(ws, workers=1, wait=True).failed == 0
        assert find(ws, "مدرسة") == {"harakat.txt", "tatweel.txt", "particles.txt"}
        r = search(ws, OPEN_ONLY, "minister statement about Palestine", mode="semantic")
        assert r.hits[0].path.endswith("minister.txt")
    finally:
        ws.close()


# --- the command line ----------------------------------------------------------------------------


def test_cli_search_json_and_errors(corpus_template: Path, tmp_path: Path) -> None:
    home = corpus_copy(corpus_template, tmp_path)
    proc = amanah(home, "search", "مدرسة", "--json", "--limit", "2", "--facets", check=True)
    data = json.loads(proc.stdout)
    assert data["total"] == 4
    assert len(data["hits"]) == 2 and data["next_cursor"]
    for hit in data["hits"]:
        assert {"item_id", "sha256", "path", "score", "snippet"} <= set(hit)
        assert len(hit["sha256"]) == 64
    facets = {"provider", "collection", "media_type", "language", "year", "received", "has_ocr"}
    assert facets == set(data["facets"])
    page2 = amanah(
        home,
        "search",
        "مدرسة",
        "--json",
        "--limit",
        "2",
        "--cursor",
        data["next_cursor"],
        check=True,
    )
    assert {h["item_id"] for h in json.loads(page2.stdout)["hits"]}.isdisjoint(
        {h["item_id"] for h in data["hits"]}
    )

    bad = amanah(home, "search", "فرع (مدرسة")
    assert bad.returncode == 2
    assert "never closed" in bad.stderr and "^" in bad.stderr
    assert "Traceback" not in bad.stderr

    text_out = amanah(home, "search", "الشاهد", check=True).stdout
    assert "harakat.txt" in text_out

    log = json.loads(amanah(home, "searches", "--json", check=True).stdout)
    assert [e["query"] for e in log[:3]] == ["الشاهد", "مدرسة", "مدرسة"]

    done = amanah(home, "reindex", "--quiet", check=True).stdout
    assert "indexed 13 items" in done


# --- search by meaning ---------------------------------------------------------------------------


def test_an_english_question_finds_arabic_documents_by_meaning(corpus: Workspace) -> None:
    question = "minister statement about Palestine"
    assert find(corpus, question) == set()  # no English word occurs in the Arabic text
    r = search(corpus, OPEN_ONLY, question, mode="semantic", limit=100)
    assert r.hits[0].path.endswith("minister.txt")
    assert "witness-w7.txt" not in names(r)  # need-to-know holds for meaning too
    assert r.total == len(OPEN_DOCS)
    r = search(corpus, OPEN_ONLY, "detainees moved to the hospital lang:ar", mode="semantic")
    assert r.hits[0].path.endswith("particles.txt")
    assert all(h.path.rsplit("/", 1)[-1] not in ("english.txt", "phrase.txt") for h in r.hits)

    hybrid = search(corpus, OPEN_ONLY, "checkpoint intelligence", mode="hybrid", limit=3)
    assert hybrid.hits[0].path.endswith("phrase.txt")
    assert history(corpus, admin(corpus), limit=1)[0]["options"]["mode"] == "hybrid"
    with pytest.raises(QueryError, match="needs words"):
        search(corpus, OPEN_ONLY, "lang:ar", mode="semantic")
    with corpus.db.reader() as s:
        embedded = set(s.execute(select(SearchVector.item_id)).scalars())
    assert len(embedded) == len(OPEN_DOCS) + len(PROTECTED_DOCS)


# --- property: any spelling variant returns the canonical spelling's hits -------------------------

HARAKAT = "\u064e\u064f\u0650\u0651\u0652\u064b\u064c\u064d"
CANONICAL = ["احمد", "ابراهيم", "مدرسه", "فرع", "مستشفي", "كتاب", "يوم", "شاهد", "اعتقال", "وزير"]


@st.composite
def spelled(draw: st.DrawFn, word: str, article: bool = True) -> str:
    """A way of writing `word` that Arabic writers really use."""
    out = []
    for i, ch in enumerate(word):
        if ch == "ا":
            ch = draw(st.sampled_from("اأإآ")) if i == 0 else ch
        elif ch == "ي" and i == len(word) - 1:
            ch = draw(st.sampled_from("يىی"))
        elif ch == "ي":
            ch = draw(st.sampled_from("يی"))
        elif ch == "ه" and i == len(word) - 1:
            ch = draw(st.sampled_from("هة"))
        elif ch == "ك":
            ch = draw(st.sampled_from("كک"))
        out.append(ch)
        if draw(st.booleans()):
            out.append(draw(st.sampled_from(HARAKAT)))
        if i < len(word) - 1 and draw(st.integers(0, 4)) == 0:
            out.append("\u0640" * draw(st.integers(1, 3)))
    prefixes = ["", "ال", "وال", "بال", "فال", "كال", "لل"] if article else [""]
    return draw(st.sampled_from(prefixes)) + "".join(out)


@pytest.fixture(scope="module")
def sqlite_corpus(
    corpus_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    ws = open_workspace(corpus_copy(corpus_template, tmp_path_factory.mktemp("prop")))
    yield ws
    ws.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_spelling_of_a_query_returns_the_canonical_hits(
    sqlite_corpus: Workspace, data: st.DataObject
) -> None:
    word = data.draw(st.sampled_from(CANONICAL))
    variant = data.draw(spelled(word))
    assert find(sqlite_corpus, variant) == find(sqlite_corpus, word)


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_any_spelling_in_a_document_gives_the_canonical_terms(data: st.DataObject) -> None:
    word = data.draw(st.sampled_from(CANONICAL))
    if data.draw(st.booleans()):  # the article, with what may come before it
        variant = data.draw(spelled(word))
    else:  # particles written onto the bare word
        particle = data.draw(st.sampled_from(["و", "ف", "ب", "ل", "ك", "وب", "فل", "وك"]))
        variant = particle + data.draw(spelled(word, article=False))
    assert analyze(variant).stem == analyze(word).stem


@given(st.integers(min_value=0, max_value=10**12))
def test_digits_in_any_script_are_the_same_number(n: int) -> None:
    latin = str(n)
    for zero in (0x0660, 0x06F0):  # Arabic-Indic, Persian
        other = "".join(chr(zero + int(c)) for c in latin)
        assert analyze(other).exact == analyze(latin).exact == [latin]


def test_a_phrase_on_tantivy_scores_as_exact_or_stem_with_the_exact_read_only_where_the_stem_is(
    corpus_template: Path, tmp_path: Path
) -> None:
    """A phrase's exact form is only looked for in the texts its stem form matched (every
    exact match is a stem match): the same documents with the same scores as the union of
    the two, which read both phrases' positions through every text."""
    from amanah.search import tantivy_index
    from amanah.search.query import Phrase, parse

    ws = open_workspace(corpus_copy(corpus_template, tmp_path))
    try:
        search_ = tantivy_index.TantivySearch(tantivy_index.open_index(ws))
        searcher = search_.idx.index.searcher()
        phrases = [
            '"the detainees"',
            '"detainees were"',
            '"the branch"',
            '"الاعتقال في"',
            '"احمد ابراهيم"',
            '"فرع المخابرات"',
            '"المخابرات الجوية"',
            '"held at the branch"',
        ]
        matched = 0
        for text in phrases:
            node = parse(text).match
            assert isinstance(node, Phrase), text
            exact = search_._phrase("exact", node.exact)
            stem = search_._phrase("stem", node.stem)
            union = searcher.search(search_._either(exact, stem), 50, count=True)
            within = searcher.search(search_._within(exact, stem), 50, count=True)
            assert within.count == union.count, text
            assert [(round(s, 5), a.doc) for s, a in within.hits] == [
                (round(s, 5), a.doc) for s, a in union.hits
            ], text
            matched += bool(union.count)
        assert matched >= 5  # the phrases are in the corpus, so the comparison compares hits
    finally:
        ws.close()
