"""Did you mean, and the fuzzy fall-back: typos in Latin and Arabic find their word on every
backend, and no suggestion ever comes from an item the caller may not see."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from amanah.access import Caller
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.runner import run
from amanah.search import engine, suggest
from amanah.search.query import QueryError, parse
from amanah.search.service import search
from amanah.workspace import Workspace, open_workspace
from tests.conftest import amanah, without_semantic
from tests.test_search import make_search_home
from tests.webfixtures import Site

# Fictional documents. Names are invented.
OPEN = {
    "w1.txt": "The witness described the Palestine branch and its interrogation rooms.",
    "w2.txt": "A second witness saw detainees at the Palestine branch in 2012.",
    "w3.txt": "Another witness statement about shelling near the school.",
    "h1.txt": "Report by Hamdan on the checkpoint.",
    "a1.txt": "قال الشاهد إن المعتقلين نقلوا إلى فرع فلسطين في دمشق",
    "a2.txt": "شهادة عن فرع فلسطين والمدرسة في القرية",
    "a3.txt": "تقرير عن المستشفى الميداني",
}
# Only in the protected compartment: a witness's name (Latin and Arabic), and a word that is
# closer to, and more frequent than, a visible one.
PROTECTED = {
    "p1.txt": "Statement of Zubayda Qatramiz. زبيدة قطراميز. Hamdun was there.",
    "p2.txt": "Qatramiz again; Hamdun saw it.",
}
OUTSIDER = Caller(actor="analyst:open", compartments=frozenset({"default"}))
WITNESS = Caller(actor="analyst:w", compartments=frozenset({"default", "witness-protection"}))
BACKENDS = ["sqlite-file", "postgresql-file", "sqlite-file+fts5"]


@pytest.fixture(scope="module", params=BACKENDS)
def corpus(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    tmp = tmp_path_factory.mktemp("suggest")
    home = make_search_home(request, tmp, request.param)
    without_semantic(home)
    ws = open_workspace(home)
    for folder, docs, compartment in (
        ("open", OPEN, "default"),
        ("protected", PROTECTED, "witness-protection"),
    ):
        (tmp / folder).mkdir()
        for name, body in docs.items():
            (tmp / folder / name).write_text(body, encoding="utf-8")
        report = ingest(
            ws,
            IntakeRequest(
                sources=[str(tmp / folder)],
                collection=folder,
                provider="Demo Centre",
                compartment=compartment,
                actor="t",
            ),
        )
        assert report.status == "complete"
    assert run(ws, workers=2, wait=True).failed == 0
    yield ws
    ws.close()


@pytest.mark.parametrize(
    ("typed", "word"),
    [
        ("witnes", "witness"),  # a letter missing
        ("Palestne", "palestine"),  # a letter missing, capitals folded
        ("witnaes", "witness"),  # two slips in a long word
        ("witnses", "witness"),  # two letters swapped
        ("wintess", "witness"),  # letters swapped
        ("qitness", "witness"),  # the first letter wrong
        ("iwtness", "witness"),  # the first two letters swapped
        ("فلسطبن", "فلسطين"),  # an Arabic letter wrong
        ("فلسطيين", "فلسطين"),  # an extra letter
        ("فلطين", "فلسطين"),  # a letter missing
        ("قلسطين", "فلسطين"),  # the first letter wrong
        ("والمستسفى", "مستشفي"),  # particles and a wrong letter: the analyzer's forms
    ],
)
def test_a_typo_finds_its_word_on_every_backend(corpus: Workspace, typed: str, word: str) -> None:
    assert engine.suggest(corpus, OUTSIDER, typed)[:1] == [word]


def test_no_suggestion_comes_from_an_item_the_caller_may_not_see(corpus: Workspace) -> None:
    # A protected name typed with one slip is not corrected outside its compartment ...
    for typed in ("Qatramis", "Qatramiz", "قطراميس", "زبيده"):
        assert engine.suggest(corpus, OUTSIDER, typed) == [], typed
        r = search(corpus, OUTSIDER, typed, fallback=True)
        assert (r.total, r.suggestion) == (0, None), typed
    # ... and is for someone who holds it (the negative control).
    assert engine.suggest(corpus, WITNESS, "Qatramis") == ["qatramiz"]
    assert engine.suggest(corpus, WITNESS, "قطراميس") == ["قطراميز"]
    # Hamdun (protected, 2 items) is as close to "hamdin" as Hamdan (open, 1 item): the
    # outsider gets only Hamdan; the witness's order counts the items they see.
    assert engine.suggest(corpus, OUTSIDER, "Hamdin") == ["hamdan"]
    assert engine.suggest(corpus, WITNESS, "Hamdin") == ["hamdun", "hamdan"]
    nobody = Caller(actor="x", compartments=frozenset())
    assert engine.suggest(corpus, nobody, "witnes") == []
    assert search(corpus, nobody, "witnes", fallback=True).suggestion is None


def test_a_query_that_finds_nothing_is_offered_and_run_corrected(corpus: Workspace) -> None:
    r = search(corpus, OUTSIDER, "Palestne branch")
    assert r.total == 0 and r.suggestion is not None
    assert r.suggestion["query"] == "palestine branch" and not r.suggestion["applied"]
    assert r.suggestion["corrections"] == [{"typed": "Palestne", "word": "palestine", "count": 2}]
    again = search(corpus, OUTSIDER, "Palestne branch", fallback=True)
    direct = search(corpus, OUTSIDER, "palestine branch")
    assert again.total == direct.total == 2
    assert [h.item_id for h in again.hits] == [h.item_id for h in direct.hits]
    assert again.query == "palestine branch"
    assert again.suggestion == {**r.suggestion, "applied": True}
    # Words inside phrases and groups are corrected; negated words, filters and prefixes
    # are left as typed.
    r = search(corpus, OUTSIDER, '"witnes statement" (فلسطبن OR zzzq) -shellin lang:en witn*')
    assert r.suggestion is not None
    assert r.suggestion["query"] == '"witness statement" (فلسطين OR zzzq) -shellin lang:en witn*'


def test_a_query_that_has_hits_gets_no_rewrite(corpus: Workspace) -> None:
    for q in ("witness", "Palestine branch", "فرع فلسطين", "witness OR Palestne"):
        r = search(corpus, OUTSIDER, q, fallback=True)
        assert r.total >= 3 or q != "witness OR Palestne"
        assert r.query == q and (r.suggestion is None or not r.suggestion["applied"]), q
    r = search(corpus, OUTSIDER, "witness", fallback=True)
    assert r.suggestion is None and r.total == 3


def test_a_query_with_a_few_hits_and_only_required_words_skips_the_lookup_it_would_waste(
    corpus: Workspace,
) -> None:
    """Each word of such a query is in its hits, so the full lookup would offer nothing: the
    shortcut is checked against it. An OR lets a word find nothing while the query has hits:
    that word is still corrected."""
    few = (
        "Hamdan checkpoint",
        '"Palestine branch" 2012',
        "shelling -interrogation",
        "المستشفى الميداني",
        "Hamdan (checkpoint -school)",
    )
    for q in few:
        parsed = parse(q)
        r = search(corpus, OUTSIDER, q)
        assert 0 < r.total < suggest.FEW and suggest.every_word_required(parsed.match), q
        assert r.suggestion is None
        assert suggest.suggest_query(corpus, OUTSIDER, parsed) is None, q  # the full lookup
    r = search(corpus, OUTSIDER, "Hamdan OR Palestne")
    assert r.total == 1 and r.suggestion is not None
    assert r.suggestion["query"] == "Hamdan OR palestine"
    assert not suggest.every_word_required(parse("(a OR b) c").match)
    assert suggest.every_word_required(parse('a "b c" -(d OR e)').match)


@pytest.mark.parametrize(
    "typed",
    [
        "w" * 3900,
        "witnes" * 600,
        "wit'nes",
        "wit%n_es",
        "وَالشّاهِدُ" * 300,
        "a\\b",
        'wit"nes"',
        "x:y",
        "=witnes",
        "witnes*",
        "ﷺ\u200f\u202ewitnes",
        "\x00witnes",
        "'; DROP TABLE search_docs; --",
        " ".join(f"wtn{i}x" for i in range(500)),  # many words: only the first few corrected
        "\U0010ffff\U0010ffff\U0010ffff",
    ],
)
def test_hostile_input_gives_no_error(corpus: Workspace, typed: str) -> None:
    assert isinstance(engine.suggest(corpus, OUTSIDER, typed), list)
    try:
        r = search(corpus, OUTSIDER, typed, fallback=True)
    except QueryError:  # a query the language refuses says where; nothing else is allowed
        return
    assert r.suggestion is None or isinstance(r.suggestion["query"], str)


def test_the_command_line_prints_the_suggestion(corpus: Workspace) -> None:
    home = corpus.home
    proc = amanah(home, "search", "witnes")
    assert proc.returncode == 0, proc.stderr
    assert "did you mean: witness" in proc.stdout
    data = json.loads(amanah(home, "search", "witnes", "--json", check=True).stdout)
    assert data["total"] == 0 and data["suggestion"]["query"] == "witness"
    data = json.loads(amanah(home, "search", "witness", "--json", check=True).stdout)
    assert data["suggestion"] is None


# --- the web search page ------------------------------------------------------------------------


def test_the_search_page_falls_back_to_the_corrected_query_in_english_and_arabic(
    site: Site,
) -> None:
    c, _ = site.browser("analyst")  # holds "blue" only
    page = c.get("/search?q=checkpoin").text
    assert "Showing results for" in page and "Search instead for" in page
    assert "<strong>checkpoint</strong>" in page and "statement-b.txt" in page
    assert "/search?q=checkpoin&amp;mode=text&amp;fuzzy=0" in page
    # As typed: nothing, and the suggestion offered, not run.
    page = c.get("/search?q=checkpoin&fuzzy=0").text
    assert "No item matches." in page and "Did you mean" in page
    assert "Showing results for" not in page and "statement-b.txt" not in page
    # A query with hits is not rewritten.
    page = c.get("/search?q=checkpoint").text
    assert "statement-b.txt" in page and "Did you mean" not in page
    assert "Showing results for" not in page
    c.get("/lang/ar?next=/")
    page = c.get("/search?q=فلسطبن").text
    assert "تُعرض نتائج" in page and "ابحث بدلًا من ذلك عن" in page
    assert "<strong>فلسطين</strong>" in page and "شهادة-أ.txt" in page
    page = c.get("/search?q=فلسطبن&fuzzy=0").text
    assert "هل تقصد" in page and "شهادة-أ.txt" not in page


def test_the_search_page_suggests_nothing_from_another_compartment(site: Site) -> None:
    # الأحمر and سري occur only in the red collection: typed with a slip by a blue analyst,
    # neither the page nor the API names them, nor offers anything.
    c, _ = site.browser("analyst")
    for typed in ("الاحمز", "الأحمد", "سزي"):
        page = c.get(f"/search?q={typed}").text
        assert "No item matches." in page, typed
        assert "Did you mean" not in page and "Showing results for" not in page
        assert "احمر" not in page and "سري" not in page
        r = site.api("analyst").get("/api/v1/search", params={"q": typed}).json()
        assert (r["total"], r["suggestion"]) == (0, None)
    # The negative control: someone who holds red is offered the word.
    r = site.api("admin").get("/api/v1/search", params={"q": "الاحمز"}).json()
    assert r["suggestion"]["query"] == "احمر"
