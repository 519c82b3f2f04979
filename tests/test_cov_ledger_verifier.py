"""The ledger verifier's refusals that neither tamper matrix reaches: proofs asked for leaves
outside the tree, malformed proofs and keys, a key history without keys or with a key that is
not its own, a ledger no checkpoint covers, an entry without its fields, a kept checkpoint that
is not one, unreadable JSON, and the standalone tool's wrong invocations (exit 2)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from amanah.custody import verifier as v
from tests.conftest import REPO

TOOL = REPO / "tools" / "verify_ledger.py"
LEAVES = [hashlib.sha256(bytes([i])).digest() for i in range(3)]


def _pem(key: object) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_proofs_for_leaves_outside_the_tree_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^leaf 3 is outside a tree of 3$"):
        v.inclusion_path(3, LEAVES)
    with pytest.raises(ValueError, match=r"^leaf 5 is outside a tree of 3$"):
        v.root_from_inclusion(LEAVES[0], 5, 3, [])
    with pytest.raises(ValueError, match=r"^no consistency proof from size 3 to size 2$"):
        v.consistency_path(3, LEAVES[:2])
    # The control: inside the tree, the path proves the leaf.
    path = v.inclusion_path(2, LEAVES)
    assert v.root_from_inclusion(LEAVES[2], 2, 3, path) == v.merkle_root(LEAVES)


def test_malformed_consistency_proofs_are_refused() -> None:
    root1, root3 = v.merkle_root(LEAVES[:1]), v.merkle_root(LEAVES)
    with pytest.raises(ValueError, match=r"^a proof from the empty tree must be empty$"):
        v.check_consistency(0, 3, b"", root3, [root1])
    with pytest.raises(ValueError, match=r"^the proof is empty$"):
        v.check_consistency(3, 5, root3, root3, [])
    v.check_consistency(0, 3, b"", root3, [])  # from nothing, anything extends
    v.check_consistency(1, 3, root1, root3, v.consistency_path(1, LEAVES))


def test_a_key_that_is_not_ed25519_or_not_a_key_verifies_nothing() -> None:
    cp = {"tree_size": 1, "root": "00" * 32, "time": "t", "key_id": "k", "signature": "AA=="}
    assert v.signature_valid(b"not a key", cp) is False
    rsa_pem = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert v.signature_valid(rsa_pem, cp) is False


def test_a_key_history_without_keys_or_with_a_wrong_key_id_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^the key history lists no key$"):
        v.read_key_history({"keys": []})
    first = _pem(ed25519.Ed25519PrivateKey.generate())
    ring, problems = v.read_key_history(
        {"keys": [{"key_id": "0123456789abcdef", "public_key": first.decode()}]}
    )
    assert problems == ["key history: key 0123456789abcdef does not match its public key"]
    ring, problems = v.read_key_history(
        {"keys": [{"key_id": v.key_id(first), "public_key": first.decode()}]}
    )
    assert problems == [] and ring.root_id == v.key_id(first)


def test_a_ledger_no_checkpoint_covers_and_an_entry_without_fields_are_named() -> None:
    key = _pem(ed25519.Ed25519PrivateKey.generate())
    assert v.check_checkpoints([], LEAVES, key) == ["no signed checkpoint covers the ledger"]
    assert v.check_checkpoints([], [], key) == []  # an empty ledger needs none
    problems, leaves = v.check_chain([{"seq": 1, "type": "ingestion"}])
    assert leaves == [] and problems[0].startswith("ledger entry 1: fields missing: event_id")


def test_a_kept_checkpoint_that_is_not_one_is_named() -> None:
    ring = v.KeyRing.single(_pem(ed25519.Ed25519PrivateKey.generate()))
    got = v.check_witness("witnessed checkpoint kept.json", {"root": "x"}, 3, lambda n: b"", ring)
    assert got == [
        "witnessed checkpoint kept.json: not a checkpoint (tree_size, root, time, key_id,"
        " signature)"
    ]


def test_unreadable_inputs_are_refused_with_their_reason(tmp_path: Path) -> None:
    bad = tmp_path / "proof.json"
    bad.write_text("{oops", encoding="utf-8")
    with pytest.raises(ValueError, match=r"proof\.json: not valid JSON: Expecting property name"):
        v.read_json(bad)
    with pytest.raises(ValueError, match=r"^the proof carries no public key; give --public-key$"):
        v.proof_ring({"checkpoint": {}}, None, None)
    with pytest.raises(ValueError, match=r"^not a consistency proof \(format 'x'\)$"):
        v.verify_consistency({"format": "x"})


def _tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give one of: an export folder, --proof FILE, --consistency FILE"),
        (("ledger", "--proof", "p.json"), "give one of: an export folder, --proof FILE"),
        (("--proof", "p.json", "--witness", "kept.json"), "--witness goes with an export folder"),
    ],
    ids=["nothing", "two-inputs", "witness-without-export"],
)
def test_the_tool_refuses_a_wrong_invocation_with_exit_2(
    args: tuple[str, ...], message: str
) -> None:
    proc = _tool(*args)
    assert proc.returncode == 2
    assert f"error: {message}" in proc.stderr
    assert proc.stdout == ""


def test_the_tool_reports_unreadable_json_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "proof.json"
    bad.write_text("{oops", encoding="utf-8")
    proc = _tool("--proof", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"cannot read input: {bad}: not valid JSON:")
