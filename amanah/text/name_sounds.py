"""A second reading of names across scripts: by sound, for foreign names in Arabic letters.

The romanizer reads an Arabic part as an Arab name (جورج as Jurj, بيتر as Bitar), which is
right for محمد and far from the record for George, Peter, Viktor or Olivera: a foreign name
written in Arabic letters spells its vowels as long letters (o/u as و, e/i as ي, a as ا) or
leaves them out, and its foreign consonants with the nearest Arabic ones (g as ج or غ, v as
ف, p as ب, ch as تش or ش, z as ز or تس). So both spellings are read here into one small
alphabet of sounds, the Arabic one letter to sound and the Latin one grapheme to sound:

- consonants by class: b (b p ب), f (f v w ph ف), g (g j dj ج غ), k (k c q ck ك ق), x (kh,
  the Spanish j, خ), s (s z ts sz س ص ز ظ), c (sh ch sch cz cs ش تش), t (t th ت ط ث: ث
  writes the English th), d (d ذ د ض), h, l, m, n, r, y; a Persian or Turkish v is also
  read as the و that writes it;
- vowels by three qualities: a (a ا, a final ة), o (o u و), i (e i y ي);

and compared by an edit distance in which a Latin vowel inside the word that the Arabic
leaves out costs little (short vowels are not written; a digraph such as oe or ie is one
vowel), a vowel either side costs less than a consonant, and a final vowel or any consonant
costs in full (Petra is not Peter). The
Latin side has a few readings (ch as sh or k, j as g or y, a silent final e, c soft or hard),
the score being the best. `amanah.text.name_match` takes this reading as one more way two
parts meet, so its threshold was calibrated with it (docs/benchmarks.md)."""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz.distance import Indel

#: What a difference costs: a Latin vowel the Arabic leaves out (inside the word), a vowel
#: the Latin lacks, an h either side (often silent), anything else (a consonant, a final
#: vowel).
SHORT_VOWEL = {"a": 0.25, "i": 0.35, "o": 0.7, "e": 0.6}
VOWEL = 0.6
#: A reading in which the Arabic writes fewer of the Latin's inner vowels than it leaves out
#: reads an Arab name by its consonants alone (محمد as Mahmoud), and one in which a final
#: vowel is in one spelling only is another name (Arabic writes a foreign final vowel: Petra
#: is بيترا, not بيتر): either agrees, at most this.
UNWRITTEN = 0.78
SILENT_H = 0.5
#: An Arabic long letter written for another Latin vowel at the same place inside the word
#: (ي for the u of Murphy, ميرفي; ا for the u of Budge, بادج): one swap at this cost, not a
#: vowel lost and another added (chosen on the training split, docs/benchmarks.md).
VOWEL_SWAP = 0.9
FULL = 1.0

_VOWELS = frozenset("aoie")
_AR = {
    "ب": "b",
    "پ": "b",
    "ت": "t",
    "ط": "t",
    "ث": "t",
    "ج": "g",
    "چ": "c",
    "ح": "h",
    "خ": "x",
    "د": "d",
    "ض": "d",
    "ذ": "d",
    "ر": "r",
    "ز": "s",
    "ظ": "s",
    "ژ": "g",
    "س": "s",
    "ص": "s",
    "ش": "c",
    "غ": "g",
    "ف": "f",
    "ڤ": "f",
    "ق": "k",
    "ك": "k",
    "گ": "g",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ه": "h",
    "ع": "",
    "ء": "",
}
# Arabic letter pairs that write one foreign sound: tsh, ts (German z), dj.
_AR_PAIRS = (("تش", "c"), ("تس", "s"), ("دج", "g"))


