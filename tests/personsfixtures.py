"""Person lists, a kept linkage run and its pairs in the web tests' site, made directly (no
import, no linkage: the pages and their need-to-know are under test, not the model)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from amanah.access import local_administrator
from amanah.db.models import PersonList, PersonListRecord
from amanah.persons import review
from amanah.persons.linkage import Pair

_n = itertools.count()
PEOPLE = [
    ("محمد أحمد عبد الله الحلبي", "محمد", "أحمد", "عبد الله", "الحلبي", 1985),
    ("محمد احمد عبدالله الحلبى", "محمد", "احمد", "عبدالله", "الحلبى", 1986),
    ("خالد أحمد عبد الله الحلبي", "خالد", "أحمد", "عبد الله", "الحلبي", 1990),
]
EXPLANATION = {
    "ism": {"level": "exact", "weight": 6.1},
    "father": {"level": "equal after PDF repair", "weight": 3.2},
    "birth_year": {"level": "a year beyond the spread", "weight": 1.0},
}


@dataclass
class PersonRun:
    list_id: int
    records: list[int]
    run: int
    link: int  # a pair the model linked (records 0 and 1)
    near: int  # a pair near the threshold it did not link (records 1 and 2)


def person_run(site: Any, inside: bool) -> PersonRun:
    """A list of three records in compartment blue (inside the non-administrators'
    need-to-know) or red (outside), linked within itself by a kept run of two pairs."""
    ws = site.ws
    admin = local_administrator(ws, "local:test")
    item = site.item("statement-b.txt" if inside else "سري.txt")
    now = datetime.now(UTC)
    with ws.db.session() as s:
        plist = PersonList(
            name=f"List {next(_n)} {'blue' if inside else 'red'}",
            compartment="blue" if inside else "red",
            item_id=item,
            created_at=now,
            created_by="local:test",
            imported_at=now,
            report='{"rows": 4, "imported": 3, "bad": 1, "problems": [{"line": 5,'
            ' "reason": "no name in any name column", "imported": false}]}',
        )
        s.add(plist)
        s.flush()
        records = []
        for line, (full, ism, father, grandfather, family, year) in enumerate(PEOPLE, 2):
            rec = PersonListRecord(
                list_id=plist.id,
                item_id=item,
                row=line,
                key=f"K{line}",
                full_name=full,
                ism=ism,
                father=father,
                grandfather=grandfather,
                family=family,
                sex="m",
                birth_year=year,
                status="detained",
            )
            s.add(rec)
            s.flush()
            records.append(rec.id)
        s.expunge(plist)
    name = plist.name
    pairs = [
        Pair(name, str(records[0]), name, str(records[1]), 0.97, True, True, EXPLANATION),
        Pair(name, str(records[1]), name, str(records[2]), 0.85, False, True, EXPLANATION),
    ]
    run, kept = review.store_run(ws, admin, [plist], pairs)
    return PersonRun(plist.id, records, run.id, kept[0][0], kept[1][0])
