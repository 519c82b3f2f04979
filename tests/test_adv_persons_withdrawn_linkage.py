"""A person-list record whose person withdrew consent for investigation is not linked again (an
adversary's, stop 54): record-to-record linkage read every record of the lists, so a run kept
after `consent person withdraw record:ID` proposed the record for review and clusters, where
evidence linkage already left it out. The record itself stays in its list: it is a row of a
preserved file, and the withdrawal governs its use, not the file's custody."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from amanah.access import local_administrator
from amanah.config import write_default_config
from amanah.db.models import PersonListRecord
from amanah.persons.lists import import_list
from amanah.persons.review import read_lists
from amanah.sharing import person_consent
from amanah.workspace import open_workspace

HEADERS = ["رقم", "الاسم", "اسم الأب", "اسم الجد", "الكنية", "الجنس", "سنة الميلاد"]
PEOPLE = [
    ("1", "ياسر", "نبيل", "جمال", "الدباغ", "ذكر", "1969"),
    ("2", "غسان", "عدنان", "رياض", "الشهابي", "ذكر", "1971"),
    ("3", "وائل", "مازن", "قاسم", "العطار", "ذكر", "1983"),
]


def _csv(path: Path) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADERS)
    w.writerows(PEOPLE)
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return path


def test_a_withdrawn_record_is_not_read_for_linkage(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_default_config(home)
    ws = open_workspace(home)
    try:
        admin = local_administrator(ws, "local:test")
        admin = replace(admin, compartments=admin.compartments | {"families"})
        for name in ("Release A", "Release B"):
            import_list(
                ws,
                admin,
                _csv(tmp_path / f"{name}.csv"),
                name,
                key="رقم",
                provider="Families association",
                compartment="families",
            )
        with ws.db.reader() as s:
            gone = (
                s.execute(select(PersonListRecord.id).where(PersonListRecord.key == "2"))
                .scalars()
                .first()
            )
        with ws.db.session() as s:
            person_consent.withdraw(s, admin, f"record:{gone}", ["investigation"])
        _, lists, _ = read_lists(ws, admin, ["Release A", "Release B"])
        read = {int(r.key) for records in lists for r in records}
        assert gone not in read
        assert len(read) == 5  # every other record of both lists
        with ws.db.session() as s:  # consent given again: linked again
            person_consent.give(s, admin, f"record:{gone}", ["investigation"])
        _, lists, _ = read_lists(ws, admin, ["Release A", "Release B"])
        assert gone in {int(r.key) for records in lists for r in records}
    finally:
        ws.close()