@lru_cache(maxsize=200_000)
def arabic_sounds(word: str) -> str:
    """An Arabic part (folded, article dropped) read letter to sound: و is o (a vowel, or w
    as in William), ي is i (a vowel, or y), ا and ع are a, a final ه is a after a consonant
    and silent after a vowel; the first vowel sound (ا, أو, إي, ع) is e, of any quality."""
    for pair, sound in _AR_PAIRS:
        if pair in word:
            word = word.replace(pair, "\x00" + sound)
    out: list[str] = []
    n = len(word)
    i = 0
    while i < n:
        ch = word[i]
        if ch == "\x00":
            out.append(word[i + 1])
            i += 2
            continue
        if ch in "اع":
            out.append("a")
        elif ch == "و":
            out.append("o")
        elif ch == "ي":
            out.append("i")
        elif ch == "ه" and i == n - 1 and i:
            out.append("" if out and out[-1] in _VOWELS else "a")
        else:
            out.append(_AR.get(ch, ""))
        i += 1
    if len(out) >= 2 and out[0] == "a" and out[1] in ("o", "i"):
        out.pop(0)  # أو, إي: an initial vowel written with its long letter
    if out and out[0] in _VOWELS:
        out[0] = "e"
    return _squeeze("".join(out))


# Latin graphemes to sounds, longest first; a tuple gives several readings.
_LATIN: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("tsch", ("c",)),
    ("sch", ("c",)),
    ("tch", ("c",)),
    ("ch", ("c", "k", "x")),
    ("sh", ("c",)),
    ("sz", ("c", "s")),
    ("cz", ("c",)),
    ("cs", ("c", "ks")),
    ("zh", ("g",)),
    ("kh", ("x",)),
    ("gh", ("g",)),
    ("ph", ("f",)),
    ("th", ("t",)),
    ("dh", ("d",)),
    ("ck", ("k",)),
    ("qu", ("k",)),
    ("dj", ("g",)),
    ("dg", ("g",)),
    ("ts", ("s",)),
    ("tz", ("s",)),
    ("x", ("ks",)),
    ("j", ("g", "i", "x")),
    ("q", ("k",)),
    ("k", ("k",)),
    ("g", ("g",)),
    ("v", ("f", "o")),
    ("f", ("f",)),
    ("p", ("b",)),
    ("b", ("b",)),
    ("z", ("s",)),
    ("s", ("s",)),
    ("t", ("t",)),
    ("d", ("d",)),
    ("l", ("l",)),
    ("m", ("m",)),
    ("n", ("n",)),
    ("r", ("r",)),
    ("a", ("a",)),
    ("e", ("i",)),
    ("i", ("i",)),
    ("o", ("o",)),
    ("u", ("o",)),
)
_LATIN_VOWEL = frozenset("aeiouy")
#: Readings of a Latin part at most (and of a name, `name_match.sound_readings`).
MAX_READINGS = 4


