"""Snippets read a window's words from the analyzer's streams (`snippets._window_terms`), not
token by token; the marks must be exactly the ones the token-by-token reading finds, on any
text: Arabic with marks, tatweel, presentation forms and ligatures, Latin with accents and
English stems, digits of three systems, controls and bidirectional overrides, words the
analyzer splits (½, ﬁ) or drops (a lone mark)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amanah.search import snippets
from amanah.search.query import parse
from amanah.text.analyzer import folded_in_place

PIECES = [
    "المخابرات",
    "وَالفَرْعُ",
    "الفرع",
    "بالكابلات",
    "ولاحقاً",
    "فلسطين",
    "اعتقل",
    "ﻻ",
    "ﷲ",
    "ـــ",
    "\u064b",
    "١٢٣",
    "۴۵",
    "123",
    "The",
    "branches",
    "running",
    "dying",
    "naïve",
    "é",
    "x\u0301y",
    "½",
    "ﬁre",
    "İstanbul",
    "ß",
    "\u202e",
    "\x1b[31m",
    "\u200d",
    "-",
    ",",
    " ",
    "\n",
    "al-Habbo's",
    "Habbo",
    "الحبو",
    "سجن",
    "صيدنايا",
    "detention",
    "detained",
]
QUERIES = [
    "الفرع",
    "المخابرات",
    "كابلات",
    "running",
    "branch",
    "detain*",
    "الحب*",
    '"الفرع المخابرات"',
    '"the branches"',
    "=الفرع",
    "habbo",
    "123",
    "لاحقا",
    "صيدنايا OR detention",
    "fire",
    "ﻻ",
]


def _slow(query: str, body: str) -> list[tuple[int, int]]:
    """The streams' reading, forced (by itself a short text is read token by token)."""
    return snippets._matches(parse(query).terms(), body, first_only=False, fast=True)


def token_by_token(query: str, body: str) -> list[tuple[int, int]]:
    return snippets._matches(parse(query).terms(), body, first_only=False, fast=False)


@settings(derandomize=True, max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), max_size=60),
    st.lists(st.sampled_from([" ", "", "\u0651", "ـ"]), max_size=60),
    st.sampled_from(QUERIES),
)
def test_marks_from_the_streams_equal_marks_token_by_token(
    pieces: list[str], glue: list[str], query: str
) -> None:
    body = "".join(p + (glue[i] if i < len(glue) else " ") for i, p in enumerate(pieces))
    assert _slow(query, body) == token_by_token(query, body)


def test_the_streams_find_the_words_as_written_and_a_split_token_falls_back() -> None:
    body = "وَالفَرْعُ المخابرات في دمشق; the Branches ran ½ detained"
    marks = _slow('"الفرع المخابرات" OR branch OR detain*', body)
    assert [body[a:b] for a, b in marks] == ["وَالفَرْعُ المخابرات", "Branches", "detained"]
    # ½ is two words to the analyzer (1, 2): no one-to-one pairing, read token by token.
    assert snippets._window_terms(body, set(), set(), [], [], None) is None
    plain = body.replace("½", "")
    assert snippets._window_terms(plain, {"branch"}, set(), [], [], None) == [(34, 42)]
    assert marks == token_by_token('"الفرع المخابرات" OR branch OR detain*', body)


def test_a_long_text_is_read_window_by_window_with_the_same_marks() -> None:
    body = ("word " * 50_000) + "المخابرات " + ("other " * 40_000) + "المخابرات"
    assert len(body) > 2 * snippets.SCAN
    assert _slow("مخابرات", body) == token_by_token("مخابرات", body)
    assert len(_slow("مخابرات", body)) == 2


def test_a_long_text_of_new_words_is_streamed_and_a_short_or_familiar_one_is_not() -> None:
    short = "المخابرات في دمشق " * 10
    assert not snippets._unseen(short)  # under STREAM_FROM characters
    familiar = "المخابرات في دمشق the branch report " * 60
    token_by_token("report", familiar)  # its few words are cached from now on
    assert not snippets._unseen(familiar)
    fresh = " ".join(f"كلمة{n}جديدة word{n}new" for n in range(200))
    assert len(fresh) > snippets.STREAM_FROM and snippets._unseen(fresh)
    assert snippets._unseen(fresh)  # asking analysed nothing: the words are still new
    leaves = parse("كلمة7جديدة").terms()
    assert snippets._matches(leaves, fresh, first_only=False) == token_by_token("كلمة7جديدة", fresh)


