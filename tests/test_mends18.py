"""One matcher for "does this text name a protected person" (as stored, or as a reader's eye
takes it), one helper for free text at rest; person lists without a header row; `amanah
upgrade` re-parses entity names when the name-parts parser changed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from amanah.access import local_administrator
from amanah.analyst import AnalystError
from amanah.sharing import SharingError
from amanah.sharing.protected import Matcher
from amanah.sharing.protected_readings import readings
from tests.conftest import amanah

PSEUDONYM = "Witness A"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.of([(PSEUDONYM, ["أحمد الخطيب", "Ahmad al-Khatib"])])


HIDDEN = {
    "split by markup": "met <b>Ah</b>mad al-Khatib there",
    "entity in the name": "met Ah&shy;mad al-Khatib there",
    "a line tag between the words": "met Ahmad<br>al-Khatib there",
    "spaced out": "met A.h.m.a.d al-Khatib there",
    "Arabic spaced out": "التقيت ا ح م د الخطيب هناك",
}


def test_a_name_glued_by_a_joiner_is_one_word_sealed_and_replaced_in_place(
    matcher: Matcher,
) -> None:
    """Hidden before the spellings were also sealed run together (`sealing.glued_slots`):
    the joiner is folded away, and the one word left is the name's."""
    text = "التقيت أحمد\u200cالخطيب هناك"
    assert matcher.names(text) == {PSEUDONYM}
    assert matcher.at_rest(text, "the note", AnalystError) == ("التقيت [Witness A] هناك", 1)


@pytest.mark.parametrize("case", sorted(HIDDEN))
def test_names_reads_a_text_as_a_reader_does(matcher: Matcher, case: str) -> None:
    text = HIDDEN[case]
    assert matcher.names(text) == {PSEUDONYM}
    # The name is not there as stored: only a reading shows it, so it cannot be replaced.
    assert matcher.hidden(matcher.pseudonymise(text)[0]) == {PSEUDONYM}
    with pytest.raises(AnalystError) as e:
        matcher.at_rest(text, "the note", AnalystError)
    assert str(e.value).startswith("the note names a protected person in a form that cannot")
    assert "Ahmad" not in str(e.value) and "أحمد" not in str(e.value)


@pytest.mark.parametrize(
    "text",
    [
        "met <b>Ah</b>med al-Karim there",  # another person, split the same way
        "met A.h.m.e.d Karim there",
        "التقيت أحمد\u200cالكريم هناك",
        "Witness <i>A</i> said so",
        "the 1.2.3 release <br> of a tool",
    ],
)
def test_the_same_forms_without_the_name_are_not_refused(matcher: Matcher, text: str) -> None:
    assert matcher.names(text) == set()
    assert matcher.at_rest(text) == (text.strip(), 0)


def test_at_rest_replaces_what_it_can_and_strips(matcher: Matcher) -> None:
    kept, n = matcher.at_rest("  met Ahmad al-Khatib and أحمد الخطيب  ")
    assert (kept, n) == (f"met [{PSEUDONYM}] and [{PSEUDONYM}]", 2)
    with pytest.raises(SharingError):  # the default reason's class
        matcher.at_rest("met <b>Ah</b>mad al-Khatib")
    assert matcher.at_rest("   ") == ("", 0)


def test_readings_never_repeat_the_text_or_each_other() -> None:
    assert readings("plain words") == []
    found = readings("<b>Ah</b>mad")
    assert "Ahmad" in found and len(found) == len(set(found))


def test_an_empty_matcher_names_nothing() -> None:
    empty = Matcher(b"\0" * 32, [])
    assert empty.names(HIDDEN["split by markup"]) == set()
    assert empty.at_rest(" a note ") == ("a note", 0)


# -- person lists without a header row ---------------------------------------------------------

ROWS = [
    ["101", "محمد أحمد عبد الله الحلبي", "ذكر", "35"],
    ["102", "فاطمة علي حسن الخطيب", "أنثى", "30"],
    ["103", "سعيد حسن الأحمد", "ذكر", "41"],
]