@lru_cache(maxsize=200_000)
def latin_sounds(word: str, foreign: bool = False) -> tuple[str, ...]:
    """A Latin part (folded) read grapheme to sound, in a few readings (at most four): c
    soft (s, or ch in Italian) before e/i/y, else hard; w a vowel (o, or v first in German),
    y the vowel i; a final h after a vowel silent; x first or before i/u also sh (pinyin);
    gh after a vowel also silent (English); a silent final e and a final -at read without
    them too. A `foreign` name (one the romanizer's dictionary does not hold) also gets
    readings without a French silent final consonant or initial h, and with an English
    vowel said long before a silent final e."""
    word = "".join(ch for ch in word if "a" <= ch <= "z")
    if not word:
        return ()
    readings = [""]
    n = len(word)
    i = 0
    while i < n:
        ch = word[i]
        nxt = word[i + 1] if i + 1 < n else ""
        if ch == "c" and not word.startswith(("ch", "ck", "cz", "cs"), i):
            soft = word[i + 2 if nxt == "c" else i + 1 : i + 3 if nxt == "c" else i + 2]
            opts: tuple[str, ...] = ("s", "c") if soft in ("e", "i", "y") else ("k",)
            step = 2 if nxt == "c" else 1
        elif ch == "w":
            opts, step = ("o", "f") if i == 0 else ("o",), 1
        elif ch == "y":
            opts, step = ("i",), 1
        elif ch == "x" and (i == 0 or nxt in ("i", "u")):
            # pinyin's x is sh (Xi, Xu, Dexin)
            opts, step = ("ks", "c"), 1
        elif word.startswith("gh", i) and i and word[i - 1] in _LATIN_VOWEL:
            # silent after a vowel in English names (Leigh, Vaughan)
            opts, step = ("g", ""), 2
        elif ch == "h":
            # silent at the end after a vowel (Sarah, Noah); Ahmad and Fahd keep theirs
            final = i == n - 1 and i > 0 and word[i - 1] in _LATIN_VOWEL
            opts, step = ("",) if final else ("h",), 1
        else:
            for graph, sounds in _LATIN:
                if word.startswith(graph, i):
                    opts, step = sounds, len(graph)
                    break
            else:
                opts, step = ("",), 1
        if len(opts) == 1:
            readings = [r + opts[0] for r in readings]
        else:
            readings = [r + o for r in readings for o in opts][: MAX_READINGS * 2]
        i += step
    out = [_squeeze(r) for r in readings]
    out = ["e" + r[1:] if r[0] in _VOWELS else r for r in out]
    if n > 3 and word.endswith("e") and word[-2] not in _LATIN_VOWEL:
        out += [r[:-1] for r in out]  # a silent final e: George, Pierre
    elif n > 3 and word.endswith("at"):
        out += [r[:-1] for r in out]  # a final ة read -at: Hamzat
    out = list(dict.fromkeys(r for r in out if r))[:MAX_READINGS]
    if foreign and out:
        out += _silent_letters(word, out)
        if len(word) > 3 and (m := _LONG_VOWEL.search(word)):
            # an English vowel said long before a silent e, as Arabic writes it: Blades
            # بليدز, Hyde هايد, Duke ديوك
            spoken = word[: m.start()] + _SAID[m.group(1)] + m.group(2) + m.group(3)
            out += [r for r in latin_sounds(spoken)[:1] if r not in out]
    return tuple(dict.fromkeys(out))


_LONG_VOWEL = re.compile("([aiuy])([b-df-hj-np-tv-z])e(s?)$")
_SAID = {"a": "ei", "i": "ai", "y": "ai", "u": "iu"}


#: A final consonant a French name does not sound after its vowel (Gayet, Hébert, Gaillard,
#: Marais, Rousseau's -eaux), which its Arabic spelling leaves out (غاييه, إيبير, غايار).
_SILENT_FINAL = re.compile("(?:(?<=[aeiouy])|(?<=[aeiouy]r))(?:[tdsxz]+|lt)$|(?<=ie)r$")
_SILENT_INITIAL_H = re.compile("^h(?=[aeiouy])")


def _silent_letters(word: str, base: list[str]) -> list[str]:
    """More readings of a foreign name's likeliest reading: without a French silent final
    consonant, and without a silent initial h (Hollande, أولاند)."""
    first = base[0]
    out = [first]
    if len(word) > 4 and (m := _SILENT_FINAL.search(word)):
        sounded = "".join(latin_sounds(m.group())[:1]).lstrip("e")
        if sounded and first.endswith(sounded):
            out.append(first[: -len(sounded)])
    out += [r for r in base[1:] if out[-1] != r]
    if _SILENT_INITIAL_H.match(word):
        out += ["e" + r[2:] for r in out if r.startswith("h") and len(r) > 2]
    return [r for r in out if len(r) > 1 and r not in base]


_RUNS = re.compile(r"(.)\1+")


def _squeeze(sounds: str) -> str:
    return _RUNS.sub(r"\1", sounds)