def test_windows_cut_at_white_space_and_a_word_across_a_cut_is_read_whole() -> None:
    word = "المخابراتالجوية"  # one token, placed across the first window's nominal end
    body = "ب" * (snippets.FIRST - 5) + " " + word + " " + "ج " * 5000 + word
    cuts = [cut for _, cut in snippets._windows(body)]
    assert cuts[-1] == len(body) and all(body[c].isspace() for c in cuts[:-1])
    for fast in (True, False):
        found = snippets._matches(parse(word).terms(), body, first_only=False, fast=fast)
        assert [body[a:b] for a, b in found] == [word, word]
        # the token's tail is no word of its own on either side of a cut
        assert snippets._matches(parse("لجوية").terms(), body, first_only=False, fast=fast) == []


def test_a_snippet_reads_a_long_text_only_to_its_first_window_with_a_hit() -> None:
    early, late = "المخابرات", "صيدنايا"
    body = "كلام " * 100 + early + " " + "كلام " * 20_000 + f"{late} {early} {late}"
    leaves = parse(f"{early} OR {late}").terms()
    first = snippets._matches(leaves, body)
    assert [body[a:b] for a, b in first] == [early]  # the window of 4,000 characters
    every = snippets._matches(leaves, body, first_only=False)
    assert [body[a:b] for a, b in every] == [early, late, early, late]
    snip = snippets.make(body, leaves)
    assert early in snip.text and late not in snip.text and len(snip.highlights) == 1
    # a text whose first hit is far in is still found, window after window
    far = "كلام " * 30_000 + late
    assert [far[a:b] for a, b in snippets._matches(parse(late).terms(), far)] == [late]


def test_the_token_cache_is_bounded_and_forgets_the_oldest_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from amanah.text import analyzer

    monkeypatch.setattr(analyzer, "FORMS_CACHED", 50)
    monkeypatch.setattr(analyzer, "_FORMS", type(analyzer._FORMS)())
    for n in range(120):
        assert len(analyzer.token_forms(f"كلمة{n}")) == 1
    assert len(analyzer._FORMS) == 50
    assert analyzer.known("كلمة119") and analyzer.known("كلمة70") and not analyzer.known("كلمة69")
    assert not analyzer.known("كلمة0")


# --- windows passed over: the parts any match must hold ------------------------------------------

ROOTS = ["abl", "possib", "gener", "commun", "respons", "nation", "relat", "hop", "tap", "d", "l"]
ROOTS += ["t", "sk", "ug", "earl", "on", "id", "gent", "tri", "happ", "activ", "electr", "histor"]
ROOTS += ["digit", "cur", "organ", "real", "centr", "fals", "geolog", "analy", "conspir", "say"]
ENDINGS = ["", "s", "ies", "ied", "ed", "ing", "ying", "ly", "y", "li", "ness", "fulness", "ive"]
ENDINGS += ["iveness", "ivity", "ability", "ibility", "bility", "ble", "bly", "ation", "ational"]
ENDINGS += ["tional", "ization", "izer", "ize", "alism", "ality", "alli", "ence", "ency", "ance"]
ENDINGS += ["ator", "ement", "ently", "ical", "icate", "icity", "ative", "alize", "ously", "ogi"]
ENDINGS += ["ogy", "lessly", "fully", "iti", "e", "le", "ll", "er", "iest", "ily", "ousness"]
EXCEPTIONS = ["dying", "lying", "tying", "skies", "skis", "idly", "gently", "ugly", "early"]
EXCEPTIONS += ["only", "singly", "news", "howe", "atlas", "cosmos", "bias", "andes", "proceed"]
ARABIC = ["وَبِالمَدْرَسَةِ", "فالوزير", "للمخابرات", "وكتابهم", "بِسجن", "ـالفـرع", "ولاحقاً", "١٢٣"]


def test_every_word_holds_the_part_its_stem_promises() -> None:
    """`stem_part` is what lets a window be passed over unread: every word whose stem is S must
    hold stem_part(S) in its folded text. Snowball's English rewrites at most two letters at
    the end of what it keeps ("dying" → "die"); an Arabic stem is the word less particles."""
    from amanah.text.analyzer import exact_form, folded_text, stem_form, stem_part, words

    written = [r + e + t for r in ROOTS for e in ENDINGS for t in ("", "s", "ly", "ness", "ed")]
    written += EXCEPTIONS + [w.capitalize() for w in EXCEPTIONS] + ARABIC
    written += [f"و{w}" for w in ("reports", "branches", "detained")]
    checked = begins = 0
    for token in written:
        for word in words(token):
            stem = stem_form(exact_form(word))
            part = stem_part(stem)
            if part is not None:
                checked += 1
                assert part in folded_text(token), token
            beginning = snippets._beginning(stem)
            if beginning is not None:  # what a snippet looks for where no part is certain
                begins += 1
                folded = folded_text(token)[1:]
                assert 0 in {
                    folded.rfind(" ", 0, at) + 1 for at in snippets._places(folded, beginning)
                }, token
    assert checked > 7_000 and begins > 7_000
    assert stem_part("die") is None and stem_part("report") == "repo"
    assert stem_part("مخابرات") == "مخابرات"


