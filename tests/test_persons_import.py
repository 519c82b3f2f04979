"""Person lists imported as evidence: real CSV files in Windows-1256 and UTF-8 (with a BOM),
a real XLSX workbook, Arabic and English headers; rows that cannot be read reported by line
while the others import; the file preserved as an item with its SHA-256 and custody; the
same import twice adds nothing; a list in a compartment a user lacks does not exist for them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from amanah.access import Caller, NotVisible, Role, local_administrator
from amanah.access.users import account_of, add_user, caller_for, user_named
from amanah.config import write_default_config
from amanah.db.models import CustodyEvent, Item, PersonList, PersonListRecord
from amanah.entities.gazetteer import Place, load
from amanah.entities.store import add_entity
from amanah.persons.lists import PersonsError, import_list
from amanah.persons.reading import lists, record_rows, records_of, show
from amanah.persons.record import PersonRecord
from amanah.workspace import Workspace, open_workspace
from tests.conftest import amanah, make_home

AR_HEADERS = [
    "رقم",
    "الاسم الكامل",
    "اسم الأم",
    "الجنس",
    "تاريخ الميلاد",
    "العمر",
    "المحافظة",
    "الحالة",
    "تاريخ الفقدان",
    "مكان الاحتجاز",
    "ملاحظات",
    "رقم الهاتف",
]
GOOD = [
    [
        *("101", "محمد أحمد عبد الله الحلبي", "فاطمة", "ذكر", "1985-03-02", "", "دمشق"),
        *("معتقل", "2013-05-01", "فرع فلسطين", "شوهد في الفرع", "0999"),
    ],
    [
        *("102", "فاطمة علي حسن الخطيب", "زينب", "أنثى", "", "30", "محافظة حلب", "مفقودة"),
        *("2012-01-01", "", "", ""),
    ],
]
#: Names in rows that cannot be read: never printed, never in a report.
BAD_NAMES = ("خالد عمر السوري", "سعيد حسن الأحمد", "قصي")


def _bad_rows() -> list[list[str]]:
    return [
        ["103", BAD_NAMES[0], "", "ذكر", "31/02/1990", "", "", "", "", "", "", ""],  # impossible
        ["104", BAD_NAMES[1], "", "ذكر", "", "300", "", "", "", "", "", ""],  # age 300
        ["105", BAD_NAMES[2], "ذكر"],  # too few columns
    ]


def _csv_bytes(rows: list[list[str]], encoding: str, delimiter: str = ",") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode(encoding)


@pytest.fixture
def ws(sqlite_home: Path) -> Any:
    w = open_workspace(sqlite_home)
    yield w
    w.close()


def _admin(ws: Workspace, *more: str) -> Caller:
    admin = local_administrator(ws, "local:test")
    return replace(admin, compartments=admin.compartments | set(more))


def _import(ws: Workspace, path: Path, name: str = "L", **kw: Any) -> Any:
    kw.setdefault("provider", "Families association")
    more = [kw["compartment"]] if kw.get("compartment") else []
    return import_list(ws, _admin(ws, *more), path, name, **kw)


def _records(ws: Workspace, name: str) -> list[PersonRecord]:
    with ws.db.session() as s:
        return list(records_of(s, _admin(ws), name))


def test_windows_1256_csv_bad_rows_reported_by_line_good_rows_imported(
    sqlite_home: Path, tmp_path: Path
) -> None:
    path = tmp_path / "قائمة-المعتقلين.csv"
    data = _csv_bytes([AR_HEADERS, *GOOD, *_bad_rows()], "cp1256")
    path.write_bytes(data)
    proc = amanah(sqlite_home, "persons", "import", str(path), "--list", "L", "--key", "رقم")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert "read as csv in cp1256" in lines
    assert (
        "line 4: not imported: column 5 (تاريخ الميلاد):"
        " not a possible date (day 31 of month 2 of 1990)"
    ) in lines
    assert "line 5: not imported: column 6 (العمر): age 300 is outside 0–120" in lines
    assert "line 6: not imported: 3 fields where the header has 12" in lines
    assert "5 rows, 2 imported, 0 already present, 0 blank, 3 not readable" in lines[0]
    for name in BAD_NAMES:
        assert name not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr

    recs = amanah(sqlite_home, "persons", "records", "L", "--json", check=True)
    got = [json.loads(x) for x in recs.stdout.splitlines()]
    assert [r["key"] for r in got] == ["101", "102"]
    first = got[0]
    assert (first["ism"], first["father"], first["grandfather"], first["family"]) == (
        "محمد",
        "أحمد",
        "عبد الله",
        "الحلبي",
    )
    assert first["sex"] == "m" and first["birth_year"] == 1985 and first["birth_year_spread"] == 0
    assert PersonRecord(**first).list_name == "L"
    second = got[1]
    # Age 30 on the date of disappearance (2012-01-01): born 1982 or 1981.
    assert (second["sex"], second["birth_year"], second["birth_year_spread"]) == ("f", 1982, 1)

    ws = open_workspace(sqlite_home)
    try:
        with ws.db.reader() as s:
            item = s.execute(select(Item)).scalar_one()
            assert item.sha256 == hashlib.sha256(data).hexdigest()
            events = {
                (e.event_type, e.object_type, json.loads(e.details).get("action"))
                for e in s.execute(select(CustodyEvent)).scalars()
            }
            plist = s.execute(select(PersonList)).scalar_one()
            report = json.loads(plist.report)
            ledger_text = "".join(e.details for e in s.execute(select(CustodyEvent)).scalars())
        # The ledger records counts and the list's name, never a person's name.
        for name in (*BAD_NAMES, GOOD[0][1], GOOD[1][1], "محمد", "فاطمة"):
            assert name not in ledger_text and json.dumps(name)[1:-1] not in ledger_text
        assert ("ingestion", "item", None) in events
        assert ("metadata extraction", "item", "person list import") in events
        assert ("access", "person_list", "read person list records") in events
        assert plist.item_id == item.id and plist.key_column == "رقم"
        assert [(p["line"], p["imported"]) for p in report["problems"]] == [
            (4, False),
            (5, False),
            (6, False),
        ]
        assert not any(n in plist.report for n in BAD_NAMES)
        with ws.db.reader() as s:
            rows = {r.key: r for r in s.execute(select(PersonListRecord)).scalars()}
        assert rows["101"].row == 2 and rows["102"].row == 3
        assert rows["101"].item_id == item.id
        assert rows["101"].status == "detained" and rows["102"].status == "missing"
        assert rows["101"].detention_facility == "فرع فلسطين"
        assert json.loads(rows["101"].extra) == {"رقم الهاتف": "0999"}
    finally:
        ws.close()


def test_utf8_bom_semicolons_and_undecodable_bytes_in_one_cell(
    ws: Workspace, tmp_path: Path
) -> None:
    rows = [AR_HEADERS, *GOOD]
    body = _csv_bytes(rows, "utf-8", delimiter=";")
    broken = "106;يوسف ;;ذكر;;;;;;;;".encode() + b"\xff\xfeX" + b"\r\n"
    after = "107;مريم سمير النجار;;أنثى;1990;;;;;;;\r\n".encode()
    path = tmp_path / "list.csv"
    path.write_bytes(b"\xef\xbb\xbf" + body + broken + after)
    report = _import(ws, path, key="رقم")
    assert report.encoding == "utf-8-sig"
    assert report.imported == 3 and report.bad == 1
    assert report.problems == [
        {
            "line": 4,
            "reason": "column 12 (رقم الهاتف): bytes not valid in the file's encoding",
            "imported": False,
        }
    ]
    got = {r.key: r for r in _records(ws, "L")}
    assert sorted(got) == ["101", "102", "107"]
    assert got["107"].birth_year == 1990 and got["107"].family == "النجار"
    assert got["102"].ism == "فاطمة"  # as written, not folded


def test_xlsx_with_arabic_headers(ws: Workspace, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "المفقودون"
    sheet.append(["الاسم", "اسم الأب", "اسم الجد", "الكنية", "الجنس", "تاريخ الميلاد", "العمر"])
    sheet.append(["أحمد", "محمود", "خليل", "العلي", "ذكر", datetime(1970, 4, 5), None])
    sheet.append(["هدى", "سالم", "", "الحسن", "انثى", "2020-13-45", None])  # impossible
    sheet.append([None, None, None, None, None, None, None])  # blank
    sheet.append(["ليلى", "عمر", "", "الرفاعي", "f", None, 41])
    hidden = book.create_sheet("مخفي")
    hidden.sheet_state = "hidden"
    hidden.append(["الاسم"])
    hidden.append(["شخص في ورقة مخفية"])
    path = tmp_path / "list.xlsx"
    book.save(path)
    report = _import(ws, path, as_of=date(2015, 6, 1))
    assert (report.kind, report.sheet, report.rows, report.imported, report.blank) == (
        "xlsx",
        "المفقودون",
        4,
        2,
        1,
    )
    assert [(p["line"], p["imported"]) for p in report.problems] == [(3, False)]
    # The hidden sheet is not read, and the report says so: nothing is left out silently.
    assert "other sheets not read (use --sheet): ['مخفي']" in report.notes
    assert "column 6 (تاريخ الميلاد): not a possible date" in report.problems[0]["reason"]
    assert report.mapping["full_name"] == "الاسم" and report.mapping["family"] == "الكنية"
    got = {r.key: r for r in _records(ws, "L")}
    assert sorted(got) == ["2", "5"]  # keys: the sheet's row numbers
    assert got["2"].birth_year == 1970 and got["2"].father == "محمود"
    # "الاسم" beside the father's and family's columns is the person's own name.
    assert (got["2"].ism, got["2"].full_name) == ("أحمد", "أحمد محمود خليل العلي")
    assert got["5"].birth_year == 2015 - 41 and got["5"].birth_year_spread == 1
    assert got["5"].sex == "f"
    assert "ليلى" in got["5"].full_name


def test_english_headers_map_and_wrong_requests(sqlite_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "casualties.csv"
    rows = [
        ["ID", "Person", "Gender", "YOB", "Province", "Fate", "Date of death", "Informant"],
        ["A1", "Omar Khaled al-Hamwi", "male", "1979", "Hama", "killed", "2012-02-03", "brother"],
        ["A2", "Rana Adel Hamdan", "F", "1991", "Homs", "released", "", ""],
    ]
    path.write_bytes(_csv_bytes(rows, "utf-8"))
    wrong_field = amanah(
        sqlite_home, "persons", "import", str(path), "--list", "C", "--map", "nom=Person"
    )
    assert wrong_field.returncode == 2
    assert "unknown field 'nom' in --map" in wrong_field.stderr
    wrong_column = amanah(
        sqlite_home, "persons", "import", str(path), "--list", "C", "--map", "full_name=Nom"
    )
    assert wrong_column.returncode == 2 and "no column 'Nom' in the file" in wrong_column.stderr
    missing = amanah(sqlite_home, "persons", "import", str(tmp_path / "no.csv"), "--list", "C")
    assert missing.returncode == 2 and "no.csv: no such file" in missing.stderr
    for proc in (wrong_field, wrong_column, missing):
        assert "Traceback" not in proc.stderr

    done = amanah(
        sqlite_home,
        "persons",
        "import",
        str(path),
        "--list",
        "C",
        "--key",
        "ID",
        "--map",
        "full_name=Person",
        "--map",
        "birth_year=YOB",
        "--json",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["mapping"]["full_name"] == "Person" and report["mapping"]["sex"] == "Gender"
    assert report["mapping"]["governorate"] == "Province"
    assert report["mapping"]["reporter"] == "Informant"
    ws = open_workspace(sqlite_home)
    try:
        with ws.db.session() as s:
            full = {r["key"]: r for r in record_rows(s, _admin(ws), "C")}
    finally:
        ws.close()
    assert full["A1"]["status"] == "dead" and full["A1"]["died_on"] == "2012-02-03"
    assert (full["A1"]["ism"], full["A1"]["father"]) == ("Omar", "Khaled")
    assert full["A1"]["birth_year"] == 1979 and full["A1"]["sex"] == "m"
    assert full["A2"]["status"] == "released" and full["A2"]["sex"] == "f"
    assert full["A1"]["governorate_text"] == "Hama" and full["A1"]["governorate"] == ""


def test_reimport_is_idempotent(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(_csv_bytes([AR_HEADERS, *GOOD, *_bad_rows()], "cp1256"))
    first = _import(ws, path, key="رقم")
    again = _import(ws, path, key="رقم")
    assert (first.imported, again.imported, again.already_present) == (2, 0, 2)
    assert again.item_id == first.item_id and again.bad == 3
    with ws.db.reader() as s:
        assert s.execute(select(func.count()).select_from(PersonListRecord)).scalar_one() == 2
        assert s.execute(select(func.count()).select_from(Item)).scalar_one() == 1


def test_governorate_p_code_and_facility_entity(ws: Workspace, tmp_path: Path) -> None:
    admin = _admin(ws)
    with ws.db.session() as s:
        places = [
            Place("SY01", "Damascus", "دمشق", (), "governorate", None, None, "test"),
            Place("SY02", "Aleppo", "حلب", (), "governorate", None, None, "test"),
        ]
        load(s, admin, places)
        branch = add_entity(s, admin, "facility", "فرع فلسطين").id
    path = tmp_path / "list.csv"
    path.write_bytes(_csv_bytes([AR_HEADERS, *GOOD], "utf-8"))
    _import(ws, path, key="رقم")
    got = {r.key: r for r in _records(ws, "L")}
    assert got["101"].governorate == "SY01" and got["102"].governorate == "SY02"
    with ws.db.reader() as s:
        row = s.execute(select(PersonListRecord).where(PersonListRecord.key == "101")).scalar_one()
    assert row.detention_facility_id == branch


def test_not_a_table_is_preserved_and_reported(sqlite_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is no workbook")
    proc = amanah(sqlite_home, "persons", "import", str(path), "--list", "B")
    assert proc.returncode == 1
    assert "broken.xlsx: not a readable XLSX workbook" in proc.stdout
    assert "Traceback" not in proc.stderr
    listed = json.loads(amanah(sqlite_home, "persons", "list", "--json", check=True).stdout)
    assert listed[0]["name"] == "B" and listed[0]["records"] == 0
    assert "not a readable XLSX workbook" in listed[0]["report"]["error"]


def test_need_to_know_on_lists_and_records(sqlite_home: Path, tmp_path: Path) -> None:
    ws = open_workspace(sqlite_home)
    try:
        path = tmp_path / "secret.csv"
        path.write_bytes(_csv_bytes([AR_HEADERS, *GOOD], "utf-8"))
        _import(ws, path, "Secret list", compartment="secret", key="رقم")
        open_path = tmp_path / "open.csv"
        open_path.write_bytes(_csv_bytes([AR_HEADERS, GOOD[0]], "utf-8"))
        _import(ws, open_path, "Open list", compartment="open", key="رقم")
        add_user(ws, "rania", Role.ANALYST.value, None, compartments=("open",), by="t")
        add_user(ws, "salma", Role.ANALYST.value, None, compartments=("secret",), by="t")
        with ws.db.reader() as s:
            rania = caller_for(s, account_of(user_named(s, "rania")))
            salma = caller_for(s, account_of(user_named(s, "salma")))
            assert [x["name"] for x in lists(s, rania)] == ["Open list"]
            assert [x["name"] for x in lists(s, salma)] == ["Secret list"]
            with pytest.raises(NotVisible, match="no person list named 'Secret list'"):
                show(s, rania, "Secret list")
            assert show(s, salma, "Secret list")["records"] == 2
        with ws.db.session() as s, pytest.raises(NotVisible):
            list(records_of(s, rania, "Secret list"))
        with ws.db.session() as s:
            assert len(list(records_of(s, salma, "Secret list"))) == 2
        with ws.db.reader() as s:
            reads = [
                (e.actor, json.loads(e.details))
                for e in s.execute(
                    select(CustodyEvent).where(CustodyEvent.object_type == "person_list")
                ).scalars()
            ]
        assert [(a, d["list"], d["records"]) for a, d in reads] == [
            ("user:salma", "Secret list", 2)
        ]
        # Importing into a list you may not see is refused, not merged.
        with pytest.raises(NotVisible):
            import_list(ws, rania_importer(rania), path, "Secret list")
    finally:
        ws.close()

    cli_list = amanah(sqlite_home, "persons", "list", "--json", "--user", "rania", check=True)
    assert [x["name"] for x in json.loads(cli_list.stdout)] == ["Open list"]
    shown = amanah(sqlite_home, "persons", "show", "Secret list", "--user", "rania")
    assert shown.returncode == 2 and "no person list named 'Secret list'" in shown.stderr
    read = amanah(sqlite_home, "persons", "records", "Secret list", "--json", "--user", "rania")
    assert read.returncode == 2 and read.stdout == ""
    # Negative control: the local administrator and salma see it.
    assert amanah(sqlite_home, "persons", "show", "Secret list", "--user", "salma").returncode == 0
    admin = amanah(sqlite_home, "persons", "list", "--json", check=True)
    assert sorted(x["name"] for x in json.loads(admin.stdout)) == ["Open list", "Secret list"]


def rania_importer(rania: Caller) -> Caller:
    """rania with the permissions an import needs, still without the secret compartment."""
    return replace(rania, role=Role.ADMIN)


def test_bad_map_is_a_request_error(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(_csv_bytes([["Column A", "Column B"], ["1", "2"]], "utf-8"))
    with pytest.raises(PersonsError, match="no column reads as a name"):
        _import(ws, path)
    with ws.db.reader() as s:
        assert s.execute(select(func.count()).select_from(PersonList)).scalar_one() == 0


def test_postgresql_keeps_the_same_records_and_refuses_a_nul_cell(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """PostgreSQL refuses NUL in text: such a cell is a row reported by line, not a failed
    import; the other rows are the same records as on SQLite."""
    home = make_home(request, tmp_path, "postgresql-file")
    nul = ["108", "نادر\x00 كمال", "", "ذكر", "", "", "", "", "", "", "", ""]
    path = tmp_path / "list.csv"
    path.write_bytes(_csv_bytes([AR_HEADERS, *GOOD, nul], "utf-8"))
    pg = open_workspace(home)
    try:
        report = _import(pg, path, key="رقم")
        got = _records(pg, "L")
    finally:
        pg.close()
    assert report.problems == [
        {"line": 4, "reason": "column 2 (الاسم الكامل): holds a NUL character", "imported": False}
    ]
    write_default_config(tmp_path / "lite")
    lite = open_workspace(tmp_path / "lite")
    try:
        _import(lite, path, key="رقم")
        assert _records(lite, "L") == got
    finally:
        lite.close()
    assert [r.key for r in got] == ["101", "102"]
