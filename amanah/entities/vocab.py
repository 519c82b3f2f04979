"""The closed vocabularies of entities, names and relations, and dates with a precision."""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date


class EntityError(Exception):
    """A request about entities that cannot be done as asked (exit 2, HTTP 400/404)."""


KINDS = ("person", "organisation", "facility", "place")
NAME_KINDS = ("official", "alias", "transliteration", "kunya", "nickname")
RELATION_KINDS = (
    "member_of",
    "commands",
    "subordinate_of",
    "holds_post",
    "operates",
    "held_at",
    "located_in",
    "family",
    "associate",
    "same_as",
)
CONFIDENCE = ("low", "medium", "high")
STATUS = ("alleged", "confirmed", "disputed")
STANCES = ("supports", "contradicts")
PRECISIONS = ("day", "month", "year", "approximate")


def choose(value: str, allowed: tuple[str, ...], what: str) -> str:
    v = value.strip().lower().replace("-", "_") if what == "relation kind" else value.strip()
    if v not in allowed:
        raise EntityError(f"unknown {what} {value!r}: choose among {', '.join(allowed)}")
    return v


@dataclass(frozen=True)
class PartialDate:
    """A date known to a day, a month, a year, or approximately ('~' before it)."""

    first: date  # the first day the statement covers
    last: date  # the last day it covers
    precision: str

    def text(self, which: str = "first") -> str:
        d = self.first if which == "first" else self.last
        if self.precision == "year":
            return f"{d.year:04d}"
        if self.precision == "month":
            return f"{d.year:04d}-{d.month:02d}"
        return ("~" if self.precision == "approximate" else "") + d.isoformat()


_DATE = re.compile(r"^(~)?(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def parse_date(value: str, what: str = "date") -> PartialDate:
    """'2012', '2012-03', '2012-03-05', '~2012' (approximate) into the days they cover."""
    m = _DATE.match(value.strip())
    if not m:
        raise EntityError(
            f"{what} {value!r} is not YYYY, YYYY-MM or YYYY-MM-DD (prefix ~ when approximate)"
        )
    approx, y, mo, d = m.group(1), int(m.group(2)), m.group(3), m.group(4)
    try:
        if d is not None:
            first = last = date(y, int(mo), int(d))
            precision = "day"
        elif mo is not None:
            first = date(y, int(mo), 1)
            last = date(y, int(mo), calendar.monthrange(y, int(mo))[1])
            precision = "month"
        else:
            first, last, precision = date(y, 1, 1), date(y, 12, 31), "year"
    except ValueError as exc:
        raise EntityError(f"{what} {value!r}: {exc}") from None
    return PartialDate(first, last, "approximate" if approx else precision)


def show_date(d: date | None, precision: str) -> str:
    if d is None:
        return ""
    if precision == "year":
        return f"{d.year:04d}"
    if precision == "month":
        return f"{d.year:04d}-{d.month:02d}"
    return ("~" if precision == "approximate" else "") + d.isoformat()


def script_of(text: str) -> str:
    """The ISO 15924 code of the script most letters of the text are written in."""
    counts: dict[str, int] = {}
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        code = (
            "Arab"
            if name.startswith("ARABIC")
            else "Latn"
            if name.startswith("LATIN")
            else "Cyrl"
            if name.startswith("CYRILLIC")
            else "Zyyy"
        )
        counts[code] = counts.get(code, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else "Zyyy"
