"""Text out of raw bytes: the readings of a file's bytes in which a name could be written.

The last net under every format reader: whatever a parser missed, a name written in the file's
bytes as UTF-8, UTF-16 (either byte order, any alignment), Windows-1256 or Windows-1252 is in
one of these readings. A chunk that is valid UTF-8 text, or mostly text, is read whole. Inside
binary (an image, a video, a zip, an old Office file) only the places that could hold a name
are decoded, found in two steps so that megabytes of noise cost little and yield almost nothing:

1. Anchors, found with numpy over the whole chunk (C speed, no per-byte Python): a word
   separator (space, tab, line break, hyphen, underscore) with word bytes of the encoding on
   both sides; a run of eight or more word bytes (Ahmad_al_Khatib, AhmadAlKhatib, a long
   Arabic word); three or more UTF-16 code units in a row of the scripts of names.
2. Each anchor's run of text bytes is taken (a regular expression in C, both directions),
   decoded, and kept only when it reads like a name: two neighbouring words of letters of one
   script (two letters or more each, five or more together), or one long word.

What survives the matcher survives here: line breaks, soft hyphens, zero-width and bidi
characters inside words (their bytes are word bytes in every encoding), Arabic in either order.
Compressed streams are not opened here: that is the content inventory's work.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from amanah.text import codepages, encoded, escapes
from amanah.text import names as nk
from amanah.text.byteruns import starts

CHUNK = 4 << 20
OVERLAP = 2048  # longer than any name in UTF-16
LEGACY = ("cp1256", "cp1252")
ESCAPES = "escapes"
FOLDED = "folded"
HEX = "hex"
MOJIBAKE = "mojibake"
BASE64 = "base64"
INFLATED = "inflated"
#: Said (with no text) by a chunk's readings when compressed data in it was not read whole.
INFLATE_CUT = "inflate-cut"
ESCAPED = f"{ESCAPES}/"  # what is read in the text once its escapes are decoded
#: The label of each reading (what the inventory calls the place: "its raw bytes (UTF-8)").
LABELS = {
    "utf-8": "UTF-8",
    "utf-16-le": "UTF-16-LE",
    "utf-16-be": "UTF-16-BE",
    "utf-32-le": "UTF-32-LE",
    "utf-32-be": "UTF-32-BE",
    "cp1256": "Windows-1256",
    "cp1252": "Windows-1252",
    "iso8859_6": "ISO-8859-6",
    "cp720": "DOS Arabic (CP720)",
    "cp864": "IBM-864",
    "cp1255": "Windows-1255",
    "iso8859_8": "ISO-8859-8",
    "cp1253": "Windows-1253",
    "iso8859_7": "ISO-8859-7",
    "cp1251": "Windows-1251",
    "koi8_r": "KOI8-R",
    "iso8859_5": "ISO-8859-5",
    "cp866": "DOS Cyrillic (CP866)",
    "mac_cyrillic": "Mac Cyrillic",
    "mac_arabic": "Mac Arabic",
    ESCAPES: "text written as escapes, decoded",
    FOLDED: "folded lines joined",
    MOJIBAKE: "text decoded in Windows-1252 by mistake, undone",
    BASE64: "base64 decoded",
    HEX: "hexadecimal decoded",
    INFLATED: "decompressed (zlib, gzip, deflate, bzip2 or xz)",
    INFLATE_CUT: "compressed data that inflates to more than the readings read",
}
#: base64 inside base64 is read this deep (each level is three quarters of the one above).
MAX_DEPTH = 2
#: Between two runs of one reading: a word of its own, so no name is read across two runs.
RUN_BREAK = "\n0\n"
MIN_PAIR_LETTERS = 6  # two neighbouring words: letters together
LONG_WORD = 8  # one word alone: bytes of a run with no separator
TEXT_RUN = 256  # a run of this many characters is kept whole, unjudged

_CONTROL = bytes(range(0x20)).replace(b"\t", b"").replace(b"\n", b"").replace(b"\r", b"")
_SEPARATORS = b"\t\n\r -_,.\xa0"
_PUNCT = b"'"  # inside a word: Ja'far, O'Brien
_ASCII_LETTERS = bytes(range(0x41, 0x5B)) + bytes(range(0x61, 0x7B))


def _letters_of(encoding: str, script: str) -> bytes:
    """High bytes that decode to letters, marks or invisible characters of one script."""
    out = bytearray()
    for b in range(0x80, 0x100):
        c = bytes([b]).decode(encoding, "replace")
        if c == "\ufffd":
            continue
        arabic = "\u0600" <= c <= "\u06ff" or "\ufb50" <= c <= "\ufeff"
        invisible = nk._STRIP.fullmatch(c) is not None and not arabic
        accented = unicodedata.normalize("NFKD", c)[0].isascii()  # é, ñ, ç; not ß, ƒ, Þ
        if invisible or (c.isalpha() and arabic == (script == "arabic") and (arabic or accented)):
            out.append(b)
        elif script == "arabic" and arabic and nk._STRIP.fullmatch(c):
            out.append(b)  # harakat, tatweel
    return bytes(out)


# Word bytes, by encoding. UTF-8: ASCII letters, continuation and lead bytes of two- and
# three-byte characters (validity is checked when the run is decoded).
_W8_BYTES = _ASCII_LETTERS + _PUNCT + bytes(range(0x80, 0xF0))
_WA_BYTES = _letters_of("cp1256", "arabic")  # Arabic letters, harakat, ZWNJ/ZWJ, LRM/RLM
_WL_BYTES = _ASCII_LETTERS + _PUNCT + _letters_of("cp1252", "latin")
_LONG_ASCII = _ASCII_LETTERS + b"'-_."


def _table(*sets: tuple[int, bytes]) -> bytes:
    """A `bytes.translate` table giving each byte the bits of the sets it belongs to: classes
    for a whole chunk in one pass in C."""
    table = bytearray(256)
    for bit, members in sets:
        for b in members:
            table[b] |= bit
    return bytes(table)


# Byte classes (bits), two tables.
SEP, A8, CONT, LEAD2, LEAD3, WA, WL, ASCII = (1 << i for i in range(8))
LONG8, H16, AR_LEAD, LONGA, CTRL, HIGH, NZ = (1 << i for i in range(7))
_CLASSES = _table(
    (SEP, _SEPARATORS),
    (A8, _ASCII_LETTERS + _PUNCT),
    (CONT, bytes(range(0x80, 0xC0))),
    (LEAD2, bytes(range(0xC2, 0xE0))),
    (LEAD3, bytes(range(0xE0, 0xF0))),
    (WA, _WA_BYTES),
    (WL, _WL_BYTES),
    (ASCII, _ASCII_LETTERS),
)
_CLASSES2 = _table(
    (LONG8, _LONG_ASCII),
    # UTF-16 code units of the scripts of names: high byte 00 (Latin-1, controls such as a
    # line break), 01-02 (Latin Extended), 06 (Arabic), 1E (Latin Extended Additional), 20
    # (general punctuation: zero-width and bidi characters), FB-FE (presentation forms).
    (H16, bytes([0, 1, 2, 6, 0x1E, 0x20, 0xFB, 0xFC, 0xFD, 0xFE])),
    (AR_LEAD, bytes(range(0xD8, 0xDC))),
    (LONGA, _WA_BYTES),
    (CTRL, _CONTROL),
    (HIGH, bytes(range(0x80, 0x100))),
    (NZ, bytes(range(1, 0x100))),
)


def _run_pattern(members: bytes) -> re.Pattern[bytes]:
    """Zero or more bytes of a set (a character class of \\xNN escapes)."""
    return re.compile(b"[" + b"".join(b"\\x%02x" % b for b in sorted(set(members))) + b"]*")


_RUN = {
    enc: _run_pattern(w + _SEPARATORS)
    for enc, w in (("utf-8", _W8_BYTES), ("cp1256", _WA_BYTES), ("cp1252", _WL_BYTES))
}

_UNIT_HIGH = b"\\x00\\x01\\x02\\x06\\x1e\\x20\\xfb-\\xfe"
_UNITS_HL = re.compile(b"(?:[" + _UNIT_HIGH + b"][\\x01-\\xff])*")  # BE forward, LE reversed
_UNITS_LH = re.compile(b"(?:[\\x01-\\xff][" + _UNIT_HIGH + b"])*")  # LE forward, BE reversed


def _utf8(chunk: bytes) -> bool:
    """Valid UTF-8, allowing a character cut at either end of the chunk."""
    i = 0
    while i < 3 and i < len(chunk) and 0x80 <= chunk[i] < 0xC0:
        i += 1
    try:
        chunk[i:].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.reason == "unexpected end of data"
    return True


# -- does a decoded run read like a name? -----------------------------------------------------


_NOT_LATIN = re.compile("[^\\W\\d_A-Za-z\u00c0-\u024f\u1e00-\u1eff]")


def _accents(token: str) -> int:
    return sum(not c.isascii() for c in token if c.isalpha())


_SHAPE = re.compile("l+|u+|(?:u+l+)+")  # lower, UPPER, Title, CamelCase, McDonald
_PARTS = re.compile(f"[{nk._APOSTROPHES}_]")


def _shape(part: str) -> bool:
    """Latin letters in the case of a name's word (random letters rarely are)."""
    cases = "".join("u" if c.isupper() else "l" if c.islower() else "" for c in part)
    return _SHAPE.fullmatch(cases) is not None


