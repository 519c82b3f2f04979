"""A package signed after a key rotation verifies against the installation's first key.

`amanah custody public-key` prints the first key, "the one to hand to verifiers", and a
verifier trusts later keys through the hand-overs of the key history. The package verifier
checked the checkpoint against the one key it was given, so every package built after a
rotation failed for a recipient who had pinned the installation's key, and the only way to
a `verified` was to accept a new key id on someone's word: what a forger asks for.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from amanah.custody import verifier as ledger_verifier
from tests.conftest import REPO, amanah

VERIFIER = REPO / "tools" / "verify_package.py"


@dataclass(frozen=True)
class Rotated:
    home: Path
    before: Path  # the package built before the rotation
    bag: Path
    first_id: str
    first_pem: Path
    new_id: str


@pytest.fixture(scope="module")
def rotated(tmp_path_factory: pytest.TempPathFactory) -> Rotated:
    from tests.test_package_tamper import demo_package

    root = tmp_path_factory.mktemp("rotated")
    home = root / "home"
    shared = demo_package(tmp_path_factory)  # its first package, signed by the first key
    shutil.copytree(shared / "home", home, symlinks=True)  # a copy: rotating changes the home
    first_id = (shared / "key_id").read_text("utf-8")
    first_pem = root / "first.pem"
    first_pem.write_text(amanah(home, "custody", "public-key", check=True).stdout)
    amanah(home, "custody", "rotate-key", "--reason", "yearly rotation", check=True)
    bag = root / "package"
    amanah(home, "package", "build", "DEMO-RFA-001", bag, check=True)
    new_id = ledger_verifier.key_id((bag / "amanah" / "public_key.pem").read_bytes())
    assert new_id != first_id
    return Rotated(home, home / "packages" / "DEMO-RFA-001", bag, first_id, first_pem, new_id)


def _verify(bag: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(VERIFIER), str(bag), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize("how", ["key-id", "public-key"])
def test_a_package_after_a_rotation_verifies_against_the_first_key(
    rotated: Rotated, how: str
) -> None:
    pin = ("--key-id", rotated.first_id) if how == "key-id" else ("--public-key", rotated.first_pem)
    proc = _verify(rotated.bag, *pin)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith(": verified")


def test_a_package_after_a_rotation_verifies_against_the_new_key(rotated: Rotated) -> None:
    proc = _verify(rotated.bag, "--key-id", rotated.new_id)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_forged_hand_over_to_a_forgers_key_is_refused(rotated: Rotated, tmp_path: Path) -> None:
    """Everything re-signed by a forger's key, shipped as a successor of the first key with a
    hand-over the first key never signed."""
    bag = tmp_path / "bag"
    shutil.copytree(rotated.bag, bag)
    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forged_id = ledger_verifier.key_id(pem)

    def resign(cp: dict) -> dict:
        cp = {**cp, "key_id": forged_id}
        statement = ledger_verifier.checkpoint_statement(cp)
        return {**cp, "signature": base64.b64encode(key.sign(statement)).decode()}

    def history(doc: dict) -> dict:
        first = doc["keys"][0]
        size = doc["keys"][1]["from_size"]
        bogus = base64.b64encode(key.sign(b"not the first key's hand-over")).decode()
        row = {"key_id": forged_id, "public_key": pem.decode(), "from_size": size}
        return {**doc, "keys": [first, {**row, "handover_signature": bogus}]}

    (bag / "amanah" / "public_key.pem").write_bytes(pem)
    cp_path = bag / "amanah" / "checkpoint.json"
    cp_path.write_bytes(ledger_verifier.canonical_json(resign(json.loads(cp_path.read_text()))))
    for path in [*sorted((bag / "amanah" / "custody").glob("*.json")), bag / "amanah/seal.json"]:
        doc = json.loads(path.read_text("utf-8"))
        proof = doc["proof"] if path.name == "seal.json" else doc
        proof["checkpoint"] = resign(proof["checkpoint"])
        proof["public_key"] = pem.decode()
        proof["key_history"] = history(proof["key_history"])
        path.write_bytes(ledger_verifier.canonical_json(doc) + b"\n")
    from tests.test_package_tamper import _rewrite_tag_manifests

    _rewrite_tag_manifests(bag)
    proc = _verify(bag, "--key-id", rotated.first_id)
    assert proc.returncode == 1, proc.stdout
    assert (
        f"FAIL amanah/public_key.pem: key id {forged_id}, not the expected {rotated.first_id}"
        in proc.stdout.splitlines()
    )


def test_amanah_package_verify_holds_packages_from_before_and_after_a_rotation(
    rotated: Rotated,
) -> None:
    """Without --key-id it pins the installation's own key: its first, as recipients do,
    not the one signing now (which signed nothing before the rotation)."""
    for bag in (rotated.before, rotated.bag):
        proc = amanah(rotated.home, "package", "verify", bag)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert proc.stdout.rstrip().endswith(": verified")
