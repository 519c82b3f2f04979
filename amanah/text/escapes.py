"""Text written as escapes: the places a name hides in plain ASCII that any tool decodes.

A JSON export writes أحمد as `\\u0623\\u062d\\u0645\\u062f`, a URL as `%D8%A3%D8%AD…`, a
quoted-printable email part as `=D8=A3=D8=AD…`, HTML as `&#1571;&#1581;…`, git and C strings as
`\\330\\243…`, UTF-7 as `+BiMGLQZFBi8-`, and base64 anything at all. A reader who gets the file
reads the name with one common tool; the raw readings of its bytes (`rawtext`) see only ASCII.
This module finds such runs in a chunk of bytes (regular expressions in C, so plain text and
binary noise cost little) and gives them back decoded: character escapes as text, base64 as
bytes for `rawtext` to read in every encoding it knows.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Iterator

import numpy as np

from amanah.text.byteruns import starts

#: Bytes around an escaped run read with it: the rest of a name written partly plain
#: ("\\u0623\\u062d\\u0645\\u062f al-Khatib").
CONTEXT = 48
#: Plain bytes allowed between two escapes of one run (a space, a hyphen, a JSON comma).
GAP = 24
#: Runs in a text beyond which the whole chunk is read decoded at once (a JSON export writes
#: every letter escaped: windows around each run would cost more and keep more).
DENSE = 64
#: base64 runs shorter than this are words, not data (a name in UTF-8 is 16 or more).
MIN_BASE64 = 16

_BYTE_ESCAPES = (
    rb"%[0-9A-Fa-f]{2}"  # URLs, form data
    rb"|=[0-9A-F]{2}|=\r?\n"  # quoted-printable (with its soft line breaks)
    rb"|\\x[0-9A-Fa-f]{2}"  # C, Python, shell
    rb"|\\[0-3][0-7]{2}"  # C, git's quoted paths, PDF and PostScript strings
    rb"|\\'[0-9A-Fa-f]{2}"  # RTF (in any file: the RTF reader may take the wrong code page)
)
_CHAR_ESCAPES = (
    rb"\\u[0-9A-Fa-f]{4}|\\u\{[0-9A-Fa-f]{1,6}\}|\\U[0-9A-Fa-f]{8}"  # JSON, JavaScript, Python
    rb"|%u[0-9A-Fa-f]{4}"  # JavaScript's escape()
    rb"|&#[0-9]{2,7};?|&#[xX][0-9A-Fa-f]{2,6};?|&[A-Za-z][A-Za-z0-9]{1,9};"  # HTML, XML
)
_ESCAPE = _BYTE_ESCAPES + b"|" + _CHAR_ESCAPES
_PLAIN = rb"[^\x00-\x08\x0b\x0c\x0e-\x1f]"
_RUN = re.compile(b"(?:" + _ESCAPE + b")(?:" + _PLAIN + b"{0,%d}?(?:" % GAP + _ESCAPE + b"))*")
# Each escape by its first byte: a pattern that opens with one literal byte is searched at
# memchr speed, where one alternation of all of them tries every byte of the chunk.
_FIRST = [
    re.compile(p)
    for p in (
        rb"%[0-9A-Fa-f]{2}|%u[0-9A-Fa-f]{4}",
        rb"=[0-9A-F]{2}|=\r?\n",
        rb"\\(?:x[0-9A-Fa-f]{2}|'[0-9A-Fa-f]{2}|[0-3][0-7]{2}|u[0-9A-Fa-f]{4}"
        rb"|u\{[0-9A-Fa-f]{1,6}\}|U[0-9A-Fa-f]{8})",
        rb"&#[0-9]{2,7}|&#[xX][0-9A-Fa-f]{2,6}|&[A-Za-z][A-Za-z0-9]{1,9};",
    )
]
# Byte escapes, joined per run into bytes and read as UTF-8 (Windows-1256 when they are no
# UTF-8), in the text; then character escapes and references.
_BYTES = {
    "%": re.compile(r"(?:%[0-9A-Fa-f]{2})+"),
    "=": re.compile(r"(?:=[0-9A-Fa-f]{2}|=\r?\n)+"),
    "x": re.compile(r"(?:\\x[0-9A-Fa-f]{2})+"),
    "r": re.compile(r"(?:\\'[0-9A-Fa-f]{2})+"),
    "o": re.compile(r"(?:\\[0-3][0-7]{2})+"),
}
#: Whether a text holds any escape `unescape` decodes (one pass over it, in C).
_ANY = re.compile(
    r"%[0-9A-Fa-f]{2}|%u[0-9A-Fa-f]{4}|=[0-9A-Fa-f]{2}|\\[uUx'][0-9A-Fa-f{]|\\[0-3][0-7]{2}|&#"
    r"|&[A-Za-z][A-Za-z0-9]{1,9};"
)
_CHARS = re.compile(
    r"\\u([0-9A-Fa-f]{4})|\\u\{([0-9A-Fa-f]{1,6})\}|\\U([0-9A-Fa-f]{8})|%u([0-9A-Fa-f]{4})"
)
_REFS = re.compile(r"&#[0-9]{2,7};?|&#[xX][0-9A-Fa-f]{2,6};?|&[A-Za-z][A-Za-z0-9]{1,9};")

# Internationalised domain names: "xn--" then Punycode (أحمد-الخطيب.org in a link or a log).
_PUNY = re.compile(rb"xn--[A-Za-z0-9-]{2,59}")

# UTF-7: "+" then modified base64 of UTF-16, up to "-" or any other character; plain ASCII
# between runs is UTF-7 as it stands. Not inside a run of base64 (which has "+" too).
_UTF7_RUN = rb"\+(?<![A-Za-z0-9+/=]\+)[A-Za-z0-9+/]{3,}(?:-|(?![A-Za-z0-9+/=]))"
_NOT_NAME_SCRIPT = re.compile(
    "[^\\x00-\\x7f\\u00a0-\\u024f\\u0600-\\u06ff\\u0750-\\u077f\\u1e00-\\u1eff\\u200b-\\u200f"
    "\\ufb50-\\ufdff\\ufe70-\\ufeff]"
)
_UTF7 = re.compile(_UTF7_RUN + b"(?:[ -~]{0,%d}?" % GAP + _UTF7_RUN + b")*")

# base64 (standard and URL-safe alphabets), lines of it as MIME writes them.
_B64 = re.compile(rb"[A-Za-z0-9+/\-_]{%d,}(?:\r?\n[A-Za-z0-9+/\-_]{4,})*={0,2}" % MIN_BASE64)
_HEX = re.compile(rb"[0-9A-Fa-f]+")
_B64_BYTES = bytes(
    1 if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "+/-_") else 0 for b in range(256)
)
_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _unbyte(kind: str, m: re.Match[str]) -> str:
    run = m.group()
    if kind == "=":
        data = bytes.fromhex(re.sub(r"=\r?\n", "", run).replace("=", ""))
    elif kind == "o":
        data = bytes(int(run[i + 1 : i + 4], 8) for i in range(0, len(run), 4))
    else:
        data = bytes.fromhex(re.sub(r"%|\\x|\\'", "", run))
    text = data.decode("utf-8", "replace")
    if text.count("\ufffd") * 4 > len(text):  # mostly no UTF-8: an older page, mail or RTF
        return data.decode("cp1256", "replace")
    return text  # one bad escape (or a run cut by the chunk) spoils only its own letter


_U_RUN = re.compile(r"(?:\\u[0-9A-Fa-f]{4})+")


def _u_run(m: re.Match[str]) -> str:
    """A run of \\uXXXX (a JSON export writes every letter so) decoded in one call, in C."""
    return m.group().encode("ascii").decode("unicode_escape")


def _char(m: re.Match[str]) -> str:
    value = int(next(g for g in m.groups() if g is not None), 16)
    return chr(value) if value <= 0x10FFFF else "\ufffd"


def _ref(m: re.Match[str]) -> str:
    ref = m.group()
    if ref.startswith("&#") and not ref.endswith(";"):
        ref += ";"
    return html.unescape(ref)


def unescape(text: str) -> str:
    """The text with every run of escapes decoded in place, as a reader's tool shows it (a
    browser's address bar, a mail reader, a JSON viewer, a terminal): the text itself when it
    holds none."""
    if not _ANY.search(text):
        return text
    for kind, pattern in _BYTES.items():
        text = pattern.sub(lambda m, k=kind: _unbyte(k, m), text)  # type: ignore[misc]
    text = _CHARS.sub(_char, _U_RUN.sub(_u_run, text) if "\\u" in text else text)
    return _paired(_REFS.sub(_ref, text))


def _paired(text: str) -> str:
    """Surrogates written one by one ("\\ud83d\\ude00", UTF-7) joined; lone ones replaced."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _around(chunk: bytes, start: int, end: int, text_like: bool = True) -> tuple[int, int]:
    """The run widened by up to CONTEXT plain bytes on each side, not across a line break;
    in binary, no control bytes (noise around an escape there decodes to U+FFFD, at which the
    raw readings cut it)."""

    def plain(b: int) -> bool:
        return b not in b"\x00\n\r" and (text_like or b >= 0x20)

    lo = start
    while lo > 0 and start - lo < CONTEXT and plain(chunk[lo - 1]):
        lo -= 1
    hi = end
    while hi < len(chunk) and hi - end < CONTEXT and plain(chunk[hi]):
        hi += 1
    return lo, hi


