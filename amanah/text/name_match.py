"""Names across scripts: one matcher for every comparison of two names of people.

A name arrives as محمد أحمد الحبو, Mohammad Ahmad Al-Habbo or Al-Hebo, Mohamed: this module
parses a full name into its parts (ism, father, grandfather, family/nisba, kunya; عبد and
"ad-Din" compounds joined, بن/ابن/bin/ibn read as "son of"), gives every Arabic part several
candidate Latin forms (the `arabic-name-romanizer` package, measured best: see
docs/benchmarks.md) and every part the script-neutral keys of `amanah.text.names`, and scores
two names part by part:

- each field is compared with its own kind (the father's name with the father's name), so
  brothers (another ism) and father and son (the ism shifted to the father's place) disagree
  on a field and are not matched, however much else they share;
- an Arabic part is also read by sound (`amanah.text.name_sounds`): a foreign name in Arabic
  letters (بوتشيني, Puccini) is far from what the romanizer makes of it, and near its record
  when long letters are read as vowels and ج/ف/ب/تش as g/v/p/ch; a part's similarity is the
  better reading's with a quarter of the other's;
- agreement on a rare part (طنبوره) counts more than on a common one (محمد): weights come from
  the frequency of each part in the romanizer's name dictionary (about 80,000 attested names);
- every score carries its explanation: which parts were compared, how they met, with what
  similarity.

`keys(name)` gives the blocking keys (consonant skeletons, one alphabet for both scripts) that
candidate search uses before scoring. The module holds no names and logs nothing.
"""

from __future__ import annotations

import math
import re
import sqlite3
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from amanah.text import name_sounds as ns
from amanah.text import name_spellings as nsp
from amanah.text import names as nk

#: A score at or above this is a match (the default threshold of `score`).
THRESHOLD = 0.8
#: Two parts agree at or above this similarity; below it a shared field contradicts.
AGREE = 0.75
#: Romanisations asked per Arabic part, and the least score (relative to the best) kept.
ROMANISATIONS = 5
RELATIVE = 0.2
#: Parts that meet only by their consonants agree, but alone are not a match (محمد, Mahmoud).
CONSONANTS_ONLY = 0.78

#: Cross-script parts are also compared by sound (`name_sounds`): how much further below 1
#: a difference by sound counts, and the share of the less alike reading in a part's score
#: (both calibrated on the training splits, docs/benchmarks.md).
SOUND_STRICTNESS = 1.25
OTHER_READING = 0.25
#: Scores this close to the best are near-equal: among them the order is by how usual each
#: Latin spelling is for the Arabic (`name_spellings`), at this much score a nat per letter of
#: the romanizer's model (both chosen on the training splits, docs/benchmarks.md).
NEAR = 0.05
USUAL = 0.02
#: A Latin part attested fewer times than this in the romanizer's dictionary is a foreign
#: name: read by sound with its foreign rules too (French silent letters).
ATTESTED = 10

FIELDS = ("ism", "father", "grandfather", "family", "kunya")
_SON_OF = frozenset({"بن", "ابن", "بنت", "bin", "ibn", "ben", "bint", "binti", "walad"})
_ABD = frozenset({"عبد", "abd", "abdul", "abdel", "abdal", "abdoul", "abdu", "abdol"})
_ABU = frozenset({"ابو", "ابي", "ابا", "ام", "abu", "abou", "abo", "umm", "um", "om"})
_DIN = frozenset({"الدين", "din", "deen", "eddin", "eddine", "uddin", "addin", "ud", "al-din"})
_ARTICLE = frozenset({"al", "el", "ul", "ال"})
_ARABIC_ARTICLE = re.compile("^(?:ال|لل)(?=..)")


@dataclass(frozen=True)
class Part:
    """One part of a parsed name: its field, how it was written (folded), its comparison key
    (article dropped), the Latin forms it may be read as (likeliest first) with their
    skeletons, its consonant key and its weight (rarity)."""

    role: str
    text: str
    script: str
    key: str
    latin: tuple[str, ...]
    skeletons: tuple[str, ...]
    consonants: str
    weight: float
    sounds: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedName:
    text: str
    script: str
    parts: tuple[Part, ...]
    by_role: dict[str, list[Part]] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        for p in self.parts:
            self.by_role.setdefault(p.role, []).append(p)

    def get(self, role: str) -> list[Part]:
        return self.by_role.get(role, [])


