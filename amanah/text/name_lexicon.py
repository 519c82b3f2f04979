"""Words that are names: what may stand between a person's given name and family name.

An Arabic name in full is a chain: the given name, the father's, often the grandfather's,
then the family name (أحمد محمود الخطيب, "Ahmad bin Mahmoud al-Khatib"). A register, an
identity card, a court record or a list of detainees writes it so, while a witness is usually
recorded by the two names people call them. The matcher lets up to `MAX_BETWEEN` such words
stand before a recorded name's last word; this module says which words may: a given name the
romaniser's dictionary attests in the Arab world (`MIN_COUNT` times or more, in Arabic letters
or Latin; a compound glued and as its words: عبدالله, عبد + الله), an initial, a short form
(Mhd), or the connectors bin, ibn, bint (بن، ابن، بنت). Not a word with the Arabic article (a
family name or a title: السيد، الشيخ) unless a compound's second word, not a preposition that
folds onto a name (على is علي folded), not "said" or "may" in lower case ("Ahmad said Khatib"
is a sentence); and not across what parts two names (`separates`, `parted`): list or sentence
punctuation, a blank line, a list's short line.
"""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache
from pathlib import Path

from amanah.text import names as nk

#: At most this many name words between a recorded name's last two words.
MAX_BETWEEN = 2
#: Times the romaniser's dictionary must attest a given name in the Arab world (below: one-off
#: entries, and Arabic words that are also a rare name: ان، كان).
MIN_COUNT = 10
#: Where the given names a father's name is chosen from come from. Persian, Urdu and Pashto
#: names written in Arabic letters are common Arabic words (أكبر، كبير، رئيس، واحد).
ARAB_COUNTRIES = (
    "SY", "IQ", "LB", "JO", "PS", "EG", "SA", "YE", "AE", "KW", "QA", "BH", "OM", "SD", "LY",
    "TN", "DZ", "MA", "MR", "SO", "DJ", "KM",
)  # fmt: skip
_APOSTROPHES = "'\u2019\u2018\u02bc\u02bb\u02bf\u02be`"
#: How a father's name is shortened in Syrian and Jordanian papers (Mhd, Moh'd, Mohd).
ABBREVIATIONS = frozenset({"mhd", "mohd", "muhd", "mhmd", "moh", "md", "mohamad"})
#: Latin given names that are also common English words in lower case.
ENGLISH = frozenset({"may", "said", "will", "hope", "rose", "faith", "grace", "mark", "dawn"})
CONNECTORS = frozenset({"bin", "ibn", "bint", "ben", "bn", "بن", "ابن", "بنت"})
#: Arabic words that are no name as written, though their folded form is one (على is علي),
#: or that join two names without being one (أو، أم: "or").
NOT_BETWEEN = frozenset({
    "على", "إلى", "الى", "حتى", "لدى", "سوى", "متى", "أم", "ام", "أو", "او", "بين", "أن", "إن",
    "ان", "عليه", "منه", "هنا", "بنى",
})  # fmt: skip


@lru_cache(maxsize=1)
def _attested() -> frozenset[str]:
    """Folded given names the romaniser's dictionary attests MIN_COUNT times or more in the
    Arab world, in Arabic letters and in Latin; empty when the dictionary is absent (then only
    initials and connectors)."""
    try:
        import arabic_name_romanizer

        db = Path(arabic_name_romanizer.__file__).parent / "resources" / "names.sqlite3"
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            rows = con.execute(
                "SELECT arabic_key, latin, country, count FROM units WHERE role = 'given'"
            ).fetchall()
        finally:
            con.close()
    except Exception:  # the package without its dictionary
        return frozenset()
    counts: dict[str, int] = {}
    for arabic, latin, country, count in rows:
        if country in ARAB_COUNTRIES:
            for part in (arabic, latin):
                words = nk.name_words(part)
                # a compound (عبد الله, Abdul Rahman) counts glued and as its words
                for word in {"".join(words), *words} if len(words) > 1 else words:
                    counts[word] = counts.get(word, 0) + count
    out = {word for word, count in counts.items() if count >= MIN_COUNT} | ABBREVIATIONS
    return frozenset(out)


def between(raw: str, folded: str) -> bool:
    """Whether a word of a text (`raw` its token as written, `folded` the word) may stand
    between a name's given name and its family name."""
    if folded in CONNECTORS:
        return True
    if nk.is_latin(folded):
        if len(folded) == 1:  # an initial, written as a capital
            return raw.lstrip(_APOSTROPHES)[:1].isupper()
        if folded in ENGLISH and not raw.lstrip(_APOSTROPHES)[:1].isupper():
            return False  # "Ahmad said al-Khatib" is a sentence
        return folded in _attested() or folded.replace("'", "") in _attested()
    if not nk.is_arabic(folded) or raw in NOT_BETWEEN:
        return False
    if len(folded) == 1:  # an initial (م.), not a particle standing alone (و)
        return folded not in PARTICLES
    if folded.startswith("ال"):  # a title or a family name, unless a compound's second word
        return folded in _compound_tails()
    return folded in _attested()


