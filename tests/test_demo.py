"""`amanah demo` (what `./run demo` runs): a fictional but realistic workspace whose every
example search, as printed by the demo and shown in the README, finds exactly what it says;
photos carry their GPS, the duplicate is exact, the witness is protected and kept out of the
package. One demo is built (a real subprocess) and every test reads it."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from amanah.demo import QUERIES, REQUEST
from amanah.demo_files import WITNESS, WITNESS_SPELLINGS
from tests.conftest import REPO, amanah, built_once

pytestmark = pytest.mark.slow


def _run_demo(folder: Path) -> None:
    out = amanah(folder / "home", "demo", check=True).stdout
    (folder / "stdout.txt").write_text(out, "utf-8")


def demo_copy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A copy of the home `amanah demo` made (a real subprocess, once for the whole run:
    `built_once`), and what it printed: this file and test_requests.py read the same demo."""
    built = built_once(tmp_path_factory, "amanah-demo", _run_demo)
    home = tmp_path_factory.mktemp("demo") / "home"
    shutil.copytree(built / "home", home, symlinks=True)
    return home, (built / "stdout.txt").read_text("utf-8")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    yield demo_copy(tmp_path_factory)


def _found(home: Path, query: str) -> set[str]:
    r = amanah(home, "search", query, "--json", "--limit", "100", check=True)
    return {h["path"].removeprefix("handover/") for h in json.loads(r.stdout)["hits"]}


def _made(home: Path, rel: str) -> bool:
    """A file the demo made here (chromium's PDF only where chromium is installed)."""
    return (home / "demo-handover" / "handover" / rel).exists() or "/" not in rel


def test_every_printed_example_search_finds_exactly_what_it_says(demo: tuple[Path, str]) -> None:
    home, out = demo
    for query, said, expected in QUERIES:
        assert f"search '{query}'    ({said})" in out  # the demo prints it …
        assert _found(home, query) == {p for p in expected if _made(home, p)}, query  # … true


def test_the_readme_shows_the_same_searches(demo: tuple[Path, str]) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("### Try the demo")
    section = readme[start : readme.index("\n## ", start)]
    shown = re.findall(r"^amanah search '([^']+)'", section, re.M)
    assert shown == [q for q, _said, _found in QUERIES]


def test_photos_carry_their_place_and_the_duplicate_is_exact(demo: tuple[Path, str]) -> None:
    home, _ = demo
    items = json.loads(amanah(home, "items", "--json", check=True).stdout)
    by_path = {i["original_path"].removeprefix("handover/"): i for i in items}
    photo = json.loads(
        amanah(home, "item", "show", str(by_path["photos/IMG_0001.jpg"]["id"]), "--json").stdout
    )
    meta = photo["metadata"]
    assert (meta["latitude"], meta["longitude"]) == (34.8021, 38.9968)
    assert meta["captured_at"] == "2013-04-11T08:15:00"
    original, copy = (
        by_path["statements/statement-002.txt"],
        by_path["copies/statement-002 (copy).txt"],
    )
    assert original["sha256"] == copy["sha256"] and original["id"] != copy["id"]
    scan = by_path["scans/memo-scan.pdf"]
    text = amanah(home, "item", "text", str(scan["id"]), check=True).stdout
    assert "مذكرة" in text  # only OCR could have read it: the PDF holds an image


def test_the_witness_is_protected_and_kept_out_of_the_package(demo: tuple[Path, str]) -> None:
    home, out = demo
    listed = json.loads(amanah(home, "protected", "list", "--json", check=True).stdout)
    assert {"pseudonym": WITNESS, "role": "witness", "spellings": 3} in listed
    assert f"request for assistance {REQUEST} answered with package PKG-" in out
    bag = home / "packages" / REQUEST
    shipped = "\n".join(p.name for p in bag.rglob("*"))
    assert "شهادة-003" not in shipped and "checkpoint-report" in shipped
    # The register and the ledger hold the pseudonym only (the statement's own text is
    # evidence, kept as it is): no spelling in clear in either.
    from sqlalchemy import select

    from amanah.db.models import CustodyEvent, ProtectedPerson
    from amanah.workspace import open_workspace

    ws = open_workspace(home, create=False)
    try:
        with ws.db.reader() as s:
            row = s.execute(select(ProtectedPerson)).scalar_one()
            kept = " ".join([row.pseudonym, row.spellings, row.name_digests, row.notes])
            ledger = " ".join(s.execute(select(CustodyEvent.details)).scalars())
    finally:
        ws.close()
    for spelling in WITNESS_SPELLINGS:
        for word in spelling.replace("al-", "").split():
            assert word not in kept and word not in ledger, word
