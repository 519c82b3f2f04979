"""tantivy's own analysis chain, fed `analyzer.streams`, gives the analyzer's terms exactly,
token by token and position for position: on Arabic text, on xquad's Arabic and English
paragraphs and questions, on the search benchmark's generated corpus, on every whitespace and
on random mixed text (hypothesis). Queries keep the Python analyzer, so both sides must agree
or a word indexed by tantivy would not be found. An index made by the writer before (schema 1:
finished stems under a whitespace tokenizer) is named by `verify` and made anew."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import pytest
import Stemmer
from hypothesis import given, settings
from hypothesis import strategies as st

from amanah.search import tantivy_check, tantivy_index
from amanah.search.index import reindex
from amanah.search.service import search
from amanah.search.tantivy_index import STEMMER, TOKENIZER, analyzers
from amanah.text.analyzer import (
    _WORD,
    MAX_WORD,
    analyze,
    stream_terms,
    streams,
    token_offsets,
    tokens,
)
from benchmarks.search_scale import _generate
from tests import arabic_corpus
from tests.conftest import SHARED_DATA
from tests.test_search_bulk_terms import SAMPLES, WHITESPACE

_CHAINS = analyzers()
XQUAD = SHARED_DATA / "xquad_ar_en"


def chain(text: str) -> tuple[list[str], list[str]]:
    """The exact and stem tokens tantivy indexes for a text, in position order."""
    exact, peeled = streams(text)
    return _CHAINS[TOKENIZER].analyze(exact), _CHAINS[STEMMER].analyze(peeled)


def _same(text: str) -> None:
    want = analyze(text)
    exact, stem = chain(text)
    assert exact == want.exact, text
    assert stem == want.stem, text
    assert stream_terms(text) == want, text  # what snippets read a long window with


# Each kind of token the analyzer treats in its own way, and its neighbours.
TOKENS = [
    "والوزير بالوزير فالوزير كالوزير للوزير وللوزير الوزير وزير ووزير بوزير",  # article, particles
    "ال الا الي لل للا وال بيد يد بال كل فلسطين وفلسطين",  # too short to lose the article or peel
    "وفبل فبكو ووو وفبلك وفبلكا",  # only particle letters: peeled while three remain
    "detainees detained detaining generously skies dying news proceed succeeded",  # English
    "10years 1990s 2nd 3rd mp3s x٣y ٣٤ ۱۲۳ ①②",  # digits first, then Latin
    "αings приветings مرحباings وbeds ßings ǅuring ﬁrst",  # other scripts glued to Latin
    "ΟΔΥΣΣΕΥΣ ΣΑΣ ΑΣ.Β İstanbul Straße",  # case folding that looks at neighbours
    "x_y a-b c'd e.f 'quoted' «مقتبس» 2011-03-15 foo@bar.org http://x.y/z?q=1",
    "كـــتـــاب الشّاهِدُ أُسرة إِيمان آمال ٱلله ى ة ۀ ک ی ؤ ئ",  # tatweel, marks, letter variants
    "ﷺ ﷲ ﷽ ﻻ ﻷ ﺍﻟﻮﺯﻳﺮ",  # presentation forms NFKD makes words of
    "ب" * 70 + " " + "ال" + "ب" * 70 + " " + "وو" + "x" * 80 + " " + "a" * 64 + "ings",
    "स्वतंत्रता हिन्दी ক্ষমা עִבְרִית",  # marks that split words (not in the analyzer's list)
    "bad\udc80bytes \udcff والوزير\ud800",  # lone surrogates (text decoded with surrogateescape)
]


@pytest.mark.parametrize("text", TOKENS + SAMPLES)
def test_the_chain_gives_the_analyzer_terms(text: str) -> None:
    _same(text)


def test_the_words_that_changed_with_version_2() -> None:
    # English now stems any word with a Latin letter, not only one that begins with one: the
    # one change the chain needed. Pure Arabic, digits and other scripts are left as they are.
    assert analyze("10years وbeds αings").stem == ["10year", "bed", "αing"]
    assert analyze("والوزير 1990s привет").stem == ["زير", "1990s", "привет"]


def test_cut_words_lose_the_article_after_the_cut() -> None:
    exact, stem = chain("ال" + "ت" * 70)
    assert exact == stem == ["ت" * (MAX_WORD - 2)]
    assert analyze("ال" + "ت" * 70).exact == exact
    exact, stem = chain("ال" + "ب" * 70)  # ب is a particle letter too: peeled to three
    assert (exact, stem) == (["ب" * (MAX_WORD - 2)], ["ببب"])


@pytest.mark.parametrize("space", WHITESPACE, ids=[f"U+{ord(c):04X}" for c in WHITESPACE])
def test_every_whitespace_character_separates_as_in_the_analyzer(space: str) -> None:
    _same(space.join(["ΑΣ", "\u064bالوزير", "ﷺ", "Σα", "ﬁx", "٣٤", "وbeds"]))


def test_the_arabic_corpus() -> None:
    for line in arabic_corpus.LINES:
        _same(line)
    _same("\n".join(arabic_corpus.LINES))


def test_english_is_the_same_snowball_in_rust_and_in_c() -> None:
    # Snowball's exceptions and a spread of suffixes, stemmed by tantivy (rust-stemmers) and
    # by the analyzer's PyStemmer (libstemmer_c).
    words = [
        "skis",
        "skies",
        "sky",
        "dying",
        "lying",
        "tying",
        "idly",
        "gently",
        "ugly",
        "early",
        "only",
        "singly",
        "news",
        "howe",
        "atlas",
        "cosmos",
        "bias",
        "andes",
        "inning",
        "innings",
        "outing",
        "outings",
        "canning",
        "herring",
        "earring",
        "proceed",
        "exceed",
        "succeed",
        "generate",
        "generously",
        "communism",
        "arsenal",
        "past",
        "universal",
        "later",
        "emerging",
        "organisation",
        "geologist",
        "biology",
        "fullness",
        "hopefully",
        "needlessly",
        "caress",
        "ponies",
        "ties",
        "cries",
        "tied",
        "hopping",
        "hoping",
        "feed",
        "agreed",
        "plastered",
        "bled",
        "motoring",
        "conflated",
        "troubled",
        "sized",
        "tanned",
        "falling",
        "hissing",
        "fizzed",
        "failing",
        "filing",
        "happy",
        "relational",
        "conditional",
        "rational",
        "valenci",
        "digitizer",
        "conformabli",
        "radicalli",
        "differentli",
        "vileli",
        "analogousli",
        "vietnamization",
        "predication",
        "operator",
        "feudalism",
        "decisiveness",
        "hopefulness",
        "callousness",
        "formaliti",
        "sensitiviti",
        "sensibiliti",
        "triplicate",
        "formative",
        "formalize",
        "electriciti",
        "electrical",
        "hopeful",
        "goodness",
        "revival",
        "allowance",
        "inference",
        "airliner",
        "gyroscopic",
        "adjustable",
        "defensible",
        "irritant",
        "replacement",
        "adjustment",
        "dependent",
        "adoption",
        "homologou",
        "communism",
        "activate",
        "angulariti",
        "homologous",
        "effective",
        "bowdlerize",
        "probate",
        "rate",
        "cease",
        "controll",
        "roll",
    ]
    english = Stemmer.Stemmer("english")
    assert _CHAINS[STEMMER].analyze(" ".join(words)) == english.stemWords(words)


@given(st.lists(st.sampled_from("abcdefghijklmnopqrstuvwxyz" + "aeiouy" * 3), max_size=14))
@settings(max_examples=1000, deadline=None)
def test_english_agrees_on_random_latin_words(letters: list[str]) -> None:
    word = "".join(letters)
    if word:
        want = Stemmer.Stemmer("english").stemWord(word)
        assert _CHAINS[STEMMER].analyze(word) == [want]


# Letters of many scripts, marks, the characters the analyzer folds, digits, punctuation,
# spaces and presentation forms: every kind of character a token can meet.
_ALPHABET = st.one_of(
    st.sampled_from(list("ابتلوفكاليةىأإآؤئـًٌٍَُِّْٰٱکی٠١٢٣۴۵ﻻﷺ")),
    st.sampled_from(list("abcdeinsy ABCSTYZßİſǅﬁ0123456789 _-.'’,;:!?«»()/\t\n\u200c\u200d")),
    st.characters(codec="utf-8", exclude_categories=("Cs",)),
)


@given(st.lists(st.text(_ALPHABET, max_size=12), max_size=12).map(" ".join))
@settings(max_examples=800, deadline=None)
def test_random_mixed_text(text: str) -> None:
    _same(text)


@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
@settings(max_examples=1000, deadline=None)
def test_random_text_of_any_character(text: str) -> None:
    _same(text)


def _xquad_texts() -> list[str]:
    texts = []
    for lang in ("ar", "en"):
        data = json.loads((XQUAD / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        for article in data["data"]:
            for para in article["paragraphs"]:
                texts.append(para["context"])
                texts += [qa["question"] for qa in para["qas"]]
    return texts


@pytest.mark.skipif(not XQUAD.exists(), reason="shared data (xquad_ar_en) absent")
def test_xquad_paragraphs_and_questions() -> None:
    texts = _xquad_texts()
    assert len(texts) > 2000
    for text in texts:
        _same(text)


def test_the_benchmark_corpus(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    assert _generate((1, 301, 300, 5, str(path))) == 300
    for line in path.read_text(encoding="utf-8").splitlines():
        _same(json.loads(line)["body"])


def test_the_index_holds_the_analyzer_terms_at_the_same_positions(tmp_path: Path) -> None:
    """Through a real index: every term of both fields, and a phrase of stems that holds only
    if the stem positions are the exact positions."""
    import tantivy

    text = "وقال الشاهد: نُقل والوزير بالأمس إلى 10years «الفرع» detainees were transferred"
    idx = tantivy_index.TantivyIndex(tmp_path)
    writer = idx.index.writer(15_000_000, 1)
    doc = tantivy.Document()
    exact, peeled = streams(text)
    doc.add_text("exact", exact)
    doc.add_text("stem", peeled)
    doc.add_integer("item_id", 1)
    writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()
    idx.index.reload()
    searcher = idx.index.searcher()
    want = analyze(text)
    for field, terms in (("exact", want.exact), ("stem", want.stem)):
        for term in terms:
            q = tantivy.Query.term_query(idx.schema, field, term)
            assert searcher.search(q, 1).count == 1, (field, term)
        # Consecutive terms as phrases: the positions are the analyzer's.
        for a, b in itertools.pairwise(terms):
            q = tantivy.Query.phrase_query(idx.schema, field, [a, b])
            assert searcher.search(q, 1).count == 1, (field, a, b)
    # A negative control: the finished stem of a word is not its exact form here.
    q = tantivy.Query.term_query(idx.schema, "stem", "detainees")
    assert searcher.search(q, 1).count == 0


def test_an_index_from_the_writer_before_is_named_and_made_anew(tmp_path: Path) -> None:
    from tests.test_search import build_corpus
    from tests.test_search_backends import OUTSIDER, _home

    ws = build_corpus(_home(tmp_path, "tantivy"), tmp_path)
    try:
        assert search(ws, OUTSIDER, "مدرسة").total == 3
        assert tantivy_check.check(ws) == []
        # What the writer before left: schema 1 in the stamp (its stem field held finished
        # stems under the whitespace tokenizer).
        folder = tantivy_index.folder_of(ws)
        stamp = json.loads((folder / tantivy_index.STAMP).read_text())
        (folder / tantivy_index.STAMP).write_text(json.dumps({**stamp, "schema": 1}))
        tantivy_index._OPEN.clear()  # another process, started afresh
        problems = tantivy_check.check(ws)
        assert problems == [
            "search index: made by another schema or analyzer version, so it would miss"
            " words: run `amanah reindex`"
        ]
        # Opening it makes it anew (a new generation, every item queued), and the next search
        # finds the same items through the new chain.
        before = stamp["generation"]
        assert tantivy_index.open_index(ws).generation != before
        assert tantivy_index.pending(ws) > 0
        r = search(ws, OUTSIDER, "مدرسة")
        assert r.total == 3 and r.backend == "tantivy"
        assert tantivy_index.pending(ws) == 0
        assert tantivy_check.check(ws) == []
        new = json.loads((folder / tantivy_index.STAMP).read_text())
        assert new["schema"] == tantivy_index.SCHEMA_VERSION == 2
        # `reindex` keeps working on the new chain.
        assert reindex(ws, workers=1).items > 0
        assert search(ws, OUTSIDER, "مدرسة").total == 3
    finally:
        ws.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))


def test_a_text_of_ascii_only_is_stemmed_at_once_with_its_numbers_unchanged() -> None:
    text = "In 2019 the 1st report 0 detained 123 detainees at branch 215 s 7s"
    _same(text)
    assert "2019" in stream_terms(text).stem and "detain" in stream_terms(text).stem


@given(st.text(_ALPHABET, max_size=60))
@settings(max_examples=600, deadline=None)
def test_tokens_are_the_words_pattern_whether_or_not_the_text_has_an_underscore(
    text: str,
) -> None:
    for t in (text, text.replace("_", ""), text + "_"):
        assert [m.span() for m in tokens(t)] == [m.span() for m in _WORD.finditer(t)], t


@given(st.text(_ALPHABET, max_size=80))
@settings(max_examples=600, deadline=None)
def test_token_offsets_are_the_words_pattern_at_c_speed(text: str) -> None:
    for t in (text, text + "\udcff_x\u0651", "_" + text):
        starts, ends = token_offsets(t)
        assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == [
            m.span() for m in _WORD.finditer(t)
        ], t
