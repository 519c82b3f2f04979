"""The package verifier's remaining refusals (tests/test_package_tamper.py holds the matrix):
a bag of another BagIt version, without manifests or tag manifests, an unreadable or foreign
seal, no index, a custody record of another item, an original that is not the one collected;
and the BagIt liberties a valid bag may take (blank manifest lines, folded bag-info lines, no
Payload-Oxum), which must still verify. Run as a recipient runs it: the standalone tool."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.test_package_tamper import (  # the run's one demo package (built_once)
    Built,
    _index,
    _rewrite_tag_manifests,
    _verify,
    _write_index,
    built,
)

__all__ = ["built"]


def _copy(built: Built, tmp_path: Path) -> Path:
    bag = tmp_path / "bag"
    shutil.copytree(built.bag, bag)
    return bag


def _bagit_version(bag: Path) -> str:
    text = (bag / "bagit.txt").read_text(encoding="utf-8")
    (bag / "bagit.txt").write_text(text.replace("BagIt-Version: 1.0", "BagIt-Version: 0.96"))
    _rewrite_tag_manifests(bag)
    return "FAIL bagit.txt: unexpected BagIt-Version '0.96'"


def _no_manifests(bag: Path) -> str:
    for name in ("manifest-sha256.txt", "manifest-sha512.txt"):
        (bag / name).unlink()
    _rewrite_tag_manifests(bag)
    return "FAIL no manifest-sha256.txt or manifest-sha512.txt"


def _no_tag_manifests(bag: Path) -> str:
    for name in ("tagmanifest-sha256.txt", "tagmanifest-sha512.txt"):
        (bag / name).unlink(missing_ok=True)
    return "FAIL no tagmanifest-sha256.txt: the tag files (index, custody) are unprotected"


def _seal_unreadable(bag: Path) -> str:
    (bag / "amanah" / "seal.json").write_text("{not json", encoding="utf-8")
    _rewrite_tag_manifests(bag)
    return "FAIL amanah/seal.json: cannot be read (Expecting property name enclosed in double"


def _seal_of_another_package(bag: Path) -> str:
    path = bag / "amanah" / "seal.json"
    seal = json.loads(path.read_text(encoding="utf-8"))
    seal["proof"]["object"]["id"] = "PKG-ANOTHER"
    path.write_text(json.dumps(seal), encoding="utf-8")
    _rewrite_tag_manifests(bag)
    return "FAIL amanah/seal.json: the seal is not of package {package}"


def _no_index(bag: Path) -> str:
    (bag / "amanah" / "items.json").unlink()
    _rewrite_tag_manifests(bag)
    return "FAIL amanah/items.json: missing (no custody record to check)"


def _record_of_another_item(bag: Path) -> str:
    index = _index(bag)
    first, second = index["items"][0], index["items"][1]
    first["custody"], second["custody"] = second["custody"], first["custody"]
    _write_index(bag, index)
    _rewrite_tag_manifests(bag)
    return (
        f"FAIL {first['file']} (custody {first['custody']}): the custody record is of another item"
    )


def _original_not_collected(bag: Path) -> str:
    index = _index(bag)
    row = next(r for r in index["items"] if r["variant"] == "original")
    row["original_sha256"] = "0" * 64
    _write_index(bag, index)
    _rewrite_tag_manifests(bag)
    return (
        f"FAIL {row['file']} (custody {row['custody']}): an original whose SHA-256 is not the one"
        " collected"
    )


TAMPERINGS: dict[str, Callable[[Path], str]] = {
    "bagit-version": _bagit_version,
    "no-manifests": _no_manifests,
    "no-tag-manifests": _no_tag_manifests,
    "seal-unreadable": _seal_unreadable,
    "seal-of-another-package": _seal_of_another_package,
    "no-index": _no_index,
    "record-of-another-item": _record_of_another_item,
    "original-not-collected": _original_not_collected,
}


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_a_tampered_bag_fails_with_the_line_that_names_it(
    built: Built, tmp_path: Path, name: str
) -> None:
    bag = _copy(built, tmp_path)
    package = _index(bag)["package"] if (bag / "amanah" / "items.json").exists() else ""
    expected = TAMPERINGS[name](bag).format(package=package)
    proc = _verify(bag, "--key-id", built.key_id)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert any(line.startswith(expected) for line in proc.stdout.splitlines()), proc.stdout
    assert proc.stdout.rstrip().endswith("problem(s)")


def test_the_original_not_collected_is_also_named_by_digest(built: Built, tmp_path: Path) -> None:
    bag = _copy(built, tmp_path)
    _original_not_collected(bag)
    out = _verify(bag, "--key-id", built.key_id).stdout
    assert f"no intake digest event for SHA-256 {'0' * 64}" in out
    assert "original_sha256 in amanah/items.json differs from the seal" in out


def test_blank_manifest_lines_folded_bag_info_and_no_oxum_still_verify(
    built: Built, tmp_path: Path
) -> None:
    """BagIt allows these; a verifier that refused them would cry wolf (the control)."""
    bag = _copy(built, tmp_path)
    manifest = bag / "manifest-sha256.txt"
    manifest.write_text("\n" + manifest.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    info = []
    for line in (bag / "bag-info.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("Payload-Oxum:"):
            continue
        if line.startswith("External-Description:"):  # its words folded onto a second line
            first, _, rest = line.rpartition(" ")
            info += [first, "  " + rest]
            continue
        info.append(line)
    (bag / "bag-info.txt").write_text("\n".join(info) + "\n", encoding="utf-8")
    _rewrite_tag_manifests(bag)
    proc = _verify(bag, "--key-id", built.key_id)
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == f"package {bag}: verified", proc.stdout


def test_a_manifest_line_without_a_file_name_makes_the_bag_unreadable(
    built: Built, tmp_path: Path
) -> None:
    bag = _copy(built, tmp_path)
    manifest = bag / "manifest-sha256.txt"
    manifest.write_text("abc123\n" + manifest.read_text(encoding="utf-8"), encoding="utf-8")
    proc = _verify(bag, "--key-id", built.key_id)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"cannot read package {bag}: manifest-sha256.txt:1: not a manifest line"
    )
    assert proc.stdout == ""