def _word(token: str) -> tuple[int, bool]:
    """Letters of a token that could be a word of a name (else 0): letters of one script only;
    a Latin word in the case of a name and with more plain letters than accented ones.
    And whether it is Arabic."""
    words = nk.token_words(token)
    if not words or not all(w.isalpha() for w in words):
        return 0, False
    arabic = [nk.is_arabic(w) for w in words]
    if any(arabic) and not all(arabic):
        return 0, False
    letters = sum(c.isalpha() for c in token)  # as written (NFKD would grow ligatures)
    if not arabic[0]:
        if _NOT_LATIN.search(token) or 2 * _accents(token) > letters:
            return 0, False
        if not all(_shape(p) for p in _PARTS.split(nk._STRIP.sub("", token)) if p):
            return 0, False
    return letters, arabic[0]


# A quick test in C before the word by word one: two words of letters side by side, or a long
# word (letters with the marks and invisible characters that may sit inside a word).
_LW = f"(?:[^\\W\\d_]|{nk.MARK_OR_INVISIBLE})"
_GAPS = "[\\s\\-_,.'\"()\u00a0\u2010\u2011\u2028]+"
_PAIRS = "|".join(
    f"{_LW}{{{k},}}{_GAPS}{_LW}{{{MIN_PAIR_LETTERS - k},}}" for k in range(2, MIN_PAIR_LETTERS - 1)
)
_QUICK = re.compile(f"{_PAIRS}|{_LW}{{{LONG_WORD},}}")
_QUICK_ARABIC = re.compile(f"{_PAIRS}|{_LW}{{{LONG_WORD},}}|[\u0621-\u064a]{{3,}}")
_GAP = re.compile(_GAPS)
PEEL = 2  # letters of the bytes around a run that may be glued to its first or last word
NAME_WORDS = 6  # words of the longest name read at either end of a run