@dataclass(frozen=True)
class PartMatch:
    """How one field of the two names compared."""

    role: str
    a: str
    b: str
    similarity: float
    how: str
    weight: float

    def __str__(self) -> str:
        return f"{self.role}: {self.a} ~ {self.b} {self.how} {self.similarity:.2f}"


@dataclass(frozen=True)
class Score:
    """A score in [0, 1], the verdict at the threshold, and which parts matched how."""

    value: float
    match: bool
    explanation: tuple[PartMatch, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())

    def explain(self) -> str:
        return "; ".join([str(m) for m in self.explanation] + list(self.notes))

    def to_json(self) -> dict[str, object]:
        return {
            "score": round(self.value, 4),
            "match": self.match,
            "parts": [
                {"field": m.role, "a": m.a, "b": m.b, "how": m.how, "similarity": m.similarity}
                for m in self.explanation
            ],
            "notes": list(self.notes),
        }


# -- name part frequencies --------------------------------------------------------------------


@lru_cache(maxsize=1)
def _frequencies() -> dict[str, int]:
    """How often each name part is attested (Arabic by its folded form, Latin by its skeleton),
    from the romanizer's shipped dictionary; empty when it is absent."""
    try:
        import arabic_name_romanizer

        db = Path(arabic_name_romanizer.__file__).parent / "resources" / "names.sqlite3"
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        rows = con.execute("SELECT arabic_key, latin, count FROM units").fetchall()
        con.close()
    except Exception:  # the package without its dictionary: every part weighs the same
        return {}
    freq: dict[str, int] = {}
    for arabic, latin, count in rows:
        for w in nk.name_words(arabic):
            k = _arabic_key(w)
            freq[k] = freq.get(k, 0) + count
        words = nk.name_words(latin)
        if len(words) == 1 and nk.is_latin(words[0]):
            k = "l:" + nk.latin_skeleton(words[0])
            freq[k] = freq.get(k, 0) + count
    return freq


def _weight(key: str) -> float:
    """1.0 for a rare part, down to 0.25 for the commonest (محمد, Mohammad)."""
    n = _frequencies().get(key, 0)
    return max(0.25, 1.0 - 0.2 * math.log10(1 + n))


# -- parsing ----------------------------------------------------------------------------------


def _arabic_key(word: str) -> str:
    return _ARABIC_ARTICLE.sub("", word, count=1)


@lru_cache(maxsize=200_000)
def romanise(arabic: str) -> tuple[str, ...]:
    """Candidate Latin forms of an Arabic name part (dictionary first, a small model after)."""
    try:
        found = nsp.romaniser().transliterate(arabic, top_k=ROMANISATIONS)
    except Exception:  # an unknown part still has its consonant key
        return ()
    return _likely(found)


def _likely(found: list) -> tuple[str, ...]:  # type: ignore[type-arg]
    """The candidates worth comparing: the dictionary's long tail (علي read as Ammar once in
    80,000 names) is noise that would match other names, so a candidate below a fifth of the
    best one's score is left out."""
    if not found:
        return ()
    best = max(c.score for c in found)
    return tuple(c.text for c in found if c.score >= RELATIVE * best)


def romanise_many(parts: list[str]) -> None:
    """Romanise many parts in one batch (much faster than one by one) into the cache."""
    todo = sorted({p for p in parts if p})
    if not todo:
        return
    found = nsp.romaniser().transliterate_many(todo, top_k=ROMANISATIONS)
    for p, cands in zip(todo, found, strict=True):
        _CACHE[p] = _likely(cands)


_CACHE: dict[str, tuple[str, ...]] = {}


def _romanised(arabic: str) -> tuple[str, ...]:
    hit = _CACHE.get(arabic)
    return hit if hit is not None else romanise(arabic)


