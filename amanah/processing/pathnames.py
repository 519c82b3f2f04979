"""A file's name as people wrote it, from bytes whose code page nobody recorded.

A zip made on an Arabic Windows records its members' names in DOS Arabic or Windows-1256,
with no flag saying which; a folder copied from an old disk keeps such names too. Amanah keeps
the bytes as they were and shows them escaped (`intake.preserve.display`); search and the
leak check read the name here, so a witness's name in a file name is found in either form.
"""

from __future__ import annotations

import re

from amanah.processing.textfile import decode_text
from amanah.text.codepages import ARABIC_PAGES, other_pages

_ARABIC_LETTERS = re.compile("[\u0621-\u064a\u066e-\u06d3\ufb50-\ufdff\ufe70-\ufefc]")


def read_name(raw: bytes) -> str:
    """UTF-8, else the code page the bytes read best in. A name is short for a detector: when
    its choice does not read as Arabic, the Arabic code pages are tried (DOS Arabic is what
    Windows' own zip writes there), each kept only when its letters are Arabic."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    chosen = decode_text(raw)[0]
    for text in (chosen, *(raw.decode(enc, "replace") for enc in ("cp1256", *ARABIC_PAGES))):
        arabic = len(_ARABIC_LETTERS.findall(text))
        if arabic >= 3 and arabic >= 2 * (sum(c.isalpha() for c in text) - arabic):
            return text
    return chosen


def other_readings(raw: bytes) -> list[str]:
    """A name not in UTF-8 read in the code pages of Hebrew, Greek and Cyrillic where it reads
    as words of their scripts (`אחמד` in Windows-1255, `Ахмад` in DOS Cyrillic, which a
    Russian Windows' zip writes): nothing tells which page a name was written in, so the
    leak check reads each."""
    try:
        raw.decode("utf-8")
        return []
    except UnicodeDecodeError:
        pass
    return list(dict.fromkeys(text for _enc, text in other_pages(raw)))