def kept(
    text: str,
    single: int = LONG_WORD,
    single_arabic: int = LONG_WORD,
    peel: int = PEEL,
    accented: bool = False,
) -> list[str]:
    """The lines to keep of a decoded run: none unless it could hold a name (two neighbouring
    words of letters, two or more each and `MIN_PAIR_LETTERS` or more together, only spaces
    or punctuation between; or one word of `single` letters, `single_arabic` for Arabic); else
    the run, and its ends without up to `peel` letters of the bytes around that may be glued
    to its first or last word ("xAhmad al-Khatibq"). `accented`: a word of the pair (or the
    long word) must have a letter that is not ASCII (Windows-1252: plain ASCII is read as
    UTF-8 already)."""
    if not (_QUICK_ARABIC if single_arabic < LONG_WORD else _QUICK).search(text):
        return []
    if len(text) >= TEXT_RUN:
        return [text]  # text, not noise: random bytes never make a run this long
    toks = list(nk.TOKEN.finditer(text))
    last = len(toks) - 1
    if not toks:
        return []
    # the first and last words touch the bytes around the run (or only separators are between)
    start, end = toks[0].start(), toks[-1].end()
    head = len(toks[0].group()) > 2 and (start == 0 or bool(_GAP.fullmatch(text, 0, start)))
    tail = len(toks[-1].group()) > 2 and (
        end == len(text) or bool(_GAP.fullmatch(text, end, len(text)))
    )
    found, prev_end, prev_letters, prev_accent = False, -1, 0, False
    for i, m in enumerate(toks):
        t = m.group()
        options = [t]
        if i == 0 and head:
            options += [t[k:] for k in range(1, peel + 1) if len(t) - k >= 2]
        if i == last and tail:
            options += [o[:-j] for o in options for j in range(1, peel + 1) if len(o) - j >= 2]
        letters, arabic = max(_word(o) for o in options)
        accent = letters > 0 and not t.isascii()
        if accented and letters and (_accents(t) > 1 or (t.isupper() and letters < 4)):
            letters = 0  # Windows-1252: one accented letter a word; no short capitals
        if (letters >= (single_arabic if arabic else single) and (accent or not accented)) or (
            letters >= 2
            and prev_letters >= 2
            and letters + prev_letters >= MIN_PAIR_LETTERS
            and (accent or prev_accent or not accented)
            and _GAP.fullmatch(text, prev_end, m.start())
        ):
            found = True
            break
        prev_end, prev_letters, prev_accent = m.end(), letters, accent
    if not found:
        return []
    lines = [text]
    head_end = toks[min(last, NAME_WORDS - 1)].end()
    tail_start = toks[max(0, last - NAME_WORDS + 1)].start()
    for k in range(peel + 1 if head else 1):
        for j in range(peel + 1 if tail else 1):
            if k and j and last < NAME_WORDS:
                lines.append(text[start + k : end - j])
            elif k and not j:
                lines.append(text[start + k : head_end])
            elif j and not k:
                lines.append(text[tail_start : end - j])
    return [line for line in lines if len(line) > 2]


