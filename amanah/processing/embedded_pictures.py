"""Pictures a file carries besides the one it shows: a JPEG's EXIF thumbnail, a Photoshop
preview, an MPF second image, a picture appended after an image's end. Cropping or painting
over a photo in a program that does not rewrite them leaves the original in the file, and
any tool gives it back (`exiftool -b -ThumbnailImage`); each is read as a picture of its
own (OCR), never shown."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

#: Pictures read a file at most; more leave its inventory incomplete.
MAX_PICTURES = 16
#: The smallest picture that can hold a readable word.
MIN_WIDTH, MIN_HEIGHT = 24, 8

_STARTS = re.compile(rb"\xff\xd8\xff|\x89PNG\r\n\x1a\n")


#: Segments read after one JPEG start at most (a real JPEG has a dozen before its scan;
#: starts chained to segments running to the end of the file would make it quadratic).
MAX_SEGMENTS = 64
#: JPEG starts looked at in one file at most (a PDF holds one a picture).
MAX_STARTS = 20_000


def _markers(data: bytes, at: int, most: int | None = None) -> Iterator[tuple[int, int, int]]:
    """(marker, its position, the end of its segment) of the JPEG that starts at `at`, up to
    its scan (SOS, given last with the position it starts at) or its end, at most `most`."""
    pos, walked = at + 2, 0
    while pos + 4 <= len(data) and data[pos] == 0xFF and (most is None or walked < most):
        walked += 1
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0xD9, 0xDA):  # its end, or its scan: no metadata after
            yield marker, pos, pos
            return
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2:
            return
        yield marker, pos, min(pos + 2 + length, len(data))
        pos += 2 + length


def _segments(data: bytes, at: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each metadata segment (APPn, COM) of the JPEG that starts at `at`, up
    to its scan (at most MAX_SEGMENTS)."""
    for marker, pos, end in _markers(data, at, MAX_SEGMENTS):
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            yield pos + 4, end


def candidates(data: bytes, whole_file: bool) -> Iterator[tuple[int, int]]:
    """(start, end) of each picture inside `data` other than the one it starts with: those
    inside a JPEG's metadata segments (in any bytes: a PDF's image streams, an office file's
    pictures) and, for an image file (`whole_file`), any picture after its start."""
    seen: set[int] = set()
    for n, m in enumerate(_STARTS.finditer(data)):
        if n >= MAX_STARTS:
            yield -1, -1  # more starts than are read: the caller says the reading is cut
            return
        at = m.start()
        if whole_file and at > 0 and at not in seen:
            seen.add(at)
            yield at, len(data)
        if data[at : at + 3] != b"\xff\xd8\xff":
            continue
        for start, end in _segments(data, at):
            for inner in _STARTS.finditer(data, start, end):
                if inner.start() not in seen:
                    seen.add(inner.start())
                    yield inner.start(), end


def pictures(data: bytes, whole_file: bool) -> Iterator[tuple[int, Any]]:
    """(offset, a Pillow image) of each picture inside `data` that decodes and is large
    enough to hold a word; what does not decode is not a picture (bytes that look like a
    start by chance). Past MAX_PICTURES pictures, 4 × MAX_PICTURES tries or MAX_STARTS
    starts, a last (offset, None) says the rest was not read."""
    from PIL import Image

    found = 0
    for tried, (start, end) in enumerate(candidates(data, whole_file)):
        if found > MAX_PICTURES or tried > 4 * MAX_PICTURES or start < 0:
            yield start, None  # cut: more to try than are read (the inventory is incomplete)
            return
        try:
            im = Image.open(io.BytesIO(data[start:end]))
            im.load()
        except Exception:  # noqa: S112 - not a picture after all: nothing to say
            continue
        if im.width >= MIN_WIDTH and im.height >= MIN_HEIGHT:
            found += 1
            yield start, im


#: JPEG segments a redacted copy keeps: JFIF's (APP0) and Adobe's colour transform (APP14),
#: which decoding needs; EXIF and its thumbnail, XMP, ICC and MPF, Photoshop's, comments go.
_KEPT = (0xE0, 0xEE)


def _scan_start(data: bytes) -> int | None:
    """Where the JPEG's first scan (SOS) starts, or None when its segments do not lead there."""
    return next((pos for marker, pos, _ in _markers(data, 0) if marker == 0xDA), None)


def jpeg_without_metadata(data: bytes) -> bytes:
    """A JPEG's bytes without its metadata segments (and whatever pictures they carry) and
    without anything after its end: the picture drawn is unchanged. Bytes that are no JPEG
    come back as they are."""
    if not data.startswith(b"\xff\xd8\xff"):
        return data
    scan = _scan_start(data)
    if scan is not None and (eoi := data.find(b"\xff\xd9", scan)) >= 0:
        data = data[: eoi + 2]  # what follows the picture's end (an appended picture) goes
    dropped = [
        (start - 4, end)
        for start, end in _segments(data, 0)
        if data[start - 3] not in _KEPT
        and (0xE0 <= data[start - 3] <= 0xEF or data[start - 3] == 0xFE)
    ]
    if not dropped:
        return data
    out, pos = [], 0
    for start, end in dropped:
        out.append(data[pos:start])
        pos = end
    out.append(data[pos:])
    return b"".join(out)
