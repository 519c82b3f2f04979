"""Victims' and survivors' consent, per person, governs the items about them: a real package
build leaves out an item whose person's consent does not cover the recipient or the use, with
the reason (pseudonym, never a name); the bag still verifies; a withdrawal after a build shows
on that package; the name is never at rest in clear; bad requests end with exit 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from amanah.access import local_administrator
from amanah.db.models import Item
from amanah.workspace import open_workspace
from tests.conftest import REPO, amanah, amanah_here, without_semantic, write_default_config

NAME_LATIN = "Ahmad al-Khatib"
NAME_AR = "أحمد الخطيب"
OTHER_LATIN = "Yusuf Qabbani"


def _ok(home: Path, *args: str) -> str:
    proc = amanah(home, *args, check=True)
    for name in (NAME_LATIN, NAME_AR, "Khatib", "الخطيب"):
        assert name not in proc.stdout + proc.stderr, "a protected name was printed"
    return proc.stdout


def _step(home: Path, *args: str) -> str:
    """A step of the prepared home that names nobody (a jurisdiction, a framework, a request),
    run in this process: each real `python -m amanah.cli` costs seconds of imports."""
    return amanah_here(home, *args, check=True).stdout


def _ids(home: Path) -> dict[str, int]:
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            return {
                Path(p).name: i
                for i, p in s.execute(
                    select(Item.id, Item.original_path).where(Item.parent_id.is_(None))
                ).all()
            }
    finally:
        ws.close()


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """A home with three statements (none names anyone), two jurisdictions, one request per
    jurisdiction with every statement relevant, and two protected persons."""
    tmp = tmp_path_factory.mktemp("consent")
    home = tmp / "home"
    write_default_config(home)
    without_semantic(home)
    evidence = tmp / "handover"
    evidence.mkdir()
    (evidence / "statement-a.txt").write_text("Statement on detention at the branch, 2012.\n")
    (evidence / "statement-b.txt").write_text("Interview notes on the checkpoint arrests.\n")
    (evidence / "report.txt").write_text("Minutes of a meeting on supplies.\n")
    _step(home, "jurisdiction", "add", "DE-GBA", "--state", "Germany", "--authority", "GBA")
    _step(home, "jurisdiction", "add", "SE-NOA", "--state", "Sweden", "--authority", "NOA")
    framework = (
        _step(home, "framework", "add", "--provider", "DA", "--title", "MoU", "--disclosure", "any")
        .split(":")[0]
        .split()[-1]
    )
    _ok(
        home,
        "ingest",
        str(evidence),
        "--collection",
        "h1",
        "--provider",
        "DA",
        "--framework",
        framework,
    )
    _ok(home, "process")
    ids = _ids(home)
    everything = [str(ids[n]) for n in ("statement-a.txt", "statement-b.txt", "report.txt")]
    for ref, code in (("RFA-DE", "DE-GBA"), ("RFA-SE", "SE-NOA")):
        _step(home, "rfa", "add", ref, "--jurisdiction", code, "--received-on", "2026-09-01")
        _step(home, "rfa", "move", ref, "acknowledged")
        _step(home, "rfa", "move", ref, "in_progress")
        _step(home, "rfa", "review", ref, "relevant", *everything)
    _ok(home, "protected", "add", "Witness A", "--name", NAME_LATIN, "--name", NAME_AR)
    _ok(home, "protected", "add", "Witness B", "--name", OTHER_LATIN)
    return home, ids


@pytest.fixture
def fresh(prepared: tuple[Path, dict[str, int]], tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """A private copy of the prepared home: each test records its own consents, so none
    depends on what another did or on the order they run in (the suite runs in random order)."""
    home, ids = prepared
    copy = tmp_path / "home"
    shutil.copytree(home, copy, symlinks=True)
    return copy, ids


def _build(home: Path, ref: str, out: Path) -> dict[str, object]:
    return json.loads(_ok(home, "package", "build", ref, str(out), "--json"))


def _verify(home: Path, bag: Path) -> None:
    ws = open_workspace(home)
    key_id = ws.key.key_id
    ws.close()
    ok = subprocess.run(
        [sys.executable, str(REPO / "tools" / "verify_package.py"), str(bag), "--key-id", key_id],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr


def _files(bag: Path) -> list[int]:
    return sorted(
        r["item_id"] for r in json.loads((bag / "amanah/items.json").read_text())["items"]
    )


def test_consent_per_person_decides_what_a_package_holds(
    fresh: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    home, ids = fresh
    a, b, report = ids["statement-a.txt"], ids["statement-b.txt"], ids["report.txt"]
    _ok(home, "consent", "person", "link", "Witness A", str(a))
    _ok(home, "consent", "person", "link", "Witness B", str(b))
    _ok(
        home,
        "consent",
        "person",
        "give",
        "Witness A",
        "--use",
        "investigation",
        "--use",
        "sharing",
        "--recipient",
        "DE-GBA",
        "--told",
        f"Told {NAME_LATIN} the statement may go to the German prosecutor",
        "--on",
        "2026-11-03",
    )

    # Consent for DE-GBA covers DE-GBA: included (the negative control). Witness B has no
    # consent recorded: their statement is left out, with the reason, and the build goes on.
    first = _build(home, "RFA-DE", tmp_path / "de-1")
    assert _files(tmp_path / "de-1") == sorted([a, report])
    assert first["left_out"] == [
        {"item_id": b, "reason": "left out: no consent recorded for Witness B"}
    ]
    _verify(home, tmp_path / "de-1")

    # Consent for recipient DE-GBA does not cover SE-NOA.
    se = _build(home, "RFA-SE", tmp_path / "se-1")
    assert _files(tmp_path / "se-1") == [report]
    reasons = {x["item_id"]: x["reason"] for x in se["left_out"]}  # type: ignore[union-attr]
    assert reasons[a] == "left out: consent of Witness A does not cover recipient SE-NOA"
    _verify(home, tmp_path / "se-1")

    # Withdrawn after the first build: the next build leaves the item out with the reason,
    # verify_package passes on the result, and the first package is marked.
    _ok(home, "consent", "person", "withdraw", "Witness A", "--use", "sharing")
    second = _build(home, "RFA-DE", tmp_path / "de-2")
    assert _files(tmp_path / "de-2") == [report]
    assert {x["item_id"]: x["reason"] for x in second["left_out"]}[a] == (  # type: ignore[union-attr]
        "left out: consent of Witness A for sharing withdrawn"
    )
    _verify(home, tmp_path / "de-2")
    from amanah.sharing import person_consent

    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            marked = person_consent.withdrawn_since(
                s, local_administrator(ws), str(first["package"])
            )
            assert [(m["person"], m["items"]) for m in marked] == [("Witness A", [a])]
            assert (
                person_consent.withdrawn_since(s, local_administrator(ws), str(second["package"]))
                == []
            )
    finally:
        ws.close()

    # The history keeps both records; investigation is still allowed.
    found = json.loads(_ok(home, "consent", "person", "list", "Witness A", "--json"))
    assert [h["status"] for h in found["history"]] == ["given", "withdrawn"]
    assert found["current"]["uses"] == ["investigation"]
    assert found["history"][0]["told"] == (
        "Told [Witness A] the statement may go to the German prosecutor"
    )
    assert found["items"] == [a]

    # No name in clear anywhere in the home: database, its WAL, logs, ledger exports, bags.
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for name in (NAME_LATIN, NAME_AR, OTHER_LATIN):
                for enc in ("utf-8", "utf-16-le"):
                    assert name.encode(enc) not in data, f"{name!r} in {path.name}"


def test_every_package_item_of_a_withdrawn_person_goes_also_as_a_part(
    fresh: tuple[Path, dict[str, int]],
) -> None:
    """A person's item inside another (an email's attachment) keeps the parent out too."""
    from amanah.sharing import person_consent

    home, ids = fresh
    _ok(home, "consent", "person", "link", "Witness B", str(ids["statement-b.txt"]))
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            why = person_consent.refusals(
                s,
                local_administrator(ws),
                {ids["report.txt"]: [ids["statement-b.txt"]]},
                "sharing",
                "DE-GBA",
            )
    finally:
        ws.close()
    assert why == {
        ids["report.txt"]: (
            f"no consent recorded for Witness B (its part item {ids['statement-b.txt']})"
        )
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["give", "Nobody", "--use", "sharing"], "no protected person 'Nobody'"),
        (["give", "Witness A", "--use", "sharing", "--on", "2026-13-40"], "--on '2026-13-40'"),
        (["give", "Witness A", "--use", "teleport"], "use teleport is not known"),
        (["give", "Witness A"], "say which uses the consent covers"),
        (
            ["give", "Witness A", "--use", "sharing", "--recipient", "XX-NONE"],
            "recipient XX-NONE is not a known jurisdiction code",
        ),
        (["give", "record:abc", "--use", "sharing"], "record:ID (a number)"),
        (["give", "record:999999", "--use", "sharing"], "no person-list record record:999999"),
        (["link", "Witness A", "999999"], "no item with id 999999"),
    ],
)
def test_bad_requests_exit_2_with_the_reason(
    prepared: tuple[Path, dict[str, int]], args: list[str], message: str
) -> None:
    home, _ = prepared
    proc = amanah(home, "consent", "person", *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_search_leaves_out_items_whose_consent_no_longer_allows_investigation(
    fresh: tuple[Path, dict[str, int]],
) -> None:
    """Withdrawal is honoured in search too: a statement whose person withdrew consent for
    investigation is no hit for anyone; given, or with no record at all, it is found."""
    home, ids = fresh
    b, report = ids["statement-b.txt"], ids["report.txt"]
    _ok(home, "consent", "person", "link", "Witness B", str(b))

    def hits(query: str) -> set[int]:
        return {h["item_id"] for h in json.loads(_ok(home, "search", query, "--json"))["hits"]}

    assert hits("checkpoint") == {b}  # no consent record: still searchable by investigators
    _ok(home, "consent", "person", "give", "Witness B", "--use", "investigation")
    assert hits("checkpoint") == {b}
    _ok(home, "consent", "person", "withdraw", "Witness B")
    assert hits("checkpoint") == set()
    assert hits("supplies") == {report}  # the negative control: other items are still found
    _ok(home, "consent", "person", "give", "Witness B", "--use", "investigation")
    assert hits("checkpoint") == {b}
