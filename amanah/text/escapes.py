"""Text written as escapes: the places a name hides in plain ASCII that any tool decodes.

A JSON export writes أحمد as `\\u0623\\u062d\\u0645\\u062f`, a URL as `%D8%A3%D8%AD…`, a
quoted-printable email part as `=D8=A3=D8=AD…`, HTML as `&#1571;&#1581;…`, git and C strings as
`\\330\\243…`, UTF-7 as `+BiMGLQZFBi8-`, a link as `xn--…`; iCalendar folds a line inside a
word. A reader who gets the file reads the name with one common tool; the raw readings of its
bytes (`rawtext`) see only ASCII. This module decodes escapes in a text (`unescape`: the
matcher's readings use it too) and finds such runs in a chunk of bytes with the bytes around
them (`escaped`, `folded`: regular expressions that open with a literal byte, so plain text and
binary noise cost little). base64 and hexadecimal are `encoded`'s.
"""

from __future__ import annotations

import html
import re

#: Bytes around an escaped run read with it: the rest of a name written partly plain
#: ("\\u0623\\u062d\\u0645\\u062f al-Khatib").
CONTEXT = 48
#: Plain bytes allowed between two escapes of one run (a space, a hyphen, a JSON comma).
GAP = 24
#: Runs in a text beyond which the whole chunk is read decoded at once (a JSON export writes
#: every letter escaped: windows around each run would cost more and keep more).
DENSE = 64

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
    """A run of \\uXXXX (a JSON export writes every letter so) decoded in one call, in C.
    A run of \\u00XX that spells UTF-8 is read as UTF-8: Facebook's and Instagram's "Download
    your information" exports write each byte of a letter as its own escape (أ as
    `\\u00d8\\u00a3`), which a JSON viewer shows as Ø£ and the exporting site as أ."""
    text = m.group().encode("ascii").decode("unicode_escape")
    if text.isascii() or max(text) > "\xff":
        return text
    try:
        read = text.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return text  # Latin-1 letters escaped one by one ("caf\\u00e9"): as they are
    # A Latin-1 capital or ß before a guillemet or a sign of A0-BF is valid UTF-8 too, for IPA,
    # combining marks or N'Ko ("LIBERTÉ»" would be "LIBERTɻ"), which no export escapes so.
    return text if _NOT_MOJIBAKE.search(read) else read


_NOT_MOJIBAKE = re.compile("[\u0240-\u037f\u0780-\u07ff]")


def json_text(text: str) -> str:
    """A JSON text with its own `\\uXXXX` escapes decoded (those of UTF-8 bytes as UTF-8, and
    surrogate pairs joined), and nothing else changed: what a person reads in the export, and
    what search indexes (a `%` or `=` in a JSON string is text, not an escape)."""
    if "\\u" not in text:
        return text
    return _paired(
        _U_RUN.sub(lambda m: _u_run(m) if _unescaped_at(text, m.start()) else m.group(), text)
    )


def _unescaped_at(text: str, at: int) -> bool:
    """Whether the backslash at `at` escapes (an even number of backslashes before it)."""
    n = 0
    while at - n - 1 >= 0 and text[at - n - 1] == "\\":
        n += 1
    return n % 2 == 0


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
