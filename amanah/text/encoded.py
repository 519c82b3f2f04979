"""base64 and hexadecimal in a chunk's bytes, found and decoded for the raw readings.

A mail part, a token, a data URI, an EPS figure or a forensic note holds text written in
base64 or hexadecimal; a reader gets it back with one command. A token, a cookie, a SAML
request or a QR code's payload is often compressed before it is encoded: what decodes to a
zlib, gzip, deflate, bzip2, xz or .lzma stream is inflated too (`inflated`). numpy finds the
few runs worth a look (a hash list or a log of tokens is a run every line, and a Python step
for each would cost seconds a chunk); each run is then decoded, its bytes for `rawtext` to
read in every encoding it knows. Apart from `escapes` so that what only checks a name (every
command's start) never imports numpy.
"""

from __future__ import annotations

import base64
import binascii
import bz2
import lzma
import re
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from amanah.text.byteruns import starts

#: base64 runs shorter than this are words, not data (a name in UTF-8 is 16 or more). Runs
#: from 12 (a Latin name of 9 bytes) were tried: a CSV of 14-character record keys then read
#: at 0.9 MB/s instead of 128, each key decoded and read in Python.
MIN_BASE64 = 16

# base64 (standard and URL-safe alphabets), lines of it as MIME writes them.
_B64 = re.compile(rb"[A-Za-z0-9+/\-_]{%d,}(?:\r?\n[A-Za-z0-9+/\-_]{4,})*={0,2}" % MIN_BASE64)
_HEX = re.compile(rb"[0-9A-Fa-f]+")
_B64_BYTES = bytes(
    1 if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "+/-_") else 0 for b in range(256)
)
_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _looks_like_data(run: bytes) -> bool:
    """base64 of anything has letters of both cases (or digits and symbols), of one alphabet
    (`+/` or `-_`); a long English word, a hexadecimal hash, an identifier in snake_case or a
    path like `statements/file-12` is no base64 run."""
    if _HEX.fullmatch(run) or (_STANDARD.search(run) and _URL_SAFE.search(run)):
        return False
    upper, lower = _UPPER.search(run), _LOWER.search(run)
    return bool(upper and lower) or bool((upper or lower) and _OTHER.search(run))


_UPPER, _LOWER = re.compile(rb"[A-Z]"), re.compile(rb"[a-z]")
_OTHER = re.compile(rb"[0-9+/\-_]")
_STANDARD, _URL_SAFE = re.compile(rb"[+/]"), re.compile(rb"[\-_]")


_B64_RUN = re.compile(rb"[A-Za-z0-9+/\-_]+")
_FEW = 512  # positions with a long enough run ahead: fewer are looked at one by one

_CASE = bytes(1 if 65 <= b <= 90 else 2 if 97 <= b <= 122 else 0 for b in range(256))


def _mixed_case_runs(chunk: bytes) -> np.ndarray:
    """Where a run of MIN_BASE64 base64 characters or more begins that has capitals and small
    letters both (all of 16 random base64 characters lack one case once in 3,000; a hash, a
    path, an English word, a run of one byte's "AAAA" has one case only), in numpy: a hash list
    is a run every line, and a Python step for each cost a second a chunk."""
    mask = np.frombuffer(chunk.translate(_B64_BYTES), dtype=np.bool_)
    ahead = starts(mask, MIN_BASE64)
    if not len(ahead):
        return np.empty(0, dtype=np.int64)  # no run that long (compressed data: the most)
    if len(ahead) < _FEW:  # a few runs (compressed data's by chance): one by one
        found, end = [], -1
        for p in ahead.tolist():
            if p >= end:  # the first of its run (the bytes before it are no run's)
                end = _B64_RUN.match(chunk, p).end()  # type: ignore[union-attr]
                if _UPPER.search(chunk, p, end) and _LOWER.search(chunk, p, end):
                    found.append(p)
        return np.array(found, dtype=np.int64)
    edges = np.flatnonzero(np.diff(np.concatenate(([False], mask, [False])).astype(np.int8)))
    begin, end = edges[::2], edges[1::2]
    long = (end - begin) >= MIN_BASE64
    begin, end = begin[long], end[long]
    if not len(begin):
        return begin
    case = np.frombuffer(chunk.translate(_CASE), dtype=np.uint8)
    upper = np.concatenate(([0], np.cumsum(case == 1, dtype=np.int32)))
    lower = np.concatenate(([0], np.cumsum(case == 2, dtype=np.int32)))
    both = (upper[end] > upper[begin]) & (lower[end] > lower[begin])
    return begin[both]


