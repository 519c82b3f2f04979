"""Name parts stored on entity names, their backfill, and `entity match` (CLI and API):
FtM entities as queries, candidates by blocking keys, need-to-know on every result."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import delete, select, update

from amanah.db.models import CustodyEvent, EntityName, EntityNameKey
from amanah.workspace import open_workspace
from tests.conftest import amanah


def cli_json(home: Path, *args: str) -> object:
    return json.loads(amanah(home, *args, "--json", check=True).stdout)


def test_name_parts_are_stored_when_a_name_is_added_and_shown(sqlite_home: Path) -> None:
    person = cli_json(sqlite_home, "entity", "add", "person", "عبد الرحمن بن خالد بن عمر الحبو")
    pid = person["id"]  # type: ignore[index]
    amanah(sqlite_home, "entity", "name", "add", str(pid), "Abu Omar", "--kind", "kunya",
           check=True)  # fmt: skip
    unit = cli_json(sqlite_home, "entity", "add", "organisation", "Air Force Intelligence")
    shown = cli_json(sqlite_home, "entity", "show", str(pid))
    parts = [n["parts"] for n in shown["names"]]  # type: ignore[index]
    assert parts[0] == {
        "ism": "عبد الرحمن", "father": "خالد", "grandfather": "عمر", "family": "الحبو",
    }  # fmt: skip
    assert parts[1] == {"kunya": "abu omar"}
    # a unit's name has no ism: no parts, but keys for candidate search
    org = cli_json(sqlite_home, "entity", "show", str(unit["id"]))  # type: ignore[index]
    assert org["names"][0]["parts"] == {}  # type: ignore[index]
    printed = amanah(sqlite_home, "entity", "show", str(pid), check=True).stdout
    assert "    parts: ism عبد الرحمن, father خالد, grandfather عمر, family الحبو" in printed
    ws = open_workspace(sqlite_home)
    with ws.db.reader() as s:
        keys = set(s.execute(select(EntityNameKey.key)).scalars())
        assert "l:haba" in keys and "c:hb" in keys  # الحبو, read in both alphabets
    ws.close()


def test_names_kept_before_parsing_are_backfilled(sqlite_home: Path) -> None:
    pid = cli_json(sqlite_home, "entity", "add", "person", "Mohammad Ahmad Al-Habbo")["id"]  # type: ignore[index]
    ws = open_workspace(sqlite_home)
    with ws.db.session() as s:  # as a name row kept before 0022: no parts, no keys
        s.execute(delete(EntityNameKey))
        s.execute(update(EntityName).values(ism="", father="", family=""))
    ws.close()
    shown = cli_json(sqlite_home, "entity", "show", str(pid))
    assert shown["names"][0]["parts"] == {}  # type: ignore[index]
    done = amanah(sqlite_home, "entity", "name", "parse", check=True)
    assert done.stdout.strip() == "1 names parsed"
    shown = cli_json(sqlite_home, "entity", "show", str(pid))
    assert shown["names"][0]["parts"] == {  # type: ignore[index]
        "ism": "mohammad", "father": "ahmad", "family": "habbo",
    }  # fmt: skip
    again = amanah(sqlite_home, "entity", "name", "parse", check=True)
    assert again.stdout.strip() == "0 names parsed"  # re-runnable: nothing left to do
    assert amanah(sqlite_home, "entity", "name", "parse", "--all", check=True).stdout.strip() == (
        "1 names parsed"
    )
    ws = open_workspace(sqlite_home)
    with ws.db.reader() as s:
        details = [json.loads(d) for d in s.execute(select(CustodyEvent.details)).scalars()]
    ws.close()
    assert [d["names"] for d in details if d.get("action") == "parse names"] == [1, 1]
