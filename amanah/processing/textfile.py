"""Text whose encoding nobody wrote down, read within a budget of characters.

A log file of 4 GB must not need 4 GB of memory (or four times that once decoded and cleaned):
the encoding is chosen on a sample from the head, the bytes are decoded a chunk at a time by
an incremental decoder, and reading stops at the budget, saying the rest was not read.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

LIKELY_ENCODINGS = [
    "utf_8",
    "utf_16",
    "cp1256",
    "iso8859_6",
    "cp1252",
    "latin_1",
    "cp1250",
    "cp1251",
    "koi8_r",
    "cp1254",
    "iso8859_9",
    "mac_arabic",
    "cp864",
]
MAX_TEXT_CHARS = 50_000_000  # per item; beyond this the text is cut and the item flagged
#: Markup (HTML, RTF) is read to this many characters; its visible text is far less.
MAX_MARKUP_CHARS = 2 * MAX_TEXT_CHARS
#: The encoding is chosen on this much of the head of a file (charset detection is quadratic
#: in places, and the head of a file says its encoding as well as the whole does).
HEAD_BYTES = 1 << 20
CHUNK_BYTES = 4 << 20
_BOMS = (  # UTF-32's little-endian mark opens with UTF-16's: it is tried first
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
UNKNOWN = "unknown (decoded as UTF-8 with replacements)"


def choose_encoding(sample: bytes, complete: bool = True) -> tuple[str, str]:
    """The codec to decode bytes with, and how the choice is recorded, from `sample` (the
    whole text when `complete`, else its head: a character cut at its end is no error)."""
    for bom, enc in _BOMS:
        if sample.startswith(bom):
            return enc, enc
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
        return "utf-8", "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    # The encodings this work meets (Arabic, Kurdish, Persian, Turkish, Russian, European);
    # with free choice, short Arabic texts in Windows-1256 are often taken for East Asian ones.
    best = from_bytes(sample, cp_isolation=LIKELY_ENCODINGS).best() or from_bytes(sample).best()
    if best is None:
        return "utf-8", UNKNOWN
    return best.encoding, best.encoding


def decode_text(data: bytes) -> tuple[str, str]:
    """Best reading of bytes whose encoding nobody wrote down (Windows-1256, UTF-16, …)."""
    codec, label = choose_encoding(data)
    return data.decode(codec, "replace"), label


@dataclass
class TextRead:
    text: str
    encoding: str
    #: Whether the budget stopped the reading: the rest of the file was not read.
    cut: bool


def read_text(path: Path, max_chars: int = MAX_TEXT_CHARS) -> TextRead:
    """A text file's first `max_chars` characters, read a chunk at a time (never the whole
    file in memory), and whether anything was left unread."""
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
        codec, label = choose_encoding(head, complete=len(head) < HEAD_BYTES)
        decoder = codecs.getincrementaldecoder(codec)("replace")
        parts: list[str] = []
        size = 0
        data = head
        # A head of ASCII alone says nothing of the encoding (a log's English lines before its
        # Arabic ones): the first chunk that is not ASCII chooses it. Every encoding chosen
        # from decodes ASCII the same, so what was read before stays as it was read.
        undecided = label == "utf-8" and head.isascii()
        while True:
            if undecided and data and not data.isascii():
                codec, label = choose_encoding(data, complete=False)
                decoder = codecs.getincrementaldecoder(codec)("replace")
                undecided = False
            piece = decoder.decode(data, final=not data)
            if size + len(piece) > max_chars:
                parts.append(piece[: max_chars - size])
                return TextRead("".join(parts), label, True)
            parts.append(piece)
            size += len(piece)
            if not data:
                return TextRead("".join(parts), label, False)
            data = f.read(CHUNK_BYTES)


def cut_flag(what: str, max_chars: int) -> dict[str, str]:
    """The flag a reading stopped by its budget carries (an inventory counts it incomplete)."""
    return {
        "code": "text_truncated",
        "message": f"{what} cut at {max_chars:,} characters; the rest was not read",
    }