@lru_cache(maxsize=400_000)
def _costs(sounds: str, latin: bool) -> tuple[tuple[float, ...], float, int]:
    """What losing each sound of a reading costs, their sum, and its inner vowels (runs:
    a digraph or diphthong, oe, ie, ou, is one vowel the Arabic writes with one letter)."""
    last = len(sounds) - 1
    out = []
    for pos, ch in enumerate(sounds):
        if ch in _VOWELS:
            if latin and 0 < pos < last:
                out.append(SHORT_VOWEL[ch])
            else:
                out.append(VOWEL if pos < last else FULL)
        else:
            out.append(SILENT_H if ch == "h" else FULL)
    return tuple(out), sum(out), len(_vowel_runs(sounds))


@lru_cache(maxsize=400_000)
def _vowel_runs(sounds: str) -> tuple[range, ...]:
    """The runs of vowels inside a reading (neither first nor last sound), as positions."""
    return tuple(
        range(m.start(), m.end()) for m in _VOWEL_RUN.finditer(sounds, 1, max(1, len(sounds) - 1))
    )


_VOWEL_RUN = re.compile("[aoie]+")


def similarity(arabic: str, latin: str) -> float:
    """How alike an Arabic reading and a Latin one are, in [0, 1] (weighted edit distance:
    what is in one only, at its cost, over the cost of both)."""
    if not arabic or not latin:
        return 0.0
    if arabic == latin:
        return 1.0
    a_costs, a_total, _ = _costs(arabic, False)
    l_costs, l_total, inner = _costs(latin, True)
    lost = 0.0
    inserted: set[int] = set()
    final = False  # a final vowel of one side that the other lacks (Petra, Peter; Mario, Maria)
    last_a, last = len(arabic) - 1, len(latin) - 1
    ops = Indel.editops(arabic, latin)
    # an Arabic long letter written for another Latin vowel at the same place (i for u in
    # Murphy, ميرفي): one swap, not a vowel lost and another added
    dropped = {
        (op.src_pos, op.dest_pos): a_costs[op.src_pos]
        for op in ops
        if op.tag == "delete" and arabic[op.src_pos] in _VOWELS and 0 < op.src_pos < last_a
    }
    for op in ops:
        if op.tag == "delete":
            lost += a_costs[op.src_pos]
            final |= op.src_pos == last_a and arabic[last_a] in _VOWELS
        else:
            d = op.dest_pos
            swap = None
            if latin[d] in _VOWELS and 0 < d < last:
                for key in ((op.src_pos - 1, d), (op.src_pos, d + 1)):
                    if (swap := dropped.pop(key, None)) is not None:
                        break
            if swap is not None:
                lost += min(VOWEL_SWAP, l_costs[d] + swap) - swap
                continue
            lost += l_costs[d]
            inserted.add(d)
            final |= d == last and latin[last] in _VOWELS
    value = max(0.0, 1.0 - lost / (a_total + l_total))
    unwritten = sum(1 for run in _vowel_runs(latin) if all(d in inserted for d in run))
    if final or unwritten > inner - unwritten:
        value = min(value, UNWRITTEN)
    return value


def best_of(arabic: tuple[str, ...], latin: tuple[str, ...]) -> float:
    """The best similarity of any two readings (an Arabic part's and a Latin part's)."""
    return max((similarity(a, r) for a in arabic for r in latin), default=0.0)


def best_similarity(arabic_word: str, latin_word: str) -> float:
    """The best similarity of an Arabic part's sound reading with any of a Latin part's."""
    return best_of((arabic_sounds(arabic_word),), latin_sounds(latin_word))


def latin_spelling(arabic_word: str) -> str:
    """The Arabic part's sound reading as a plain Latin spelling (a blocking key: its
    skeleton meets the records of foreign names)."""
    return arabic_sounds(arabic_word).translate(_SPELL)


def consonants(sounds: str) -> str:
    """A sound reading's consonants, vowels and h left out, runs once (a blocking key)."""
    return _squeeze(_NOT_CONSONANT.sub("", sounds))


_NOT_CONSONANT = re.compile("[aoieh]")
_SPELL = str.maketrans({"c": "sh", "x": "kh", "i": "i", "o": "o"})