def base64_runs(chunk: bytes) -> Iterator[bytes]:
    """The bytes of every base64 run of MIN_BASE64 characters or more, from its first full
    line (MIME puts a header word on the line before; a chunk may begin inside a line); a run
    of one or two lines at the chunk's start (cut anywhere) at every alignment. Lines not of
    MIME's shape (a token at a line's end, a date on the next line) are also read one by one:
    joined, the next line's start would spoil the token's last bytes."""
    at = _mixed_case_runs(chunk)
    i = 0
    while i < len(at):
        m = _B64.match(chunk, int(at[i]))
        i = int(np.searchsorted(at, m.end() if m else at[i] + 1))
        if m is None:
            continue
        lines = [line.rstrip(b"\r") for line in m.group().split(b"\n")]
        if len(lines) > 2:  # from the first line as wide as the body's: after a header word,
            # or after a line the chunk began inside (MIME's lines are four by four: aligned)
            widths = [len(line) for line in lines]
            lines = lines[widths.index(max(widths)) :]
        cut = m.start() == 0 and len(lines) < 3
        yield from _decoded_run(b"".join(lines), cut)
        if len(lines) > 1 and not (len(lines) > 2 and _mime_shaped(lines)):
            for k, line in enumerate(lines):
                yield from _decoded_run(line, cut and k == 0)


def _mime_shaped(lines: list[bytes]) -> bool:
    """Lines of one width, the last no wider (how MIME, PEM and `base64 -w 75` wrap)."""
    width = len(lines[0])
    return all(len(line) == width for line in lines[1:-1]) and len(lines[-1]) <= width


def _decoded_run(run: bytes, cut: bool) -> Iterator[bytes]:
    """A base64 run's bytes, when it looks like data; `cut`: the chunk began inside it, so
    it is tried at every alignment (its encoder started it after a quote, a comma, a line
    break; the chunk may begin anywhere)."""
    flat = run.rstrip(b"=")
    if len(flat) < MIN_BASE64 or not _looks_like_data(flat):
        return
    flat = flat.translate(_URLSAFE)
    for shift in range(4) if cut else (0,):
        part = flat[shift:]
        rest = len(part) % 4  # padding written back (or left out): the last bytes too
        part = part[:-1] if rest == 1 else part + b"=" * (-rest % 4)
        if len(part) < MIN_BASE64:
            continue
        try:
            yield base64.b64decode(part)
        except (binascii.Error, ValueError):
            continue


# Hexadecimal dumps: `xxd -p`, bytes spaced or comma-separated, C arrays (`0x41, 0x68`), the
# hex columns of `hexdump -C` (offsets and the text column left out), EPS hex strings.
MIN_HEX = 9  # bytes: a short name in Latin letters ("Ali Hassan")
_HEX_CLASS = bytes(1 if chr(b) in "0123456789abcdefABCDEFxX ,:\t\r\n" else 0 for b in range(256))
_HEX_REGION = re.compile(rb"[0-9A-Fa-fxX ,:\t\r\n]+")
_DUMP = re.compile(rb"(?m)^[0-9A-Fa-f]{7,8}:? +((?:[0-9A-Fa-f]{2,4} {1,2})+)[^\n]*$")
_DUMP_END = re.compile(rb"(?m)^[0-9A-Fa-f]{7,8}[ \t]*$")  # the offset after the last byte
_NOT_DIGITS = re.compile(rb"0[xX]|[ ,:\t\r\n]")


def _text_nibbles(digits: bytes) -> bool:
    """Whether hexadecimal digits can be text's bytes: their high nibbles are 2-7 (ASCII) or
    8-D (UTF-8 and the code pages' letters), rarely 0, 1, E or F (controls, line breaks apart;
    CJK, emoji). A hash's are uniform: a quarter of them fall there (of 32 bytes, three or fewer
    do one time in 80)."""
    high = digits[::2].lower() if len(digits) % 2 == 0 else digits[1::2].lower()
    return (
        _rare(high) * 10 <= len(high)
        or _utf16_nibbles(digits.lower())
        or _code_page_nibbles(digits.lower())
    )


def _rare(high: bytes) -> int:
    return high.count(b"0") + high.count(b"1") + high.count(b"e") + high.count(b"f")


def _utf16_nibbles(digits: bytes) -> bool:
    """Whether hexadecimal digits can be UTF-16's bytes (either order): every other byte's
    high nibble 0 (Latin's 00, Arabic's 06), the others' text's."""
    for shift in (0, 1):
        one, other = digits[shift::4], digits[shift + 2 :: 4]
        for zeros, text in ((one, other), (other, one)):
            if zeros.count(b"0") * 10 >= len(zeros) * 9 and _rare(text) * 10 <= len(text):
                return True
    return False


