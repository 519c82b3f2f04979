"""Import and linkage together: two releases of a list imported from CSV, linked by their
names in the home; the same person across releases is linked despite drift, brothers are
not, and a user without the list's compartment links nothing."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

from amanah.access import Role, local_administrator
from amanah.access.users import add_user
from amanah.persons.lists import import_list
from amanah.workspace import open_workspace
from tests.conftest import amanah

HEADERS = ["رقم", "الاسم", "اسم الأب", "اسم الجد", "الكنية", "الجنس", "تاريخ الميلاد"]
RELEASE_1 = [
    ["1", "محمد", "أحمد", "عبد الله", "الحلبي", "ذكر", "1985-03-02"],
    ["2", "خالد", "أحمد", "عبد الله", "الحلبي", "ذكر", "1990-07-11"],  # his brother
    ["3", "فاطمة", "علي", "حسن", "الخطيب", "أنثى", "1979-01-20"],
]
RELEASE_2 = [  # the same people, as a later release wrote them
    ["A", "محمد", "احمد", "عبدالله", "الحلبى", "ذكر", "1985-03-02"],
    ["B", "فاطمه", "علي", "", "الخطيب", "أنثى", "1979-01-20"],
]


def _csv(path: Path, rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([HEADERS, *rows])
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return path


def test_two_imported_releases_link_by_name(sqlite_home: Path, tmp_path: Path) -> None:
    ws = open_workspace(sqlite_home)
    try:
        admin = local_administrator(ws, "local:test")
        admin = replace(admin, compartments=admin.compartments | {"families"})
        for name, rows in (("Release 1", RELEASE_1), ("Release 2", RELEASE_2)):
            import_list(
                ws,
                admin,
                _csv(tmp_path / f"{name}.csv", rows),
                name,
                key="رقم",
                provider="Families association",
                compartment="families",
            )
        add_user(ws, "outsider", Role.ANALYST.value, None, compartments=("other",), by="t")
    finally:
        ws.close()
    done = amanah(sqlite_home, "persons", "link", "Release 1", "Release 2", check=True)
    pairs = [json.loads(line) for line in done.stdout.splitlines()]
    linked = {(p["a"], p["b"]) for p in pairs if p["match"]}
    assert linked == {("1", "A"), ("3", "B")}, pairs
    assert ("2", "A") not in linked  # the brother, same father, grandfather and family
    # A user who may not see the lists links nothing, and is told only that there is no such
    # list (exit 2), with nothing on standard output.
    refused = amanah(sqlite_home, "persons", "link", "Release 1", "Release 2", "--user", "outsider")
    assert refused.returncode == 2 and refused.stdout == ""
    assert "no person list named 'Release 1'" in refused.stderr
    # Neither a list nor a file named: a wrong request.
    assert amanah(sqlite_home, "persons", "link").returncode == 2
