"""What OCR makes of Latin letters it confuses, undone: a reading of OCR'd text for the leak check.

OCR reads shapes: `m` as `rn`, `l` as `I` or `1` or `|`, `d` as `cl`, `w` as `vv`, `o` as `0`
inside a word, `h` as `n`. A protected name read from a scan as "Ahrnad aI-Khatib" is the name a
recipient reads in the picture. The reading here puts back the letter each confusion stands
for, inside words only (a number stays a number); the leak check reads OCR'd places this way
too. Arabic OCR confusions (dots lost or added: ح/خ/ج, ب/ت/ث/ن/ي) are not undone here: they
change which letter a name holds, and are left to the spellings recorded.
"""

from __future__ import annotations

import re

#: Confusions inside a word (between letters, or at a word's edge next to a letter).
_PAIRS = (
    (re.compile(r"(?<=[A-Za-z])rn|rn(?=[a-z])"), "m"),
    (re.compile(r"(?<=[a-z])cl(?=[a-z])"), "d"),
    (re.compile(r"(?<=[A-Za-z])vv|vv(?=[a-z])"), "w"),
    (re.compile(r"(?<=[a-z-])[I1|](?=[a-z-])|(?<=[A-Za-z])[I1|](?=\b)"), "l"),
    (re.compile(r"(?<=[a-z])0(?=[a-z])"), "o"),
    (re.compile(r"(?<=[a-z])5(?=[a-z])"), "s"),
)
_HINT = re.compile(r"rn|cl|vv|[a-z-][I1|]|[I1|][a-z-]|[a-z][05][a-z]")


#: `h` read as `n` (its ascender lost to blur or a turned line: "Anmad"): one more reading with
#: every `n` inside a Latin word taken for `h`. A name that also holds a true `n` read so is
#: not found by it; the reading as given still finds every name read right.
_N_FOR_H = re.compile(r"(?<=[A-Za-z])n|n(?=[a-z])")


def readings(text: str) -> list[str]:
    """The other readings of OCR'd text to look for names in: its confusions undone, and that
    with `n` taken for `h` (each only when it differs)."""
    out: list[str] = []
    first = undone(text)
    if first is not None:
        out.append(first)
    base = first if first is not None else text
    if "n" in base:
        second = _N_FOR_H.sub("h", base)
        if second != base:
            out.append(second)
    return out


def undone(text: str) -> str | None:
    """The text with OCR's Latin confusions undone, or None when it holds none."""
    if not _HINT.search(text):
        return None
    out = text
    for pattern, letter in _PAIRS:
        out = pattern.sub(letter, out)
    return out if out != text else None
