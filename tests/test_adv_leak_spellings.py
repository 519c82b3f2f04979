"""A protected name as other languages' documents write it (two adversaries', stop 52): in
Russian, Greek and Hebrew letters, in German, Spanish, Turkish, Kurdish, Azeri, Russian-
English and scholars' transliterations, with ق written g or gh, with a line-end hyphen
left in running text, a kunya or nickname in brackets or quotes, a lineage (bin, ibn, b.).
Witness A is recorded as "Ahmad al-Khatib" and "أحمد الخطيب", Witness C as "Fatima Qasim" and
"فاطمة قاسم"; other people's names in the same orthographies are not named (the negatives)."""

from __future__ import annotations

import pytest

from amanah.sharing.protected import Matcher
from amanah.text import orthographies


def _matcher() -> Matcher:
    return Matcher.of(
        [
            ("Witness A", ["Ahmad al-Khatib", "أحمد الخطيب"]),
            ("Witness C", ["Fatima Qasim", "فاطمة قاسم"]),
        ]
    )


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("Ахмад аль-Хатиб", "Witness A"),  # Russian
        ("АХМЕД АЛЬ-ХАТИБ", "Witness A"),
        ("Akhmed al-Khatib", "Witness A"),  # Russian-English
        ("Achmad al-Chatib", "Witness A"),  # German
        ("Achmed al-\nChatib", "Witness A"),
        ("Ahmad al-Jatib", "Witness A"),  # Spanish
        ("Ahmet el-Hatip", "Witness A"),  # Turkish
        ("Ehmed Xetîb", "Witness A"),  # Kurmanji
        ("Ahmad al-Xatib", "Witness A"),  # Azeri
        ("Αχμάντ αλ-Χατίμπ", "Witness A"),  # Greek
        ("אחמד אל-ח'טיב", "Witness A"),  # Hebrew
        ("Aḥmad al-Ḫaṭīb", "Witness A"),  # DMG
        ("Ahmad al-Kha- tib", "Witness A"),  # a line-end hyphen left in running text
        ("Ah- mad al-Khatib", "Witness A"),
        ("Fatima Gasim", "Witness C"),  # ق as g (Iraqi, Gulf, Sudanese)
        ("Fatima Gassim", "Witness C"),
        ("Fatemeh Ghasem", "Witness C"),  # Persian
        ("Ahmad (Abu Khaled) al-Khatib", "Witness A"),  # a kunya in brackets
        ("Ahmad (Mahmoud) al-Khatib", "Witness A"),  # a father's name, as registers write it
        ("أحمد (أبو خالد) الخطيب", "Witness A"),
        ("أحمد ( أبو عمر ) الخطيب", "Witness A"),
        ('Ahmad "the teacher" al-Khatib', "Witness A"),  # a nickname in quotes
        ("أحمد بن محمود بن علي الخطيب", "Witness A"),  # a lineage
        ("Ahmad ibn Mahmoud ibn Ali al-Khatib", "Witness A"),
        ("Ahmad b. Mahmoud al-Khatib", "Witness A"),
    ],
)
def test_the_name_as_other_orthographies_write_it_is_found(text: str, who: str) -> None:
    said = f"The statement of {text} was taken at the centre.\nIt was read back."
    assert _matcher().names(said) == {who}, orthographies.readings(said)


@pytest.mark.parametrize(
    "text",
    [
        "Ахмад Петров",  # another Ahmad
        "Михаил Хатибов",
        "Achim Schmidt",
        "Juan Jose Ahmad",
        "Mehmet Hatip",
        "Xavier Ahmad",
        "Fatima Gallagher",
        "the old-fashioned Chatib- ish style",
        "Ahmad. (Khaled) said al-Khatib",
        "أحمد. (أبو خالد) قال الخطيب",
    ],
)
def test_other_people_in_those_orthographies_are_not_named(text: str) -> None:
    said = f"The statement of {text} was taken at the centre."
    assert _matcher().names(said) == set(), orthographies.readings(said)


def test_the_readings_cost_what_their_lines_hold() -> None:
    """Each orthography's reading is of the lines that hold it (and their neighbours): a text
    of 400,000 lines with one Russian word gets readings of three lines, not copies of all."""
    text = "an English line of a long report\n" * 200_000 + "Ахмад\n" + "more\n" * 200_000
    out = orthographies.readings(text)
    assert out and all(len(r) < 200 for r in out)
