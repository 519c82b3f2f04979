"""Names written in a form's fields, joined as their reader joins them.

An identity card, a civil-registry extract, a detention record or a form filled in writes one
name in several labelled fields: "الاسم: أحمد⏎الشهرة: الخطيب⏎اسم الأب: محمود", "Given name:
Ahmad   Family name: al-Khatib". A reader takes them as one name; the matcher reads words side
by side, and the labels (and their colons) stand between them. `reading` is the values of a
text's name fields alone, in the order written, joined by spaces: the protected-name readings
add it (`amanah.sharing.protected_readings`), so a name split over fields is found.
"""

from __future__ import annotations

import re

# The labels of the fields that hold a part of a person's name, in Arabic (hamza and taa
# marbuta written or not), English and French, as forms and identity cards print them.
# Longer labels first: the first that matches is taken ("اسم الأب" before "اسم").
_ARABIC = (
    r"(?:[اإأ]سم )?(?:ال)?(?:[اأ]ب|والد|جد|[اأ]م|والدة|والده|عائلة|عائله)",
    r"(?:ال)?[اإأ]سم(?: (?:ال)?[اأ]ول| الكامل| الثلاثي| الرباعي| والشهرة| والنسبة)?",
    r"(?:ال)?(?:شهرة|شهره|كنية|كنيه|لقب|نسبة|نسبه)",
)
_LATIN = (
    r"(?:full |first |given |middle |last |family |maiden |father'?s? |mother'?s? |"
    r"grandfather'?s? )?names?",
    r"surname|forenames?|prénoms?|nom(?: de famille| du père| de la mère)?",
)
_LABEL = "|".join((*_ARABIC, *_LATIN))
# A label at a line's start (after a number, a bullet, bidi marks), its colon optional (OCR
# drops it), or after a tab, a gap of spaces or a bar in a line of fields, its colon written.
# Possessive, and a gap begun only at its first character: a line of a million spaces is
# read in one pass, not tried from each of them.
_FIELD = re.compile(
    rf"(?im)(?:^[ \t\u200e\u200f\u2022*\-\d.)]*+(?:{_LABEL})[ \t]*+[:：\-–=]?"
    rf"|(?<![ \t|])(?=[ \t|]*?(?:\t|  |\|))[ \t|]++(?:{_LABEL})[ \t]*+[:：])[ \t]*+"
)
_END = re.compile(r"\n|\t|  +|\|")
MIN_FIELDS = 2  # one field alone is a name as written: the matcher reads it already


def reading(text: str) -> str | None:
    """The values of the text's name fields, joined in the order written (None with fewer
    than two fields): "أحمد الخطيب محمود" for an identity card's three fields."""
    if ":" not in text and "：" not in text and "\n" not in text:
        return None
    values = []
    for m in _FIELD.finditer(text):
        at = m.end()
        end = _END.search(text, at)
        value = text[at : end.start() if end else len(text)].strip()
        if not value and end and end.group() == "\n":  # the label alone on its line (a
            # table's cells a line each): the value is the next line, unless it is a label
            nxt = text.find("\n", end.end())
            line = text[end.end() : nxt if nxt >= 0 else len(text)]
            if not _FIELD.match(line):
                value = line.strip(" \t|")
        if value:
            values.append(value)
    return " ".join(values) if len(values) >= MIN_FIELDS else None
