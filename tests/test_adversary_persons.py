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
