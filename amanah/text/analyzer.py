"""The analyzer: one function from written text to the terms the index holds.

Index and query go through the same code, so a spelling variant folds to the same term on both
sides. Each word gives two terms at the same position:

- the *exact* form: NFKD, marks (harakat, hamza above/below, madda) and tatweel removed, letter
  variants folded (أ إ آ ٱ → ا, ى → ي, ة → ه, ؤ → و, ئ → ي, Persian ک ی → ك ي), digits in any
  script → ASCII, lower case, and the definite article with its attached particles removed
  (ال، وال، بال، فال، كال، لل);
- the *stem*: the exact form less attached single-letter particles (و ف ب ل ك) as long as three
  letters remain, then Snowball's English stemmer on every word that holds a Latin letter
  (English leaves a word without one as it is).

A word of two letters keeps its particles (بيد is not يد): peeling them would make too many
words meet. Words longer than 64 characters (base64, hashes) are cut to 64 on both sides.

Matching uses stems, so "والوزير", "بالوزير" and "وزير" meet; ranking also scores exact forms,
so a word that merely begins with a particle letter (وزير, فلسطين) still ranks its own
spelling first, and `=word` asks for the exact form only. Snowball's Arabic stemmer is not
used: it conflates too much (فلسطين → لسط) and is inconsistent (وزير → زير but الوزير → وزير).

Every step is one the tantivy writer can reproduce at C or Rust speed (`streams` below: the
folding, the article and the peeling as passes over the whole text; English in tantivy's own
stemmer), which is why English applies to any word with a Latin letter rather than to words
that begin with one (version 1): only words like "10years" or "وbeds" stem differently.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

import Stemmer

if TYPE_CHECKING:
    import numpy as np

# Bumped whenever a change here changes a term: a stored index built by another version must
# be rebuilt (`amanah reindex`) before it can be updated.
VERSION = 2

_MARKS = "\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed"
_TATWEEL = "\u0640"
_JOINERS = "\u200c\u200d"
# A word: letters or digits, with the marks, tatweel and joiners that may sit inside it.
_WORD = re.compile(f"(?:[^\\W_]|[{_MARKS}{_TATWEEL}{_JOINERS}])+")
# The same tokens in a text without "_" (then `\w` is `[^\W_]`), found twice as fast: one
# character class, no alternation tried at every character.
_RUN = re.compile(f"[\\w{_MARKS}{_TATWEEL}{_JOINERS}]+")
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
PARTICLES = "وفبلك"  # the article (ال، لل) ends in one of them too
_PARTICLES = frozenset(PARTICLES)
_ARABIC = re.compile("[\u0600-\u06ff]")
_LATIN = re.compile("[a-z]")  # English's alphabet: a word without any of it is left as it is
_ENGLISH = Stemmer.Stemmer("english")
_ENGLISH.maxCacheSize = 200_000


def fold(text: str) -> str:
    """Normalise letters without splitting into words (also used for field values)."""
    text = unicodedata.normalize("NFKD", text)
    return _STRIP.sub("", text).translate(_FOLD).lower()


MAX_WORD = 64


def words(text: str) -> list[str]:
    """Folded words of a text, in order."""
    folded = fold(text)
    return [w[:MAX_WORD] for w in (_WORD if "_" in folded else _RUN).findall(folded)]


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
    peeled = _arabic_stem(exact)  # only a word that begins with an Arabic particle changes
    if _LATIN.search(peeled):
        return _ENGLISH.stemWord(peeled)
    return peeled


@dataclass(frozen=True)
class Terms:
    exact: list[str]
    stem: list[str]


def analyze(text: str) -> Terms:
    """Both term streams of a text, position for position."""
    exact = [exact_form(w) for w in words(text)]
    stems = [_arabic_stem(e) for e in exact]
    latin = [i for i, e in enumerate(stems) if _LATIN.search(e)]
    if latin:
        for i, s in zip(latin, _ENGLISH.stemWords([stems[i] for i in latin]), strict=True):
            stems[i] = s
    return Terms(exact=exact, stem=stems)


# --- the same streams as text, for an analysis chain in tantivy ---------------------------------
# `streams` gives both term streams as text at C speed, with no Python code per word: one
# table lookup per character (numpy) does the stripping, the letter folding and the splitting
# into words, and three regular-expression passes cut long words, remove the article and peel
# the particles where a word starts (after a space). Lower case comes first here (the analyzer
# lowers last): every character it changes is cased, none is a mark, a letter that folds or
# a separator, except U+0130, which NFKD has already taken apart; and the final sigma, which
# looks at the characters around it, must see them before separators become spaces.
_DELETE = 0xFFFFFFFF
_MARK_RANGES = [(0x300, 0x36F), (0x610, 0x61A), (0x64B, 0x65F), (0x670, 0x670), (0x6D6, 0x6DC)]
_MARK_RANGES += [(0x6DF, 0x6E8), (0x6EA, 0x6ED), (0x640, 0x640), (0x200C, 0x200D)]
_LONG = re.compile(f" ([^ ]{{{MAX_WORD}}})[^ ]+")
_ARTICLE_IN_TEXT = re.compile(" (?:[وف]?[بك]?ال|[وف]?لل)(?=[^ ]{2})")
_PEEL_IN_TEXT = re.compile(" [وفبلك]+(?=[^ ]{3})")


@lru_cache(maxsize=1)
def _word_chars() -> np.ndarray:
    """Whether `_WORD` takes each code point into a word: a letter or digit (what `\\w` is
    without "_", `str.isalnum`), or a mark, tatweel or joiner. Made once a process (0.15 s) by
    the index writer and by the first snippets; numpy is not loaded to parse a query."""
    import numpy as np

    word = np.fromiter(
        (chr(c).isalnum() for c in range(sys.maxunicode + 1)), dtype=bool, count=sys.maxunicode + 1
    )
    for lo, hi in _MARK_RANGES:
        word[lo : hi + 1] = True
    return word


@lru_cache(maxsize=1)
def _table() -> np.ndarray:
    """Each code point's fate: deleted (marks, tatweel, joiners), folded (`_FOLD`), a space
    (everything `_WORD` does not take as a word character), or itself."""
    import numpy as np

    table = np.arange(sys.maxunicode + 1, dtype=np.uint32)
    table[~_word_chars()] = ord(" ")
    for lo, hi in _MARK_RANGES:
        table[lo : hi + 1] = _DELETE
    for code, folded in _FOLD.items():
        table[code] = ord(folded)
    return table


def _folded_codes(text: str) -> tuple[np.ndarray, bool]:
    """The folded text's code points before any is deleted, and whether each is its text's
    character at the same offset (NFKD and lower case changed no length, nothing deleted)."""
    import numpy as np

    lowered = unicodedata.normalize("NFKD", text).lower()
    # surrogatepass: a lone surrogate (a text decoded with surrogateescape) becomes a space.
    raw = lowered.encode("utf-32-le", "surrogatepass")
    codes = _table()[np.frombuffer(raw, dtype=np.uint32)]
    in_place = len(lowered) == len(text) and not (codes == _DELETE).any()
    return codes, in_place


def _spaced(text: str) -> str:
    """`fold(text)` with every run of non-word characters turned into spaces."""
    codes, in_place = _folded_codes(text)
    if not in_place:
        codes = codes[codes != _DELETE]
    return " " + codes.tobytes().decode("utf-32-le")


def folded_in_place(text: str) -> str | None:
    """`folded_text` less its leading space when each of its characters stands at its own
    character's offset in `text` (no character decomposed into more, none deleted): a word
    found in it is found at the same offsets in the text. None otherwise (a mark, tatweel,
    a ligature or a presentation form moves what follows)."""
    codes, in_place = _folded_codes(text)
    return codes.tobytes().decode("utf-32-le") if in_place else None


def folded_text(text: str) -> str:
    """`fold(text)` with every run of non-word characters a space, at C speed: a text in which
    what every word with a given stem holds (`stem_part`) can be looked for as a substring."""
    return _spaced(text)


#: Snowball's English stemmer changes at most this many letters at the end of what it keeps of
#: a word ("dying" → "die": "d" kept, "ie" put in place of "ying"; tests/test_snippet_words.py).
ENGLISH_REWRITES = 2


def stem_part(stem: str) -> str | None:
    """A part every word whose stem is `stem` holds in its folded form (`folded_text`), or None
    when no part of three letters is certain. A stem without a Latin letter is the folded word
    less its article and particles: all of it. An English stem is the word's beginning with at
    most two letters rewritten at its end: all but those two."""
    if not _LATIN.search(stem):
        return stem
    kept = stem[: len(stem) - ENGLISH_REWRITES]
    return kept if len(kept) >= 3 else None


def streams(text: str) -> tuple[str, str]:
    """`analyze(text)`'s exact terms, and its stem terms before English stemming, each as one
    string of words separated by spaces: the tantivy writer gives the first to a whitespace
    tokenizer and the second to a whitespace tokenizer followed by tantivy's English (Snowball)
    stemmer, which is the analyzer's. The patterns are `_ARTICLE` and `_arabic_stem`'s loop
    anchored after a space (tests/test_tantivy_analysis.py proves the terms equal)."""
    spaced = _LONG.sub(r" \1", _spaced(text))  # cut before the article goes, as `words` does
    exact = _ARTICLE_IN_TEXT.sub(" ", spaced)
    return exact, _PEEL_IN_TEXT.sub(" ", exact)


class Span(NamedTuple):
    """A word of the original text and where it sits, for highlighting what was written."""

    start: int
    end: int
    exact: str
    stem: str


FORMS_CACHED = 100_000
# Oldest first. An OrderedDict, not a dict: taking a plain dict's first key walks past every
# key deleted before it, so evicting from the front grew slower with each eviction (a
# search's snippet took 176 ms once the cache had filled).
_FORMS: OrderedDict[str, tuple[tuple[str, str], ...]] = OrderedDict()


def token_forms(token: str) -> tuple[tuple[str, str], ...]:
    """(exact, stem) of each word in one token as written; snippets look up the same few
    thousand tokens over and over, so they are remembered (the oldest forgotten past
    FORMS_CACHED: a common word comes back at the cost of one analysis)."""
    forms = _FORMS.get(token)
    if forms is None:
        forms = tuple((e, stem_form(e)) for e in map(exact_form, words(token)))
        if len(_FORMS) >= FORMS_CACHED:
            with suppress(KeyError):  # another thread emptied it meanwhile
                _FORMS.popitem(last=False)
        _FORMS[token] = forms
    return forms


def known(token: str) -> bool:
    """Whether `token_forms` remembers this token (asked without analysing it)."""
    return token in _FORMS


def token_pattern(original: str) -> re.Pattern[str]:
    """What a token of this text is (`tokens`): an underscore joins no words where one is."""
    return _WORD if "_" in original else _RUN


def tokens(original: str) -> Iterator[re.Match[str]]:
    """Tokens of the original text as regex matches (offsets in the original)."""
    return token_pattern(original).finditer(original)


def token_offsets(original: str) -> tuple[np.ndarray, np.ndarray]:
    """Where each token of `tokens(original)` starts and ends, as two arrays, found at C speed
    (no match object a token) for reading a long text's words at once."""
    import numpy as np

    codes = np.frombuffer(original.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    inside = np.zeros(len(codes) + 2, dtype=np.int8)
    inside[1:-1] = _word_chars()[codes]
    edges = np.diff(inside)
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def spans(original: str) -> Iterator[Span]:
    """Words of the original text with their offsets in it (not in the folded text)."""
    for m in tokens(original):
        start, end = m.span()
        for e, s in token_forms(m.group()):
            yield Span(start, end, e, s)


def stream_terms(text: str) -> Terms:
    """`analyze(text)` from `streams` (C speed: no Python code per word but the English stems
    of Latin words, which the stemmer caches); for reading many words of one text at once."""
    exact_text, peeled_text = streams(text)
    exact, stems = exact_text.split(), peeled_text.split()
    if peeled_text.isascii():  # English (or digits, which the stemmer leaves as they are)
        return Terms(exact=exact, stem=_ENGLISH.stemWords(stems))
    latin = (
        [i for i, w in enumerate(stems) if _LATIN.search(w)] if _LATIN.search(peeled_text) else []
    )
    if latin:
        for i, s in zip(latin, _ENGLISH.stemWords([stems[i] for i in latin]), strict=True):
            stems[i] = s
    return Terms(exact=exact, stem=stems)
