"""`amanah persons link` over a home's lists leaves out a record whose person withdrew consent
for investigation (an adversary's, stop 54): it read the lists through `reading.records_of`,
which has no withdrawal rule, where a kept run (`review.read_lists`) already left the record
out. It now reads them by `reading.records_to_link` (`access.person_records_linkable`)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from amanah.access import local_administrator
from amanah.db.models import PersonList, PersonListRecord
from amanah.persons.lists import import_list
from amanah.sharing import person_consent
from amanah.workspace import open_workspace
from tests.conftest import amanah
from tests.test_persons_link_lists import RELEASE_1, RELEASE_2, _csv


def _linked(home: Path) -> set[tuple[str, str]]:
    done = amanah(home, "persons", "link", "Release 1", "Release 2", check=True)
    return {
        (p["a"], p["b"])
        for p in (json.loads(line) for line in done.stdout.splitlines())
        if p["match"]
    }


def test_a_withdrawn_record_is_not_linked_on_the_command_line(
    sqlite_home: Path, tmp_path: Path
) -> None:
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
        with ws.db.reader() as s:
            gone = s.execute(
                select(PersonListRecord.id)
                .join(PersonList, PersonList.id == PersonListRecord.list_id)
                .where(PersonList.name == "Release 1", PersonListRecord.key == "1")
            ).scalar_one()
        with ws.db.session() as s:
            person_consent.withdraw(s, admin, f"record:{gone}", ["investigation"])
    finally:
        ws.close()
    linked = _linked(sqlite_home)
    assert ("1", "A") not in linked and linked == {("3", "B")}
    # the record stays listed: the withdrawal governs its use, not the list
    listed = amanah(sqlite_home, "persons", "records", "Release 1", "--json", check=True)
    assert "1" in {json.loads(line)["key"] for line in listed.stdout.splitlines()}
    # consent given again: linked again
    ws = open_workspace(sqlite_home)
    try:
        with ws.db.session() as s:
            person_consent.give(s, admin, f"record:{gone}", ["investigation"])
    finally:
        ws.close()
    assert _linked(sqlite_home) == {("1", "A"), ("3", "B")}
