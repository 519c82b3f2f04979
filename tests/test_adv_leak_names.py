"""A compound name (عبد الله, أبو بكر, نور الدين; Abdul Rahman, Abu Bakr, Nour al-Din) is
written as one word as often as two: a protected spelling recorded one way is found in a text
written the other way, in both scripts, and the leak check refuses the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from amanah.sharing.protected import Matcher
from tests.test_leak_check import _ids, _ingest, _ok, _step, refused_build

PROVIDER = "Documentation Centre"

CASES = [
    ("عبد الله الحلبي", "شهادة عبدالله الحلبي عن الاعتقال"),
    ("عبدالله الحلبي", "شهادة عبد الله الحلبي عن الاعتقال"),
    ("عبد الرحمن الحلبي", "قال عبدالرحمن الحلبي إنه"),
    ("عبد الرحمن الحلبي", "statement of Abdulrahman al-Halabi"),
    ("نور الدين الحلبي", "قال نورالدين الحلبي"),
    ("نور الدين الحلبي", "said Nureddine Halabi"),
    ("أبو بكر الحلبي", "قال أبوبكر الحلبي"),
    ("Abdulrahman Halabi", "statement of Abdul Rahman Halabi"),
    ("Abdulrahman Halabi", "statement of Abd al-Rahman Halabi"),
    ("Abdul Rahman Halabi", "statement of Abdulrahman Halabi"),
    ("أحمد الخطيب", "قال أحمدالخطيب إنه"),  # a space lost before the article
    ("Ahmad al-Khatib", "#أحمدالخطيب"),
]


@pytest.mark.parametrize(("recorded", "text"), CASES)
def test_a_compound_name_is_found_written_as_one_word_or_two(recorded: str, text: str) -> None:
    matcher = Matcher.of([("W", [recorded])])
    assert matcher.names(text) == {"W"}, (recorded, text)


@pytest.mark.parametrize(
    "text",
    ["قال عبدالكريم الحلبي", "قال عبد الكريم الحلبي", "said Abdulkarim Halabi", "Abu Dhabi"],
)
def test_another_compound_is_not_the_protected_one(text: str) -> None:
    matcher = Matcher.of([("W", ["عبد الله الحلبي"]), ("V", ["Abdulrahman Halabi"])])
    assert matcher.names(text) == set()


def test_the_package_build_refuses_a_statement_writing_the_compound_the_other_way(
    sqlite_home: Path, tmp_path: Path
) -> None:
    home = sqlite_home
    _step(home, "jurisdiction", "add", "DE-GBA", "--state", "Germany", "--authority", "GBA")
    out = _step(home, "framework", "add", "--provider", PROVIDER, "--title", "MoU",
                "--disclosure", "any")  # fmt: skip
    (home / "framework.txt").write_text(out.split(":")[0].split()[-1])
    _step(home, "protected", "add", "Witness B", "--name", "عبد الله الحلبي")
    folder = tmp_path / "h"
    folder.mkdir()
    (folder / "statement.txt").write_text("شهادة أدلى بها عبدالله الحلبي عن الاعتقال في الفرع\n")
    (folder / "control.txt").write_text("شهادة أدلى بها عبدالكريم الحلبي عن الاعتقال في الفرع\n")
    _ingest(home, folder, "h")
    _ok(home, "process")
    ids = _ids(home, "h")
    said, reasons = refused_build(home, "RFA-1", sorted(ids.values()), tmp_path / "p1")
    assert reasons[ids["statement.txt"]].startswith("names protected person Witness B")
    assert ids["control.txt"] not in reasons
    assert "الحلبي" not in said