def _alone(chunk: bytes, start: int, end: int, text_like: bool) -> bool:
    """One escape with no letter beside it ("100%25", "a=3D"), or in binary with a letter
    on one side only (noise makes those by chance): not the escaped letter of a word."""
    if end - start > 6 or (end - start > 3 and chunk[start : start + 2] != b"=\n"):
        return False
    left = start > 0 and chr(chunk[start - 1]).isalpha()
    right = end < len(chunk) and chr(chunk[end]).isalpha()
    return not (left or right) if text_like else not (left and right)


def escaped(chunk: bytes, text_like: bool = True) -> list[str]:
    """Every run of escapes in the chunk (with the plain bytes around it), decoded; runs that
    decode to what they were (no escape a tool would change) are left out. A lone escape
    counts only beside a letter (both sides in binary, where noise makes escapes)."""
    out: dict[str, None] = {}
    windows: list[list[int]] = []
    # the next escape of each kind from `at`: one search per run, not one match per escape
    nexts = [p.search(chunk) for p in _FIRST]
    at = 0
    while True:
        for k, p in enumerate(_FIRST):
            if nexts[k] is not None and nexts[k].start() < at:  # type: ignore[union-attr]
                nexts[k] = p.search(chunk, at)
        found = [n.start() for n in nexts if n is not None]
        if not found:
            break
        start = min(found)
        m = _RUN.match(chunk, start)
        at = m.end() if m else start + 1
        if m is None or _alone(chunk, m.start(), m.end(), text_like):
            continue
        if text_like and len(windows) >= DENSE:  # escapes throughout (a JSON export)
            windows = [[0, len(chunk)]]
            break
        lo, hi = _around(chunk, m.start(), m.end(), text_like)
        if windows and lo <= windows[-1][1]:  # overlapping context: one window, read once
            windows[-1][1] = hi
        else:
            windows.append([lo, hi])
    for lo, hi in windows:
        plain = chunk[lo:hi].decode("utf-8", "replace")
        if (text := unescape(plain)) != plain:  # "Ahmad%20al-Khatib" too
            out[text] = None
    for m in _PUNY.finditer(chunk):
        try:
            label = m.group()[4:].decode("ascii").encode("ascii").decode("punycode")
        except (UnicodeError, ValueError):
            continue
        lo, hi = _around(chunk, m.start(), m.end(), text_like)
        plain = chunk[lo:hi].decode("utf-8", "replace")
        out[plain.replace(m.group().decode("ascii"), label)] = None
    for m in _UTF7.finditer(chunk):
        if not text_like and (m.end() - m.start() < 8 or chunk[m.end() - 1] != 0x2D):
            continue  # binary: two characters or more, closed by "-" as encoders write it
        shifted = _paired(m.group().decode("utf-7", "replace"))
        if shifted.isascii() or _NOT_NAME_SCRIPT.search(shifted):
            continue  # random base64 decodes to CJK and symbols, never to a name's letters
        lo, hi = _around(chunk, m.start(), m.end(), text_like)
        out[_paired(chunk[lo:hi].decode("utf-7", "replace"))] = None
    return list(out)


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


