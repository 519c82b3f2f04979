"""Words that are names: what may stand between a person's given name and family name.

An Arabic name in full is a chain: the given name, the father's, often the grandfather's,
then the family name (أحمد محمود الخطيب, "Ahmad bin Mahmoud al-Khatib"). A register, an
identity card, a court record or a list of detainees writes it so, while a witness is usually
recorded by the two names people call them. The matcher lets up to `MAX_BETWEEN` such words
stand before a recorded name's last word; this module says which words may: a name part the
romaniser's dictionary attests as a given name in the Arab world (`MIN_COUNT` times or more,
in Arabic letters or Latin), an initial, or
the connectors bin, ibn, bint (بن، ابن، بنت). Not a word with the Arabic article (a family
name or a title: السيد، الشيخ), not a preposition that folds onto a name (على is علي folded),
and a Latin word only when it is written with a capital ("Ahmad said Khatib" is a sentence).
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
                if len(words) == 1:
                    counts[words[0]] = counts.get(words[0], 0) + count
    out = {word for word, count in counts.items() if count >= MIN_COUNT}
    return frozenset(out)


def between(raw: str, folded: str) -> bool:
    """Whether a word of a text (`raw` its token as written, `folded` the word) may stand
    between a name's given name and its family name."""
    if folded in CONNECTORS:
        return True
    if nk.is_latin(folded):
        if not raw.lstrip(_APOSTROPHES)[:1].isupper():  # 'Abbas, ʿAli
            return False
        return len(folded) == 1 or folded in _attested()
    if not nk.is_arabic(folded) or raw in NOT_BETWEEN or folded.startswith("ال"):
        return False
    return folded in _attested()


# A line break or a list's punctuation: names on either side are two people ("Ahmad Hassan⏎
# Omar al-Khatib", "Ahmad, Mahmoud al-Khatib"), not one name with a father's name between.
_LIST_BREAK = re.compile("[\n\r\v\f,;:|/()\\[\\]{}\u060c\u061b\u2022\u2028\u2029]")
_NOT_A_MARK = re.compile(r"\w")


def parted(before: str, after: str, folded: str) -> bool:
    """Whether what stands before and after a word between two names (the text between the
    tokens, or a token's own punctuation) parts them: a line break, a comma, a semicolon…
    An initial's full stop does not."""
    after = _NOT_A_MARK.sub("", after)
    if len(folded) == 1:
        after = after.lstrip(".")
    return bool(_LIST_BREAK.search(before) or _LIST_BREAK.search(after))
