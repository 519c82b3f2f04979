"""A name as other languages' documents write it, read in the letters the protected names
are recorded in: Russian, Greek and Hebrew letters (Ахмад аль-Хатиб, Αχμάντ αλ-Χατίμπ,
אחמד אל-ח'טיב), and the Latin spellings of German (Achmed al-Chatib), Spanish (al-Jatib),
Turkish (Ahmet el-Hatip), Kurdish and Azeri (Ehmed Xetîb) and scholars' transliteration
(Aḥmad al-Ḫaṭīb) in the English one the matcher reads across scripts (Akhmed al-Khatib).
Each is one more reading of a text (`amanah.sharing.protected_readings`): a text in none of
them has none."""

from __future__ import annotations

import re
import unicodedata

_CYRILLIC = re.compile("[\u0400-\u04ff]")
_CYRILLIC_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch",
    "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    "ә": "a", "ғ": "gh", "қ": "q", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h",
    "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "w", "ј": "j", "џ": "dzh",
}  # fmt: skip
_CYRILLIC_KH = {**_CYRILLIC_LATIN, "х": "\x00"}
_GREEK = re.compile("[\u0370-\u03ff\u1f00-\u1fff]")
_GREEK_PAIRS = (("μπ", "b"), ("ντ", "d"), ("γκ", "g"), ("γγ", "ng"), ("ου", "u"), ("αι", "e"))
_GREEK_LATIN = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th",
    "ι": "i", "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p", "ρ": "r",
    "σ": "s", "ς": "s", "τ": "t", "υ": "y", "φ": "f", "χ": "kh", "ψ": "ps", "ω": "o",
}  # fmt: skip
# Hebrew letters as the Arabic ones they write an Arabic name with (a geresh after a letter
# makes the Arabic letter Hebrew lacks: ח' خ, ג' ج, ט' ظ, ע' غ, צ' ض, ת' ث, ד' ذ, כ' خ).
_HEBREW = re.compile("[\u05d0-\u05ea]")
_HEBREW_GERESH = {
    "ח": "خ", "ג": "ج", "ט": "ظ", "ע": "غ", "צ": "ض", "ץ": "ض", "ת": "ث", "ד": "ذ", "כ": "خ",
    "ך": "خ",
}  # fmt: skip
_HEBREW_ARABIC = {
    "א": "ا", "ב": "ب", "ג": "ج", "ד": "د", "ה": "ه", "ו": "و", "ז": "ز", "ח": "ح", "ט": "ط",
    "י": "ي", "כ": "ك", "ך": "ك", "ל": "ل", "מ": "م", "ם": "م", "נ": "ن", "ן": "ن", "ס": "س",
    "ע": "ع", "פ": "ف", "ף": "ف", "צ": "ص", "ץ": "ص", "ק": "ق", "ר": "ر", "ש": "ش", "ת": "ت",
}  # fmt: skip
_GERESH = re.compile("([\u05d0-\u05ea])['\u05f3\u2019]")
# Scholars' transliteration (DMG, ALA-LC, ISO 233): the letters their dots and bars write.
_SCHOLARLY = re.compile("[ḫḪẖḥḤṭṬġĠǧǦšŠṯṮḏḎẓẒḍḌṣṢʿʾʻʼ]")
_SCHOLARLY_LATIN = {
    "ḫ": "kh", "Ḫ": "Kh", "ẖ": "kh", "ġ": "gh", "Ġ": "Gh", "ǧ": "j", "Ǧ": "J", "š": "sh",
    "Š": "Sh", "ṯ": "th", "Ṯ": "Th", "ḏ": "dh", "Ḏ": "Dh", "ʿ": "", "ʾ": "", "ʻ": "", "ʼ": "",
}  # fmt: skip
# Latin orthographies: German ch and sch, Spanish j, Kurdish and Azeri x for kh; Turkish
# and Kurdish letters, Turkish h for kh and final devoicing (Hatip, Ahmet).
_GERMAN = re.compile("(?:\\b|-)Ch(?=[aeiouä])|\\b[A-Z][a-z]{0,3}ch[a-z]")
_SPANISH_J = re.compile("(?i)(?<![a-z])(al|el)-j|(?<=[aeiou])j(?=[aeiou])")
_X = re.compile("(?:(?<=\\W)|^)([Xx])(?=[aeiouêîû])")
_TURKISH = re.compile("[ıİşŞçÇğĞêîûÊÎÛ]|\\b(?:[Ee]l|[Aa]l)-[Hh]")


def _german(text: str) -> str:
    out = re.sub("sch", "sh", text)
    out = re.sub("Sch", "Sh", out)
    out = re.sub("ch", "kh", out)
    return re.sub("Ch", "Kh", out)


