"""Sealing a protected person's spellings: each recorded spelling becomes, per word, the keyed
digests (HMAC-SHA256 under the home's names key) of the word's keys (`amanah.text.names`), and,
for a name of two words or more, one more slot for the name run together as one word. What is
stored says nothing without the key; the clear spelling lives only while it is sealed."""

from __future__ import annotations

import hmac
import itertools
from collections.abc import Iterable
from typing import Any

from amanah.sharing.names_key import key_id
from amanah.text import name_spellings as nsp
from amanah.text import names as nk

DIGEST_BYTES = 16
ROMANISATIONS = 5  # Latin candidates asked of the romaniser per Arabic word


def romanise(word: str) -> list[str]:
    """Latin spellings of an Arabic word of a name (dictionary first, a small model after)."""
    try:
        found = nsp.romaniser().transliterate(word, top_k=ROMANISATIONS)
    except Exception:  # an unknown word still has its consonant key
        return []
    return [c.text for c in found]


def spelling_slots(spelling: str) -> list[set[str]]:
    """The keys of each word of a recorded spelling (clear: used only while it is sealed)."""
    out = []
    for w in nk.name_words(spelling):
        extra = romanise(w) if nk.is_arabic(w) else []
        out.append(nk.recorded_keys(w, extra))
    return out


def _glued_forms(words: list[str]) -> list[str]:
    """Words run together with their articles and without, the first and the last alone, and
    surname first (khatibahmad, alkhatibahmad)."""
    kept = [w for w in words if not nk.is_article(w)]
    if len(kept) < 2:
        return []
    last = words[-2] + words[-1] if len(words) > 2 and nk.is_article(words[-2]) else kept[-1]
    forms = ["".join(words), "".join(kept), kept[0] + kept[-1], kept[-1] + kept[0]]
    return [f for f in dict.fromkeys([*forms, last + kept[0]]) if len(f) >= GLUED_LETTERS]


#: The kind of key of a name run together in Latin letters: the word exactly as folded.
#: Not its skeleton: a vowel run is one "a" there and p is b, so "reported" would be Robert
#: Eid and "destroyed" Dost Riad (an adversary's search of common names found 40 such words).
GLUED = "g"
#: Letters a name run together has at least: shorter, it is a common word too (Ali + Bi).
GLUED_LETTERS = 6


def glued_key(word: str) -> str:
    """The key a folded Latin word gives as a name run together (documents and spellings)."""
    return f"{GLUED}:{word}"


def glued_slots(spelling: str) -> list[set[str]]:
    """The keys of a spelling written as one word (clear: used only while it is sealed): an
    e-mail address, a user name, a file name or a hashtag in one case (ahmadalkhatib@…,
    @ahmadkhatib, AHMADKHATIB.pdf) has no space or capital to split at, and a text's words are
    not cut into every substring (a word's keys cost 20 µs). One slot of every form
    (`_glued_forms`), by exact keys only: a Latin form as it is, an Arabic one by its exact
    key, and an Arabic spelling also as its words' romanisations run together (the
    romaniser reads a glued word badly)."""
    found = [w.folded for w in nk.words(spelling)]
    if all(map(nk.is_latin, found)):
        keys = {glued_key(f) for f in _glued_forms(found)}
        return [keys] if keys else []
    if not all(map(nk.is_arabic, found)):
        return []  # one script only
    # The article is part of an Arabic word: الخطيب, and خطيب.
    peeled = [w[2:] if i and w.startswith("ال") and len(w) > 4 else w for i, w in enumerate(found)]
    forms = _glued_forms(found) + _glued_forms(peeled)
    keys = {k for f in forms for k in nk.recorded_keys(f) if k.startswith("e:")}
    # The romaniser's first two for each word: its later ones are other names (علي: Ammar,
    # Nadji), which one word run together makes into other people's user names.
    latin = [[[w.folded for w in nk.words(r)] for r in romanise(w)[:2]] for w in found]
    for combo in itertools.islice(itertools.product(*latin), 200):
        words = [w for part in combo for w in part]
        if len(words) > 1 and all(map(nk.is_latin, words)):
            keys.update(glued_key(f) for f in _glued_forms(words))
    return [keys] if keys else []


def digest(key: bytes, value: str) -> bytes:
    return hmac.digest(key, f"{nk.SCHEME}|{value}".encode(), "sha256")[:DIGEST_BYTES]


def seal(key: bytes, spellings: Iterable[str]) -> dict[str, Any]:
    """The stored form of spellings: per spelling, per word, the digests of its keys; the kinds
    of key present (so that a text's words are not hashed for kinds no one needs)."""
    patterns, glued, orders = [], [], []
    kinds: set[str] = set()
    for spelling in spellings:
        slots = spelling_slots(spelling)
        if not slots:
            continue
        kinds.update(k.split(":", 1)[0] for slot in slots for k in slot)
        sealed = [sorted(digest(key, k).hex() for k in slot) for slot in slots]
        patterns.append(sealed)
        if len(sealed) > 2:  # surname first: HASSAN Fatima Zahra (two words read either way)
            orders.append([sealed[-1], *sealed[:-1]])
        for keys in glued_slots(spelling):
            kinds.update(k.split(":", 1)[0] for k in keys)
            one = [sorted(digest(key, k).hex() for k in keys)]
            if one not in glued:
                glued.append(one)
    return {
        "scheme": nk.SCHEME,
        "key": key_id(key),
        "kinds": sorted(kinds),
        "spellings": patterns,
        # Other forms of each spelling, apart, so that a person's count of spellings stays
        # what was recorded (spellings sealed before they existed have none): as one word
        # (`glued_slots`), and a name of three words or more surname first, as registers,
        # lists and identity papers write it.
        "glued": glued,
        "orders": orders,
    }


#: The stored forms of a spelling beside it (`seal`).
FORMS = ("glued", "orders")


def patterns(sealed: dict[str, Any]) -> list[Any]:
    """Every pattern a sealed person is looked for by: spellings and their other forms."""
    return [p for part in ("spellings", *FORMS) for p in sealed.get(part, [])]