# Latin letters read as Arabic ones: a few candidate Arabic spellings of a Latin part.
_TO_ARABIC = (
    ("kh", "خ"),
    ("gh", "غ"),
    ("sh", "ش"),
    ("th", "ث"),
    ("dh", "ذ"),
    ("ou", "و"),
    ("oo", "و"),
    ("ee", "ي"),
    ("a", ""),
    ("e", ""),
    ("i", "ي"),
    ("o", "و"),
    ("u", "و"),
    ("y", "ي"),
    ("w", "و"),
    ("b", "ب"),
    ("t", "ت"),
    ("j", "ج"),
    ("g", "ج"),
    ("h", "ح"),
    ("d", "د"),
    ("r", "ر"),
    ("z", "ز"),
    ("s", "س"),
    ("f", "ف"),
    ("q", "ق"),
    ("k", "ك"),
    ("c", "ك"),
    ("l", "ل"),
    ("m", "م"),
    ("n", "ن"),
    ("p", "ب"),
    ("v", "ف"),
    ("x", "كس"),
)


def to_arabic(latin: str) -> list[str]:
    """Candidate Arabic spellings of a Latin name part (a rough reading, for search keys and
    display): short vowels unwritten, and a reading with every vowel written long (foreign
    names in Arabic letters: Barandiaran, باراندياران)."""
    word = nk.fold(latin)
    plain, long = _read(word, False), _read(word, True)
    if not plain:
        return []
    # Latin writes one letter for two Arabic ones (t: ت ط, s: س ص, d: د ض, h: ح ه, k: ك ق):
    # each reading, one letter class at a time, with and without the article.
    forms = [plain] + [plain.replace(x, y) for x, y in _ALTERNATIVES if x in plain] + [long]
    if plain.startswith("ا"):  # an initial vowel may be written with ع (Omar: عمر)
        forms.append("ع" + plain[1:])
    return list(dict.fromkeys(f for form in forms for f in (form, "ال" + form)))


_LONG = {"a": "ا", "e": "ي"}


def _read(word: str, long: bool) -> str:
    out, i = [], 0
    while i < len(word):
        for pair, ar in _TO_ARABIC:
            if word.startswith(pair, i):
                if i == 0 and pair in "aeiou":
                    out.append("ا")
                elif ar == "" and long:
                    out.append(_LONG.get(pair, ""))
                else:
                    out.append(ar)
                i += len(pair)
                break
        else:
            i += 1
    return re.sub(r"(.)\1+", r"\1", "".join(out))


_ALTERNATIVES = (("ت", "ط"), ("س", "ص"), ("د", "ض"), ("ح", "ه"), ("ك", "ق"), ("ذ", "ظ"))


@lru_cache(maxsize=200_000)
def _arabic_readings(latin: str) -> tuple[str, ...]:
    return tuple(f for f in to_arabic(latin) if not f.startswith("ال"))


def _make_part(role: str, words: list[str], display: str) -> Part:
    joined = "".join(words)
    if nk.is_arabic(joined):
        key = _arabic_key(joined)
        latin = tuple(dict.fromkeys(j for r in _romanised(display) if (j := _latin_join(r))))
        skels = tuple(nk.latin_skeleton(r) for r in latin)
        cons = nk.arabic_consonants(key)
        weight = _weight(key)
        script = "arabic"
    elif nk.is_latin(joined):
        key = joined
        latin = (key,)
        skels = (nk.latin_skeleton(key),)
        cons = nk.latin_consonants(key)
        weight = _weight("l:" + nk.latin_skeleton(key))
        script = "latin"
    else:
        key, latin, skels, cons, weight, script = joined, (), (), "", 1.0, "other"
    if script == "arabic":
        # with its article too: a foreign record may keep it glued (Alhambra, الحمراء)
        sounds: tuple[str, ...] = tuple(dict.fromkeys(ns.arabic_sounds(w) for w in (key, joined)))
    else:
        # a name the romanizer's dictionary does not hold is read by foreign rules too
        foreign = _frequencies().get("l:" + skels[0], 0) < ATTESTED if skels else False
        sounds = ns.latin_sounds(key, foreign) if script == "latin" else ()
    return Part(role, display, script, key, latin, skels, cons, weight, sounds)