def named(text: str, single: int = LONG_WORD, single_arabic: int = LONG_WORD) -> bool:
    """Whether a decoded run could hold a name (see `kept`)."""
    return bool(kept(text, single, single_arabic))


# -- anchors ----------------------------------------------------------------------------------


def _utf8_unit(c: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Whether each byte at `q` is an ASCII letter (or punctuation of names) or part of a
    well-formed two- or three-byte UTF-8 character: a word byte of UTF-8 text."""
    n = len(c)

    def at(k: int, bit: int) -> np.ndarray:
        return (c[np.clip(q + k, 0, n - 1)] & bit) != 0

    cont = at(0, CONT)
    nxt = at(1, CONT)
    return (
        at(0, A8)
        | (at(0, LEAD2) & nxt)
        | (cont & at(-1, LEAD2))
        | (at(0, LEAD3) & nxt & at(2, CONT))
        | (cont & at(-1, LEAD3) & nxt)
        | (cont & at(-1, CONT) & at(-2, LEAD3))
    )


def _anchors(c: np.ndarray, c2: np.ndarray, sep_at: np.ndarray, enc: str) -> np.ndarray:
    """Positions of a chunk where a run of the encoding's text could hold a name: separators
    with word bytes on both sides, and long runs of word bytes."""
    n = len(c)
    # the bytes after a separator, and before it and the one or two separators before it
    # ("\r\n", ", ", "-\n")
    s1 = (c[np.clip(sep_at - 1, 0, n - 1)] & SEP) != 0
    s2 = s1 & ((c[np.clip(sep_at - 2, 0, n - 1)] & SEP) != 0)
    left = sep_at - 1 - s1 - s2
    near = [np.clip(q, 0, n - 1) for q in (left - 1, left, sep_at + 1, sep_at + 2)]
    if enc == "utf-8":
        ok = _utf8_unit(c, near[0])
        for q in near[1:]:
            ok &= _utf8_unit(c, q)
    else:
        bit = WA if enc == "cp1256" else WL
        ok = (c[near[0]] & bit) != 0
        for q in near[1:]:
            ok &= (c[q] & bit) != 0
        if enc == "cp1252":  # a Latin name's words are mostly plain ASCII letters
            plain = sum(((c[q] & ASCII) != 0).astype(np.uint8) for q in near)
            ok &= plain >= 3
    found = [sep_at[ok]]
    if enc == "utf-8":
        found.append(starts((c2 & LONG8) != 0, LONG_WORD))
        # three Arabic letters in a row (UTF-8 Arabic is never noise)
        pairs = ((c2[:-1] & AR_LEAD) != 0) & ((c[1:] & CONT) != 0)
        found.append(_and_shift_step(pairs, 3, 2))
    elif enc == "cp1256":
        found.append(starts((c2 & LONGA) != 0, LONG_WORD))
    return np.unique(np.concatenate(found))


def _and_shift_step(mask: np.ndarray, count: int, step: int) -> np.ndarray:
    out = mask
    for k in range(1, count):
        out = out[: len(out) - step] & mask[k * step : k * step + len(out) - step]
    return np.flatnonzero(out)


def _runs(chunk: bytes, rev: bytes, at: np.ndarray, run: re.Pattern[bytes]) -> Iterator[bytes]:
    """The run of text bytes around each anchor, each run once."""
    n, i, end = len(chunk), 0, -1
    while i < len(at):
        p = int(at[i])
        if p < end:
            i = int(np.searchsorted(at, end))
            continue
        hi = run.match(chunk, p).end()
        lo = n - run.match(rev, n - p).end()
        end = max(hi, p + 1)
        yield chunk[lo:hi]
        i += 1


def _units16(chunk: bytes, rev: bytes, c2: np.ndarray) -> Iterator[tuple[str, bytes]]:
    """UTF-16 runs of three units or more (LE and BE, any alignment)."""
    high = (c2 & H16) != 0
    # a high byte then a low byte that is not NUL, twice, then a high byte: the units of a run
    # big-endian from here, little-endian from the byte before (zeros are no text)
    unit = high[:-1] & ((c2[1:] & NZ) != 0)
    at = np.flatnonzero(unit[:-4] & unit[2:-2] & high[4:-1])
    n, i, end = len(chunk), 0, -1
    while i < len(at):
        h = int(at[i])
        if h < end:
            i = int(np.searchsorted(at, end))
            continue
        # little-endian units (low, high) with this byte as a high byte
        s = h - 1
        if s >= 0:
            e = _UNITS_LH.match(chunk, s).end()
            s2 = n - _UNITS_HL.match(rev, n - s).end()
            yield "utf-16-le", chunk[s2:e]
            end = e
        # big-endian units (high, low) starting at this byte
        e = _UNITS_HL.match(chunk, h).end()
        s2 = n - _UNITS_LH.match(rev, n - h).end()
        yield "utf-16-be", chunk[s2:e]
        end = max(end, e, h + 1)
        i += 1


# UTF-32 units of the scripts of names (the second byte as UTF-16's high byte above; with
# it zero, a printable first byte), their two high bytes zero.
_H32 = b"\\x01\\x02\\x06\\x1e\\x20\\xfb-\\xfe"
_LOW32 = b"\\x09\\x0a\\x0d\\x20-\\x7e\\xa0-\\xff"
_U32 = {
    "utf-32-le": re.compile(
        b"(?:(?:[" + _LOW32 + b"]\\x00|[\\x00-\\xff][" + _H32 + b"])\\x00\\x00)*"
    ),
    "utf-32-be": re.compile(
        b"(?:\\x00\\x00(?:\\x00[" + _LOW32 + b"]|[" + _H32 + b"][\\x00-\\xff]))*"
    ),
}
MIN_UNITS32 = 5


def _units32(chunk: bytes, c2: np.ndarray) -> Iterator[tuple[str, bytes]]:
    """UTF-32 runs of MIN_UNITS32 units or more (LE and BE, any alignment): anchors in numpy
    where units of that shape follow each other, each run then taken by a regular expression."""
    n = len(chunk)
    if n < 4 * MIN_UNITS32 or b"\x00\x00" not in chunk:
        return
    zero = (c2 & NZ) == 0
    zz = zero[:-1] & zero[1:]
    # a pair of zero bytes beside a pair that is not: the shape of a unit; a run of such
    # shapes is rare outside UTF-32 (random bytes, zeros, text)
    m = n - 3
    count = int(np.count_nonzero(zz[: m + 2]))
    if count < MIN_UNITS32:
        return
    if count < n // 64:  # few pairs (compressed data, text): only they are looked at
        pairs = np.flatnonzero(zz[: m + 2])
        ok = np.ones(len(pairs), dtype=bool)
        for k in range(1, MIN_UNITS32):
            ok &= np.isin(pairs + 4 * k, pairs)
        chains = pairs[ok]
        shapes = {"utf-32-le": chains - 2, "utf-32-be": chains}
    else:
        shapes = {
            "utf-32-le": _and_shift_step(~zz[:m] & zz[2 : m + 2], MIN_UNITS32, 4),
            "utf-32-be": _and_shift_step(zz[:m] & ~zz[2 : m + 2], MIN_UNITS32, 4),
        }
    for enc, at in shapes.items():
        at = at[at >= 0]
        i, end = 0, -1
        while i < len(at):
            p = int(at[i])
            if p < end:
                i = int(np.searchsorted(at, end))
                continue
            e = _U32[enc].match(chunk, p).end()
            if e - p >= 4 * MIN_UNITS32:
                yield enc, chunk[p:e]
            end = max(e, p + 1)
            i += 1


class Inflating:
    """What the readings of one chunk may still inflate: bytes in all (a bomb of bombs, or a
    log of many, stops there) and the payloads already inflated (a run repeated is read once)."""

    __slots__ = ("cut", "left", "seen")

    def __init__(self) -> None:
        self.left = INFLATE_BUDGET
        self.seen: set[int] = set()
        self.cut = False  # something compressed was not read whole: the readings are not

    def inflate(self, data: bytes, raw: bool = True) -> bytes | None:
        key = hash(data)
        if key in self.seen:
            return None
        self.seen.add(key)
        if self.left <= 0:
            self.cut = self.cut or encoded.inflated(data, 1, raw) is not None
            return None
        limit = min(encoded.MAX_INFLATED, self.left)
        out = encoded.inflated(data, limit, raw)
        self.left -= len(out or b"")
        self.cut = self.cut or len(out or b"") >= limit
        return out


#: Bytes the readings of one chunk (CHUNK bytes) may inflate in all: a compressed token is
#: kilobytes; a megabyte costs about a quarter of a second to read.
INFLATE_BUDGET = 1 << 20
#: Why readings cut by that budget leave a file's inventory incomplete.
INFLATE_CUT_REASON = (
    "compressed data in its bytes (base64 or hexadecimal of zlib, gzip, bzip2 or xz) inflates"
    f" to more than {INFLATE_BUDGET >> 20} MB in a part of the file: only the first"
    f" {INFLATE_BUDGET >> 20} MB of it were read"
)


def _escaped(
    chunk: bytes, text_like: bool, depth: int, budget: Inflating
) -> Iterator[tuple[str, str]]:
    """Runs written as escapes, decoded (kept whole in text, as names in binary), and base64
    runs decoded (and inflated, when compressed) and read again in every encoding, MAX_DEPTH
    deep."""
    runs = []
    for text in escapes.escaped(chunk, text_like):
        if text_like:
            runs.append(text)
        else:  # the noise around a run decoded to U+FFFD: cut there, as binary runs are
            runs.extend(k for part in text.split("\ufffd") for k in kept(part, LONG_WORD, 3))
    if runs:
        yield ESCAPES, RUN_BREAK.join(dict.fromkeys(runs))
    if text_like and (lines := escapes.folded(chunk)):
        yield FOLDED, RUN_BREAK.join(lines)
    if depth >= MAX_DEPTH:
        return
    found: dict[str, dict[str, None]] = {}
    _decoded(chunk, depth, "", found, budget)
    # base64 broken by escapes: a percent-encoded SAMLRequest=, PHP's JSON ("\/" is no escape
    # to `escapes`, and looked for alone: a search of every text costs a quarter of its reading)
    if text_like and ((runs and _B64_ESCAPED.search(chunk)) or b"\\/" in chunk):
        plain = escapes.unescape(chunk.decode("utf-8", "replace")).replace("\\/", "/")
        _decoded(plain.encode(), depth, ESCAPED, found, budget)
    for enc, texts in found.items():
        yield enc, RUN_BREAK.join(texts)


# "+" or "/" of base64 written as an escape (URLs, JSON's "\/", HTML): only then can escapes
# break a base64 run that decoding them joins. ("=" is only its padding, which is not needed.)
_B64_ESCAPED = re.compile(rb"%2[bBfF]|\\/|\\u002[bBfF]|&#(?:43|47|[xX]2[bBfF]);")


def _decoded(
    chunk: bytes, depth: int, prefix: str, found: dict[str, dict[str, None]], budget: Inflating
) -> None:
    """The base64 and hexadecimal runs of `chunk` decoded (and inflated, when compressed, as
    far as `budget` allows), read again in every encoding, into `found` by reading."""
    for kind, runs_of in ((BASE64, encoded.base64_runs), (HEX, encoded.hex_runs)):
        for data in runs_of(chunk):
            for how, payload in ((kind, data), (f"{kind}/{INFLATED}", budget.inflate(data))):
                if payload is None:
                    continue
                if how != kind:
                    read = _inflated_readings
                else:
                    read = chunk_readings if len(payload) > SMALL else _small_readings
                for enc, text in read(payload, depth + 1, budget):
                    if prefix and text in found.get(f"{how}/{enc}", {}):
                        continue  # read already where no escape was in the way
                    found.setdefault(f"{prefix}{how}/{enc}", {})[text] = None


#: Decoded payloads up to this size are read by `_small_readings`: `chunk_readings`' numpy
#: passes cost about 0.4 ms whatever the size, and a log holds thousands of tokens that look
#: like base64 or hexadecimal (hashes, identifiers), each decoding to a few bytes of noise.
SMALL = 4096


def _inflated_readings(data: bytes, depth: int, budget: Inflating) -> Iterator[tuple[str, str]]:
    """An inflated payload: often binary with its strings inside (CBOR, protobuf, a pickle),
    read for them as a file's bytes are; a short one without `chunk_readings`' fixed cost (a
    log of thousands of small compressed tokens)."""
    if depth <= MAX_DEPTH and (inner := budget.inflate(data, raw=False)) is not None:
        for enc, text in _inflated_readings(inner, depth + 1, budget):  # compressed twice
            yield f"{INFLATED}/{enc}", text
    if len(data) > SMALL:
        yield from chunk_readings(data, depth, budget)
        return
    if not _utf8(data):
        text = _CONTROLS.sub("\ufffd", data.decode("utf-8", "replace"))
        if runs := [k for part in text.split("\ufffd") for k in kept(part, LONG_WORD, 3)]:
            yield "utf-8", RUN_BREAK.join(dict.fromkeys(runs))
    yield from _small_readings(data, depth, budget)


def _small_readings(data: bytes, depth: int, budget: Inflating) -> Iterator[tuple[str, str]]:
    """A short decoded payload read whole, in the readings a few bytes can hold a name in
    (UTF-8, UTF-16 in either order, the two code pages), each kept only when it could hold a
    name (`named`): a few bytes of noise decode without error often enough. An ASCII payload
    is read for escapes and base64 again (base64 of base64, of JSON)."""
    if _utf8(data):  # a character cut at either end is no error
        text = data.decode("utf-8", "replace")
        if named(text, LONG_WORD, 3):
            yield "utf-8", _CONTROLS.sub(" ", text)
        if depth < MAX_DEPTH and data.isascii() and len(data) >= encoded.MIN_BASE64:
            yield from _escaped(data, True, depth, budget)
        if b"\x00" not in data:
            return  # UTF-16 has zeros (or is no UTF-8); UTF-8 text is no code page's
    else:  # UTF-8 text with noise after it (a token decoded with the next line's start)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start >= 8 and named(text := data[: exc.start].decode("utf-8"), LONG_WORD, 3):
                yield "utf-8", _CONTROLS.sub(" ", text)
    half = len(data) // 2
    for enc, high in (("utf-16-le", data[1::2]), ("utf-16-be", data[::2])):
        # UTF-16 of the scripts of names: most units' high byte 00 (Latin) or 06 (Arabic)
        if len(data) % 2 == 0 and high.count(0) + high.count(6) * 2 >= half:
            with contextlib.suppress(UnicodeDecodeError):
                if named(text := data.decode(enc), LONG_WORD, 3):
                    yield enc, _CONTROLS.sub(" ", text)
    if data.translate(None, _TEXT_BYTES):
        return  # a control byte: noise (32 random bytes hold one 98 times in 100), no code page
    for enc in LEGACY:
        text = data.decode(enc, "replace")
        if kept(text, accented=enc == "cp1252"):
            yield enc, text
    for enc, text in codepages.arabic_pages(data):  # ISO-8859-6, DOS or Mac Arabic
        if kept(text):
            yield enc, text
    for enc, text in codepages.other_pages(data):  # Hebrew, Greek, Cyrillic
        if kept(text):
            yield enc, text


_TEXT_BYTES = b"\t\n\r" + bytes(range(0x20, 0x100))


_CONTROLS = re.compile("[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]")


def label(enc: str) -> str:
    """What the inventory calls a reading: "UTF-16-LE", "base64 decoded, then UTF-8"."""
    return ", then ".join(LABELS.get(part, part) for part in enc.split("/"))


# -- readings ---------------------------------------------------------------------------------


def chunk_readings(
    chunk: bytes, depth: int = 0, budget: Inflating | None = None
) -> Iterator[tuple[str, str]]:
    """(encoding, text) readings of one chunk; `depth`: how many base64 layers it came from,
    `budget`: what the readings of the chunk it came from may still inflate."""
    own = budget is None
    budget = budget if budget is not None else Inflating()
    c2 = np.frombuffer(chunk.translate(_CLASSES2), dtype=np.uint8)
    # mostly text: fewer than 1% control bytes (NUL counted)
    text_like = int(np.count_nonzero(c2 & CTRL)) < len(chunk) // 100 + 1
    utf8 = text_like and _utf8(chunk)
    if depth and not utf8:
        text_like = False  # a decoded payload that is no UTF-8 text keeps its names, not all
    high = bool(np.any(c2 & HIGH))
    if utf8:
        yield "utf-8", chunk.decode("utf-8", "replace")
        for enc, text in codepages.undone(chunk):
            yield f"{MOJIBAKE}/{enc}", text
    elif text_like:
        yield "utf-8", chunk.decode("utf-8", "replace")
        if high:
            for enc in LEGACY:
                yield enc, chunk.decode(enc, "replace")
            yield from codepages.arabic_pages(chunk)
            yield from codepages.other_pages(chunk)  # Hebrew, Greek, Cyrillic
    rev = chunk[::-1]
    if not text_like:
        c = np.frombuffer(chunk.translate(_CLASSES), dtype=np.uint8)
        sep_at = np.flatnonzero(c & SEP)
        for enc in ("utf-8", *LEGACY):
            if enc != "utf-8" and not high:
                continue
            runs = []
            for run in _runs(chunk, rev, _anchors(c, c2, sep_at, enc), _RUN[enc]):
                text = run.decode(enc, "replace")
                if enc == "cp1252" and run.isascii():
                    continue  # the UTF-8 reading has it
                for part in text.split("\ufffd"):  # bytes that are no text: not a name
                    if enc == "utf-8":
                        runs.extend(kept(part, LONG_WORD, 3))
                    else:
                        runs.extend(kept(part, accented=enc == "cp1252"))
            if runs:
                yield enc, RUN_BREAK.join(dict.fromkeys(runs))
    if b"\x00" in chunk or b"\x06" in chunk:
        found: dict[str, list[str]] = {"utf-16-le": [], "utf-16-be": []}
        whole: dict[str, list[str]] = {"utf-16-le": [], "utf-16-be": []}
        for enc, run in _units16(chunk, rev, c2):
            text = run[: len(run) // 2 * 2].decode(enc, "replace")
            for part in text.split("\ufffd"):
                found[enc].extend(kept(part, LONG_WORD, 3))
            if len(text) >= encoded.MIN_HEX and len(_BEYOND_NAMES.findall(text)) * 10 <= len(text):
                whole[enc].append(text)  # (in the byte order it reads as text in: each run
                # is found in both, and the other reads as CJK)
        for enc, texts in found.items():
            if texts:
                yield enc, RUN_BREAK.join(dict.fromkeys(texts))
        yield from _within16(whole, depth, budget)
    found32: dict[str, list[str]] = {}
    for enc, run in _units32(chunk, c2):
        for part in run.decode(enc, "replace").split("\ufffd"):
            found32.setdefault(enc, []).extend(kept(part, LONG_WORD, 3))
    for enc, texts in found32.items():
        if texts:
            yield enc, RUN_BREAK.join(dict.fromkeys(texts))
    yield from _escaped(chunk, text_like, depth, budget)
    if own and budget.cut:
        yield INFLATE_CUT, ""


_BEYOND_NAMES = re.compile("[^\x00-\u06ff]")


def _within16(
    runs: dict[str, list[str]], depth: int, budget: Inflating
) -> Iterator[tuple[str, str]]:
    """What text in UTF-16 writes as escapes, base64 or hexadecimal (a PowerShell script, a
    registry export, a Windows program's strings, an XML file saved as Unicode): their ASCII
    characters are two bytes each there, so the byte-wise readings find them only once the
    runs are decoded (`_escaped` over them, in UTF-8). In one byte order: a run of ASCII is
    found in both, a byte apart, and reads as the same text in each."""
    enc, texts = max(runs.items(), key=lambda kv: sum(map(len, kv[1])))
    if texts:
        joined = "\n".join(texts).encode("utf-8", "replace")
        for how, text in _escaped(joined, True, depth, budget):
            yield f"{enc}/{how}", text


def labelled(data: bytes) -> Iterator[tuple[str, str]]:
    """(encoding, text) chunk by chunk (chunks overlap, so a name across a chunk boundary is
    whole in one of them)."""
    for at in range(0, max(len(data) - OVERLAP, 1), CHUNK - OVERLAP):
        yield from chunk_readings(data[at : at + CHUNK])


def readings(data: bytes) -> Iterator[str]:
    """Texts to look for names in, chunk by chunk."""
    for _enc, text in labelled(data):
        yield text


def file_chunks(f: BinaryIO) -> Iterator[bytes]:
    """A stream's bytes in chunks of `CHUNK` that overlap by `OVERLAP`, each byte read from the
    stream once: the one chunking of the inventory's raw readings and the leak check's scan."""
    chunk = f.read(CHUNK)
    while True:
        yield chunk
        more = f.read(CHUNK - OVERLAP)
        if not more:
            return
        chunk = chunk[-OVERLAP:] + more


def of_file(path: Path) -> dict[str, str]:
    """Every reading of a file, read in overlapping chunks (any size): per encoding label, the
    runs joined by `RUN_BREAK` (each run once)."""
    found: dict[str, dict[str, None]] = {}
    with path.open("rb") as f:
        for chunk in file_chunks(f):
            for enc, text in chunk_readings(chunk):
                found.setdefault(enc, {})[text] = None
    return {label(enc): RUN_BREAK.join(texts) for enc, texts in found.items()}
