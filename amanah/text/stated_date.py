"""The date a document states on its date line ("دمشق في ١٥ آذار ٢٠١٣", "15 March 2013").

A letter, memo, report or statement says when it was written near its top. That is the
document's date when its metadata records none; the file's modification time never is (it is
the copier's). Only the first `WINDOW` characters are read (the date line is there, and a
50 MB text costs no more than a short one), and the first plausible date found is taken.

Why not `dateparser` (1.4.3, tried on the forms below): it reads "١٥ آذار ٢٠١٣" and
"15 كانون الثاني 2013" as the year alone with today's day and month filled in, takes "at 09:15"
and a bare "عام ٢٠١٢" for dates and "رقم 15/3/2013" (a reference) for one, and takes seconds to
import; the forms a date line takes are few and fixed, so explicit month tables and four
patterns read them exactly, tested against negative controls (tests/test_document_date.py).

Read: Western and Eastern Arabic digits; `15/3/2013`, `15.3.2013`, `15-3-2013` (day first, the
Syrian reading, unless only the other reading is a date); `2013-03-15`, `2013/3/15`;
`15 March 2013`, `March 15, 2013`; Levantine (كانون الثاني … كانون الأول), Egyptian (يناير …) and
Maghrebi (جانفي …) month names. Hijri dates (followed by هـ) are recognised and skipped, not
converted. Rejected: impossible days (31 February), years outside 1900..today+1y, numbers
joined to more digits (phone and reference numbers), dates right after a reference word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

#: Characters read from the start of the text: the first page, where a date line is.
WINDOW = 2_000
EARLIEST = 1900

# One character for one, so offsets in the folded text are offsets in the original.
_FOLD = str.maketrans(
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹أإآىة",
    "01234567890123456789ااايه",
)

_ARABIC_MONTHS: dict[int, tuple[str, ...]] = {
    1: ("كانون الثاني", "يناير", "جانفي", "جانفييه"),
    2: ("شباط", "فبراير", "فيفري"),
    3: ("اذار", "مارس"),
    4: ("نيسان", "ابريل", "افريل"),
    5: ("ايار", "مايو", "ماي"),
    6: ("حزيران", "يونيو", "يونيه", "جوان"),
    7: ("تموز", "يوليو", "يوليه", "جويليه", "يوليوز"),
    8: ("اب", "اغسطس", "اوت", "غشت"),
    9: ("ايلول", "سبتمبر", "شتنبر"),
    10: ("تشرين الاول", "اكتوبر"),
    11: ("تشرين الثاني", "نوفمبر", "نونبر"),
    12: ("كانون الاول", "ديسمبر", "دجنبر"),
}
_ENGLISH_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_ABBREVIATIONS = {"sept": 9} | {m[:3]: i for i, m in enumerate(_ENGLISH_MONTHS, 1)}

MONTHS: dict[str, int] = {
    **{name: n for n, names in _ARABIC_MONTHS.items() for name in names},
    **{name: i for i, name in enumerate(_ENGLISH_MONTHS, 1)},
    **_ABBREVIATIONS,
}
# Longest first, so "كانون الثاني" is not read as a shorter name; spaces may be several.
_MONTH = "|".join(
    re.escape(m).replace(r"\ ", r"\s+") for m in sorted(MONTHS, key=len, reverse=True)
)
# A month name is a word of its own (Arabic may prefix و or ب: "وآذار" is not a date line).
_W = r"(?<![\w])"
_E = r"(?![\w])"
_D = r"(?<![\d/.\-+])"  # not the tail of a longer number (phone, reference, decimal)
_Z = r"(?![\d]|[/.\-]\d)"  # nor its head

_PATTERNS = [
    # 2013-03-15, 2013/3/15
    ("ymd", re.compile(rf"{_D}(\d{{4}})([/.\-])(\d{{1,2}})\2(\d{{1,2}}){_Z}")),
    # 15/3/2013, 15.03.2013, 15-3-2013
    ("dmy", re.compile(rf"{_D}(\d{{1,2}})([/.\-])(\d{{1,2}})\2(\d{{4}}){_Z}")),
    # 15 March 2013, 15th of March, 2013, ١٥ آذار ٢٠١٣, 15 من شهر آذار لعام 2013
    (
        "d_name_y",
        re.compile(
            rf"{_D}(\d{{1,2}})(?:st|nd|rd|th)?\s*(?:of\s+)?(?:من\s+)?(?:شهر\s+)?{_W}({_MONTH}){_E}"
            rf"\s*,?\s*(?:(?:سنه|عام|لعام|لسنه)\s+)?(\d{{4}}){_Z}",
            re.IGNORECASE,
        ),
    ),
    # March 15, 2013
    (
        "name_d_y",
        re.compile(
            rf"{_W}({_MONTH}){_E}\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(\d{{4}}){_Z}",
            re.IGNORECASE,
        ),
    ),
]
# Just before a number, these make it a reference or a phone, not a date line (the text is
# folded: ة is ه, أ إ آ are ا).
_REFERENCE = re.compile(
    r"(?:\b(?:ref|reference|no|number|tel|phone|fax|mobile|id)\.?|#|"
    r"رقم|الرقم|العدد|هاتف|الهاتف|جوال|فاكس|المرجع)\s*[:：.]?\s*$",
    re.IGNORECASE,
)
# Just after: a Hijri date (هـ), to be skipped.
_HIJRI_AFTER = re.compile(r"^\s*(?:هـ|ه(?!\w)|هجري|AH\b)")


@dataclass(frozen=True)
class StatedDate:
    """A date a text states, and where: `start`..`end` are offsets into the text read."""

    day: date
    start: int
    end: int


def _parts(kind: str, m: re.Match[str]) -> tuple[int, int, int] | list[tuple[int, int, int]]:
    """(year, month, day) readings of a match, best first."""
    g = m.groups()
    if kind == "ymd":
        return int(g[0]), int(g[2]), int(g[3])
    if kind == "dmy":
        first, second, year = int(g[0]), int(g[2]), int(g[3])
        # Day first (the Syrian reading); the other only when day first is no date.
        return [(year, second, first), (year, first, second)]
    if kind == "d_name_y":
        return int(g[2]), MONTHS[_month_key(g[1])], int(g[0])
    return int(g[2]), MONTHS[_month_key(g[0])], int(g[1])


def _month_key(name: str) -> str:
    return " ".join(name.lower().split())


def _valid(y: int, mo: int, d: int, latest: date) -> date | None:
    try:
        day = date(y, mo, d)
    except ValueError:
        return None
    return day if y >= EARLIEST and day <= latest else None


def stated_date(text: str, today: date | None = None) -> StatedDate | None:
    """The first plausible date the start of `text` states, or None."""
    head = text[:WINDOW].translate(_FOLD)
    latest = (today or date.today()) + timedelta(days=366)
    found: list[StatedDate] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(head):
            if found and m.start() >= min(f.start for f in found):
                break  # a later one cannot be the first
            if _REFERENCE.search(head[max(0, m.start() - 16) : m.start()]):
                continue
            if _HIJRI_AFTER.match(head[m.end() : m.end() + 8]):
                continue
            readings = _parts(kind, m)
            for y, mo, d in readings if isinstance(readings, list) else [readings]:
                if (day := _valid(y, mo, d, latest)) is not None:
                    found.append(StatedDate(day, m.start(), m.end()))
                    break
            else:
                continue
            break
    return min(found, key=lambda f: f.start) if found else None
