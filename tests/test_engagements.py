"""Engagements with victims and survivors through the real command line: participants as
counts, persons by pseudonym, follow-up tasks, what a family was told, protective measures;
compartments decide who sees one; no name at rest in clear; bad requests end with exit 2."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from amanah.access import AccessDenied, Caller, NotVisible, Role
from amanah.persons import engagements as eng
from amanah.workspace import open_workspace
from tests.conftest import amanah, write_default_config

NAME = "Yusuf Qabbani"


def _ok(home: Path, *args: str) -> str:
    proc = amanah(home, *args, check=True)
    assert "Qabbani" not in proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    h = tmp_path_factory.mktemp("engage") / "home"
    write_default_config(h)
    _ok(h, "protected", "add", "Witness C", "--name", NAME, "--role", "victim")
    return h


def test_an_engagement_is_recorded_shown_and_followed_up(home: Path) -> None:
    new = json.loads(
        _ok(
            home,
            "engagement",
            "add",
            "consultation",
            "--on",
            "2026-11-02",
            "--place",
            f"Community centre where {NAME} lives",
            "--pcode",
            "SY01",
            "--organisation",
            "Caesar Families Association",
            "--topic",
            "detainee lists",
            "--participants",
            "f:18-59=6",
            "--participants",
            "m:60+=2",
            "--participants",
            "f:18-59=1",
            "--person",
            "Witness C",
            "--task",
            "Send the list extract|legal-1|2026-11-20",
            "--task",
            "Call back|analyst-2",
            "--json",
        )
    )
    eid = new["id"]
    _ok(home, "engagement", "measures", "Witness C", "--no-contact", "--relocation")
    _ok(
        home,
        "engagement",
        "told",
        str(eid),
        "Witness C",
        "--contact",
        "Contact C-1",
        "--relation",
        "mother",
        "--told",
        f"the record of {NAME} was found in a register",
        "--on",
        "2026-11-05",
    )
    shown = json.loads(_ok(home, "engagement", "show", str(eid), "--json"))
    assert shown["participants"] == {"f:18-59": 7, "m:60+": 2}
    assert shown["participants_total"] == 9
    assert shown["place"] == "Community centre where [Witness C] lives"
    assert shown["persons"] == [{"person": "Witness C", "no_contact": True, "relocation": True}]
    assert [(t["task"], t["owner"], t["due_on"], t["done"]) for t in shown["tasks"]] == [
        ("Send the list extract", "legal-1", "2026-11-20", False),
        ("Call back", "analyst-2", "", False),
    ]
    assert shown["tasks"][0]["overdue"] == (date.today() > date(2026, 11, 20))
    assert shown["contacts"] == [
        {
            "person": "Witness C",
            "contact": "Contact C-1",
            "relation": "mother",
            "told": "the record of [Witness C] was found in a register",
            "told_on": "2026-11-05",
        }
    ]
    first = shown["tasks"][0]["id"]
    assert _ok(home, "engagement", "task-done", str(first)).strip() == f"task {first} done"
    listed = json.loads(_ok(home, "engagement", "list", "--json"))
    # (other tests of this module add engagements of their own to the shared home)
    mine = [(r["id"], r["participants"], r["open_tasks"]) for r in listed if r["id"] == eid]
    assert mine == [(eid, 9, 1)]
    again = json.loads(_ok(home, "engagement", "show", str(eid), "--json"))
    assert again["tasks"][0]["done"] is True and again["tasks"][0]["overdue"] is False

    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for enc in ("utf-8", "utf-16-le"):
                assert NAME.encode(enc) not in data, f"the name is in {path.name}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "meeting", "--on", "2026-02-30"], "--on '2026-02-30': expected a date"),
        (["add", "meeting", "--on", "2999-01-01"], "date 2999-01-01 is in the future"),
        (["add", "picnic", "--on", "2026-01-02"], "kind 'picnic' is not known"),
        (["add", "meeting", "--on", "2026-01-02", "--person", "Nobody"], "no protected person"),
        (["add", "meeting", "--on", "2026-01-02", "--pcode", "Damascus"], "P-code 'Damascus'"),
        (
            ["add", "meeting", "--on", "2026-01-02", "--participants", "f:adult=3"],
            "participants 'f:adult=3': write SEX:AGE=COUNT",
        ),
        (
            ["add", "meeting", "--on", "2026-01-02", "--task", "Call|me|tomorrow"],
            "due date 'tomorrow' is not a date",
        ),
        (
            ["add", "meeting", "--on", "2026-01-02", "--compartment", "elsewhere"],
            "you do not hold compartment 'elsewhere'",
        ),
        (["task-done", "99999"], "no task with id 99999"),
        (["show", "99999"], "no engagement with id 99999"),
        (["measures", "Nobody", "--no-contact"], "no protected person 'Nobody'"),
    ],
)
def test_bad_requests_exit_2_with_the_reason(home: Path, args: list[str], message: str) -> None:
    proc = amanah(home, "engagement", *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_compartments_decide_who_sees_an_engagement(home: Path) -> None:
    ws = open_workspace(home)
    try:
        admin = Caller("local:admin", frozenset({"default", "victims"}))
        with ws.db.session() as s:
            eid = eng.add(
                s, admin, kind="interview", held_on=date(2026, 10, 1), compartment="victims"
            ).id
        analyst_in = Caller("analyst", frozenset({"victims"}), Role.ANALYST)
        analyst_out = Caller("other", frozenset({"default"}), Role.ANALYST)
        intake = Caller("intake", frozenset({"victims"}), Role.INTAKE)
        with ws.db.reader() as s:
            assert eng.show(s, analyst_in, eid)["kind"] == "interview"
            assert eid in [r["id"] for r in eng.list_all(s, analyst_in)]
            assert eid not in [r["id"] for r in eng.list_all(s, analyst_out)]
            with pytest.raises(NotVisible, match=f"no engagement with id {eid}"):
                eng.show(s, analyst_out, eid)
            with pytest.raises(NotVisible):  # a role without entities sees none
                eng.show(s, intake, eid)
            assert eng.list_all(s, intake) == []
        with ws.db.session() as s, pytest.raises(AccessDenied):
            eng.add(s, intake, kind="meeting", held_on=date(2026, 10, 1), compartment="victims")
    finally:
        ws.close()