def _latin_join(text: str) -> str:
    """A romanised part as one Latin word: articles and spaces out (Al-Habbo → habbo,
    Abdul Rahman → abdulrahman)."""
    ws = [w for w in nk.name_words(text) if nk.is_latin(w)]
    return "".join(ws)


@dataclass
class _Unit:
    words: list[str]
    shown: list[str]
    article: bool = False
    son_of: bool = False
    kunya: bool = False


def _units(text: str) -> list[_Unit]:
    """The words of a name grouped into parts: عبد/Abdul and أبو/Abu joined to the next word,
    ad-Din to the one before, the article kept as a mark, بن/bin as a mark on what follows."""
    raw = [w.folded for w in nk.words(text)]
    units: list[_Unit] = []
    pending_article = pending_son = False
    i = 0
    while i < len(raw):
        w = raw[i]
        if w in _SON_OF and i + 1 < len(raw):
            pending_son = True
            i += 1
            continue
        if w in _ARTICLE and i + 1 < len(raw):
            pending_article = True
            i += 1
            continue
        if w in _DIN and units:
            units[-1].words.append("din" if nk.is_latin(w) else w)
            units[-1].shown.append(w)
            i += 1
            continue
        unit = _Unit([w], [w], article=pending_article, son_of=pending_son)
        if nk.is_arabic(w) and w.startswith("ال") and len(w) > 3:
            unit.article = True
        if (w in _ABD or w in _ABU) and i + 1 < len(raw):
            nxt = i + 1
            if raw[nxt] in _ARTICLE and nxt + 1 < len(raw):
                nxt += 1
            unit.words.append(raw[nxt])
            unit.shown.append(raw[nxt])
            unit.kunya = w in _ABU
            i = nxt
        units.append(unit)
        pending_article = pending_son = False
        i += 1
    return units


@lru_cache(maxsize=100_000)
def parse(text: str) -> ParsedName:
    """The parts of a full name. "Family, Given" is read in that order; without "son of" marks
    a name of two parts is ism and family, of three ism, father, family, of four or more ism,
    father, grandfather and family; a part with the article after the first starts the
    family name (Ahmad al-Khatib al-Halabi). With marks, the marked parts are the father and
    grandfather, and the parts after them are read as an unmarked name's tail."""
    if text.count(",") == 1:
        family, given = text.split(",")
        text = f"{given} {family}"
    units = _units(text)
    kunya = [u for u in units if u.kunya]
    rest = [u for u in units if not u.kunya]
    roles: list[str] = []
    if any(u.son_of for u in rest):
        # The marked chain gives the ancestors; what follows it is read as an unmarked name's
        # tail: before a part with the article, or when two or more parts follow and the
        # grandfather is not yet named, the first is the next ancestor ("X bin Y Z W": Z is
        # the grandfather, W the family), the rest the family name.
        ancestors = iter(("father", "grandfather", "ancestor"))
        chain = ["ism"]
        k = 1
        while k < len(rest) and rest[k].son_of:
            chain.append(next(ancestors, "ancestor"))
            k += 1
        tail = rest[k:]
        article = next((i for i, u in enumerate(tail) if i and u.article), None)
        if article is not None:
            chain += [next(ancestors, "ancestor") for _ in range(article)]
            chain += ["family"] * (len(tail) - article)
        elif len(tail) >= 2 and "grandfather" not in chain:
            chain += [next(ancestors, "ancestor")] + ["family"] * (len(tail) - 1)
        else:
            chain += ["family"] * len(tail)
        roles = chain
    elif rest:
        n = len(rest)
        first_article = next((i for i, u in enumerate(rest) if i and u.article), None)
        if first_article is not None and first_article < n - 1:
            middle = first_article - 1
            ancestors = [("father", "grandfather", "ancestor")[min(i, 2)] for i in range(middle)]
            roles = ["ism", *ancestors] + ["family"] * (n - first_article)
        else:
            shape = {1: ["ism"], 2: ["ism", "family"], 3: ["ism", "father", "family"]}
            roles = shape.get(n) or ["ism", "father", "grandfather"] + ["family"] * (n - 3)
    parts = [_make_part(r, u.words, " ".join(u.shown)) for r, u in zip(roles, rest, strict=True)]
    parts += [_make_part("kunya", u.words, " ".join(u.shown)) for u in kunya]
    scripts = {p.script for p in parts}
    script = scripts.pop() if len(scripts) == 1 else "mixed"
    return ParsedName(text, script, tuple(parts))