_CASE = bytes(1 if 65 <= b <= 90 else 2 if 97 <= b <= 122 else 0 for b in range(256))


def _mixed_case_runs(chunk: bytes) -> np.ndarray:
    """Where a run of MIN_BASE64 base64 characters or more begins that has capitals and small
    letters both (all of 16 random base64 characters lack one case once in 3,000; a hash, a
    path, an English word, a run of one byte's "AAAA" has one case only), in numpy: a hash list
    is a run every line, and a Python step for each cost a second a chunk."""
    mask = np.frombuffer(chunk.translate(_B64_BYTES), dtype=np.bool_)
    if not len(starts(mask, MIN_BASE64)):
        return np.empty(0, dtype=np.int64)  # no run that long (compressed data: the most)
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
    of one or two lines at the chunk's start (cut anywhere) at every alignment."""
    at = _mixed_case_runs(chunk)
    i = 0
    while i < len(at):
        m = _B64.match(chunk, int(at[i]))
        i = int(np.searchsorted(at, m.end() if m else at[i] + 1))
        if m is None:
            continue
        run = m.group()
        lines = run.split(b"\n")
        if len(lines) > 2:  # from the first line as wide as the body's: after a header word,
            # or after a line the chunk began inside (MIME's lines are four by four: aligned)
            widths = [len(line.rstrip(b"\r")) for line in lines]
            lines = lines[widths.index(max(widths)) :]
        flat = b"".join(line.rstrip(b"\r") for line in lines).rstrip(b"=")
        if len(flat) < MIN_BASE64 or not _looks_like_data(flat):
            continue
        flat = flat.translate(_URLSAFE)
        # A run starts where its encoder started it (after a quote, a comma, a line break),
        # but the chunk may begin inside one: a line cut anywhere is tried at every alignment.
        shifts = range(4) if m.start() == 0 and len(lines) < 3 else (0,)
        for shift in shifts:
            part = flat[shift:]
            rest = len(part) % 4  # padding written back (or left out): the last bytes too
            part = part[:-1] if rest == 1 else part + b"=" * (-rest % 4)
            if len(part) < MIN_BASE64:
                continue
            try:
                yield base64.b64decode(part)
            except (binascii.Error, ValueError):
                continue


