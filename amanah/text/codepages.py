"""Which single-byte Arabic code page a text is in, and text decoded in the wrong one.

A file's single-byte Arabic may be Windows-1256, ISO-8859-6, DOS Arabic (CP720), IBM-864 or Mac
Arabic, and nothing in it says which: the raw readings (`rawtext`) read a text in the others
where that reading is better Arabic than Windows-1256's. A text decoded as Windows-1252 by
mistake and saved again as UTF-8 (mojibake) is read back as the letters the sender typed.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

#: The other Arabic code pages (DOS, IBM, Mac, ISO), read in text only, kept when they read
#: as Arabic.
ARABIC_PAGES = ("iso8859_6", "cp720", "cp864", "mac_arabic")


def arabic_pages(chunk: bytes) -> Iterator[tuple[str, str]]:
    """A text chunk in the other Arabic code pages, where that reading is Arabic better than
    Windows-1256's. Arabic's article ال opens a third of its words: in the page a text was
    written in, "ال" is everywhere; in another, its two bytes are other letters. Without one,
    the share of its letters standing in Arabic words (not beside a Latin letter) decides.
    French or German (é, ü read as Arabic letters inside Latin words) and Windows-1256's own
    Arabic keep no second reading."""
    if not _HIGH_WORD.search(chunk):
        return  # no word of bytes beyond ASCII: Latin text with accents (é in "témoin")
    texts = {enc: chunk.decode(enc, "replace") for enc in ("cp1256", *ARABIC_PAGES)}
    score: dict[str, float] = {enc: _articles(text) for enc, text in texts.items()}
    if max(score.values()) == 0:
        score = {enc: _in_words(text) for enc, text in texts.items()}
        if max(score.values()) < WORD_SHARE:
            return
        if len(chunk) <= SHORT_TEXT:  # a list of names: Arabic in every page, none told apart
            score["cp1256"] = 0.0
    best = max(score.values())
    for enc in ARABIC_PAGES:
        if score[enc] * 2 >= best and score[enc] > score["cp1256"]:
            yield enc, texts[enc]


#: The code pages of the other scripts a protected name may be written in (Hebrew, Greek,
#: Cyrillic), Windows', ISO's, DOS's and Mac's: read in text only, each kept when its reading
#: is words of its script.
OTHER_PAGES = {
    "cp1255": "\u05d0-\u05ea",
    "iso8859_8": "\u05d0-\u05ea",
    "cp1253": "\u0386-\u03ce",
    "iso8859_7": "\u0386-\u03ce",
    "cp1251": "\u0400-\u045f",
    "koi8_r": "\u0400-\u045f",
    "iso8859_5": "\u0400-\u045f",
    "cp866": "\u0400-\u045f",
    "mac_cyrillic": "\u0400-\u045f",
}
_SCRIPT_WORDS = {
    enc: re.compile(f"(?<![A-Za-z])[{letters}]{{2,}}(?![A-Za-z])")
    for enc, letters in OTHER_PAGES.items()
}
#: The eight commonest letters of Hebrew, Greek and Russian text: about half of its letters
#: in the page it was written in, a fifth or less in another page of these scripts.
_COMMON = {
    "\u05d0-\u05ea": "יוהרלמאת",
    "\u0386-\u03ce": "αοειτνσς",
    "\u0400-\u045f": "оеаинтср",
}
COMMON_SHARE = 0.35
#: Which pages are kept is decided on this much of a chunk's head.
SAMPLE = 64 << 10


def other_pages(chunk: bytes) -> Iterator[tuple[str, str]]:
    """A text chunk not in UTF-8 read in the code pages of Hebrew, Greek and Cyrillic, each
    kept where its letters beyond ASCII stand in words of its script (`WORD_SHARE` of them):
    `אחמד` in Windows-1255, `Ахмад` in KOI8-R or DOS. Arabic text (its article opening words
    in Windows-1256) and Latin text with accents (no word of bytes beyond ASCII) keep none."""
    head = chunk[:SAMPLE]
    if not _HIGH_WORD.search(head) or _articles(head.decode("cp1256", "replace")):
        return
    for enc, words in _SCRIPT_WORDS.items():
        sample = head.decode(enc, "replace")
        letters = _NOT_LETTER.sub("", sample)
        if len(letters) < 3 or sum(map(len, words.findall(sample))) < WORD_SHARE * len(letters):
            continue
        # Every page of these scripts reads bytes beyond ASCII as its letters: in a long text,
        # the page it was written in is the one whose commonest letters are common in it.
        if len(chunk) > SHORT_TEXT:
            lowered = letters.lower()
            common = sum(lowered.count(c) for c in _COMMON[OTHER_PAGES[enc]])
            if common < COMMON_SHARE * len(letters):
                continue
        yield enc, chunk.decode(enc, "replace")


_ARABIC_WORD = re.compile("(?<![A-Za-z])[\u0621-\u064a\u066e-\u06d3]{2,}(?![A-Za-z])")
_HIGH_WORD = re.compile(rb"(?<![A-Za-z\x80-\xff])[\x80-\xff]{3,}(?![A-Za-z])")
_NOT_LETTER = re.compile("[\\x00-\\x7f]|[^\\w]")
WORD_SHARE = 0.8  # of the letters beyond ASCII, in Arabic words
SHORT_TEXT = 64 << 10  # a text this short gets every page that reads as Arabic words


def _in_words(text: str) -> float:
    letters = len(_NOT_LETTER.sub("", text))
    return sum(map(len, _ARABIC_WORD.findall(text))) / letters if letters else 0.0


def _articles(text: str) -> int:
    """Words opening with the article (after a space or a line break: counted in C)."""
    return text.count(" \u0627\u0644") + text.count("\n\u0627\u0644")


def _sloppy(exc: UnicodeError) -> tuple[bytes, int]:
    """Encoding back to Windows-1252 as a mis-decoder left it: the five bytes that code page
    leaves undefined came through as U+0080-U+009F; anything else cannot have been so read."""
    assert isinstance(exc, UnicodeEncodeError)
    bad = exc.object[exc.start : exc.end]
    return bytes(ord(c) if ord(c) < 0x100 else 0x1A for c in bad), exc.end


codecs.register_error("amanah-sloppy-1252", _sloppy)
#: Text decoded in the wrong code page and saved again as UTF-8 ("Ø£Ø­Ù…Ø¯" for أحمد, "ÃÍãÏ"
#: for Windows-1256's أحمد): dense in "Ã", "Ø" and "Ù", whose UTF-8 opens with C3.
MOJIBAKE_SHARE = 100  # one C3 byte in this many, or more


def undone(chunk: bytes) -> Iterator[tuple[str, str]]:
    """A UTF-8 text read back to the bytes a wrong decoding made of it, and those bytes read as
    UTF-8 or Windows-1256 (the encoding, the reading): kept when that reading is Arabic (its
    article opens words), as the letters the sender typed."""
    if chunk.count(b"\xc3") * MOJIBAKE_SHARE < len(chunk):
        return
    text = chunk.decode("utf-8", "replace")
    raw = text.encode("cp1252", "amanah-sloppy-1252")
    for enc in ("utf-8", "cp1256"):
        reading = raw.decode(enc, "replace")
        if _articles(reading):
            yield enc, reading


#: Arabic's UTF-8 read as Windows-1252: each letter a lead byte D8-DB (Ø Ù Ú Û) and a
#: continuation byte 80-BF (Latin-1's upper half, or what Windows-1252 makes of 80-9F).
_ARABIC_MOJIBAKE = re.compile(
    "(?:[\u00d8-\u00db][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e"
    "\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039"
    "\u203a\u20ac\u2122\ufffd][ \u00a0]?){2,}"
)


def _letters_again(m: re.Match[str]) -> str:
    # Byte 81 is undefined in Windows-1252: a strict decoder made it U+FFFD, and after D9 it
    # was ف (D9 81; the other D9 8x it loses are harakat).
    run = m.group().replace("\u00d9\ufffd", "\u00d9\u0081")
    try:
        return run.encode("cp1252", "amanah-sloppy-1252").decode("utf-8")
    except UnicodeDecodeError:
        return run


def mojibake_undone(text: str) -> str:
    """The text with every run of Arabic's UTF-8 that was read as Windows-1252 and saved again
    ("Ø£Ø­Ù…Ø¯", a database dump or a web page decoded twice) read back as the letters typed;
    only runs of two letters or more that are valid UTF-8 again are changed ("Øresund", a
    lone "Ù¡" stay)."""
    if "\u00d8" not in text and "\u00d9" not in text:
        return text
    return _ARABIC_MOJIBAKE.sub(_letters_again, text)