def prepare_many(names: list[str]) -> None:
    """Romanise the Arabic parts of many names in one batch, before scoring them."""
    todo = []
    for n in names:
        for u in _units(n):
            shown = " ".join(u.shown)
            if nk.is_arabic(u.words[0]) and shown not in _CACHE:
                todo.append(shown)
    romanise_many(todo)


# -- scoring ----------------------------------------------------------------------------------


def _sim(x: str, y: str) -> float:
    return Levenshtein.normalized_similarity(x, y)


_PART_CACHE: dict[tuple[str, str, str, str], tuple[float, str]] = {}


def part_similarity(a: Part, b: Part) -> tuple[float, str]:
    """How alike two parts are, in [0, 1], and how they met (remembered per pair of parts)."""
    k = (a.text, a.script, b.text, b.script)
    hit = _PART_CACHE.get(k)
    if hit is None:
        if len(_PART_CACHE) > 500_000:
            _PART_CACHE.clear()
        hit = _PART_CACHE[k] = _part_similarity(a, b)
    return hit


def clear_cache() -> None:
    """Forget remembered part comparisons (for measures of the cold cost)."""
    _PART_CACHE.clear()


def _part_similarity(a: Part, b: Part) -> tuple[float, str]:
    if a.key == b.key:
        return 1.0, "same"
    if a.script == b.script == "arabic":
        return _sim(a.key, b.key), "arabic spelling"
    best, how = 0.0, "different"
    # Skeletons carry most of the score, the spelling itself the rest (so "Habbo" ranks above
    # "Hebo" for a reading Habbo), and a less likely romanisation a little less.
    for i, (la, sa) in enumerate(zip(a.latin, a.skeletons, strict=True)):
        for j, (lb, sb) in enumerate(zip(b.latin, b.skeletons, strict=True)):
            sk = 1.0 if sa == sb else _sim(sa, sb)
            s = (0.8 * sk + 0.2 * _sim(la, lb)) * (1.0 - 0.02 * (i + j))
            if s > best:
                best = s
                how = "romanised" if "arabic" in (a.script, b.script) else "latin spelling"
    if a.script != b.script:  # the other direction: the Latin part read in Arabic letters
        ar, la = (a, b) if a.script == "arabic" else (b, a)
        if la.script == "latin":
            for form in _arabic_readings(la.key):
                s = 0.95 * _sim(ar.key, form)
                if s > best:
                    best, how = s, "read in Arabic"
        if la.script == "latin" and best < 1.0:
            # the second reading, by sound (foreign names in Arabic letters): the part's
            # similarity is the better reading's with a share of the other's, so a reading
            # that alone finds a likeness (a near-homonym) counts less than two that agree
            sound = 1.0 - SOUND_STRICTNESS * (1.0 - ns.best_of(ar.sounds, la.sounds))
            if sound > best:
                best, how = (1 - OTHER_READING) * sound + OTHER_READING * best, "by sound"
            else:
                best = (1 - OTHER_READING) * best + OTHER_READING * max(0.0, sound)
    same_consonants = a.consonants == b.consonants and len(a.consonants) > 2
    if same_consonants and a.script != b.script and best < CONSONANTS_ONLY:
        best, how = CONSONANTS_ONLY, "consonants"
    return best, how


def _best_pairs(xs: list[Part], ys: list[Part]) -> list[tuple[Part, Part, float, str]]:
    """Each part of the shorter list with its most alike part of the other."""
    if len(xs) > len(ys):
        return [(x, y, s, h) for y, x, s, h in _best_pairs(ys, xs)]
    out = []
    for x in xs:
        cands = [(y, *part_similarity(x, y)) for y in ys]
        y, s, h = max(cands, key=lambda c: c[1])
        out.append((x, y, s, h))
    return out


