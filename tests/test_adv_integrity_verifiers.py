# ruff: noqa: F811 (the fixtures built and plain are imported)
"""Attacks on what a recipient and Amanah itself trust: the package's index, links and special
files in a package folder, JSON of more than one meaning, and JSON no reader can hold.

Each tampering is applied to a copy of one real package (built by Amanah, tests/
test_package_tamper.py's fixture) or of one real ledger export, and the standalone verifier
runs as a recipient runs it: a process of its own. Every refusal names the file; none is a
traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from amanah.workspace import open_workspace
from tests.conftest import REPO, amanah
from tests.test_ledger_tamper import (
    plain,  # noqa: F401 (a fixture)
    run_tool,
)
from tests.test_package_tamper import (  # noqa: F401 (built is a fixture)
    Built,
    _custody_of,
    _edit_json,
    _index,
    _payload,
    _rewrite_tag_manifests,
    _write_index,
    built,
)
from tests.test_witness import append_events

VERIFIER = REPO / "tools" / "verify_package.py"


def _verify(bag: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(VERIFIER), str(bag), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def _copy(built: Built, tmp_path: Path) -> Path:
    bag = tmp_path / "bag"
    shutil.copytree(built.bag, bag, symlinks=True)
    return bag


def _no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr


# --- the index a recipient reads provenance from ----------------------------------------------


def test_provenance_rewritten_in_the_index_does_not_verify(built: Built, tmp_path: Path) -> None:
    """items.json and items.csv give each file's original name and dates: a courier who
    rewrites them (and the tag manifests) must not get `verified`."""
    bag = _copy(built, tmp_path)
    index = _index(bag)
    index["items"][0]["original_name"] = "a-name-the-provider-never-gave.pdf"
    index["items"][0]["modified"] = "2011-03-15T09:00:00Z"
    _write_index(bag, index)
    _rewrite_tag_manifests(bag)
    proc = _verify(bag, "--key-id", built.key_id)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (
        "FAIL amanah/items.json: its rows are not the index sealed with the package (edited)"
        in proc.stdout.splitlines()
    )
    assert (
        "FAIL amanah/items.csv: not the index sealed with the package (edited)"
        in proc.stdout.splitlines()
    )


def test_the_spreadsheet_alone_rewritten_does_not_verify(built: Built, tmp_path: Path) -> None:
    bag = _copy(built, tmp_path)
    sheet = bag / "amanah" / "items.csv"
    sheet.write_text(sheet.read_text("utf-8").replace(",original,", ",redacted,", 1), "utf-8")
    _rewrite_tag_manifests(bag)
    proc = _verify(bag, "--key-id", built.key_id)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [
        "FAIL amanah/items.csv: not the index sealed with the package (edited)",
        f"package {bag}: 1 problem(s)",
    ]


# --- links and special files in the package folder --------------------------------------------


def test_a_file_replaced_by_a_link_to_the_same_bytes_elsewhere_is_refused(
    built: Built, tmp_path: Path
) -> None:
    """A link is not the file: what it points at is outside the package and can change after
    the check (and is lost when the folder is copied without following links)."""
    bag = _copy(built, tmp_path)
    first = _payload(bag)[0]
    outside = tmp_path / "outside"
    shutil.copyfile(bag / first, outside)
    (bag / first).unlink()
    (bag / first).symlink_to(outside)
    proc = _verify(bag, "--key-id", built.key_id)
    assert proc.returncode == 1, proc.stdout
    assert (
        f"FAIL {first}: a symbolic link, not a file: a package holds its files themselves"
        in proc.stdout.splitlines()
    )


def test_a_fifo_and_a_custody_record_outside_the_bag_are_named_and_hang_nothing(
    built: Built, tmp_path: Path
) -> None:
    bag = _copy(built, tmp_path)
    os.mkfifo(bag / "data" / "fifo")
    outside = tmp_path / "never-written"
    os.mkfifo(outside)
    index = _index(bag)
    index["items"][0]["custody"] = str(outside)  # an absolute path out of the bag
    _write_index(bag, index)
    _rewrite_tag_manifests(bag)
    proc = _verify(bag, "--key-id", built.key_id, timeout=60)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL data/fifo: not a regular file (a FIFO, device or socket)" in lines
    first = index["items"][0]["file"]
    assert f"FAIL {first} (custody {outside}): the custody record is not a file of the package" in (
        lines
    )


def test_a_manifest_naming_a_path_outside_the_bag_is_refused(built: Built, tmp_path: Path) -> None:
    bag = _copy(built, tmp_path)
    (tmp_path / "elsewhere.txt").write_text("x")
    tm = bag / "tagmanifest-sha256.txt"
    digest = __import__("hashlib").sha256(b"x").hexdigest()
    tm.write_text(tm.read_text("utf-8") + f"{digest}  ../elsewhere.txt\n", "utf-8")
    proc = _verify(bag, "--key-id", built.key_id)
    assert proc.returncode == 1
    assert "FAIL ../elsewhere.txt: listed in tagmanifest-sha256.txt but outside the bag" in (
        proc.stdout.splitlines()
    )


# --- JSON of more than one meaning, or that no reader holds -----------------------------------


def _first_custody(bag: Path) -> str:
    return _custody_of(bag, _index(bag)["items"][0]["file"])


def _deep(bag: Path, name: str) -> None:
    (bag / name).write_text("[" * 100_000 + "]" * 100_000)
    _rewrite_tag_manifests(bag)


def _infinite_size(bag: Path, name: str) -> None:
    path = bag / name
    path.write_text(path.read_text("utf-8").replace('"tree_size":', '"tree_size":1e999,"x":', 1))
    _rewrite_tag_manifests(bag)


def _event_not_an_object(bag: Path, name: str) -> None:
    _edit_json(bag, name, lambda proof: proof["events"][0].update(entry="an event"))


def _key_twice(bag: Path, name: str) -> None:
    """The first `events` (what many readers show) is empty; the last is the genuine one."""
    path = bag / name
    text = path.read_text("utf-8")
    path.write_text('{"events":[],' + text.lstrip()[1:], "utf-8")
    _rewrite_tag_manifests(bag)


@pytest.mark.parametrize(
    "tamper, reason",
    [
        (_deep, "nested too deeply"),
        (_infinite_size, "out of range"),
        (_key_twice, "the key 'events' is given twice"),
        (_event_not_an_object, "the custody record is malformed"),
    ],
    ids=["nested-100000-deep", "tree-size-1e999", "a-key-twice", "an-event-not-an-object"],
)
def test_a_custody_record_no_reader_can_hold_is_named_not_a_traceback(
    built: Built, tmp_path: Path, tamper, reason: str
) -> None:
    bag = _copy(built, tmp_path)
    name = _first_custody(bag)
    tamper(bag, name)
    proc = _verify(bag, "--key-id", built.key_id)
    _no_traceback(proc)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    named = [x for x in proc.stdout.splitlines() if name in x]
    assert named and reason in named[0], proc.stdout


@pytest.mark.parametrize("what", ["amanah/items.json", "amanah/checkpoint.json"])
def test_an_index_or_checkpoint_no_reader_can_hold_is_one_line_naming_it(
    built: Built, tmp_path: Path, what: str
) -> None:
    bag = _copy(built, tmp_path)
    _deep(bag, what)
    proc = _verify(bag, "--key-id", built.key_id)
    _no_traceback(proc)
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        == f"cannot read package {bag}: {what}: not valid JSON: nested too deeply"
    )


def test_a_seal_whose_proof_is_not_an_object_is_named(built: Built, tmp_path: Path) -> None:
    bag = _copy(built, tmp_path)
    _edit_json(bag, "amanah/seal.json", lambda seal: seal.update(proof=[]))
    proc = _verify(bag, "--key-id", built.key_id)
    _no_traceback(proc)
    assert proc.returncode == 1
    assert any(
        x.startswith("FAIL amanah/seal.json: cannot be read") for x in proc.stdout.splitlines()
    )


# --- the ledger verifier ------------------------------------------------------------------------


def test_a_ledger_line_with_a_key_twice_is_refused(plain, tmp_path: Path) -> None:
    """JSON readers disagree on a key given twice: Python keeps the last, others the first.
    A line whose first `details` is forged and whose last is genuine hashed as genuine, so the
    export verified while another reader showed the forged details."""
    export = tmp_path / "export"
    shutil.copytree(plain.export, export)
    path = export / "ledger.jsonl"
    rows = path.read_text("utf-8").splitlines()
    rows[4] = '{"details":{"sha256":"' + "0" * 64 + '"},' + rows[4].lstrip()[1:]
    path.write_text("\n".join(rows) + "\n", "utf-8")
    proc = run_tool(export, "--public-key", plain.pub)
    _no_traceback(proc)
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.strip() == (
        f"cannot read input: {path}:5: not valid JSON: the key 'details' is given twice"
    )


@pytest.mark.parametrize(
    "line",
    ['{"tree_size":1e999}', "[" * 100_000 + "]" * 100_000, "[1]"],
    ids=["tree-size-1e999", "nested-100000-deep", "not-an-object"],
)
def test_a_checkpoint_log_line_no_reader_can_hold_is_a_fail_line(
    plain,
    tmp_path: Path,
    line: str,
) -> None:
    export = tmp_path / "export"
    shutil.copytree(plain.export, export)
    with (export / "checkpoint_log.jsonl").open("a") as f:
        f.write(line + "\n")
    proc = run_tool(export, "--public-key", plain.pub)
    _no_traceback(proc)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert any(
        x.startswith("FAIL checkpoint log entry") and "not a checkpoint" in x
        for x in proc.stdout.splitlines()
    ), proc.stdout


@pytest.mark.parametrize(
    "line",
    ['{"tree_size":1e999,"root":"00"}', "[" * 100_000 + "]" * 100_000],
    ids=["tree-size-1e999", "nested-100000-deep"],
)
def test_amanah_verify_names_a_checkpoint_log_line_it_cannot_hold(
    sqlite_home: Path, line: str
) -> None:
    ws = open_workspace(sqlite_home)
    try:
        append_events(ws, 3, per_commit=3)
    finally:
        ws.close()
    with (sqlite_home / "checkpoints.log").open("a") as f:
        f.write(line + "\n")
    proc = amanah(sqlite_home, "verify")
    _no_traceback(proc)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert any(
        x.startswith("FAIL checkpoints.log entry") and "not a checkpoint" in x
        for x in proc.stdout.splitlines()
    ), proc.stdout


def test_amanah_verify_names_a_witness_nested_past_any_reader(
    sqlite_home: Path, tmp_path: Path
) -> None:
    kept = tmp_path / "kept.json"
    kept.write_text("[" * 100_000 + "]" * 100_000)
    proc = amanah(sqlite_home, "verify", "--witness", str(kept))
    _no_traceback(proc)
    assert proc.returncode != 0
    assert f"{kept}: not a checkpoint (nested too deeply)" in proc.stderr + proc.stdout


def test_a_manifest_listing_a_file_twice_is_refused(built: Built, tmp_path: Path) -> None:
    """Two lines for one file, the first with another digest: Python kept the last and said
    `verified`, a tool that keeps the first says `changed`. One manifest, one reading."""
    bag = _copy(built, tmp_path)
    manifest = bag / "manifest-sha256.txt"
    first = _payload(bag)[0]
    manifest.write_text(f"{'0' * 64}  {first}\n" + manifest.read_text("utf-8"), "utf-8")
    _rewrite_tag_manifests(bag)
    proc = _verify(bag, "--key-id", built.key_id)
    _no_traceback(proc)
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.strip().endswith(f"manifest-sha256.txt:2: {first} is listed a second time")
