"""The index writer's remembered analysis gives the analyzer's terms exactly, position for
position: on real Arabic and English text, on every whitespace character as a separator,
on what NFKD turns into several words, and on random text (hypothesis)."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amanah.search import bulk_terms
from amanah.text.analyzer import analyze

WHITESPACE = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]

SAMPLES = [
    "وَقالَ الوزيرُ بالأمس: إنّ المعتقلين في سجن صيدنايا ٣٤ شخصاً",
    "The detainees were transferred to Branch 215 on 12 March 2013; witnesses' statements",
    "ﷺ ﷲ ﷽ ﻻ ① ½ ² ﬁnance Ⅻ",  # NFKD makes several words (or none) of one character
    "ΟΔΥΣΣΕΥΣ ΣΑΣ Σ ΑΣ.Β",  # final sigma depends on the letters around it
    "كـــتـــاب والكتاب، فالكتاب؛ للكتاب وللكتاب",
    "a" * 200 + " " + "ب" * 70 + " x_y-z 'quoted' «مقتبس» 2011-03-15",
    "\u200cزرد\u200d\u064b\u0651 ـ \u0300a\u0301",  # joiners, marks and tatweel at the edges
    "İstanbul ΣΑΣ Straße ǅemal",
    "",
    "   \t\n  ",
]


def _same(text: str) -> None:
    want = analyze(text)
    assert bulk_terms.analyze(text) == want, text
    assert bulk_terms.joined(text) == (" ".join(want.exact), " ".join(want.stem)), text
    # Remembered: the same again, now from memory.
    assert bulk_terms.analyze(text) == want, text


@pytest.mark.parametrize("text", SAMPLES)
def test_the_same_terms_as_the_analyzer(text: str) -> None:
    _same(text)


@pytest.mark.parametrize("space", WHITESPACE, ids=[f"U+{ord(c):04X}" for c in WHITESPACE])
def test_every_whitespace_character_separates_as_in_the_analyzer(space: str) -> None:
    # Around letters that fold, marks, final sigma and a ligature NFKD splits into words.
    _same(space.join(["ΑΣ", "\u064bالوزير", "ﷺ", "Σα", "ﬁx", "٣٤"]))
    _same(f"ΑΣ{space}\u0301Β")


def test_a_long_token_is_analysed_without_being_remembered() -> None:
    token = "كتاب" * 40
    _same(token)
    assert token not in bulk_terms._memo
    assert "كتاب" + "a" * 5 not in bulk_terms._memo
    _same("كتاب" + "a" * 5)
    assert "كتاب" + "a" * 5 in bulk_terms._memo


def test_a_full_memory_still_gives_the_same_terms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_terms, "_memo", {})
    monkeypatch.setattr(bulk_terms, "MEMO_SIZE", 3)
    for text in SAMPLES:
        _same(text)
    assert len(bulk_terms._memo) <= 3 + max(len(t.split()) for t in SAMPLES)


def test_many_texts_in_order() -> None:
    assert bulk_terms.analyze_all(SAMPLES) == [analyze(t) for t in SAMPLES]
    assert bulk_terms.joined_all(SAMPLES) == [
        (" ".join(t.exact), " ".join(t.stem)) for t in map(analyze, SAMPLES)
    ]


# Characters where the analyzer's steps could look past a token: Arabic letters, marks,
# tatweel and joiners, Latin and Greek letters (sigma), compatibility characters, digits of
# three scripts, punctuation, and whitespace of every kind.
ALPHABET = st.sampled_from(
    [
        *"ابتثجحخدذرزسشصضطظعغفقكلمنهويأإآىةؤئءکی",
        *("\u064b", "\u0651", "\u0670", "\u0640", "\u200c", "\u200d", "\u0301", "\u0308"),
        *"aBcΣσςΑİıßǅﬁﬀ①½²Ⅻﷺﷲﻻ٣٤۵09_-'.,:;«»",
        *WHITESPACE,
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(ALPHABET, max_size=60).map("".join))
def test_random_text_gives_the_analyzer_s_terms(text: str) -> None:
    _same(text)