def _code_page_nibbles(digits: bytes) -> bool:
    """Whether hexadecimal digits can be Arabic in a code page (Windows-1256, ISO-8859-6, DOS
    Arabic): its letters are C0-FF, so nearly every byte's high nibble is C-F, or 2 (a space);
    a hash's are so one time in a thousand at nine bytes."""
    for shift in (0, 1):
        high = digits[shift::2]
        letters = sum(high.count(c) for c in (b"c", b"d", b"e", b"f"))
        if letters * 5 >= len(high) * 3 and (letters + high.count(b"2")) * 10 >= len(high) * 9:
            return True
    return False


_CODE_PAGE_HIGH = np.zeros(256, dtype=np.bool_)
_CODE_PAGE_HIGH[list(b"2cdefCDEF")] = True


# Byte classes for hexadecimal: a digit of it, a separator, a digit that is rarely a text
# byte's high nibble (0, 1, E, F), a decimal digit.
_HD, _HS, _HR, _H10 = 1, 2, 4, 8
_HEX_BITS = bytes(
    (_HD if c in "0123456789abcdefABCDEF" else 0)
    | (_HS if c in "xX ,:\t\r\n" else 0)
    | (_HR if c in "01efEF" else 0)
    | (_H10 if c.isdigit() else 0)
    for c in map(chr, range(256))
)


