"""Text out of raw bytes: the readings of a file's bytes in which a name could be written.

The last net under every format reader: whatever a parser missed, a name written in the file's
bytes as UTF-8, UTF-16 (either byte order, any alignment), Windows-1256 or Windows-1252 is in
one of these readings. A chunk that is valid UTF-8, or mostly text, is read whole; inside binary
(an image, a video, an old Office file) only the runs of bytes that look like text are decoded,
picked out by regular expressions in C, so that noise does not become a million words to look
up. Compressed streams are not opened here: that is the content inventory's work.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

CHUNK = 4 << 20
OVERLAP = 2048  # longer than any name in UTF-16
LEGACY = ("cp1256", "cp1252")

# UTF-16 text runs (at least four code units of Latin, Latin-1, Latin Extended, Arabic,
# general punctuation or Arabic presentation forms), little- and big-endian.
_UNIT_HIGH = b"[\\x00\\x01\\x02\\x06\\x1e\\x20\\xfb-\\xfe]"
_RUNS_16 = (
    (re.compile(b"(?:[\\x01-\\xff]" + _UNIT_HIGH + b"){4,}"), "utf-16-le"),
    (re.compile(b"(?:" + _UNIT_HIGH + b"[\\x01-\\xff]){4,}"), "utf-16-be"),
)
_RUN_UTF8 = re.compile(
    b"(?:[\\t\\n\\r\\x20-\\x7e]|[\\xc2-\\xdf][\\x80-\\xbf]|[\\xe0-\\xef][\\x80-\\xbf]{2}"
    b"|[\\xf0-\\xf4][\\x80-\\xbf]{3}){6,}"
)
_RUN_8BIT = re.compile(b"[\\t\\n\\r\\x20-\\x7e\\x80-\\xff]{6,}")
_CONTROL = bytes(range(0x20)).replace(b"\t", b"").replace(b"\n", b"").replace(b"\r", b"")
_ASCII_LETTERS = bytes(range(0x41, 0x5B)) + bytes(range(0x61, 0x7B))
_LETTER_BYTES = _ASCII_LETTERS + bytes(range(0x80, 0x100))  # in UTF-8 runs
_LETTER_BYTES_8BIT = _ASCII_LETTERS + bytes(range(0xC0, 0x100))  # Windows-125x letters


def _text_like(chunk: bytes) -> bool:
    """Mostly text (fewer than 1% control bytes): decode all of it in a legacy code page."""
    return len(chunk) - len(chunk.translate(None, _CONTROL)) < len(chunk) // 100 + 1


def _wordy(run: bytes, letter_bytes: bytes = _LETTER_BYTES) -> bool:
    """A run of text bytes inside binary that reads like words: a space and letters for at
    least three fifths of it, or letters for nine tenths of eight bytes or more."""
    letters = len(run) - len(run.translate(None, letter_bytes))
    if b" " in run:
        return 5 * letters >= 3 * len(run)
    return len(run) >= 8 and 10 * letters >= 9 * len(run)


def _has_high(chunk: bytes) -> bool:
    return chunk.translate(None, bytes(range(0x80))) != b""


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


def readings(data: bytes) -> Iterator[str]:
    """Texts to look for names in, chunk by chunk (chunks overlap, so a name across a chunk
    boundary is whole in one of them)."""
    for at in range(0, max(len(data) - OVERLAP, 1), CHUNK - OVERLAP):
        chunk = data[at : at + CHUNK]
        utf8 = _utf8(chunk)
        if utf8:
            yield chunk.decode("utf-8", "replace")
        else:
            runs = [r for r in _RUN_UTF8.findall(chunk) if _wordy(r)]
            yield b"\n".join(runs).decode("utf-8", "replace")
        if not utf8 and _has_high(chunk):
            if _text_like(chunk):
                legacy = chunk
            else:
                legacy = b"\n".join(
                    r for r in _RUN_8BIT.findall(chunk) if _wordy(r, _LETTER_BYTES_8BIT)
                )
            for enc in LEGACY:
                yield legacy.decode(enc, "replace")
        if b"\x00" in chunk or b"\x06" in chunk:
            for pattern, enc in _RUNS_16:
                runs16 = [
                    r[: len(r) // 2 * 2].decode(enc, "replace") for r in pattern.findall(chunk)
                ]
                if runs16:
                    yield "\n".join(runs16)
