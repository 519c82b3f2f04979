"""Letters in disguise: a name written in symbols that read as letters (Ⓐⓗⓜⓐⓓ, 🅐🅗🅜🅐🅓,
⒜⒣⒨⒜⒟, 🇦🇭🇲🇦🇩), in small capitals (ᴀʜᴍᴀᴅ), in the look-alike alphabets of "fancy text"
generators (ᗩᕼᗰᗩᗪ, αнмα∂, ᎪᎻᎷᎪᎠ, 卂卄爪卂ᗪ, ₳Ⱨ₥₳Đ), upside down (pɐɯɥ∀), in alternating case
(AhMaD), in a passport's machine-readable zone (P<SYRALKHATIB<<AHMAD), or with digits for
letters: Arabizi, the Latin chat alphabet of Arabic (A7mad, 5aled, 3ali, 7'alid), and
leetspeak (Ahm4d, Kh4t1b). Social-media posts, chat exports, user names and copies of
identity papers write names this way, and a reader reads them at once. Unicode's own folding
(NFKD) makes mathematical, full-width and superscript letters plain already; these it leaves
as symbols or as other letters.

`readings` gives the text as a reader takes it, for the protected-name matcher's readings
(`sharing.protected_readings`); it returns nothing for a text without any of them, cheaply."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _symbol_letters() -> dict[int, str]:
    """Enclosed, parenthesised and squared letters and digits that NFKD leaves as symbols or
    decomposes with brackets (⒜ is "(a)"), and the blocks it does not decompose at all."""
    table: dict[int, str] = {}
    for c in [*range(0x2460, 0x2500), *range(0x1F100, 0x1F200)]:
        plain = unicodedata.normalize("NFKD", chr(c)).strip("()").rstrip(".,")
        if len(plain) == 1 and plain.isascii() and plain.isalnum():
            table[c] = plain
    for start in (0x1F150, 0x1F170):  # negative circled, negative squared
        for i in range(26):
            table[start + i] = chr(ord("A") + i)
    return table


#: Look-alike alphabets of the common "fancy text" generators, a to z ("-" where a set has
#: no letter of its own). Small capitals come after NFKD (ᶦ, superscript, is ɪ then).
_ALPHABETS = (
    "ᴀ ʙ ᴄ ᴅ ᴇ ꜰ ɢ ʜ ɪ ᴊ ᴋ ʟ ᴍ ɴ ᴏ ᴘ ǫ ʀ ꜱ ᴛ ᴜ ᴠ ᴡ - ʏ ᴢ",  # small capitals
    "- - - - - ғ - - - - - - - - - - - - - - - - - - - -",  # another set's F
    "ᗩ ᗷ ᑕ ᗪ ᗴ ᖴ ᘜ ᕼ ᓰ ᒍ ᛕ ᒪ ᗰ ᑎ ᗝ ᑭ ᑫ ᖇ ᔕ - ᑌ ᐯ ᗯ ᙭ ᖻ ᘔ",  # Canadian syllabics
    "Ꭺ Ᏼ Ꮯ Ꭰ Ꭼ - Ꮐ Ꮋ Ꮖ Ꭻ Ꮶ Ꮮ Ꮇ - - Ꮲ - Ꮢ Ꮪ Ꭲ - Ꮩ Ꮤ - Ꮍ Ꮓ",  # Cherokee
    "- - - - - - - - Ꭵ - - - - - Ꮎ - - - - - - - Ꮃ - Ꭹ -",  # Cherokee, other letters
    "α в ¢ ∂ є ƒ - н ι נ к ℓ м η σ ρ - я ѕ т υ ν ω χ у -",  # Greek and Cyrillic
    "Д Б Ҁ ↁ Є Ғ - Н Ї Ј Ќ Ł М И Ф Р Ǫ Я Ѕ Т Ц Ѵ Щ Ж Ч -",  # faux Cyrillic
    "卂 乃 匚 ᗪ 乇 千 Ꮆ 卄 丨 ﾌ Ҝ ㄥ 爪 几 ㄖ 卩 Ɋ 尺 丂 ㄒ ㄩ ᐯ 山 乂 ㄚ 乙",  # CJK
    "ค ๒ ς ๔ є Ŧ ﻮ ђ เ ן к ɭ ๓ ภ ๏ ק ợ г ร Շ ย ש ฬ א ץ չ",  # Thai and Hebrew
    "₳ ฿ ₵ Đ Ɇ ₣ ₲ Ⱨ - - ₭ Ⱡ ₥ ₦ Ø ₱ - Ɽ ₴ ₮ Ʉ - ₩ Ӿ Ɏ Ⱬ",  # currency (its I is ł: l)
    "Ⱥ ƀ ȼ đ ɇ - ǥ ħ ɨ ɉ ꝁ ł - - ø ᵽ ꝗ ɍ - ŧ ᵾ ꝟ - ӿ ɏ ƶ",  # stroked
    "- ɓ ƈ ɗ ɛ ʄ ɠ ɦ ɨ ʝ ƙ ʟ ɱ ɲ - ℘ զ ʀ ʂ ƭ - ʋ ῳ ҳ ყ ʐ",  # hooked
    "- ɮ - ɖ - - ɢ - - - ӄ - ʍ ռ օ ք - - ֆ ȶ ʊ - ա Ӽ - -",  # squiggle
    "Λ Ⴆ Ƈ Ɗ Є Ƒ Ɠ Ӈ Ɩ ʆ Ƙ Լ - Ɲ Ơ Ƥ Ƣ Ʀ Ƨ Ƭ Ʋ Ɣ Ɯ Ҳ Ƴ Ȥ",  # African and Greek capitals
)


def _alphabet_letters() -> dict[int, str]:
    table: dict[int, str] = {}
    for alphabet in _ALPHABETS:
        for letter, c in zip(_LETTERS, alphabet.split(" "), strict=True):
            if c != "-" and not c.isascii():
                table.setdefault(ord(c), letter)
    return table


_PLAIN = str.maketrans({**_symbol_letters(), **_alphabet_letters()})
_BMP_KEYS = "".join(sorted(chr(c) for c in _PLAIN if c <= 0xFFFF))
_DISGUISED = re.compile(
    f"[{re.escape(_BMP_KEYS)}\\u1d2c-\\u1dbf]|[\\U0001f100-\\U0001f1ff]"  # + superscripts
)
_CURRENCY = re.compile("[₳฿₵₣₲Ⱨ₭Ⱡ₥₦₱₴₮₩]")
# Regional indicators: a letter each, but two of them that name a country are its flag.
_REGIONAL = re.compile("[\U0001f1e6-\U0001f1ff]+")


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    from babel import Locale

    return frozenset(c for c in Locale("en").territories if len(c) == 2 and c.isalpha())


def _regional(m: re.Match[str]) -> str:
    letters = "".join(chr(ord("A") + ord(c) - 0x1F1E6) for c in m.group())
    pairs = [letters[i : i + 2] for i in range(0, len(letters), 2)]
    if len(letters) % 2 == 0 and all(p in _countries() for p in pairs):
        return m.group()  # flags (🇴🇲🇦🇷 is Oman and Argentina, not "OMAR")
    return letters


#: Turned letters (upside-down text reads right to left): ɐ is a, q is b, p is d …
_TURNED = str.maketrans(
    dict(
        zip(
            "ɐqɔpǝɟƃɥᴉıɾʞlɯuodbɹsʇnʌʍxʎz∀ᗺƆᗡƎℲ⅁HIſꓘ˥WNOԀΌᴚS⊥∩ΛMX⅄ZⱯꓤʃ",
            "abcdefghiijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZARl",
            strict=True,
        )
    )
)
_TURNED_ONLY = re.compile("[ɐǝɟƃɥᴉɾʞɯɹʇʌʍʎ∀ᗺƆᗡƎℲ⅁ꓘ˥ԀᴚΌ⊥∩Λ⅄Ɐꓤ]")

# Alternating case (AhMaD): a capital after a small letter starts a word for the matcher.
_CAMEL = re.compile(r"[a-z][A-Z]")
_CAMEL_WORD = re.compile(r"\b[A-Za-z]*[a-z][A-Z][A-Za-z]*\b")

# A word of Latin letters with digits (or @ $ ' + !) among them (4l, A7mad, Kh4t1b, 7'alid).
# An underscore ends it (a7mad_al5atib); an @ before a domain ends it (a7mad@mail.example).
_MIXED_HINT = re.compile(r"[A-Za-z'][0-9@$+!]|[0-9@$][A-Za-z']")
_IN_WORD = r"(?:[A-Za-z0-9$']|@(?![A-Za-z0-9-]+\.[A-Za-z])|(?<=[A-Za-z])[+!](?=[A-Za-z]))"
_MIXED_WORD = re.compile(
    r"(?<![A-Za-z0-9$@'])(?=[A-Za-z$'+!]*[0-9@$+!])(?=[0-9@$'+!]*[A-Za-z])"  # a digit, a letter
    rf"{_IN_WORD}{{2,32}}(?![A-Za-z0-9$']|@(?![A-Za-z0-9-]+\.[A-Za-z]))"
)
_DIGITS = re.compile(r"[0-9@$+!]")
_TAIL = re.compile(r"[0-9]{2,}$")  # a year or a number after a user name (a7mad1990)
# A number and its unit or ordinal (20th, 1990s, 5km, $3bn), which no one reads as letters;
# 3li is Arabizi's Ali.
_COUNTED = re.compile(
    r"[$]?[0-9]+(?i:st|nd|rd|th|s|k|m|b|bn|mn|km|kg|cm|mm|g|h|am|pm|x|d|gb|mb|kb|v|w|hz|ml|px)"
)
#: Arabizi: 2 ء, 3 ع, 3' غ, 5 خ, 6 ط, 7 ح, 7' خ, 8 ق, 9 ص (the apostrophe after a digit marks
#: the dotted letter; ء and ع inside a word are written as apostrophes, which a name's key
#: reads as the weak letter they are; at a word's start, as the vowel they carry: 3li, 3l-).
_ARABIZI = (
    (re.compile("3'"), "gh"),
    (re.compile("7'"), "kh"),
    (re.compile("6'"), "z"),
    (re.compile("9'"), "d"),
    (re.compile("(?<=[A-Za-z])[23](?=[A-Za-z])"), "'"),
    (re.compile("[23]"), "a"),
    (re.compile("5"), "kh"),
    (re.compile("6"), "t"),
    (re.compile("7"), "h"),
    (re.compile("8"), "q"),
    (re.compile("9"), "s"),
)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                       "@": "a", "$": "s", "+": "t", "!": "i"})  # fmt: skip


def _arabizi(word: str) -> str:
    for pattern, by in _ARABIZI:
        word = pattern.sub(by, word)
    return word


def _leet(word: str) -> str:
    return word.translate(_LEET)


def _both(word: str) -> str:
    """Arabizi first, then leetspeak for the digits Arabizi leaves (A7mad Kh4t1b)."""
    return _leet(_arabizi(word))


@lru_cache(maxsize=65_536)
def _three(core: str) -> tuple[str, ...]:
    """A word read as Arabizi, as leetspeak and as both, in its case (A7MAD is AKHMAD, not
    AkhMAD: a small letter before a capital starts a word); remembered (a chat repeats them)."""
    reads = (_arabizi(core), _leet(core), _both(core))
    return tuple(r.upper() for r in reads) if core.isupper() else reads


def _mixed_words(text: str) -> list[str]:
    """The text with each word that mixes letters and digits read as Arabizi, as leetspeak
    and as both (one pass over the text; none when no word does)."""
    outs: list[list[str]] = [[], [], []]
    at, changed = 0, False
    for m in _MIXED_WORD.finditer(text):
        word = m.group()
        tail = _TAIL.search(word)
        core = word[: tail.start()] if tail else word
        digits = len(_DIGITS.findall(core))
        # No more digits than letters, as a name is written; a hash or a serial number has
        # more, and is left alone (every word changed is a new word to key).
        if not 0 < digits <= len(core) - digits or _COUNTED.fullmatch(core):
            continue
        changed = True
        for out, read in zip(outs, _three(core), strict=True):
            out += [text[at : m.start()], read, tail.group() if tail else ""]
        at = m.end()
    if not changed:
        return []
    return [("".join(out) + text[at:]) for out in outs]


# A passport's or an identity card's machine-readable zone (ICAO 9303): the name field is
# SURNAME<<GIVEN<NAMES, after "P<SYR" on the first line of a passport or a visa (44 or 36
# characters: the state's code glued to the surname), or the whole third line of a card (30).
# OCR reads it well (the OCR-B font).
# OCR reads its filler "<" as "«" or "‹" at times, and letters in lower case.
_MRZ_LINE = re.compile(r"^[ \t]*([A-Za-z0-9<«‹][A-Za-z0-9<«‹ ]{28,64}[<«‹])[ \t]*$", re.MULTILINE)
_MRZ_FILLER = str.maketrans("«‹", "<<", " ")
_MRZ_HINT = re.compile("[<«‹]{2}")
_MRZ_NAME = re.compile(r"([A-Z]+(?:<[A-Z]+)*)<<([A-Z]+(?:<[A-Z]+)*)<*")
_MRZ_FIRST = re.compile(r"[PIACV][A-Z0-9<][A-Z<]{3}")
CARD_LINE = 32  # a card's lines are 30 characters; a passport's 44, a visa's 36


def _mrz(text: str) -> str | None:
    """The names of the machine-readable zones in a text, each as "GIVEN NAMES SURNAME"."""
    names = []
    for m in _MRZ_LINE.finditer(text):
        line = m.group(1).translate(_MRZ_FILLER).upper()
        if "<<" not in line:
            continue
        if len(line) > CARD_LINE:
            if not _MRZ_FIRST.match(line):
                continue
            line = line[5:]
        if (name := _MRZ_NAME.fullmatch(line)) is not None:
            surname, given = (g.replace("<", " ") for g in name.groups())
            names.append(f"{given} {surname}")
    return "\n\n".join(names) or None  # a blank line parts two names


# A North American driving licence's or identity card's PDF417 code (AAMVA DL/ID card design
# standard): a header ("ANSI " and the issuer's six digits), then one element a line (ended by
# a line feed, a carriage return or a record separator), its three-letter tag glued to its
# value (DCSALKHATIB); the first of a subfile also carries the subfile's type (DLDAQ…). Family
# name DCS (DAB before 2000), given names DAC and DAD (DCT, DBG for an alias), the full name
# DAA ("LAST,FIRST,MIDDLE").
_AAMVA_HEADER = re.compile(r"ANSI ?\d{6}")
_AAMVA_LINE = re.compile(r"^(?:DL|ID)?(D(?:AA|AB|AC|AD|CS|CT|BN|BG|BO|BP))(.*)$", re.MULTILINE)
_AAMVA_BREAKS = str.maketrans({"\r": "\n", "\x1e": "\n", "\x1d": "\n"})
_AAMVA_EMPTY = {"", "NONE", "UNAVL", "UNKNOWN"}


def _aamva(text: str) -> str | None:
    """The holders' names in AAMVA codes' text, each licence on its own (from one header to
    the next: two licences on a page never lend each other a name), as "GIVEN MIDDLE FAMILY"
    and "GIVEN FAMILY"."""
    names = []
    for licence in _AAMVA_HEADER.split(text)[1:]:
        fields: dict[str, str] = {}
        for m in _AAMVA_LINE.finditer(licence.translate(_AAMVA_BREAKS)):
            value = re.sub(r"[\s,$]+", " ", m.group(2)).strip()
            if value.upper() not in _AAMVA_EMPTY:
                fields.setdefault(m.group(1), value)
        if full := fields.get("DAA"):  # LAST,FIRST,MIDDLE (commas or "$" already spaces)
            last, *rest = full.split(" ")
            names += [" ".join([*rest, last]), " ".join([*rest[:1], last])]
        family = fields.get("DCS") or fields.get("DAB")
        given = fields.get("DAC") or fields.get("DCT")
        if family and given:
            names.append(" ".join(filter(None, (given, fields.get("DAD"), family))))
            names.append(f"{given} {family}")
        if (alias := fields.get("DBN") or fields.get("DBO")) and (
            first := fields.get("DBG") or fields.get("DBP")
        ):
            names.append(f"{first} {alias}")
    return "\n\n".join(dict.fromkeys(names)) or None  # a blank line parts two names


#: Bidi overrides and isolates: the characters after them are shown in the order they force
#: ("\u202ebitahK-la\u202c" is shown "al-Khatib"; a file name "Ahmad_\u202ebitahK-la.txt").
_OVERRIDES = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _as_displayed(text: str) -> str:
    """Each line holding a bidi override in the order it is shown (Unicode's algorithm)."""
    from bidi import get_display

    return "\n".join(
        get_display(line) if _OVERRIDES.search(line) else line for line in text.split("\n")
    )


def readings(text: str) -> list[str]:
    """The text as a reader takes its letters in disguise: symbols and look-alike alphabets as
    letters, upside-down lines turned back, alternating case as words, and words with digits
    among their letters read as Arabizi, as leetspeak and as both; nothing when it has none."""
    out = []
    if not text.isascii():
        if _DISGUISED.search(text):
            shown = text.replace("ł", "i") if _CURRENCY.search(text) else text  # its I is ł
            # Before NFKD (it makes ǫ an o, Ќ a К) and after (ᶦ is ɪ only then); in lower
            # case (khaTib: no capital starts a word here).
            plain = unicodedata.normalize("NFKD", _REGIONAL.sub(_regional, shown).translate(_PLAIN))
            out.append(plain.translate(_PLAIN).lower())
        if _TURNED_ONLY.search(text):
            out.append("\n".join(line[::-1] for line in text.translate(_TURNED).split("\n")))
    if _OVERRIDES.search(text):
        out.append(_as_displayed(text))
    if _CAMEL.search(text):
        out.append(_CAMEL_WORD.sub(lambda m: m.group().lower(), text))
    if _MIXED_HINT.search(text):
        out += _mixed_words(text)
    if _MRZ_HINT.search(text) and (names := _mrz(text)) is not None:
        out.append(names)
    if _AAMVA_HEADER.search(text) and (names := _aamva(text)) is not None:
        out.append(names)
    return list(dict.fromkeys(out))
