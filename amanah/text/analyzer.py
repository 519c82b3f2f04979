"""The analyzer: one function from written text to the terms the index holds.

Index and query go through the same code, so a spelling variant folds to the same term on both
sides. Each word gives two terms at the same position:

- the *exact* form: NFKD, marks (harakat, hamza above/below, madda) and tatweel removed, letter
  variants folded (أ إ آ ٱ → ا, ى → ي, ة → ه, ؤ → و, ئ → ي, Persian ک ی → ك ي), digits in any
  script → ASCII, lower case, and the definite article with its attached particles removed
  (ال، وال، بال، فال، كال، لل);
- the *stem*: the exact form less attached single-letter particles (و ف ب ل ك) as long as three
  letters remain, and Snowball's English stemmer for Latin words.

A word of two letters keeps its particles (بيد is not يد): peeling them would make too many
words meet. Words longer than 64 characters (base64, hashes) are cut to 64 on both sides.

Matching uses stems, so "والوزير", "بالوزير" and "وزير" meet; ranking also scores exact forms,
so a word that merely begins with a particle letter (وزير, فلسطين) still ranks its own
spelling first, and `=word` asks for the exact form only. Snowball's Arabic stemmer is not
used: it conflates too much (فلسطين → لسط) and is inconsistent (وزير → زير but الوزير → وزير).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import Stemmer

# Bumped whenever a change here changes a term: a stored index built by another version must
# be rebuilt (`amanah reindex`) before it can be updated.
VERSION = 1

_MARKS = "\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed"
_TATWEEL = "\u0640"
_JOINERS = "\u200c\u200d"
# A word: letters or digits, with the marks, tatweel and joiners that may sit inside it.
_WORD = re.compile(f"(?:[^\\W_]|[{_MARKS}{_TATWEEL}{_JOINERS}])+")
_STRIP = re.compile(f"[{_MARKS}{_TATWEEL}{_JOINERS}]+")

_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ٲ": "ا",
        "ٳ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ې": "ي",
        "ئ": "ي",
        "ة": "ه",
        "ۀ": "ه",
        "ە": "ه",
        "ھ": "ه",
        "ۃ": "ه",
        "ک": "ك",
        "ڪ": "ك",
        "ؤ": "و",
        **{chr(0x0660 + i): str(i) for i in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + i): str(i) for i in range(10)},  # Persian digits
    }
)

_ARTICLE = re.compile("^(?:[وف]?[بك]?ال|[وف]?لل)(?=..)")
_PARTICLES = frozenset("وفبلك")
_ARABIC = re.compile("[\u0600-\u06ff]")
_LATIN = re.compile("[a-z]")
_ENGLISH = Stemmer.Stemmer("english")
_ENGLISH.maxCacheSize = 200_000


def fold(text: str) -> str:
    """Normalise letters without splitting into words (also used for field values)."""
    text = unicodedata.normalize("NFKD", text)
    return _STRIP.sub("", text).translate(_FOLD).lower()


MAX_WORD = 64


def words(text: str) -> list[str]:
    """Folded words of a text, in order."""
    return [w[:MAX_WORD] for w in _WORD.findall(fold(text))]


def exact_form(word: str) -> str:
    """A folded word less its definite article (and particles attached to the article)."""
    if _ARABIC.match(word):
        return _ARTICLE.sub("", word, count=1)
    return word


@lru_cache(maxsize=200_000)
def _arabic_stem(word: str) -> str:
    # Peel particle letters while three letters remain: a fixed point, so that "ووزير",
    # "بوزير" and "وزير" all end at the same stem whichever letter the word itself begins with.
    while len(word) > 3 and word[0] in _PARTICLES:
        word = word[1:]
    return word


def stem_form(exact: str) -> str:
    """The matching key of an exact form; identical for index and query."""
    if _ARABIC.match(exact):
        return _arabic_stem(exact)
    if _LATIN.match(exact):
        return _ENGLISH.stemWord(exact)
    return exact


@dataclass(frozen=True)
class Terms:
    exact: list[str]
    stem: list[str]


def analyze(text: str) -> Terms:
    """Both term streams of a text, position for position."""
    exact = [exact_form(w) for w in words(text)]
    stems = []
    for e in exact:
        if _ARABIC.match(e):
            stems.append(_arabic_stem(e))
        elif _LATIN.match(e):
            stems.append(e)  # stemmed below in one call
        else:
            stems.append(e)
    latin = [i for i, e in enumerate(exact) if _LATIN.match(e)]
    if latin:
        for i, s in zip(latin, _ENGLISH.stemWords([exact[i] for i in latin]), strict=True):
            stems[i] = s
    return Terms(exact=exact, stem=stems)


class Span(NamedTuple):
    """A word of the original text and where it sits, for highlighting what was written."""

    start: int
    end: int
    exact: str
    stem: str


@lru_cache(maxsize=100_000)
def token_forms(token: str) -> tuple[tuple[str, str], ...]:
    """(exact, stem) of each word in one token as written; snippets look up the same few
    thousand tokens over and over, so they are remembered."""
    return tuple((e, stem_form(e)) for e in map(exact_form, words(token)))


def tokens(original: str) -> Iterator[re.Match[str]]:
    """Tokens of the original text as regex matches (offsets in the original)."""
    return _WORD.finditer(original)


def spans(original: str) -> Iterator[Span]:
    """Words of the original text with their offsets in it (not in the folded text)."""
    for m in _WORD.finditer(original):
        start, end = m.span()
        for e, s in token_forms(m.group()):
            yield Span(start, end, e, s)
