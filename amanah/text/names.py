"""Name keys: one word of a name, however it was written, reduced to keys that meet.

A protected person's name must be found whatever the formatting of the text that holds it and
whichever way it was spelt. This module turns text into words and each word into a few *keys*;
two words that could be the same name share a key. The keys are tagged by kind:

- ``e:`` the *exact* key of an Arabic word (``o:``, the folded word, for other scripts):
  NFKD, harakat, tatweel and invisible characters removed, hamza/alef/yeh/teh-marbuta
  variants folded, the article and attached particles (و ف ب ل ك) peeled. "وأَحْمَد",
  "لأحمد" and "احمد" share it.
- ``l:`` the Latin *skeleton*: kh→x, gh→g, sh/ch→s, th→t, dh→d, ph→f, q/c/ck→k, g/dj→j, v→f,
  p→b, doubled letters once, y and w after a vowel read as vowels, every run of vowels one
  "a", a final h after a vowel dropped, the article (al-, el-, ul-, ar-Rahman's assimilated
  forms) dropped. Yusuf, Youssef, Yousef and Yusef share "yasaf"; Qabbani, Kabbani and Qabani
  share "kabana"; Mohammad, Muhammad and Mohamed share "mahamad".
- ``ca:`` / ``cl:`` the *consonant* key, in one alphabet for both scripts (ا/ع at the start of
  a word, or a Latin initial vowel, is "'"; other vowels, and و/ي/y/w after the first letter,
  are dropped; ة and a final ه dropped): أحمد and Ahmad share "'hmd", الخطيب and Khatib
  "xtb". ``ca:`` keys come from Arabic text and are matched by names recorded in Latin;
  ``cl:`` keys come from Latin text and are matched by names recorded in Arabic. Latin never
  meets Latin through consonants only (Mahmoud is not Mohammad).

Keys are what protected persons are stored as (keyed digests of them, `sharing.protected`), so
they must never change meaning silently: `SCHEME` names this version, and a change to any rule
here needs a new scheme (stored digests cannot be recomputed from clear names: there are none).
This module depends on nothing else in Amanah, so that the search analyzer can change freely.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple

SCHEME = 1

# Combining marks (Latin diacritics, harakat, Quranic marks), tatweel, and characters that are
# invisible but may sit inside a word: soft hyphen, zero-width space/joiners/marks, bidi
# embeddings, overrides and isolates, word joiner and invisible operators, BOM, Arabic letter
# mark, Mongolian vowel separator, variation selectors.
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f\u0670"
    "\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed\u08d3-\u08ff"
    "\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u0640"
)


def _unassigned() -> tuple[str, str]:
    """Every code point this Python's Unicode leaves unassigned, and lone surrogates, as
    character-class ranges, those of the Basic Multilingual Plane and those above apart
    (`MARK_OR_INVISIBLE` says why): a hostile file can put one inside a protected name (a
    glyph a PDF maps to U+0378) and no reader shows it as a letter. The scan stops at plane 3;
    planes 4-13 are unassigned whole, and plane 14 past its tags (`_INVISIBLE_ASTRAL`). About
    40 ms, once per process."""
    cat = unicodedata.category
    bmp, astral, start = ["\ud800-\udfff"], ["\U00040000-\U000dffff"], None
    for c in range(0x40000):
        if cat(chr(c)) == "Cn" and c != 0x10000:  # a run never spans the plane's end (and
            # U+10000 is a letter)
            start = c if start is None else start
        elif start is not None:
            out = bmp if c <= 0x10000 else astral
            out.append(f"{chr(start)}-{chr(c - 1)}" if c - 1 > start else chr(start))
            start = None
    if start is not None:  # plane 3's unassigned tail, up to plane 4
        astral.append(f"{chr(start)}-\U0003ffff")
    return "".join(bmp), "".join(astral)


_UNASSIGNED_BMP, _UNASSIGNED_ASTRAL = _unassigned()
_INVISIBLE_BMP = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
    # What a PDF's text layer may say for a glyph inside a word and no reader shows as a
    # letter: private use, noncharacters, tags and their unassigned plane (issue 14), and
    # any code point not assigned at all.
    "\ue000-\uf8ff\ufdd0-\ufdef\ufffe\uffff" + _UNASSIGNED_BMP
)
_INVISIBLE_ASTRAL = "\U000e0000-\U000effff\U000f0000-\U0010ffff" + _UNASSIGNED_ASTRAL
_INVISIBLE = _INVISIBLE_BMP + _INVISIBLE_ASTRAL
#: A mark or an invisible character. Not one character class: re walks a class that holds
#: ranges above U+FFFF range by range (hundreds of unassigned ones), about 0.5 µs to refuse
#: each letter it is not, 2 s for a 4 MB raw reading; the plane's own class is a table
#: looked up at once, and the ranges above are walked only for a character up there.
_ASTRAL = "(?=[\U00010000-\U0010ffff])"
MARK_OR_INVISIBLE = f"(?:[{_MARKS}{_INVISIBLE_BMP}]|{_ASTRAL}[{_INVISIBLE_ASTRAL}])"
_APOSTROPHES = "'\u2019\u2018\u02bc\u02bb\u02bf\u02be`\u00b4"
_STRIP = re.compile(f"{MARK_OR_INVISIBLE}++")
# A token of the original text: letters and digits with whatever marks or invisible characters
# sit inside, and apostrophes between letters (Ja'far, Sa'ad; "Ahmad's" loses its 's).
# The plane's own class and the astral one apart (`MARK_OR_INVISIBLE`); an underscore is kept
# inside a token and split off later (file names: Ahmad_al_Khatib.pdf).
_IN_WORD = f"(?:[\\w{_MARKS}{_INVISIBLE_BMP}\u02bf\u02be\u02bb]|{_ASTRAL}[{_INVISIBLE_ASTRAL}])"
# Possessive: no apostrophe is in a word, so nothing is ever given back (and re keeps no
# backtracking state for every letter of a long token).
TOKEN = re.compile(f"{_IN_WORD}++(?:[{_APOSTROPHES}]{_IN_WORD}++)*+")
# A line-end hyphen (or soft hyphen) between two tokens: "Kha-⏎tib", "al-⏎Khatib".
HYPHEN_BREAK = re.compile("^[ \t]*[-\u2010\u2011\u00ad][ \t]*\r?\n\\s*$|^\u00ad\\s*$")

_LINE_GAP = re.compile("^[ \t]*\r?\n\\s*$")
_ARABIC_LETTERS = (
    "\u0621-\u063f\u0641-\u064a\u066e\u066f\u0671-\u06d3\u06d5\u06ee\u06ef\u06fa-\u06fc\u06ff"
    "\u0750-\u077f\u08a0-\u08c9"
)
_SCRIPT_WORD = re.compile(f"[{_ARABIC_LETTERS}]+|[a-z]+|[0-9]+|[^\\W\\d_a-z{_ARABIC_LETTERS}]+")

_FOLD = str.maketrans(
    {
        **dict.fromkeys("أإآٱٲٳ", "ا"),
        **dict.fromkeys("ىیېئ", "ي"),
        **dict.fromkeys("ةۀەھۃ", "ه"),
        **dict.fromkeys("کڪ", "ك"),
        "ؤ": "و",
        **{chr(0x0660 + i): str(i) for i in range(10)},
        **{chr(0x06F0 + i): str(i) for i in range(10)},
        **dict.fromkeys(_APOSTROPHES + "\u02bf\u02be\u02bb", None),
        "ß": "ss",
        "ı": "i",
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "æ": "ae",
        "œ": "oe",
    }
)

_ARTICLE = re.compile("^(?:[وف]?[بك]?ال|[وف]?لل)(?=..)")
_PARTICLES = frozenset("وفبلك")
LATIN_ARTICLES = frozenset({"al", "el", "ul"})
_GLUED_ARTICLE = re.compile("^[ae]l(?=[^aeiouy][a-z]{3})")
# Sun-letter assimilation written with a hyphen: ar-Rahman, as-Sayyid, ash-Shami, ad-Din.
_SUN_ARTICLE = re.compile(r"(?i)\b[ae](t|th|d|dh|r|z|s|sh|n)-(?=\1)")

# Latin letters and pairs mapped to the skeleton's consonants, in this order; then q, c → k,
# g → j (Gamal is Jamal), gh's marker → g, v → f, p → b.
_LATIN_PAIRS = (
    ("x", "ks"),
    ("kh", "x"),
    ("gh", "G"),
    ("sh", "s"),
    ("ch", "s"),
    ("th", "t"),
    ("dh", "d"),
    ("ph", "f"),
    ("zh", "z"),
    ("ck", "k"),
    ("dj", "j"),
)
_LATIN_LETTERS = str.maketrans("qcgGvp", "kkjgfb")
_DOUBLED = re.compile(r"(.)\1+")
_VOWEL_YW = re.compile("(?<=[aeiou])[yw]")
_VOWELS = re.compile("[aeiou]+")

_CONSONANT = {
    "ب": "b",
    "ت": "t",
    "ث": "t",
    "ج": "j",
    "ح": "h",
    "خ": "x",
    "د": "d",
    "ذ": "d",
    "ر": "r",
    "ز": "z",
    "س": "s",
    "ش": "s",
    "ص": "s",
    "ض": "d",
    "ط": "t",
    "ظ": "z",
    "غ": "g",
    "ف": "f",
    "ق": "k",
    "ك": "k",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ه": "h",
    "و": "w",
    "ي": "y",
    "ا": "'",
    "ء": "'",
    "ع": "'",
    "گ": "g",
    "پ": "b",
    "چ": "j",
    "ژ": "z",
    "ڤ": "f",
}
_FINAL_I = re.compile("[iy][aeiouyw]*$")
_WEAK = frozenset("'wy")  # letters read only at the start of a word


class Word(NamedTuple):
    """One word of a text: where its token sits in the original and its folded form."""

    start: int
    end: int
    folded: str


def fold(text: str) -> str:
    """NFKD, marks and invisible characters removed, letter variants folded, lower case."""
    text = unicodedata.normalize("NFKD", text)
    return _STRIP.sub("", text).translate(_FOLD).lower()


def prepare(text: str) -> str:
    """Blank out the assimilated Latin article a hyphen joins to a name (ar-Rahman, as-Sayyid,
    ash-Shami), keeping every offset. (al-, el-, ul- need nothing: the hyphen splits them off
    and an article word is left out of matching.)"""
    if "-" not in text:
        return text
    return _SUN_ARTICLE.sub(lambda m: " " * len(m.group()), text)


# Cyrillic and Greek letters that look like Latin ones, read as Latin inside a word that also
# has Latin letters ("Аhmad" with a Cyrillic А is Ahmad; a Russian word stays Russian).
_CONFUSABLES = str.maketrans("аеорсухіјѕһԁԛԝкмнтвαεικνορτυχ", "aeopcyxijshdqwkmhtbaeiknoptux")
_MIXED = re.compile("[\u0370-\u03ff\u0400-\u04ff]")
_CAMEL = re.compile("(?<=[a-z])(?=[A-Z])")


@lru_cache(maxsize=300_000)
def token_words(token: str) -> tuple[str, ...]:
    """The folded words of one token (a token may mix scripts: each script is a word; a Latin
    word in camel case is its parts: AhmadAlKhatib)."""
    if token.isascii() and not token.islower() and not token.isupper():
        token = _CAMEL.sub(" ", token)
    folded = fold(token)
    if _MIXED.search(folded) and any("a" <= c <= "z" for c in folded):
        folded = folded.translate(_CONFUSABLES)
    if folded.endswith("s") and len(token) > 2 and token[-2] in _APOSTROPHES:
        folded = folded[:-1]  # "Ahmad's" is Ahmad
    return tuple(_SCRIPT_WORD.findall(folded))


def words(text: str) -> list[Word]:
    """Every word of a text with the offsets of its token in the original."""
    out = []
    for m in TOKEN.finditer(prepare(text)):
        start, end = m.span()
        out.extend(Word(start, end, w) for w in token_words(m.group()))
    return out


def joined_at_hyphens(text: str, found: list[Word]) -> list[Word] | None:
    """The same words with those split by a line-end hyphen joined ("Kha-⏎tib" → khatib), or
    None when the text has no such break."""
    if "\n" not in text:
        return None
    out: list[Word] = []
    joined = False
    for w in found:
        if out and (
            HYPHEN_BREAK.match(text[out[-1].end : w.start])
            or (text[out[-1].end - 1] == "\u00ad" and _LINE_GAP.match(text[out[-1].end : w.start]))
        ):
            prev = out.pop()
            merged = token_words(prev.folded + w.folded)
            out.extend(Word(prev.start, w.end, m) for m in merged)
            joined = True
        else:
            out.append(w)
    return out if joined else None


_JOIN = re.compile("[-\u2010\u2011\u00ad]+[ \t]*\r?\n\\s*")


def _join(m: re.Match[str]) -> str:
    text, start, end = m.string, m.start(), m.end()
    if start and end < len(text) and text[start - 1].isalpha() and text[end].isalpha():
        return ""
    return m.group()


def join_hyphen_breaks(text: str) -> str | None:
    """The text with words split by a line-end hyphen joined, or None when there is none."""
    if "\n" not in text:
        return None
    joined = _JOIN.sub(_join, text)
    return joined if joined != text else None


def is_arabic(word: str) -> bool:
    return "\u0621" <= word[0] <= "\u08ff"


def is_latin(word: str) -> bool:
    return "a" <= word[0] <= "z"


def is_article(word: str) -> bool:
    """A word that is only the article (al, el, ul, ال): names are matched without it."""
    return word in LATIN_ARTICLES or word == "ال"


def arabic_levels(word: str) -> list[str]:
    """An Arabic word less its article, then less each attached particle in turn while three
    letters remain (وليد keeps a reading with its و: it is Walid)."""
    word = _ARTICLE.sub("", word, count=1)
    levels = [word]
    while len(word) > 3 and word[0] in _PARTICLES:
        word = word[1:]
        levels.append(word)
    return levels


def arabic_consonants(word: str) -> str:
    """The consonant key of an Arabic word (see the module's docstring); a final ي (or ى) is
    kept as "y", as a Latin final i or y is (Qabbani, Khatibi)."""
    if word.endswith("ه"):
        word = word[:-1]
    out: list[str] = []
    for i, ch in enumerate(word):
        c = _CONSONANT.get(ch, "")
        if not c or (i and c in _WEAK):
            continue
        if not out or out[-1] != c:
            out.append(c)
    if len(word) > 1 and word[-1] == "ي" and out and out[-1] != "y":
        out.append("y")
    return "".join(out)


def arabic_consonant_keys(word: str) -> list[str]:
    """The consonant keys of an Arabic word: with a final ي also the key without it, since
    Arabic writes ى and ي alike at the end (مصطفي is Mustafa)."""
    c = arabic_consonants(word)
    keys = [c]
    if word.endswith("ي") and c.endswith("y") and len(c) > 1:
        keys.append(c[:-1])
    return keys


@lru_cache(maxsize=300_000)
def latin_base(word: str) -> str:
    """A Latin word less a glued article (Alkhatib, Elkabbani) and with its letters mapped to
    the skeleton's consonants, doubled letters once, vowels still there."""
    word = _GLUED_ARTICLE.sub("", word, count=1)
    for pair, repl in _LATIN_PAIRS:
        if pair in word:
            word = word.replace(pair, repl)
    return _DOUBLED.sub(r"\1", word.translate(_LATIN_LETTERS))


@lru_cache(maxsize=300_000)
def latin_skeleton(word: str) -> str:
    """The Latin skeleton (``l:`` key) of a folded Latin word."""
    word = _VOWELS.sub("a", _VOWEL_YW.sub("a", latin_base(word)))
    return word[:-1] if word.endswith("ah") and len(word) > 2 else word


@lru_cache(maxsize=300_000)
def latin_consonants(word: str) -> str:
    """The consonant key of a Latin word, in the alphabet of `arabic_consonants`."""
    base = latin_base(word)
    if base.endswith("h") and len(base) > 2 and base[-2] in "aeiou":
        base = base[:-1]
    out: list[str] = []
    for i, ch in enumerate(base):
        c = "'" if ch in "aeiou" else ch
        if i and c in _WEAK:
            continue
        if not out or out[-1] != c:
            out.append(c)
    if len(base) > 1 and _FINAL_I.search(base) and out[-1] != "y":
        out.append("y")
    return "".join(out)


def document_keys(word: str) -> tuple[str, ...]:
    """Every key a word of a document gives (kind-tagged). Consonant keys of fewer than two
    letters are too loose to mean anything and are not given."""
    if is_latin(word):
        keys = ["l:" + latin_skeleton(word)]
        c = latin_consonants(word)
        if len(c) >= 2:
            keys.append("cl:" + c)
        return tuple(keys)
    if is_arabic(word):
        levels = arabic_levels(word)
        keys = ["e:" + levels[-1]]
        for level in levels:
            for c in arabic_consonant_keys(level):
                if len(c) >= 2 and "ca:" + c not in keys:
                    keys.append("ca:" + c)
        return tuple(keys)
    return ("o:" + word,)


def recorded_keys(word: str, romanised: Iterator[str] | list[str] = ()) -> set[str]:
    """The keys under which a word of a recorded spelling is found in documents: an Arabic word
    by its exact key, by its consonants in Latin text and by the Latin skeletons of its
    romanisations; a Latin word by its skeleton, and by its consonants in Arabic text."""
    if is_latin(word):
        keys = {"l:" + latin_skeleton(word)}
        c = latin_consonants(word)
        if len(c) >= 2:
            keys.add("ca:" + c)
        return keys
    if is_arabic(word):
        levels = arabic_levels(word)
        keys = {"e:" + levels[-1]}
        for level in levels:
            keys.update("cl:" + c for c in arabic_consonant_keys(level) if len(c) >= 2)
        for latin in romanised:
            for w in name_words(latin):
                if is_latin(w):
                    keys.add("l:" + latin_skeleton(w))
        return keys
    return {"o:" + word}


def name_words(spelling: str) -> list[str]:
    """The words of a recorded spelling that take part in matching (articles left out)."""
    return [w.folded for w in words(spelling) if not is_article(w.folded)]