def _read_whole(monkeypatch: pytest.MonkeyPatch, query: str, body: str) -> list[tuple[int, int]]:
    with monkeypatch.context() as m:
        m.setattr(snippets, "_ways", lambda leaves: None)
        return snippets._matches(parse(query).terms(), body, first_only=False)


@pytest.mark.parametrize("query", [*QUERIES, "dying", "singly", "ugly OR repor*", "=branches"])
def test_passing_over_windows_without_the_parts_loses_no_mark(
    monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    """Each piece planted far into a long text, at several depths: the marks with windows
    passed over are exactly the marks of reading every window."""
    filler = "كلام عن الموضوع some other words here " * 400
    body = filler.join(f" {p} " for p in PIECES[:8]) + filler + " ".join(PIECES)
    assert len(body) > 20 * snippets.FIRST
    every = _read_whole(monkeypatch, query, body)
    assert snippets._matches(parse(query).terms(), body, first_only=False) == every
    first = snippets._matches(parse(query).terms(), body)
    assert first == [m for m in every if m[0] < (first[-1][1] if first else 0)] or not every


def test_a_text_whose_word_first_occurs_far_in_reads_only_the_windows_holding_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = "كلام " * 60_000 + "صيدنايا في آخر النص"
    analysed: list[int] = []
    real = snippets._window_terms

    def counting(window: str, *args: object) -> object:
        analysed.append(len(window))
        return real(window, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(snippets, "_window_terms", counting)
    found = snippets._matches(parse("صيدنايا").terms(), body, fast=True)
    assert [body[a:b] for a, b in found] == ["صيدنايا"]
    assert len(analysed) == 1  # one window of 4,000 characters, not 300,000 characters
    # a short English stem holds no certain part: every window is read, as before
    analysed.clear()
    snippets._matches(parse("ugly").terms(), "word " * 3_000 + "ugly", fast=True)
    assert len(analysed) > 1


@pytest.mark.parametrize("grow", [True, False])
def test_a_window_cut_inside_a_glued_run_of_letters_reads_no_word_of_its_own(grow: bool) -> None:
    """A cut with no white space near falls inside a word: the window after it begins with the
    word's rest, which is no word (the index has only the whole run). Placed exactly at each
    window's start, the word glued to the letters before it is never marked."""
    size = 3 * snippets.SCAN if grow else 6 * snippets.FIRST
    starts = [s for s, _ in snippets._windows("x" * size, grow=grow)][1:]
    for start in starts:
        body = "x" * start + "checkpoint"  # the text's last word, glued to the run before it
        for fast in (True, False):
            assert snippets._matches(parse("checkpoint").terms(), body, False, fast) == []
    # negative control: set apart by a space, the word is marked
    body = "x" * starts[0] + " checkpoint"
    found = snippets._matches(parse("checkpoint").terms(), body, first_only=False)
    assert [body[a:b] for a, b in found] == ["checkpoint"]


FILLER = "كلام عن الموضوع some other words here, " * 14  # 500+ characters of no query word


#: Pieces whose folded text keeps every offset (no mark, ligature or decomposed letter).
IN_PLACE = [p for p in PIECES if folded_in_place(p) is not None]
IN_PLACE += ["_", "x_y", "Report", "the", "وrunning", "والrunning", "بالfire", "ugly"]


def _counting(analysed: list[str]) -> object:
    """`snippets.token_forms`, noting each token it is asked to analyse."""
    real = snippets.token_forms

    def counting(token: str) -> object:
        analysed.append(token)
        return real(token)

    return counting


@settings(derandomize=True, max_examples=400, deadline=None)
@given(
    st.one_of(
        st.lists(st.sampled_from(IN_PLACE), max_size=60),
        st.lists(st.sampled_from([*PIECES, "_", "x_y", "ﬁ", "\u0651"]), max_size=60),
    ),
    st.one_of(
        st.lists(st.sampled_from([" ", "", "_", ", "]), max_size=60),
        st.lists(st.sampled_from([" ", "", "\u0651", "ـ", "_"]), max_size=60),
    ),
    st.sampled_from([*QUERIES, "ugly OR repor*", "=branches", '"report the" OR branch']),
    st.integers(0, 2),
)
def test_marks_read_at_the_spots_equal_marks_token_by_token(
    pieces: list[str], glue: list[str], query: str, where: int
) -> None:
    """A text read only at the tokens holding a part a match must hold, or a phrase's first
    word (`snippets._spotted`), gives the marks of reading every token, wherever the words
    stand in the filler, whatever breaks the folded text's offsets (marks, ligatures)."""
    planted = "".join(p + (glue[i] if i < len(glue) else " ") for i, p in enumerate(pieces))
    body = (FILLER * where) + planted + FILLER * (2 - where)
    assert len(body) >= snippets.SPOT_FROM
    leaves = parse(query).terms()
    assert snippets._matches(leaves, body, first_only=False) == token_by_token(query, body)


def test_a_text_is_read_only_at_the_tokens_holding_the_words_parts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The spots, not the window: only the tokens that hold a part are analysed, and a text
    whose folded offsets move (a mark) or whose parts are everywhere is read whole."""
    analysed: list[str] = []
    counting = _counting(analysed)
    monkeypatch.setattr(snippets, "token_forms", counting)
    body = FILLER + "شهد المخابرات والمخابرة في الفرع الخامس " + FILLER + " Detained detainees"
    found = snippets._matches(parse("مخابرات OR detain*").terms(), body, first_only=False)
    assert [body[a:b] for a, b in found] == ["المخابرات", "Detained", "detainees"]
    assert sorted(analysed) == sorted(["المخابرات", "Detained", "detainees"])
    assert found == token_by_token("مخابرات OR detain*", body)
    # a mark moves the folded text's offsets: read whole, the same marks
    analysed.clear()
    marked = body.replace("الفرع", "الفَرع")
    found = snippets._matches(parse("مخابرات").terms(), marked, first_only=False)
    assert [marked[a:b] for a, b in found] == ["المخابرات"]
    assert len(analysed) > 50
    # parts in more than MAX_SPOTS tokens: read whole, the same marks
    many = "report " * (snippets.MAX_SPOTS + 1) + FILLER
    analysed.clear()
    found = snippets._matches(parse("reported").terms(), many, first_only=False)
    assert len(found) == snippets.MAX_SPOTS + 1
    assert found == token_by_token("reported", many)


def test_a_phrase_is_read_from_the_tokens_holding_its_first_words_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    analysed: list[str] = []
    counting = _counting(analysed)
    body = FILLER + "فرع المخابرات ثم الفرع، المخابرات الجوية؛ الفرع الخامس " + FILLER
    query = '"الفرع المخابرات" OR "reports filed the"'
    body += " The reports, filed the late: the report filed, THE"
    monkeypatch.setattr(snippets, "token_forms", counting)
    found = snippets._matches(parse(query).terms(), body, first_only=False)
    marked = [body[a:b] for a, b in found]
    assert marked == [
        "فرع المخابرات",
        "الفرع، المخابرات",
        "reports, filed the",
        "report filed, THE",
    ]
    assert len(analysed) < 20  # the spots and the words after them, not the whole text
    monkeypatch.undo()
    assert found == token_by_token(query, body)


PHRASE_WORDS = ["الفرع", "المخابرات", "فرع", "Report", "reports", "the", "filed", ",", "x_y", "_"]


@settings(derandomize=True, max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(PHRASE_WORDS), min_size=1, max_size=40),
    st.lists(st.sampled_from([" ", "", ", "]), max_size=40),
    st.sampled_from(
        ['"الفرع المخابرات"', '"report the filed"', '"reports filed" OR الفرع', '"فرع فرع"']
    ),
)
def test_phrases_read_at_the_spots_equal_phrases_token_by_token(
    pieces: list[str], glue: list[str], query: str
) -> None:
    planted = "".join(p + (glue[i] if i < len(glue) else " ") for i, p in enumerate(pieces))
    body = FILLER + planted + " " + FILLER
    leaves = parse(query).terms()
    assert snippets._matches(leaves, body, first_only=False) == token_by_token(query, body)


def test_a_short_english_stem_is_read_at_the_words_beginning_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ "running" stems to "run": no part of it is certain anywhere in a word ("dying" is
    "die"), but every such word begins with "r", which is looked for after a space."""
    analysed: list[str] = []
    counting = _counting(analysed)
    body = FILLER + "Running runs late, she runs; he ran a rerun, err والrunning " + FILLER
    monkeypatch.setattr(snippets, "token_forms", counting)
    found = snippets._matches(parse("running").terms(), body, first_only=False)
    assert [body[a:b] for a, b in found] == ["Running", "runs", "runs", "والrunning"]
    assert sorted(analysed) == ["Running", "ran", "rerun", "runs", "runs", "والrunning"]
    monkeypatch.undo()
    assert found == token_by_token("running", body)
