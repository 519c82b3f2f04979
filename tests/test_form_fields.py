"""A name written in a form's fields (an identity card, a registry extract, a detention record:
"الاسم: أحمد⏎الشهرة: الخطيب") is one name to its reader, and to the leak check: an adversary
found such a card's text passed, its labels standing between the given and the family name."""

from __future__ import annotations

from pathlib import Path

import pytest

from amanah.sharing import SharingError
from amanah.sharing.protected import Matcher
from amanah.text import formfields
from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN


def _matcher() -> Matcher:
    return Matcher.of([("Witness A", [WITNESS_LATIN, WITNESS_AR])])


@pytest.mark.parametrize(
    "text",
    [
        "الاسم: أحمد\nالشهرة: الخطيب\nاسم الأب: محمود\nاسم الأم: فاطمة\nمحل الولادة: حلب",
        "الاسم: أحمد\nاسم الأب: محمود\nالنسبة: الخطيب",
        "الإسم أحمد\nالكنية الخطيب",  # OCR dropped the colons
        "الاسم: أحمد\tاسم الأب: محمود\tالشهرة: الخطيب",  # a line of fields
        "الاسم\nأحمد\nالشهرة\nالخطيب",  # a table's cells, a line each
        "Given name: Ahmad\nFamily name: al-Khatib",
        "First Name: Ahmad\nDate of birth: 1990\nLast Name: al-Khatib",
        "Given name: Ahmad    Surname: al-Khatib",
        "Surname: AL-KHATIB\nGiven names: AHMAD",  # a register's order
        "Nom : AL-KHATIB\nPrénom : Ahmad",
        "1. Name: Ahmad\n2. Father's name: Mahmoud\n3. Family name: al-Khatib",
        # an adversary's (stop 51, second round): OCR's one line, bilingual labels, other
        # languages, leaders, bars, hidden characters, exports, a register's columns
        "الاسم: أحمد الشهرة: الخطيب",
        "Given names / Prénoms: AHMAD\nSurname / Nom: AL-KHATIB",
        "Adı / Name: AHMAD\nSoyadı / Surname: AL-KHATIB",
        "Given name(s): Ahmad\nSurname(s): al-Khatib",
        "Vorname: Ahmad\nFamilienname: al-Khatib",
        "الاسم الشخصي: أحمد\nالاسم العائلي: الخطيب",
        "الاســم: أحمد\nالشهرة: الخطيب",  # tatweel
        "الاسم: أحمد ........ الشهرة: الخطيب",
        "الاسم:\u00a0أحمد\n\u00a0الشهرة:\u00a0الخطيب",
        "| الاسم | أحمد |\n| الشهرة | الخطيب |",
        "\u202bالاسم: أحمد\u202c\n\u202bالشهرة: الخطيب\u202c",
        "الاسم: أحمد\rالشهرة: الخطيب",
        "أ- الاسم: أحمد\nب- الشهرة: الخطيب",
        "(1) Name: Ahmad\n(2) Surname: al-Khatib",
        '{"given_name":"Ahmad","family_name":"al-Khatib"}',
        '{"الاسم": "أحمد", "الشهرة": "الخطيب"}',
        "givenName: Ahmad\nfamilyName: al-Khatib",
        "given_name=Ahmad&family_name=al-Khatib",
        "Name: Ahmad<br>Surname: al-Khatib",
        "first,father,last\nأحمد,محمود,الخطيب",
        "#,Given name,Age,Family name\n1,Ahmad,34,al-Khatib",
        "Detainees\n#|Name|Father|Surname\n1|Ahmad|Mahmoud|al-Khatib",
    ],
)
def test_a_name_in_a_forms_fields_is_found(text: str) -> None:
    assert _matcher().names(text) == {"Witness A"}, formfields.reading(text)