_TURKISH_LETTERS = str.maketrans(
    {
        "ı": "i",
        "İ": "I",
        "ğ": "",
        "Ğ": "",
        "ê": "e",
        "î": "i",
        "û": "u",
        "Ê": "E",
        "Î": "I",
        "Û": "U",
    }
)


def _turkish(text: str) -> str:
    out = text.translate(_TURKISH_LETTERS)
    out = out.replace("ş", "sh").replace("Ş", "Sh").replace("ç", "ch").replace("Ç", "Ch")
    out = re.sub("(?i)\\b(el|al)-h", lambda m: f"{m.group(1)}-kh", out)
    out = re.sub("(?<=[a-zA-Z]{3})p\\b", "b", out)
    return re.sub("(?<=[a-zA-Z]{3})t\\b", "d", out)


#: One letter for both ح and خ (Russian х, Greek χ, German ch): read as h, as kh, and as kh
#: at a word's start (after an article too) and h inside one (Ахмад аль-Хатиб).
_KH = "\x00"
_KH_START = re.compile(f"(?:(?<=[^\\w-])|^|(?<=\\b[aeAE]l-)|(?<=\\b[aeAE]l))({_KH})")


def _both(text: str) -> list[str]:
    """The three readings of a text whose `_KH` marks stand for ح or خ."""
    if _KH not in text:
        return [text]
    mixed = _KH_START.sub("kh", text).replace(_KH, "h")
    return [text.replace(_KH, "h"), text.replace(_KH, "kh"), mixed]


_KH_INSIDE = re.compile("(?<=[A-Za-z])kh(?=[a-z])")
#: ق as g or gh (Iraqi, Gulf, Sudanese and Persian spellings: Gasim, Ghasem for Qasim).
_G_FOR_Q = re.compile("(?:(?<=[^\\w-])|^|(?<=-))G(?:h)?(?=[aeiou])")


def near(text: str, pattern: re.Pattern[str]) -> str:
    """Only the lines where `pattern` is found, with the line either side (a name wrapped
    across a line break): a reading of these costs what they hold, not the whole text."""
    if "\n" not in text:
        return text
    lines = text.split("\n")
    keep: set[int] = set()
    n = at = 0
    for m in pattern.finditer(text):
        n += text.count("\n", at, m.start())  # counted from the last match: linear
        at = m.start()
        keep.update((n - 1, n, n + 1))
    out, last = [], -2
    for n in sorted(k for k in keep if 0 <= k < len(lines)):
        if n != last + 1 and out:
            out.append("")  # a blank line: groups apart are not read as one
        out.append(lines[n])
        last = n
    return "\n".join(out)


def readings(text: str) -> list[str]:
    """The text in the spellings the matcher reads, for each orthography it holds (only its
    lines that hold it)."""
    out = []
    if _CYRILLIC.search(text):
        lower = near(text, _CYRILLIC).lower()
        out += _both("".join(_CYRILLIC_KH.get(c, c) for c in lower))
    if _GREEK.search(text):
        plain = "".join(
            c
            for c in unicodedata.normalize("NFD", near(text, _GREEK).lower())
            if unicodedata.category(c) != "Mn"
        )
        for pair, by in _GREEK_PAIRS:
            plain = plain.replace(pair, by)
        out += _both("".join(_GREEK_LATIN.get(c, c) for c in plain).replace("kh", _KH))
    if _HEBREW.search(text):
        lines = near(text, _HEBREW)
        marked = _GERESH.sub(lambda m: _HEBREW_GERESH.get(m.group(1), m.group(1)), lines)
        out.append("".join(_HEBREW_ARABIC.get(c, c) for c in marked))
    if _SCHOLARLY.search(text):
        out.append("".join(_SCHOLARLY_LATIN.get(c, c) for c in near(text, _SCHOLARLY)))
    if _GERMAN.search(text):
        out += _both(_german(near(text, _GERMAN)).replace("kh", _KH).replace("Kh", _KH))
    if _SPANISH_J.search(text):
        lines = near(text, _SPANISH_J)
        out.append(_SPANISH_J.sub(lambda m: f"{m.group(1)}-kh" if m.group(1) else "kh", lines))
    if _X.search(text):
        out.append(_X.sub(lambda m: "Kh" if m.group(1) == "X" else "kh", near(text, _X)))
    if _TURKISH.search(text):
        out.append(_turkish(near(text, _TURKISH)))
    if _KH_INSIDE.search(text):  # Russian-English: Akhmed for أحمد (х for ح too)
        out.append(_KH_INSIDE.sub("h", near(text, _KH_INSIDE)))
    if _G_FOR_Q.search(text):
        out.append(_G_FOR_Q.sub("Q", near(text, _G_FOR_Q)))
    return [r for r in dict.fromkeys(out) if r != text]