def _compare(a: ParsedName, b: ParsedName) -> tuple[float, list[PartMatch], list[str]]:
    matches: list[PartMatch] = []
    notes: list[str] = []
    total = weight = 0.0
    contradiction = False
    used_a: set[int] = set()
    used_b: set[int] = set()
    for role in FIELDS:
        xs, ys = a.get(role), b.get(role)
        if not xs or not ys:
            if role == "family" and (xs or ys):
                w = 0.3 * max(p.weight for p in xs + ys)
                weight += w
                notes.append("family: in one name only")
            continue
        for x, y, s, h in _best_pairs(xs, ys):
            used_a.add(id(x))
            used_b.add(id(y))
            w = max(x.weight, y.weight)
            matches.append(PartMatch(role, x.text, y.text, round(s, 3), h, round(w, 3)))
            if role == "kunya":
                w *= 0.5
            total += w * s
            weight += w
            if s < AGREE and role != "kunya":
                contradiction = True
                notes.append(f"{role}: contradicts")
    # Parts left over on both sides (a father the other name lacks, a second family part the
    # other lacks: "Muhammad Eghbal Haithem" and محمد الحسن حاتم, whose article made الحسن a
    # family part) are the same place read two ways: compared with each other whatever
    # their roles, so a part that meets nothing is not silently dropped.
    left_a = [p for p in a.parts if p.role != "kunya" and id(p) not in used_a]
    left_b = [p for p in b.parts if p.role != "kunya" and id(p) not in used_b]
    if left_a and left_b:
        for x, y, s, h in _best_pairs(left_a, left_b):
            w = max(x.weight, y.weight)
            matches.append(
                PartMatch(f"{x.role}/{y.role}", x.text, y.text, round(s, 3), h, round(w, 3))
            )
            total += w * s
            weight += w
            if s < AGREE:
                contradiction = True
                notes.append(f"{x.role}/{y.role}: contradicts")
    value = total / weight if weight else 0.0
    if contradiction:  # below any threshold, still ordered by how much else agrees
        value *= 0.7
    return value, matches, notes


def _swapped(name: ParsedName) -> ParsedName | None:
    """A two-part name read the other way round (family name first)."""
    ism, family = name.get("ism"), name.get("family")
    if len(name.parts) != 2 or not ism or not family:
        return None
    parts = (
        Part("ism", *_fields(family[0])),
        Part("family", *_fields(ism[0])),
    )
    return ParsedName(name.text, name.script, parts)


def _fields(
    p: Part,
) -> tuple[str, str, str, tuple[str, ...], tuple[str, ...], str, float, tuple[str, ...]]:
    return (p.text, p.script, p.key, p.latin, p.skeletons, p.consonants, p.weight, p.sounds)


def score(a: str | ParsedName, b: str | ParsedName, threshold: float = THRESHOLD) -> Score:
    """How likely two names are one person's: a value in [0, 1], the verdict at the threshold,
    and the explanation (which parts matched how)."""
    pa = parse(a) if isinstance(a, str) else a
    pb = parse(b) if isinstance(b, str) else b
    if not pa.parts or not pb.parts:
        return Score(0.0, False, (), ("a name without letters",))
    value, matches, notes = _compare(pa, pb)
    if value < threshold:
        alt = _swapped(pb)
        if alt is not None:
            v2, m2, n2 = _compare(pa, alt)
            if v2 > value:
                value, matches, notes = v2, m2, [*n2, "read family name first"]
    value = round(min(1.0, max(0.0, value)), 4)
    return Score(value, value >= threshold, tuple(matches), tuple(notes))


def usual(sc: Score) -> float:
    """How usual the Latin parts of a score are as spellings of the Arabic parts they were
    compared with (`name_spellings`, mean log-probability per letter, weighted by part as the
    score is); 0 when no part crosses scripts."""
    return _usual([sc])[0]


