"""The forms a name part is compared in, after repairing what PDF extraction does to Arabic.

A part of a name (ism, father, grandfather, family, mother) is reduced to four forms:

- ``n``, the *normal* form: `amanah.text.names.fold` (hamza forms, ى/ي, ة/ه, marks and
  invisible characters), the ligature of الله read back as هللا repaired, words joined (عبد الله
  and عبدالله, نور الدين and نورالدين meet), a leading article dropped (الخطيب and خطيب). A Latin
  part's normal form is the Latin skeleton of its joined words (Mohammad and Muhammad meet).
- ``d``, the *damage-proof* form: ``n`` with every لا written ال. A PDF extractor that reads
  the lam-alef ligature back reversed turns علاء into عالء; putting both sides in this form
  makes them meet (at the cost of صلاح meeting صالح, so agreement here weighs less than on ``n``).
- ``u``, ``d`` written one ASCII character per Arabic letter, so that a string distance counts
  letters whatever the backend: some count UTF-8 bytes (two per Arabic letter: DuckDB did
  before its current versions; the one pinned here counts characters), where a typo would cost
  two; on ``u`` it costs one everywhere.
- ``c``, the consonant key shared by both scripts (`amanah.text.names`), less a final y (ى is
  read as a vowel: مصطفى and Mustafa): أحمد and Ahmad meet.
- ``known``: whether the part is an attested name (the name dictionary's frequencies). Two
  attested names one letter apart are two names (حسن and حسين are often brothers); a one-letter
  difference where one side is not a name (أخمد) is a typo.
- ``r``, for Arabic, the Latin skeletons of its likeliest romanisations (space-separated), for
  Latin its own skeleton: how a part in one script meets the same part in the other.

Nothing here holds or logs a name.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from amanah.text import names as nk

_ALEF = "ا"
_LAM = "ل"
# Each folded Arabic letter as one ASCII character (upper case and punctuation: never a Latin
# form's lower-case letters, so an Arabic form never equals a Latin one by accident).
_LETTERS = "ءابتثجحخدذرزسشصضطظعغفقكلمنهوي" + "گپچژڤ"
_UNITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&*+/<=>?@"
_TO_UNIT = str.maketrans(dict(zip(_LETTERS, _UNITS, strict=False)))


#: An attested name: at least this many times in the name dictionary.
KNOWN = 20


class Forms(NamedTuple):
    """The compared forms of one name part, and its script ("ar", "la" or "" when empty)."""

    n: str
    d: str
    u: str
    c: str
    script: str
    known: bool


EMPTY = Forms("", "", "", "", "", False)


def damage_proof(text: str) -> str:
    """Every لا written ال (alefs moved before the lams they follow), so that text whose
    lam-alef ligatures were read back reversed and the same text undamaged meet."""
    while _LAM + _ALEF in text:
        text = text.replace(_LAM + _ALEF, _ALEF + _LAM)
    return text


def repair(folded: str) -> str:
    """Undo the damage that can be undone without doubt: هللا is the ligature of الله read
    back reversed (no Arabic word is written هللا)."""
    return folded.replace("هللا", "الله")


def _drop_article(word: str) -> str:
    # "اال…" is an article before alef whose lam-alef was reversed (الأحمد read as األحمد)
    if word.startswith("اال") and len(word) > 4:
        return _ALEF + word[3:]
    if word.startswith("ال") and len(word) > 4:
        return word[2:]
    return word


def _consonants(key: str) -> str:
    return key[:-1] if len(key) > 2 and key.endswith("y") else key


def _frequencies() -> dict[str, int]:
    # the name matcher's attested-name counts (Arabic by folded form, Latin by "l:" skeleton)
    from amanah.text.name_match import _frequencies as frequencies

    return frequencies()


@lru_cache(maxsize=500_000)
def forms(text: str) -> Forms:
    """The compared forms of a name part as written (see the module's docstring)."""
    words = [w.folded for w in nk.words(text)]
    if not words:
        return EMPTY
    freq = _frequencies()
    if nk.is_arabic(words[0]):
        joined = repair("".join(w for w in words if nk.is_arabic(w)))
        n = _drop_article(joined)
        d = damage_proof(n)
        known = freq.get(n, 0) >= KNOWN
        return Forms(n, d, d.translate(_TO_UNIT), _consonants(nk.arabic_consonants(n)), "ar", known)
    if nk.is_latin(words[0]):
        if len(words) > 1 and nk.is_article(words[0]):
            words = words[1:]
        joined = "".join(w for w in words if nk.is_latin(w))
        # a glued article before a vowel (Alahmad, Alomar), which `latin_base` leaves
        if len(words) == 1 and len(joined) > 5 and joined[:2] == "al" and joined[2] in "aeiou":
            joined = joined[2:]
        skeleton = nk.latin_skeleton(joined)
        known = freq.get("l:" + skeleton, 0) >= KNOWN
        return Forms(
            skeleton, skeleton, skeleton, _consonants(nk.latin_consonants(joined)), "la", known
        )
    joined = "".join(words)
    return Forms(joined, joined, joined, "", "", False)


def romanised(texts: list[str]) -> dict[str, str]:
    """For each Arabic part, the Latin skeletons of its likeliest romanisations (one batch);
    for a Latin part its own skeleton."""
    from amanah.text import name_match

    arabic = sorted({t for t in texts if forms(t).script == "ar"})
    if arabic:
        name_match.romanise_many(arabic)
    out = {}
    for t in set(texts):
        f = forms(t)
        if f.script == "la":
            out[t] = f.n
        elif f.script == "ar":
            skeletons = []
            for latin in name_match._romanised(t)[:3]:
                s = forms(latin).n
                if s and s not in skeletons:
                    skeletons.append(s)
            out[t] = " ".join(skeletons)
    return out


@lru_cache(maxsize=100_000)
def place(text: str) -> str:
    """A place name compared exactly: folded, repaired, article and spaces dropped."""
    return forms(text).d