# Folded lines: iCalendar, vCard and mail headers cut a long line anywhere, even inside a
# word or a character, and mark the rest with a line break and one space or tab.
_FOLD = re.compile(rb"\n[ \t]")  # a literal first byte: searched at memchr speed
_SPACE = b" \t\r\n\x0b\x0c"
_UNFOLD = re.compile(rb"\r?\n[ \t]")
MAX_LINE = 4096  # bytes of one logical line read around a fold


def folded(chunk: bytes) -> list[str]:
    """Every logical line folded inside a word, joined again (the line break and the one
    space or tab after it removed, as RFC 5545, 6350 and 5322 unfold)."""
    out: dict[str, None] = {}
    end = -1
    for m in _FOLD.finditer(chunk):
        before = m.start() - (2 if chunk[m.start() - 1 : m.start()] == b"\r" else 1)
        if m.start() < end or before < 0 or m.end() >= len(chunk):
            continue
        if chunk[before] in _SPACE or chunk[m.end()] in _SPACE:
            continue  # a fold between words, or an indented line: nothing joined
        floor = max(0, m.start() - MAX_LINE)
        lo = chunk.rfind(b"\n", floor, m.start()) + 1 or floor
        hi = m.end()
        while hi < len(chunk):
            nl = chunk.find(b"\n", hi, hi + MAX_LINE)
            if nl < 0 or nl + 1 >= len(chunk) or chunk[nl + 1] not in b" \t":
                hi = nl if nl >= 0 else min(len(chunk), hi + MAX_LINE)
                break
            hi = nl + 2
        end = hi
        out[_UNFOLD.sub(b"", chunk[lo:hi]).decode("utf-8", "replace")] = None
    return list(out)


# Hexadecimal dumps: `xxd -p`, bytes spaced or comma-separated, C arrays (`0x41, 0x68`), the
# hex columns of `hexdump -C` (offsets and the text column left out), EPS hex strings.
MIN_HEX = 12  # bytes: a name's shortest UTF-8
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
    rare = high.count(b"0") + high.count(b"1") + high.count(b"e") + high.count(b"f")
    return rare * 10 <= len(high)


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
    # a dump or an array writes a separator every byte or two; a hash with a column's spaces
    # after it has a few
    return begin[(seps >= MIN_HEX // 2) | text]


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
        if not _HEX.fullmatch(digits) or not _text_nibbles(digits):
            continue
        for shift in (0, 1) if len(digits) % 2 else (0,):
            part = digits[shift:]
            data = bytes.fromhex(part[: len(part) // 2 * 2].decode())
            if len(set(data[:256])) >= 4:  # a name has four letters or more; padding has not
                yield data
