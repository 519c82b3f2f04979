"""Pictures written into text as base64: a `data:` URI in Markdown or an email's HTML body,
a notebook's image output (JSON, lines joined by `\\n` escapes), a vCard's PHOTO or a
calendar's ATTACH (folded lines), a flat ODF document's `office:binary-data`. A reader shows
each as the picture it is; the inventory reads it as one (a file of its own: OCR, metadata),
found by one scan of the text rather than by a reader per format.

A picture is a run of base64 that starts where a run starts (not inside another) with the
encoding of a picture's first bytes (PNG, JPEG, GIF, BMP, TIFF, WebP), its lines broken by
white space, JSON's or a string's `\\n`, `%0A`, XML's `&#xA;`, or `", "` (a JSON list of
lines). The scan is linear on any text: a start is found by a literal search (and at least 32
characters of a run after it, so false starts fail in C), the character before it is looked
at once, a run is one greedy character class (nothing to backtrack into), and the search goes
on after the run.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: Pictures read in one file (or one part of it) at most, as many as a page's `data:` URIs;
#: more leave the inventory incomplete.
MAX_PICTURES = 200
#: Base64 characters of one picture read at most (12 MB of picture); a longer run leaves the
#: inventory incomplete (what was not read cannot be said to hold no name).
MAX_CHARS = 16 << 20
#: Shorter runs hold no picture that can show a word.
MIN_CHARS = 44

_CHARS = r"A-Za-z0-9+/_\-"  # standard and URL-safe alphabets
#: A run: the alphabet and what breaks its lines (white space, `\\n` escapes, `%0A`, a JSON
#: list's `", "`, XML's `&#xA;` as XMP writes a thumbnail). One class, matched greedily:
#: nothing to backtrack into. What follows a picture's last line is read with it and is
#: harmless (bytes after a picture's end).
_RUN = rf"""[{_CHARS}\s\\%",&#;]+"""
#: The base64 of a picture's first bytes (PNG, JPEG, GIF, BMP with its reserved zeros, TIFF,
#: RIFF) and at least 32 characters of a run after it: a literal, so the search skips ahead
#: as fast as for a word, and most false starts fail there, not one at a time in Python.
_START = (
    r"(?:iVBORw0KGgo|/9j/|_9j_|R0lGOD[dl]h|Qk[A-Za-z0-9+/_\-]{6}AAAA|SUkqA|TU0AKg|UklGR)"
    rf"""[{_CHARS}\s\\%",&#;]{{32}}"""
)
_PIECE = rf"[{_CHARS}]+"
#: (start, run, piece) compiled for text and for bytes (an XML part, an image's XMP).
_PATTERNS: dict[type, tuple[re.Pattern[Any], ...]] = {
    str: tuple(re.compile(p) for p in (_START, _RUN, _PIECE)),
    bytes: tuple(re.compile(p.encode()) for p in (_START, _RUN, _PIECE)),
}
_NOT_BASE64 = re.compile(rf"""\\[rnt]|%0[aAdD]|&#(?:[xX][0-9a-fA-F]+|[0-9]+);|[^{_CHARS}]""")
_URL_SAFE = str.maketrans("-_", "+/")
_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-")
_ESCAPES = (b"\\n", b"\\r", b"\\t")


def kind(data: bytes) -> str | None:
    """The picture format `data` starts with (its magic bytes), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data.startswith(b"BM") and len(data) >= 18 and data[6:10] == b"\0\0\0\0":
        return "bmp"  # "BM", the size, two reserved words that are zero
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    return None


def decode(run: str | bytes) -> bytes:
    """The bytes of a run of base64, its line breaks and escapes taken out."""
    if not isinstance(run, str):
        run = bytes(run).decode("latin-1")
    clean = _NOT_BASE64.sub("", run).translate(_URL_SAFE)
    clean = clean[: len(clean) - (len(clean) % 4 == 1)]  # a stray last character
    return base64.b64decode(clean + "=" * (-len(clean) % 4))


def _inside(text: str | bytes, at: int) -> bool:
    """Whether the character before `at` continues a run of base64 (not an escaped break)."""
    before = text[at - 1 : at]
    code = before[0] if isinstance(before, bytes | bytearray) else ord(before)
    if code not in _ALPHABET:
        return False
    pair = text[at - 2 : at]
    return (
        pair if isinstance(pair, bytes | bytearray) else pair.encode("latin-1", "replace")
    ) not in _ESCAPES


@dataclass
class Found:
    """A picture at character `at`: its bytes, or None with why it was not read."""

    at: int
    data: bytes | None
    why: str = ""


def find(text: str | bytes) -> Iterator[Found]:
    """Each picture written in `text` (or bytes, read as ASCII) as base64, in order; past
    MAX_PICTURES, or for a run longer than MAX_CHARS, a Found without data says what was not
    read."""
    starts, runs, pieces = _PATTERNS[bytes if isinstance(text, bytes | bytearray) else str]
    pos = found = 0
    while (start := starts.search(text, pos)) is not None:
        at = start.start()
        if at and _inside(text, at):  # not where a run starts: skip the rest of that piece
            piece = pieces.match(text, at)
            pos = piece.end() if piece is not None else start.end()
            continue
        run = runs.match(text, at, at + MAX_CHARS)
        end = run.end() if run is not None else start.end()
        pos = max(end, start.end())
        if run is None or end - at < MIN_CHARS:
            continue
        try:
            head = decode(text[at : min(end, at + 128)])
        except (binascii.Error, ValueError):
            continue
        if kind(head) is None:
            continue
        if found >= MAX_PICTURES:
            yield Found(at, None, f"more than {MAX_PICTURES} pictures written as base64")
            return
        found += 1
        if end == at + MAX_CHARS and end < len(text):
            yield Found(
                at, None, f"a picture written as base64 longer than {MAX_CHARS:,} characters"
            )
            continue
        try:
            yield Found(at, decode(run.group()))
        except (binascii.Error, ValueError) as exc:
            yield Found(at, None, f"a picture written as base64 could not be decoded ({exc})")