@pytest.mark.parametrize(
    "text",
    [
        "الاسم: عمر\nالشهرة: الخطيب",  # another of the family
        "Given name: Ahmad\nFamily name: Hassan",
        "Name: Omar Said\nFather's name: Ahmad",
        "The name Ahmad was common in the village; al-Khatib was the imam's family.",
        "الاسم: أحمد",  # one field: a name as written, read as such
        # two people's records: a blank line, or a label again, starts the next
        "Name: Ahmad Yusuf\nAge: 30\n\nName: Khalid al-Khatib",
        "Applicant\nName: Ahmad Hassan\nSpouse\nName: Mariam al-Khatib",
        "Name,Father,Surname\nOmar,Ahmad,Hassan\nKhaled,Ali,al-Khatib",
        # words that begin like a label are no label
        "جدول الأسماء يتضمن أحمد\nجد الخطيب",
        "Nominees: Ahmad\nNominee: al-Khatib",
    ],
)
def test_fields_that_make_no_protected_name_find_none(text: str) -> None:
    assert _matcher().names(text) == set(), formfields.reading(text)


@pytest.mark.parametrize(
    ("recorded", "text"),
    [
        ("أمجد الخطيب", "الاسم\nأمجد\nالشهرة\nالخطيب"),  # أمجد begins as أم (mother)
        ("أحمد الأمين", "الاسم\nأحمد\nالشهرة\nالأمين"),
        ("Noman al-Khatib", "Name\nNoman\nSurname\nal-Khatib"),
    ],
)
def test_a_value_that_begins_like_a_label_is_read_whole(recorded: str, text: str) -> None:
    assert Matcher.of([("W", [recorded])]).names(text) == {"W"}, formfields.reading(text)


def test_a_note_with_a_name_in_fields_is_refused_at_rest() -> None:
    """The fields cannot be replaced in place by one pseudonym, so the note is refused rather
    than kept with the name in clear."""
    with pytest.raises(SharingError):
        _matcher().at_rest("Visit notes.\nGiven name: Ahmad\nFamily name: al-Khatib")


def test_an_identity_card_typed_in_a_docx_table_is_refused(tmp_path: Path) -> None:
    import docx

    from amanah.processing import inventory

    matcher = _matcher()
    for given, named in (("أحمد", True), ("عمر", False)):
        document = docx.Document()
        table = document.add_table(rows=4, cols=2)
        rows = [("الاسم", given), ("الشهرة", "الخطيب"), ("اسم الأب", "محمود")]
        rows.append(("محل الولادة", "حلب"))
        for i, (label, value) in enumerate(rows):
            table.cell(i, 0).text, table.cell(i, 1).text = label, value
        path = tmp_path / f"card-{named}.docx"
        document.save(path)
        work = tmp_path / f"work-{named}"
        work.mkdir()
        inv = inventory.of_file(path, path.name, work)
        places = {p.place for p in inv.parts if matcher.names(p.text)}
        assert inv.complete and bool(places) is named, places
        if named:  # the body text and the table's own place both
            assert {"the body text", "a table in the DOCX body"} <= places, places


def test_hostile_runs_of_spaces_digits_and_labels_are_read_in_one_pass() -> None:
    """A first version tried a gap of spaces from each of its characters: 2,000 spaces before
    a colon took over a minute. Each of these 200 kB texts now takes milliseconds; seconds
    would mean the pass is no longer linear."""
    import time

    for text in (
        " " * 200_000 + ":\n",
        "\t" * 200_000 + ":",
        "  \t|" * 50_000 + "x:\n",
        "1" * 200_000 + ":\n",
        ("\n" + "1" * 100) * 2_000 + ":",
        ("Name" + " " * 5) * 40_000 + ":",
        "الاسم: " * 30_000 + "\n",
        "name," * 50_000,
        "first,last\nx\n" * 20_000,  # a header every other line
        '{"given_name":"N","family_name":"F"},' * 10_000,
        "_" * 24 + "name" * 50_000,
        "Name: x " * 120_000,  # one line of fields: its start looked for once (was 8.7 s)
        "Columns: " + "Name / " * 40_000,  # a chain of labels, read once (was quadratic)
        "Interviewer name: x " * 50_000,
    ):
        started = time.process_time()
        formfields.reading(text)
        assert time.process_time() - started < 5.0, text[:20]  # quadratic: minutes