def _hex_candidates(chunk: bytes) -> np.ndarray:
    """Where a run of hexadecimal (with separators) of MIN_HEX bytes or more begins that could
    be text's bytes, in numpy: a run with no separator (a hash every line of a hash list) is
    kept only with digits and letters both and text's high nibbles (`_text_nibbles`) at either
    alignment; runs with separators every byte or two (dumps) are left to the per-run test."""
    bits = np.frombuffer(chunk.translate(_HEX_BITS), dtype=np.uint8)
    mask = (bits & (_HD | _HS)) != 0
    if not len(starts(mask, 2 * MIN_HEX)):
        return np.empty(0, dtype=np.int64)
    edges = np.flatnonzero(np.diff(np.concatenate(([False], mask, [False])).astype(np.int8)))
    begin, end = edges[::2], edges[1::2]
    long = (end - begin) >= 2 * MIN_HEX
    begin, end = begin[long], end[long]
    if not len(begin):
        return begin

    def count(m: np.ndarray) -> np.ndarray:
        c = np.concatenate(([0], np.cumsum(m, dtype=np.int32)))
        return c[end] - c[begin]

    seps = count((bits & _HS) != 0)
    decimal = count((bits & _H10) != 0)
    letters = count((bits & (_HD | _H10)) == _HD)
    rare = (bits & _HR) != 0
    even = np.arange(len(bits)) % 2 == 0
    rare_even, rare_odd = count(rare & even), count(rare & ~even)
    half = (end - begin) // 2
    # high nibbles at the run's own parity, or the other one (a run of odd length)
    at_even = np.where(begin % 2 == 0, rare_even, rare_odd)
    at_odd = np.where(begin % 2 == 0, rare_odd, rare_even)
    text = (np.minimum(at_even, at_odd) * 10 <= half) & (decimal > 0) & (letters > 0)
    # UTF-16 in hexadecimal: every other byte 00 or 06, so the first eight digits have a "0"
    # four apart (a hash's, one time in sixty); the few such runs are looked at one by one
    digit = np.frombuffer(chunk, dtype=np.uint8)
    head = np.minimum(begin, len(digit) - 8)
    zero = [digit[head + k] == ord("0") for k in range(8)]
    maybe16 = (zero[0] & zero[4]) | (zero[1] & zero[5]) | (zero[2] & zero[6]) | (zero[3] & zero[7])
    for k in np.flatnonzero(~text & maybe16):
        text[k] = _utf16_nibbles(_NOT_DIGITS.sub(b"", chunk[begin[k] : end[k]]).lower())
    # Arabic in a code page: the first four bytes' high nibbles C-F or 2 (a hash's, one time
    # in a hundred), at either alignment; the few such runs are looked at one by one
    head = np.minimum(begin, len(digit) - 11)
    head += 2 * ((digit[head] == ord("0")) & ((digit[head + 1] | 0x20) == ord("x")))  # "0x"
    even, odd = np.ones(len(begin), dtype=np.bool_), np.ones(len(begin), dtype=np.bool_)
    for k in range(0, 8, 2):
        even &= _CODE_PAGE_HIGH[digit[head + k]]
        odd &= _CODE_PAGE_HIGH[digit[head + k + 1]]
    for k in np.flatnonzero(~text & (even | odd)):
        text[k] = _code_page_nibbles(_NOT_DIGITS.sub(b"", chunk[begin[k] : end[k]]).lower())
    # a dump or an array writes a separator every byte or two; a hash with a column's spaces
    # after it has a few; a compressed stream's bytes look like a hash's, but it starts with
    # zlib's or gzip's header
    return begin[(seps >= MIN_HEX // 2) | text | _compressed_at(chunk, begin)]


#: The first two bytes of a zlib stream (each compression level) and of a gzip file, in hex.
_MAGIC_HEX = (b"7801", b"785e", b"789c", b"78da", b"1f8b")


def _compressed_at(chunk: bytes, begin: np.ndarray) -> np.ndarray:
    """Which runs begin with the hexadecimal of a zlib or gzip header (either case), at once or
    after a separator or two or "0x" (`PASS:789c…`, `0x1f8b…`)."""
    lower = np.frombuffer(chunk, dtype=np.uint8) | 0x20  # digits are unchanged
    last = len(lower) - 4
    found = np.zeros(len(begin), dtype=np.bool_)
    for skip in (0, 1, 2):
        at = np.minimum(begin + skip, last)
        for magic in _MAGIC_HEX:
            hit = np.ones(len(begin), dtype=np.bool_)
            for k, digit in enumerate(magic):
                hit &= lower[at + k] == digit
            found |= hit
    return found


def hex_runs(chunk: bytes) -> Iterator[bytes]:
    """The bytes of every run of hexadecimal pairs of MIN_HEX bytes or more (not a run of
    decimal digits alone: dates, numbers), at both alignments when its length is odd. A dump's
    lines (`hexdump -C`, `xxd`) are read without their offsets and text column, so a name is
    whole across them."""
    at = _hex_candidates(chunk)
    if len(at) and _DUMP.search(chunk):
        chunk = _DUMP_END.sub(b"", _DUMP.sub(rb"\1", chunk))
        at = _hex_candidates(chunk)
    i = 0
    while i < len(at):
        p = int(at[i])
        m = _HEX_REGION.match(chunk, p)
        end = m.end() if m else p + 1
        i = int(np.searchsorted(at, end))
        digits = _NOT_DIGITS.sub(b"", chunk[p:end])
        if len(digits) < 2 * MIN_HEX or digits.isdigit() or digits.isalpha():
            continue  # decimal numbers, or letters alone ("DEADBEEFCAFE", "AAAA…"): no dump
        if not _HEX.fullmatch(digits):
            continue
        if not (_text_nibbles(digits) or digits[:4].lower() in _MAGIC_HEX):
            continue
        for shift in (0, 1) if len(digits) % 2 else (0,):
            part = digits[shift:]
            data = bytes.fromhex(part[: len(part) // 2 * 2].decode())
            if len(set(data[:256])) >= 4:  # a name has four letters or more; padding has not
                yield data


#: A payload is inflated to this many bytes at most: a bomb of a kilobyte inflates to a megabyte.
MAX_INFLATED = 1 << 20
_GZIP = b"\x1f\x8b\x08"


def _lzma_alone(data: bytes) -> bool:
    """An .lzma stream (LZMA's first format, `lzma --format=alone`, 7-Zip's SDK): its header's
    properties byte (lc, lp, pb; 0x5D as every tool writes it) and a dictionary of a power of
    two from 4 KB to 1 GB."""
    if len(data) < 14 or data[0] != 0x5D:
        return False
    size = int.from_bytes(data[1:5], "little")
    return size >= 1 << 12 and size & (size - 1) == 0 and size <= 1 << 30


def inflated(data: bytes, limit: int = MAX_INFLATED, raw: bool = True) -> bytes | None:
    """`data` decompressed (`limit` bytes at most), when it is a zlib stream, a gzip file (of
    one member or several), a bzip2, an xz or an .lzma stream, or (`raw`) a raw deflate stream
    (a SAML request, a compressed JWT) that ends exactly where the data ends (random bytes
    seldom do, and fail within a few bytes: a distance before the start, a code that does not
    exist); None otherwise."""
    if limit <= 0:
        return None
    if data[:3] == b"BZh" or data[:6] == b"\xfd7zXZ\x00" or _lzma_alone(data):
        if data[:3] == b"BZh":
            squeeze: Any = bz2.BZ2Decompressor()
        elif data[:1] == b"\xfd":
            squeeze = lzma.LZMADecompressor()
        else:
            squeeze = lzma.LZMADecompressor(lzma.FORMAT_ALONE)
        try:
            return squeeze.decompress(data, limit) or None
        except (OSError, EOFError, lzma.LZMAError):
            return None
    if data[:3] == _GZIP:
        wbits = 31
    elif len(data) > 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0:
        wbits = 15
    elif raw:
        wbits = -15
    else:
        return None
    stream = zlib.decompressobj(wbits)
    try:
        out = stream.decompress(data, limit)
        while wbits == 31 and stream.eof and stream.unused_data[:3] == _GZIP and len(out) < limit:
            rest, stream = stream.unused_data, zlib.decompressobj(31)  # the next member
            out += stream.decompress(rest, limit - len(out))
    except zlib.error:
        return None
    if wbits == -15 and not (stream.eof and not stream.unused_data):
        return None
    return out or None
