"""Person lists attacked with hostile files: a list with no header row (its first row, a
person, must not be quoted as "headers" in an error, a reason or the report), the header
row repeated inside the file (two exports joined: it is not a person), formula cells. The
real command line runs; the file is made by the test."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.conftest import amanah

HEADER = ["رقم", "الاسم الكامل", "الجنس", "تاريخ الميلاد"]
#: The first row of a list without a header: a person, never to be quoted as a header.
FIRST = ["1", "محمد أحمد الحلبي", "ذكر", "31/02/1990"]
SECOND = ["2", "فاطمة علي حسن", "أنثى", "1990"]
THIRD = ["3", "سعيد حسن", "ذكر", "30/02/1991"]


def _csv(path: Path, rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _show(home: Path, name: str) -> dict:
    return json.loads(amanah(home, "persons", "show", name, "--json", check=True).stdout)


def test_a_list_without_header_never_quotes_its_first_row(sqlite_home: Path, tmp_path: Path):
    path = _csv(tmp_path / "no-header.csv", [FIRST, SECOND, THIRD])
    refused = amanah(sqlite_home, "persons", "import", str(path), "--list", "N", "-q")
    assert refused.returncode == 2
    assert "no-header.csv: no column reads as a name" in refused.stderr
    assert "--map full_name=" in refused.stderr
    for cell in FIRST[1:]:
        assert cell not in refused.stdout + refused.stderr

    # Named by number, the columns read; the first row stood for the header: said, not quoted.
    done = amanah(
        sqlite_home,
        *("persons", "import", str(path), "--list", "N", "-q", "--map", "full_name=2"),
        *("--map", "birth_date=4"),
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "line 3: not imported: column 4: not a possible date" in done.stdout
    shown = _show(sqlite_home, "N")
    text = json.dumps(shown, ensure_ascii=False) + done.stdout + done.stderr
    for cell in FIRST[1:]:
        assert cell not in text, cell
    assert shown["mapping"] == {"full_name": "column 2", "birth_date": "column 4"}
    assert any("no column header is known" in n for n in shown["report"]["notes"])


def test_a_known_header_is_still_quoted(sqlite_home: Path, tmp_path: Path) -> None:
    """Negative control: a real header row is named in reasons as before."""
    path = _csv(tmp_path / "with-header.csv", [HEADER, FIRST, SECOND])
    done = amanah(sqlite_home, "persons", "import", str(path), "--list", "H", "-q")
    assert done.returncode == 1
    assert "line 2: not imported: column 4 (تاريخ الميلاد): not a possible date" in done.stdout
    assert _show(sqlite_home, "H")["mapping"]["full_name"] == "الاسم الكامل"


def test_the_header_row_repeated_is_not_a_person(sqlite_home: Path, tmp_path: Path) -> None:
    rows = [HEADER[:3], SECOND[:3], HEADER[:3], THIRD[:3]]  # no date to refuse it by luck
    path = _csv(tmp_path / "joined.csv", rows)
    done = amanah(sqlite_home, "persons", "import", str(path), "--list", "J", "-q")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "line 3: not imported: the header row again (files joined?): not a record" in (
        done.stdout
    )
    records = amanah(sqlite_home, "persons", "records", "J", "--json", check=True).stdout
    names = [json.loads(line)["full_name"] for line in records.splitlines()]
    assert names == ["فاطمة علي حسن", "سعيد حسن"]


# -- what we export: spreadsheet formulas ---------------------------------------------------

#: File names a provider (or anyone upstream) chose; each a formula once a spreadsheet opens
#: the package's items.csv, unless it is written as text.
FORMULA_NAMES = (
    '=HYPERLINK("http:evil.example","open").txt',
    "@SUM(1+1).txt",
    "+1+2.txt",
    "-2+3.txt",
)


def test_a_package_index_never_hands_a_spreadsheet_a_formula(
    sqlite_home: Path, tmp_path: Path
) -> None:
    from tests.test_leak_check import _ids, _ok, _request, _setup

    home = sqlite_home
    _setup(home)
    folder = tmp_path / "f"
    folder.mkdir()
    for name in (*FORMULA_NAMES, "report.txt"):
        (folder / name).write_text("Minutes of the meeting, no names.\n", encoding="utf-8")
    framework = (home / "framework.txt").read_text()
    _ok(home, "ingest", str(folder), "--collection", "f", "--provider", "Documentation Centre",
        "--framework", framework)  # fmt: skip
    _ok(home, "process")
    ids = _ids(home, "f")
    _request(home, "RFA-F", sorted(ids.values()))
    _ok(home, "package", "build", "RFA-F", str(tmp_path / "p"))

    table = (tmp_path / "p" / "amanah" / "items.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(table)))
    names = {r["original_name"] for r in rows}
    assert names == {*(f"'{n}" for n in FORMULA_NAMES), "report.txt"}  # control unchanged
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    # The exact names travel in items.json, which no spreadsheet evaluates.
    index = json.loads((tmp_path / "p" / "amanah" / "items.json").read_text(encoding="utf-8"))
    assert {r["original_name"] for r in index["items"]} == {*FORMULA_NAMES, "report.txt"}


def _workbook(
    path: Path, rows: list[list[str]], understate: str | None = None, huge: str = ""
) -> Path:
    """A real XLSX (openpyxl); `understate` rewrites the sheet's <dimension ref> as a careless
    exporter (or a hostile one) writes it: smaller than the rows it holds; `huge` replaces the
    cell HUGE in the sheet's XML (openpyxl itself cuts a cell at Excel's limit)."""
    import re
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    if understate or huge:
        with zipfile.ZipFile(path) as z:
            parts = {i.filename: z.read(i.filename) for i in z.infolist()}
        sheet = "xl/worksheets/sheet1.xml"
        if understate:
            parts[sheet] = re.sub(rb'<dimension ref="[^"]*"/>', understate.encode(), parts[sheet])
            assert understate.encode() in parts[sheet]
        if huge:
            assert b">HUGE<" in parts[sheet]
            parts[sheet] = parts[sheet].replace(b">HUGE<", f">{huge}<".encode())
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in parts.items():
                z.writestr(name, data)
    return path


def test_a_workbook_that_understates_its_extent_loses_no_row(sqlite_home: Path, tmp_path: Path):
    rows = [HEADER[:3], SECOND[:3], THIRD[:3], ["4", "نور خالد", "أنثى"]]
    path = _workbook(tmp_path / "short.xlsx", rows, understate='<dimension ref="A1:C2"/>')
    done = amanah(sqlite_home, "persons", "import", str(path), "--list", "S", "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    assert ": 3 rows, 3 imported," in done.stdout
    records = amanah(sqlite_home, "persons", "records", "S", "--json", check=True).stdout
    assert [json.loads(r)["key"] for r in records.splitlines()] == ["2", "3", "4"]


def test_a_huge_cell_is_refused_by_line_in_a_workbook_as_in_a_csv(
    sqlite_home: Path, tmp_path: Path
) -> None:
    huge = "ع" * 100_000
    rows = [HEADER[:3], SECOND[:3], ["3", "HUGE", "ذكر"], ["4", "نور خالد", "أنثى"]]
    book = _workbook(tmp_path / "huge.xlsx", rows, huge=huge)
    rows[2][1] = huge
    for path in (book, _csv(tmp_path / "huge.csv", rows)):
        name = path.suffix[1:]
        done = amanah(sqlite_home, "persons", "import", str(path), "--list", name, "-q")
        assert done.returncode == 1, done.stdout + done.stderr
        assert ": 3 rows, 2 imported," in done.stdout, done.stdout
        assert "line 3: not imported: column 2 (الاسم الكامل): a cell of 100000 characters" in (
            done.stdout
        )
        assert huge[:50] not in done.stdout + done.stderr
        records = amanah(sqlite_home, "persons", "records", name, "--json", check=True).stdout
        assert [json.loads(r)["key"] for r in records.splitlines()] == ["2", "4"]


# -- need-to-know: a newer release of a list from another compartment -------------------------


def test_a_release_from_a_collection_of_another_compartment_never_joins_a_list(
    sqlite_home: Path, tmp_path: Path
) -> None:
    """A list in compartment "open", a second release of it preserved in a collection of
    compartment "secret": its records would be read by whoever sees the open list."""
    from dataclasses import replace

    import pytest
    from sqlalchemy import select

    from amanah.access import Role, local_administrator
    from amanah.access.users import account_of, add_user, caller_for, user_named
    from amanah.db.models import Collection, Item, PersonList, PersonListRecord
    from amanah.persons.lists import PersonsError, import_list
    from amanah.persons.reading import lists, record_rows, records_of, show
    from amanah.workspace import open_workspace

    secret_name = "سعيد حسن الأحمد"
    ws = open_workspace(sqlite_home)
    try:
        admin = local_administrator(ws, "local:test")
        admin = replace(admin, compartments=admin.compartments | {"open", "secret"})
        first = _csv(tmp_path / "release-1.csv", [HEADER[:3], SECOND[:3]])
        import_list(ws, admin, first, "L", compartment="open", provider="Families")
        other = _csv(tmp_path / "other.csv", [HEADER[:3], ["9", "نور خالد", "أنثى"]])
        import_list(ws, admin, other, "Branch", compartment="secret", collection="Secret files",
                    provider="CSO")  # fmt: skip
        second = _csv(tmp_path / "release-2.csv", [HEADER[:3], ["7", secret_name, "ذكر"]])
        with pytest.raises(PersonsError, match="collection 'Secret files' is in compartment"):
            import_list(ws, admin, second, "L", collection="Secret files")
        # Negative control: a release kept with the list's own collection joins it.
        third = _csv(tmp_path / "release-3.csv", [HEADER[:3], ["8", "هدى سامر", "أنثى"]])
        assert import_list(ws, admin, third, "L").imported == 1

        # A record filed before the refusal existed (or by hand): it still follows its file.
        with ws.db.session() as s:
            plist = s.execute(select(PersonList).where(PersonList.name == "L")).scalar_one()
            hidden = (
                s.execute(select(Item.id).join(Collection).where(Collection.name == "Secret files"))
                .scalars()
                .first()
            )
            s.add(PersonListRecord(list_id=plist.id, item_id=hidden, row=2, key="7",
                                   full_name=secret_name, extra="{}"))  # fmt: skip

        add_user(ws, "rania", Role.ANALYST.value, None, compartments=("open",), by="t")
        with ws.db.session() as s:
            rania = caller_for(s, account_of(user_named(s, "rania")))
            names = [r.full_name for r in records_of(s, rania, "L")]
            full = [r["full_name"] for r in record_rows(s, rania, "L")]
            assert show(s, rania, "L")["records"] == 2
            assert [x["records"] for x in lists(s, rania)] == [2]
            assert secret_name in [r.full_name for r in records_of(s, admin, "L")]  # control
        assert names == full == ["فاطمة علي حسن", "هدى سامر"]
    finally:
        ws.close()


def test_a_workbooks_sheet_names_never_reach_the_ledger(sqlite_home: Path, tmp_path: Path):
    """A workbook with a sheet per detainee, imported with a sheet it lacks: the reason names
    the sheets to the importer, but the ledger (which leaves with packages) only says that the
    file could not be read, with the reason's digest."""
    import hashlib
    import sqlite3

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "فاطمة علي حسن"
    wb.active.append(["الاسم الكامل"])
    wb.create_sheet("سعيد حسن").append(["الاسم الكامل"])
    path = tmp_path / "sheets.xlsx"
    wb.save(path)
    done = amanah(
        sqlite_home, "persons", "import", str(path), "--list", "S", "--sheet", "none", "-q"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "فاطمة علي حسن" in done.stdout + done.stderr  # the importer is told which there are
    reason = _show(sqlite_home, "S")["report"]["error"]
    db = sqlite3.connect(sqlite_home / "amanah.db")
    events = [
        json.loads(d)
        for (d,) in db.execute("SELECT details FROM custody_events ORDER BY seq")
        if "person list import" in d
    ]
    assert len(events) == 1
    ledger_text = json.dumps(events, ensure_ascii=False)
    assert "فاطمة" not in ledger_text and "سعيد" not in ledger_text
    assert events[0]["error"] == "the file could not be read as a table"
    assert events[0]["error_sha256"] == hashlib.sha256(reason.encode()).hexdigest()