def _usual(scores: list[Score]) -> list[float]:
    per = [
        [
            ((m.a, m.b) if nk.is_arabic(m.a) else (m.b, m.a), m.weight)
            for m in sc.explanation
            if nk.is_arabic(m.a) != nk.is_arabic(m.b) and (m.a + m.b).strip()
        ]
        for sc in scores
    ]
    known = dict(
        zip(
            pairs := [p for parts in per for p, _ in parts],
            nsp.log_probabilities(pairs),
            strict=True,
        )
    )
    out = []
    for parts in per:
        weight = sum(w for _, w in parts)
        out.append(sum(w * known[p] for p, w in parts) / weight if weight else 0.0)
    return out


def order(values: list[float], scores: list[Score]) -> list[int]:
    """The positions of scored candidates, best first: by value (a caller's, which may be the
    score's own or lowered by other evidence), except that the candidates within `NEAR` of
    the best come first ordered by value plus `USUAL` times how usual their Latin spelling is
    for the Arabic (`usual`): two spellings of one sound score alike, and the more usual one
    for that Arabic name is the likelier record. Ties keep the given order."""
    by_value = sorted(range(len(values)), key=lambda i: -values[i])
    if len(values) < 2:
        return by_value
    top = values[by_value[0]]
    near = [i for i in by_value if values[i] >= top - NEAR]
    if len(near) < 2:
        return by_value
    bonus = dict(zip(near, _usual([scores[i] for i in near]), strict=True))
    near.sort(key=lambda i: -(values[i] + USUAL * bonus[i]))
    return near + by_value[len(near) :]


def foreign_skeleton(p: Part) -> str:
    """The Latin skeleton of an Arabic part read as a foreign name (`name_sounds`), "" for
    other parts: one more key a record of a foreign name may share."""
    if p.script != "arabic":
        return ""
    return nk.latin_skeleton(ns.latin_spelling(p.key))


def readings(name: ParsedName) -> list[str]:
    """The name's Latin skeletons as blocking strings: its likeliest romanisation and its
    foreign reading, part by part (what a vectorised candidate pass compares)."""
    first = " ".join(p.skeletons[0] if p.skeletons else "" for p in name.parts)
    foreign = " ".join(
        foreign_skeleton(p) or (p.skeletons[0] if p.skeletons else "") for p in name.parts
    )
    return list(dict.fromkeys(s for s in (first, foreign) if s.strip()))


def sound_readings(name: ParsedName) -> list[str]:
    """The name read by sound (`name_sounds`), part by part, as blocking strings in the one
    alphabet both scripts are read into: an Arabic name's reading, a Latin name's few. A
    foreign name's record is spelt past its Latin skeleton by letters the skeleton keeps and
    the sound reading does not (Cerny, soft c; Wysocki, w; Forsyth, y): by sound it is near
    its Arabic spelling even where no romanisation or skeleton is."""
    per_part = [p.sounds[:2] if p.script == "arabic" else p.sounds for p in name.parts]
    per_part = [s for s in per_part if s]
    if not per_part:
        return []
    out = [""]
    for sounds in per_part:
        out = [f"{r} {s}".strip() for r in out for s in sounds][: ns.MAX_READINGS]
    return out


def sound_key(sounds: str) -> str:
    """The consonants of a sound reading (its vowels and h out, runs once): the ``s:`` key."""
    return ns.consonants(sounds)


def keys(name: str) -> set[str]:
    """Blocking keys of a name: the consonant key of each part, in the one alphabet both
    scripts share (a candidate shares at least one key with the names it may match), the
    Latin skeletons of its romanisations, and the consonants of its readings by sound (one
    alphabet for both scripts, `name_sounds`)."""
    out: set[str] = set()
    for p in parse(name).parts:
        if len(p.consonants) >= 2:
            out.add("c:" + p.consonants)
        out.update("l:" + s for s in p.skeletons if len(s) >= 3)
        if len(foreign := foreign_skeleton(p)) >= 3:
            out.add("l:" + foreign)
        out.update("s:" + k for s in p.sounds if len(k := sound_key(s)) >= 3)
    return out