def _csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def test_no_header_reads_the_first_row_as_a_record(sqlite_home: Path, tmp_path: Path) -> None:
    path = _csv(tmp_path / "bare.csv", ROWS, "cp1256")
    done = amanah(
        sqlite_home,
        *("persons", "import", str(path), "--list", "Bare", "-q", "--json"),
        *("--no-header", "--columns", "id,full_name,sex,age", "--key", "id"),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert (report["rows"], report["imported"], report["bad"]) == (3, 3, 0)
    lines = amanah(sqlite_home, "persons", "records", "Bare", "--json", check=True).stdout
    records = {r["key"]: r for r in map(json.loads, lines.splitlines())}
    assert sorted(records) == ["101", "102", "103"]
    assert records["101"]["full_name"] == ROWS[0][1]
    assert records["102"]["sex"] == "f"
    shown = json.loads(amanah(sqlite_home, "persons", "show", "Bare", "--json").stdout)
    assert shown["mapping"]["full_name"] == "full_name"
    assert not any("no column header is known" in n for n in shown["report"]["notes"])
    # The first row's line is its own: a bad cell there is reported at line 1.
    bad = _csv(tmp_path / "bad.csv", [["201", "خالد عمر", "ذكر", "31/02/1990"], *ROWS[1:]])
    done = amanah(
        sqlite_home,
        *("persons", "import", str(bad), "--list", "Bad", "-q"),
        *("--no-header", "--columns", "id,full_name,sex,birth_date", "--key", "id"),
    )
    assert done.returncode == 1
    assert "line 1: not imported: column 4 (birth_date): not a possible date" in done.stdout
    assert "خالد" not in done.stdout


def test_without_no_header_the_first_row_is_a_header(sqlite_home: Path, tmp_path: Path) -> None:
    """Negative control: the same file read as before: its first row is taken as a header."""
    path = _csv(tmp_path / "bare.csv", ROWS)
    done = amanah(
        sqlite_home,
        *("persons", "import", str(path), "--list", "H", "-q", "--json"),
        *("--map", "full_name=2"),
    )
    assert json.loads(done.stdout)["rows"] == 2


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--columns", "id,full_name"], "--columns names the columns of a file without a header"),
        (["--no-header"], "--no-header needs --columns"),
        (["--no-header", "--columns", "id,,sex"], "--no-header needs --columns"),
        (["--no-header", "--columns", "id,id"], "--columns names a column twice"),
    ],
)
def test_columns_asked_wrongly_is_exit_2(
    sqlite_home: Path, tmp_path: Path, args: list[str], reason: str
) -> None:
    path = _csv(tmp_path / "bare.csv", ROWS)
    done = amanah(sqlite_home, "persons", "import", str(path), "--list", "W", "-q", *args)
    assert done.returncode == 2
    assert reason in done.stdout + done.stderr


# -- amanah upgrade ----------------------------------------------------------------------------


def test_upgrade_reparses_names_when_the_parser_changed(
    sqlite_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amanah.entities import parser_version as pv
    from amanah.workspace import open_workspace

    amanah(sqlite_home, "entity", "add", "person", "محمد أحمد الحلبي", check=True)
    first = json.loads(amanah(sqlite_home, "upgrade", "--json", check=True).stdout)
    assert first["was"] is None and first["parsed"] == 1  # never recorded: parsed once
    again = json.loads(amanah(sqlite_home, "upgrade", "--json", check=True).stdout)
    assert again["parsed"] == 0 and again["was"] == again["parser"] == first["parser"]

    # A new parser (here its number raised) makes the next upgrade parse every name again.
    monkeypatch.setattr(pv, "PARSER_VERSION", pv.PARSER_VERSION + 1)
    ws = open_workspace(sqlite_home, create=False)
    try:
        caller = local_administrator(ws, "tester")
        with ws.db.session() as s:
            done = pv.reparse_if_changed(s, caller)
        assert done["parsed"] == 1 and done["was"] == first["parser"] != done["parser"]
        with ws.db.session() as s:
            assert pv.reparse_if_changed(s, caller)["parsed"] == 0
    finally:
        ws.db.dispose()


def test_upgrade_on_a_home_without_names_records_nothing(sqlite_home: Path) -> None:
    from amanah.entities.parser_version import PARSER_VERSION

    done = amanah(sqlite_home, "upgrade", check=True)
    assert done.stdout.startswith(f"up to date: 0 names parsed with parser {PARSER_VERSION}:")
    assert json.loads(amanah(sqlite_home, "upgrade", "--json").stdout)["was"] is None