#: One-letter Arabic words that are particles, not initials.
PARTICLES = frozenset("وفبلكي")


@lru_cache(maxsize=1)
def _compound_tails() -> frozenset[str]:
    """The second words, with the article, of the compound given names of the dictionary
    (الله of عبد الله, الرحمن, الدين of نور الدين), which stand within a name as its father's
    name's second half."""
    tails: set[str] = set()
    for word in _attested():
        for head in ("عبد", "ابو", "نور", "سيف", "شمس", "بدر", "علاء", "جمال", "صلاح"):
            if word.startswith(head + "ال") and len(word) > len(head) + 3:
                tails.add(word[len(head) :])
        if word.endswith("الدين") and len(word) > 6:
            tails.add("الدين")
    return frozenset(tails)


# A list's or a sentence's punctuation, or a paragraph's end: names on either side are two
# people ("Ahmad, Mahmoud al-Khatib", "I saw Ahmad. Mahmoud al-Khatib was …"), not one name
# with a father's name between. Quotes do not part (a nickname).
_LIST_BREAK = re.compile("[,;:|/()\\[\\]{}\u060c\u061b\u2022\u2029.!?\u061f\u2026&+\u2013\u2014]")
#: A blank line (a paragraph's end), or a line break before a list's marker: a number, a
#: bullet, a dash ("1- أحمد حسن⏎2- خالد الخطيب", "• Ahmad Hassan⏎• Khaled al-Khatib").
_BLANK_LINE = re.compile(
    "[\n\v\f\u2028][ \t]*\r?[\n\v\f\u2028]"
    "|[\n\v\f\u2028][ \t\u200e\u200f]*"
    "(?:[0-9\u0660-\u0669\u06f0-\u06f9]|[-*\u2023\u25aa\u25e6\u00b7])"
)


def separates(text: str, start: int, end: int, initial: bool = False) -> bool:
    """Whether text[start:end], between two words of a name, parts two names: list or sentence
    punctuation (an initial's or an abbreviation's full stop aside), a blank line, or a line
    break before a list's marker; not a delimited row's separator with no space around it,
    unless the cells on both sides hold whole names. A line break alone does not: a name
    wraps in a table's cell, a narrow column, a spreadsheet's cell or a form, in any place and
    around any other cells on its lines ("Ahmad Mahmoud⏎Hassan al-Khatib"), and a list a name
    a line cannot be told from it. Erring so withholds two people's names where the other way
    shows a witness's."""
    gap = text[start:end]
    if initial:
        gap = gap.lstrip(".")
    if (cell := _GAP_ARTICLE.sub("", gap)) in _CELL_BREAKS:  # a row's cells: one person's
        # (`1,Ahmad,Mahmoud,al-Khatib`, `1,أحمد محمود,الخطيب`), unless each holds a whole name
        return _whole_names(text, start, end, cell.strip('"'))
    return bool(_LIST_BREAK.search(gap) or _BLANK_LINE.search(gap))


def _whole_names(text: str, start: int, end: int, sep: str) -> bool:
    """Whether the cells on either side of a row's separator each hold words enough for a
    whole name (`Ahmad Hassan,Khaled al-Khatib`: two people), not a name's parts in columns
    (`Ahmad,Mahmoud,al-Khatib`; `Ahmad Mahmoud,al-Khatib`: given and father's, then family)."""
    window = text[max(0, start - CELL) : start]
    before = window[max(window.rfind(sep), window.rfind("\n")) + 1 :]
    after = text[end : end + CELL]
    stops = [i for i in (after.find(sep), after.find("\n")) if i >= 0]
    after = after[: min(stops)] if stops else after
    return bool(_SPACE.search(before.strip(' "')) and _SPACE.search(after.strip(' "')))


CELL = 200  # characters of a cell looked at, at most
_SPACE = re.compile(r"\s")
_GAP_ARTICLE = re.compile("(?i)(?:al|el)[-\u2010]$")
#: What parts a delimited row's cells, written with no space (prose writes one after a comma).
#: (A tab parts no names at all, as before: it is no punctuation.)
_CELL_BREAKS = frozenset({",", ";", "|", '","', '";"'})


_TRAILING = re.compile(r"\W*$")
_LEADING = re.compile(r"^\W*")


def parted(before: str, raw: str, folded: str) -> bool:
    """For tokens of one line given as written (PDF and OCR words): whether the punctuation
    that ends the token before (`before`) or stands around this one (`raw`) parts two names."""
    mark = _TRAILING.search(before)
    after = _TRAILING.search(raw)
    lead = _LEADING.search(raw)
    gap = (mark.group() if mark else "") + (lead.group() if lead else "")
    tail = after.group() if after else ""
    if len(folded) == 1 or folded in ABBREVIATIONS:
        tail = tail.lstrip(".")
    return bool(_LIST_BREAK.search(gap) or _LIST_BREAK.search(tail))
