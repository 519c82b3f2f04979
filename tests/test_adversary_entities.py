"""Entities attacked as a hostile user would: an export (`amanah entity export`) is sharing, so
a protected person's name must not leave in it, whether it is an entity's name, one of its
properties (a father's name), or the detail of a relation; what is withheld is counted, the
rest is exported (negative control), and the custody event says so without any name."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import select

from amanah.access import local_administrator
from amanah.db.models import CustodyEvent
from amanah.entities.store import add_entity, relate
from amanah.sharing import protected
from amanah.workspace import open_workspace
from tests.conftest import amanah

PROTECTED = ("Samir Khaled Haddad", "سمير خالد حداد")
#: Words of the protected name that no exported row may carry, in either script.
WORDS = ("Samir", "Haddad", "سمير", "حداد")


def _ok(home: Path, *args: str) -> str:
    return amanah(home, *args, check=True).stdout


def _build(home: Path) -> dict[str, int]:
    """Entities and relations through the library (the command under test is the export)."""
    ws = open_workspace(home)
    try:
        with ws.db.session() as s:
            admin = local_administrator(ws)
            protected.add(s, admin, "Witness W", list(PROTECTED))
            ids = {
                "witness": add_entity(s, admin, "person", PROTECTED[1]).id,
                "son": add_entity(
                    s, admin, "person", "Jamil Hassan", fields={"father_name": PROTECTED[0]}
                ).id,
                "officer": add_entity(s, admin, "person", "Ali Mahmoud").id,
                "branch": add_entity(s, admin, "organisation", "Branch 215").id,
            }
            relate(s, admin, ids["officer"], "member_of", ids["branch"], valid_from="2011")
            relate(s, admin, ids["witness"], "associate", ids["officer"])
            aide = f"aide to {PROTECTED[0]}"
            relate(s, admin, ids["officer"], "holds_post", ids["branch"], detail=aide)
            return ids
    finally:
        ws.close()


def test_export_withholds_every_row_naming_a_protected_person(sqlite_home: Path) -> None:
    home = sqlite_home
    ids = _build(home)
    witness, son, officer, branch = (ids[k] for k in ("witness", "son", "officer", "branch"))

    out = home.parent / "export.ftm.json"
    done = amanah(home, "entity", "export", "--output", str(out))
    text = out.read_text(encoding="utf-8")
    for word in WORDS:
        assert word not in text, word
        assert word not in done.stdout + done.stderr, word
    rows = [json.loads(line) for line in text.splitlines()]
    ids = {re.sub(r"^amanah-[0-9a-z]+-", "amanah-", r["id"]) for r in rows}  # without the home
    # Negative control: what names no one protected leaves as before.
    assert {f"amanah-entity-{officer}", f"amanah-entity-{branch}"} <= ids
    assert [r["schema"] for r in rows if r["schema"] == "Membership"] == ["Membership"]
    assert f"amanah-entity-{witness}" not in ids
    assert f"amanah-entity-{son}" not in ids
    assert not [r for r in rows if r["schema"] in ("Associate", "Occupancy", "Position")]
    assert done.returncode == 1, done.stdout + done.stderr
    assert "withheld 5 rows that name a protected person" in done.stdout + done.stderr

    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            event = (
                s.execute(
                    select(CustodyEvent)
                    .where(CustodyEvent.object_type == "entity_export")
                    .order_by(CustodyEvent.seq.desc())
                )
                .scalars()
                .first()
            )
            assert event is not None
            details = json.loads(event.details)
    finally:
        ws.close()
    assert details["withheld"] == 5 and details["rows"] == len(rows)
    for word in WORDS:
        assert word not in json.dumps(details, ensure_ascii=False)
