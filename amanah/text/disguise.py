"""Letters in disguise: a name written in symbols that read as letters (Ⓐⓗⓜⓐⓓ, 🅐🅗🅜🅐🅓,
⒜⒣⒨⒜⒟, 🇦🇭🇲🇦🇩), in small capitals (ᴀʜᴍᴀᴅ), upside down (pɐɯɥ∀), or with digits for
letters: Arabizi, the Latin chat alphabet of Arabic (A7mad, 5aled, 3ali), and leetspeak
(Ahm4d, Kh4t1b). Social-media posts, chat exports and user names write names this way, and a
reader reads them at once. Unicode's own folding (NFKD) makes mathematical, full-width and
superscript letters plain already; these it leaves as symbols or as other letters.

`readings` gives the text as a reader takes it, for the protected-name matcher's readings
(`sharing.protected_readings`); it returns nothing for a text without any of them, cheaply."""

from __future__ import annotations

import re
import unicodedata


def _symbol_letters() -> dict[int, str]:
    """Enclosed, parenthesised and squared letters and digits that NFKD leaves as symbols or
    decomposes with brackets (⒜ is "(a)"), and the blocks it does not decompose at all."""
    table: dict[int, str] = {}
    for c in [*range(0x2460, 0x2500), *range(0x1F100, 0x1F200)]:
        plain = unicodedata.normalize("NFKD", chr(c)).strip("()").rstrip(".,")
        if len(plain) == 1 and plain.isascii() and plain.isalnum():
            table[c] = plain
    for start in (0x1F150, 0x1F170, 0x1F1E6):  # negative circled, negative squared, regional
        for i in range(26):
            table[start + i] = chr(ord("A") + i)
    return table


_SMALL_CAPITALS: dict[str, str] = dict(
    zip(
        "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢ",
        "abcdefghijklmnopqrstuvwyz",
        strict=True,
    )
)
_PLAIN = str.maketrans({**_symbol_letters(), **{ord(k): v for k, v in _SMALL_CAPITALS.items()}})
_DISGUISED = re.compile(
    "[\u2460-\u24ff\u1d00-\u1d22\u0250-\u02af\ua730-\ua731\u01eb\U0001f100-\U0001f1ff]"
)

#: Turned letters (upside-down text reads right to left): ɐ is a, q is b, p is d …
_TURNED = str.maketrans(
    dict(
        zip(
            "ɐqɔpǝɟƃɥᴉıɾʞlɯuodbɹsʇnʌʍxʎz∀ᗺƆᗡƎℲ⅁HIſꓘ˥WNOԀΌᴚS⊥∩ΛMX⅄Z",
            "abcdefghiijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
            strict=True,
        )
    )
)
_TURNED_ONLY = re.compile("[ɐǝɟƃɥᴉɾʞɯɹʇʌʍʎ∀ᗺƆᗡƎℲ⅁ꓘ˥ԀᴚΌ⊥∩Λ⅄]")

# A word of Latin letters with a digit (or @, $) among them (4l, A7mad, Kh4t1b).
_MIXED_HINT = re.compile(r"[A-Za-z][0-9@$]|[0-9@$][A-Za-z]")
_MIXED_WORD = re.compile(
    r"(?<![\w@$])(?=[0-9@$]*[A-Za-z])(?=[A-Za-z]*[0-9@$])[A-Za-z0-9@$]{2,24}(?![\w@$])"
)
_DIGITS = re.compile(r"[0-9@$]")
# A number and its unit or ordinal (20th, 1990s, 5km, $3bn), which no one reads as letters;
# 4l and 3l are the article.
_COUNTED = re.compile(r"[$]?[0-9]+(?![lL]$)[A-Za-z]{1,2}")
#: Arabizi: 2 ء, 3 ع, 3' غ, 5 خ, 6 ط, 7 ح, 7' خ, 8 ق, 9 ص (the apostrophe after a digit marks
#: the dotted letter; ء and ع are written as apostrophes, which a name's key reads as the
#: weak letter they are).
_ARABIZI = (
    (re.compile("3'"), "gh"),
    (re.compile("7'"), "kh"),
    (re.compile("6'"), "z"),
    (re.compile("9'"), "d"),
    (re.compile("(?<=[A-Za-z])[23](?=[A-Za-z])"), "'"),
    (re.compile("[23]"), ""),
    (re.compile("5"), "kh"),
    (re.compile("6"), "t"),
    (re.compile("7"), "h"),
    (re.compile("8"), "q"),
    (re.compile("9"), "s"),
)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                       "@": "a", "$": "s"})  # fmt: skip


def _mixed_words(text: str, change: object) -> str | None:
    """The text with each word that mixes letters and digits changed by `change`, or None
    when no word does."""
    changed = False

    def one(m: re.Match[str]) -> str:
        nonlocal changed
        word = m.group()
        digits = len(_DIGITS.findall(word))
        letters = len(word) - digits
        # Two digits among letters (three in a long word), as a name is written; a hash or a
        # serial number has more, and is left alone (every word changed is a new word to key).
        if digits > (3 if len(word) >= 6 else 2) or digits > letters or _COUNTED.fullmatch(word):
            return word
        changed = True
        read: str = change(word)  # type: ignore[operator]
        # A7MAD is AKHMAD, not AkhMAD: a small letter before a capital starts a new word.
        return read.upper() if word.isupper() else read

    out = _MIXED_WORD.sub(one, text)
    return out if changed else None


def _arabizi(word: str) -> str:
    for pattern, by in _ARABIZI:
        word = pattern.sub(by, word)
    return word


def _leet(word: str) -> str:
    return word.translate(_LEET)


def readings(text: str) -> list[str]:
    """The text as a reader takes its letters in disguise: symbols and small capitals as
    letters, upside-down lines turned back, and words with digits among their letters read as
    Arabizi and as leetspeak; nothing when it has none."""
    out = []
    if not text.isascii():
        if _DISGUISED.search(text):
            out.append(text.translate(_PLAIN))
        if _TURNED_ONLY.search(text):
            out.append("\n".join(line[::-1] for line in text.translate(_TURNED).split("\n")))
    if _MIXED_HINT.search(text):
        for change in (_arabizi, _leet):
            if (read := _mixed_words(text, change)) is not None:
                out.append(read)
    return out
