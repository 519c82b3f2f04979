"""The package verifier refuses every way a package can be altered on its way to a recipient.

One real package is built for the whole run (the demo's request, through Amanah's own build:
`demo_package`, which two other files' matrices share); each tampering is applied to a copy,
the standalone verifier (tools/verify_package.py, the file shipped in every package) runs as
a recipient runs it, and the exact FAIL line and exit status are asserted. "Rewritten"
tamperings recompute every manifest, the index, Payload-Oxum and the tag manifests, as a
courier who knows BagIt would: only what is signed can catch them.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from amanah.config import write_default_config
from amanah.custody import verifier as ledger_verifier
from amanah.sharing import verify_package as pv
from amanah.workspace import open_workspace
from tests.conftest import REPO, built_once

VERIFIER = REPO / "tools" / "verify_package.py"


@dataclass(frozen=True)
class Built:
    bag: Path
    key_id: str
    public_pem: bytes


def _build_demo_package(folder: Path) -> None:
    """The demo's home, processed, with its request answered by Amanah's own build
    (packages/DEMO-RFA-001), and the installation key's id and public key beside it."""
    from amanah.demo import create_demo, create_demo_request
    from amanah.processing.runner import run

    home = folder / "home"
    write_default_config(home)
    ws = open_workspace(home)
    try:
        create_demo(ws, "local:test")
        run(ws)
        assert create_demo_request(ws)
        (folder / "key_id").write_text(ws.key.key_id, "utf-8")
        (folder / "public.pem").write_bytes(ws.key.public_pem)
    finally:
        ws.close()


def demo_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of `_build_demo_package`, built once for the whole run (`built_once`): the
    tamper matrices of three files and the key rotation's tests read it, or copy it."""
    return built_once(tmp_path_factory, "demo-package", _build_demo_package)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    folder = demo_package(tmp_path_factory)
    key = Built(
        folder / "home" / "packages" / "DEMO-RFA-001",
        (folder / "key_id").read_text("utf-8"),
        (folder / "public.pem").read_bytes(),
    )
    assert len(_payload(key.bag)) >= 2, "the tamper matrix needs a package of several files"
    return key


def _payload(bag: Path) -> list[str]:
    return sorted(p.relative_to(bag).as_posix() for p in (bag / "data").rglob("*") if p.is_file())


def _verify(bag: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(VERIFIER), str(bag), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


# --- how a courier who knows BagIt rewrites a bag --------------------------------------------


def _index(bag: Path) -> dict:
    return json.loads((bag / "amanah" / "items.json").read_text(encoding="utf-8"))


def _write_index(bag: Path, index: dict) -> None:
    (bag / "amanah" / "items.json").write_text(
        json.dumps(index, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    buf = io.StringIO()
    rows = index["items"]
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    (bag / "amanah" / "items.csv").write_text(buf.getvalue(), encoding="utf-8")


def _rewrite_manifests(bag: Path) -> None:
    """Payload manifests, Payload-Oxum and tag manifests made to match the bag as it is."""
    payload = _payload(bag)
    found = {name: pv.digests(bag / name) for name in payload}
    for algorithm in pv.ALGORITHMS:
        (bag / f"manifest-{algorithm}.txt").write_text(
            "".join(f"{found[n][algorithm]}  {n}\n" for n in payload), encoding="utf-8"
        )
    info = (bag / "bag-info.txt").read_text(encoding="utf-8").splitlines()
    size = sum((bag / n).stat().st_size for n in payload)
    info = [
        f"Payload-Oxum: {size}.{len(payload)}" if line.startswith("Payload-Oxum:") else line
        for line in info
    ]
    (bag / "bag-info.txt").write_text("\n".join(info) + "\n", encoding="utf-8")
    _rewrite_tag_manifests(bag)


def _rewrite_tag_manifests(bag: Path) -> None:
    tags = sorted(
        p.relative_to(bag).as_posix()
        for p in bag.rglob("*")
        if p.is_file()
        and p.relative_to(bag).parts[0] != "data"
        and not p.name.startswith("tagmanifest-")
    )
    found = {name: pv.digests(bag / name) for name in tags}
    for algorithm in pv.ALGORITHMS:
        (bag / f"tagmanifest-{algorithm}.txt").write_text(
            "".join(f"{found[n][algorithm]}  {n}\n" for n in tags), encoding="utf-8"
        )


def _drop_file(bag: Path, name: str) -> None:
    (bag / name).unlink()
    index = _index(bag)
    index["items"] = [r for r in index["items"] if r["file"] != name]
    _write_index(bag, index)
    _rewrite_manifests(bag)


def _rename_file(bag: Path, old: str, new: str) -> None:
    (bag / old).rename(bag / new)
    index = _index(bag)
    for row in index["items"]:
        if row["file"] == old:
            row["file"] = new
    _write_index(bag, index)
    _rewrite_manifests(bag)


def _add_file(bag: Path, name: str) -> None:
    (bag / name).write_bytes(b"a file the sender never sent\n")
    _rewrite_manifests(bag)


def _resign_with_another_key(bag: Path) -> None:
    """Every checkpoint re-signed by a key that is not the sender's: a consistent forgery."""
    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def resign(cp: dict) -> dict:
        cp = {**cp, "key_id": ledger_verifier.key_id(pem)}
        cp["signature"] = base64.b64encode(
            key.sign(ledger_verifier.checkpoint_statement(cp))
        ).decode()
        return cp

    (bag / "amanah" / "public_key.pem").write_bytes(pem)
    path = bag / "amanah" / "checkpoint.json"
    path.write_bytes(ledger_verifier.canonical_json(resign(json.loads(path.read_text()))) + b"\n")
    for path in sorted((bag / "amanah" / "custody").glob("*.json")):
        proof = json.loads(path.read_text(encoding="utf-8"))
        proof["checkpoint"] = resign(proof["checkpoint"])
        proof["public_key"] = pem.decode()
        proof.pop("key_history", None)  # the forger's ledger has one key, its own
        path.write_bytes(ledger_verifier.canonical_json(proof) + b"\n")
    path = bag / "amanah" / "seal.json"
    seal = json.loads(path.read_text(encoding="utf-8"))
    seal["proof"]["checkpoint"] = resign(seal["proof"]["checkpoint"])
    seal["proof"]["public_key"] = pem.decode()
    seal["proof"].pop("key_history", None)
    path.write_bytes(ledger_verifier.canonical_json(seal) + b"\n")
    _rewrite_tag_manifests(bag)


def _edit_json(bag: Path, name: str, change: Callable[[dict], None]) -> None:
    path = bag / name
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_bytes(ledger_verifier.canonical_json(doc) + b"\n")
    _rewrite_tag_manifests(bag)


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


# --- the matrix --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tampering:
    name: str
    apply: Callable[[Path, list[str]], None]
    #: The FAIL line expected, with {first}/{second}/{package}/{key} filled in from the bag.
    line: str
    exit_code: int = 1


def _custody_of(bag: Path, file: str) -> str:
    return next(r["custody"] for r in _index(bag)["items"] if r["file"] == file)


def _without_disclosure(bag: Path, files: list[str]) -> None:
    name = _custody_of(bag, files[0])
    _edit_json(
        bag,
        name,
        lambda proof: proof.update(
            events=[e for e in proof["events"] if e["entry"]["type"] != "disclosure"]
        ),
    )


def _edit_an_event(bag: Path, files: list[str]) -> None:
    name = _custody_of(bag, files[0])

    def change(proof: dict) -> None:
        proof["events"][0]["entry"]["actor"] = "someone else"

    _edit_json(bag, name, change)


def _cut_events(bag: Path, files: list[str]) -> None:
    """Events cut from a record (a format identification, a fixity check), as a sender who
    hides what happened to a file would: every event left proves, and the tags are redone."""
    _edit_json(
        bag,
        _custody_of(bag, files[0]),
        lambda proof: proof.update(
            events=[
                e
                for e in proof["events"]
                if e["entry"]["type"] not in ("format identification", "fixity check", "derivation")
            ]
        ),
    )


def _reorder_events(bag: Path, files: list[str]) -> None:
    _edit_json(
        bag,
        _custody_of(bag, files[0]),
        lambda proof: proof.update(events=[*reversed(proof["events"]), proof["events"][-1]]),
    )


def _claim_redacted(bag: Path, files: list[str]) -> None:
    index = _index(bag)
    index["items"][0]["variant"] = "redacted"
    _write_index(bag, index)
    _rewrite_tag_manifests(bag)


def _seal_list_edited(bag: Path, files: list[str]) -> None:
    _drop_file(bag, files[0])
    _edit_json(
        bag,
        "amanah/seal.json",
        lambda seal: seal.update(files=[f for f in seal["files"] if f["file"] != files[0]]),
    )


def _bad_signature(bag: Path, files: list[str]) -> None:
    def change(cp: dict) -> None:
        sig = bytearray(base64.b64decode(cp["signature"]))
        sig[0] ^= 0x01
        cp["signature"] = base64.b64encode(bytes(sig)).decode()

    _edit_json(bag, "amanah/checkpoint.json", change)


def _seal_removed(bag: Path, files: list[str]) -> None:
    (bag / "amanah" / "seal.json").unlink()
    _rewrite_tag_manifests(bag)


def _cover_letter_replaced(bag: Path, files: list[str]) -> None:
    (bag / "amanah" / "cover-letter.pdf").write_bytes(b"%PDF-1.4 another letter\n")
    _rewrite_tag_manifests(bag)


def _oxum_wrong(bag: Path, files: list[str]) -> None:
    path = bag / "bag-info.txt"
    text = path.read_text(encoding="utf-8")
    lines = [
        "Payload-Oxum: 1.1" if line.startswith("Payload-Oxum:") else line
        for line in text.splitlines()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _rewrite_tag_manifests(bag)


def _hard_link_outside(bag: Path, files: list[str]) -> None:
    """A file replaced by a hard link to a copy outside the package: the same bytes today,
    whatever the outside file is edited to after the check."""
    outside = bag.parent / "outside-copy"
    outside.write_bytes((bag / files[0]).read_bytes())
    (bag / files[0]).unlink()
    os.link(outside, bag / files[0])


def _md5_manifest_added(bag: Path, files: list[str]) -> None:
    """A payload manifest of another algorithm added, all its digests zero, the tag manifests
    redone: BagIt says every payload manifest present is checked."""
    lines = "".join(f"{'0' * 32}  {f}\n" for f in files)
    (bag / "manifest-md5.txt").write_text(lines, encoding="utf-8")
    _rewrite_tag_manifests(bag)


def _sha256_manifest_removed(bag: Path, files: list[str]) -> None:
    """manifest-sha256.txt deleted, manifest-sha512.txt left: the payload's SHA-256s are
    what the disclosure event sealed."""
    (bag / "manifest-sha256.txt").unlink()
    _rewrite_tag_manifests(bag)


def _relabel(bag: Path, info: dict[str, str], index: dict[str, str]) -> None:
    """bag-info.txt's fields and items.json's top-level ones rewritten, the tag manifests
    redone: the package made to look built for another recipient, request, maker or date."""
    path = bag / "bag-info.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    for key, value in info.items():
        lines = [f"{key}: {value}" if line.startswith(f"{key}:") else line for line in lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    doc = _index(bag)
    doc.update(index)
    (bag / "amanah" / "items.json").write_text(
        json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    _rewrite_tag_manifests(bag)


def _relabel_recipient(bag: Path, files: list[str]) -> None:
    forged = "FORGED-PROS: Some Other Prosecutor (Elsewhere)"
    _relabel(bag, {"Amanah-Recipient": forged}, {"recipient": forged})


def _relabel_authority(bag: Path, files: list[str]) -> None:
    """The jurisdiction's code kept, the authority named another: only the recipient as
    written, signed since, tells them apart."""
    code = _index(bag)["recipient"].split(":")[0]
    forged = f"{code}: Another Prosecutor (Elsewhere)"
    _relabel(bag, {"Amanah-Recipient": forged}, {"recipient": forged})


TAMPERINGS = [
    Tampering(
        "a payload manifest-md5.txt added with wrong digests",
        _md5_manifest_added,
        "FAIL {first}: md5 does not match the manifest (changed)",
    ),
    Tampering(
        "manifest-sha256.txt removed",
        _sha256_manifest_removed,
        "FAIL no manifest-sha256.txt: the package's payload manifest was removed",
    ),
    Tampering(
        "one byte of a file flipped",
        lambda bag, f: _flip_byte(bag / f[0]),
        "FAIL {first}: sha256 does not match the manifest (changed)",
    ),
    Tampering(
        "a file added to data/",
        lambda bag, f: (bag / "data" / "extra.txt").write_text("x"),
        "FAIL data/extra.txt: not in manifest-sha256.txt (a file was added)",
    ),
    Tampering(
        "a file removed from data/",
        lambda bag, f: (bag / f[0]).unlink(),
        "FAIL {first}: listed in manifest-sha256.txt but missing (removed)",
    ),
    Tampering(
        "a file removed, manifests, index and tag manifests rewritten",
        lambda bag, f: _drop_file(bag, f[0]),
        "FAIL {first}: sealed in the package but missing (removed or renamed)",
    ),
    Tampering(
        "a file added, manifests and tag manifests rewritten",
        lambda bag, f: _add_file(bag, "data/99999-extra.txt"),
        "FAIL data/99999-extra.txt: not in the package's sealed file set (added)",
    ),
    Tampering(
        "a file renamed, everything rewritten",
        lambda bag, f: _rename_file(bag, f[0], "data/00001-renamed.txt"),
        "FAIL data/00001-renamed.txt: not in the package's sealed file set (renamed from {first})",
    ),
    Tampering(
        "the sealed list edited to match a removal",
        _seal_list_edited,
        "FAIL amanah/seal.json: its file list is not the one signed in the package's"
        " disclosure event (edited)",
    ),
    Tampering(
        "the seal removed",
        _seal_removed,
        "FAIL amanah/seal.json: missing: the package's file set is not sealed",
    ),
    Tampering(
        "a tag file changed, tag manifest left",
        lambda bag, f: (bag / "amanah" / "items.csv").write_text("number\r\n1\r\n"),
        "FAIL amanah/items.csv: sha256 does not match tagmanifest-sha256.txt (changed)",
    ),
    Tampering(
        "a tag file added",
        lambda bag, f: (bag / "amanah" / "note.txt").write_text("read me"),
        "FAIL amanah/note.txt: not in the tag manifest (a file was added)",
    ),
    Tampering(
        "a file named like a tag manifest added at the top",
        lambda bag, f: (bag / "tagmanifest-note.pdf").write_bytes(b"%PDF-1.4 a forged note\n"),
        "FAIL tagmanifest-note.pdf: not in the tag manifest (a file was added)",
    ),
    Tampering(
        "a tag manifest of an algorithm not in use added",
        lambda bag, f: (bag / "tagmanifest-md5.txt").write_text(
            "d41d8cd98f00b204e9800998ecf8427e  data/none\n"
        ),
        "FAIL tagmanifest-md5.txt: not in the tag manifest (a file was added)",
    ),
    Tampering(
        "a file hard-linked to a copy outside the package",
        _hard_link_outside,
        "FAIL {first}: a file with 2 hard links: its bytes are also a file elsewhere and can"
        " change after the check",
    ),
    Tampering(
        "relabelled for another recipient",
        _relabel_recipient,
        "FAIL bag-info.txt: Amanah-Recipient is FORGED-PROS: Some Other Prosecutor (Elsewhere),"
        " but the package's signed disclosure event says {recipient} (relabelled)",
    ),
    Tampering(
        "relabelled for another authority of the same jurisdiction",
        _relabel_authority,
        "FAIL amanah/items.json: recipient is {code}: Another Prosecutor (Elsewhere), but the"
        " package's signed disclosure event says {recipient} (relabelled)",
    ),
    Tampering(
        "relabelled for another request",
        lambda bag, f: _relabel(
            bag, {"Amanah-Request-Reference": "OTHER-RFA-999"}, {"request": "OTHER-RFA-999"}
        ),
        "FAIL amanah/items.json: request is OTHER-RFA-999, but the package's signed disclosure"
        " event says {request} (relabelled)",
    ),
    Tampering(
        "another maker and date written in",
        lambda bag, f: _relabel(
            bag,
            {"Amanah-Creator": "someone else", "Bagging-Date": "2020-01-01"},
            {"created_by": "someone else", "created_at": "2020-01-01T00:00:00Z"},
        ),
        "FAIL bag-info.txt: Bagging-Date is 2020-01-01, but the package's signed disclosure"
        " event says it was made at {created_at} (relabelled)",
    ),
    Tampering(
        "a file added whose name holds a newline and a forged last line",
        lambda bag, f: (bag / "data" / "x\npackage .: verified").write_text("x"),
        "FAIL data/x\\x0apackage .: verified: not in manifest-sha256.txt (a file was added)",
    ),
    Tampering(
        "a custody file removed",
        lambda bag, f: (bag / _custody_of(bag, f[0])).unlink(),
        "FAIL {custody}: listed in tagmanifest-sha256.txt but missing (removed)",
    ),
    Tampering(
        "the checkpoint's signature altered",
        _bad_signature,
        "FAIL amanah/checkpoint.json: the signature is not valid",
    ),
    Tampering(
        "a custody event edited",
        _edit_an_event,
        "content does not match its hash",
    ),
    Tampering(
        "the disclosure event left out of a custody file",
        _without_disclosure,
        "FAIL {first} (custody {custody}): no disclosure event for this file in package {package}",
    ),
    Tampering(
        "events cut from a custody record",
        _cut_events,
        "FAIL amanah/custody: the custody records are not those sealed with the package",
    ),
    Tampering(
        "a custody record's events reordered and one repeated",
        _reorder_events,
        "FAIL amanah/custody: the custody records are not those sealed with the package",
    ),
    Tampering(
        "an original claimed to be a redacted copy",
        _claim_redacted,
        "FAIL {first} (custody {custody}): no redaction event makes this file from the original",
    ),
    Tampering(
        "the cover letter replaced",
        _cover_letter_replaced,
        "FAIL amanah/cover-letter.pdf: not the cover letter sealed with the package",
    ),
    Tampering(
        "Payload-Oxum changed",
        _oxum_wrong,
        "FAIL bag-info.txt: Payload-Oxum 1.1 but the payload is",
    ),
    Tampering(
        "everything re-signed by another key",
        lambda bag, f: _resign_with_another_key(bag),
        "FAIL amanah/public_key.pem: key id {forged}, not the expected {key}",
    ),
]


@pytest.mark.parametrize("tampering", TAMPERINGS, ids=[t.name for t in TAMPERINGS])
def test_a_tampered_package_fails_with_the_line_that_names_it(
    built: Built, tmp_path: Path, tampering: Tampering
) -> None:
    bag = tmp_path / "bag"
    shutil.copytree(built.bag, bag)
    files = _payload(bag)
    facts = {
        "first": files[0],
        "custody": _custody_of(bag, files[0]),
        "package": _index(bag)["package"],
        "key": built.key_id,
        "recipient": _index(bag)["recipient"],
        "code": _index(bag)["recipient"].split(":")[0],
        "request": _index(bag)["request"],
        "created_at": _index(bag)["created_at"],
    }
    tampering.apply(bag, files)
    facts["forged"] = ledger_verifier.key_id((bag / "amanah" / "public_key.pem").read_bytes())
    result = _verify(bag, "--key-id", built.key_id)
    assert result.returncode == tampering.exit_code, result.stdout + result.stderr
    assert tampering.line.format(**facts) in result.stdout, result.stdout
    assert result.stdout.rstrip().splitlines()[-1].endswith("problem(s)")


def test_a_manifest_with_a_byte_order_mark_is_not_the_manifest_as_written(
    built: Built, tmp_path: Path
) -> None:
    """A BOM put before manifest-sha256.txt was reported as its first file missing and an
    unlisted one added; it is the manifest that is not as written."""
    bag = tmp_path / "bag"
    shutil.copytree(built.bag, bag)
    manifest = bag / "manifest-sha256.txt"
    manifest.write_bytes(b"\xef\xbb\xbf" + manifest.read_bytes())
    _rewrite_tag_manifests(bag)
    result = _verify(bag, "--key-id", built.key_id)
    assert result.returncode == 2, result.stdout + result.stderr
    said = result.stdout + result.stderr
    assert "manifest-sha256.txt: begins with a byte-order mark: not the manifest as written" in said
    assert "verified" not in said


def test_the_untouched_package_verifies_against_the_pinned_key(
    built: Built, tmp_path: Path
) -> None:
    """It says, from the signed disclosure event, for whom and for which request."""
    ok = _verify(built.bag, "--key-id", built.key_id)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    index = _index(built.bag)
    assert (
        f"package {built.bag}: for {index['recipient']}, request {index['request']}, made by"
        f" {index['created_by']} at {index['created_at']} (signed in its disclosure event)\n"
        in ok.stdout
    )
    pem = tmp_path / "sender.pem"
    pem.write_bytes(built.public_pem)
    result = _verify(built.bag, "--public-key", str(pem))
    assert result.returncode == 0, result.stdout
    assert result.stdout.rstrip().endswith(": verified")


def test_without_a_pinned_key_the_origin_is_not_established(built: Built) -> None:
    result = _verify(built.bag)
    assert result.returncode == 3, result.stdout
    assert "integrity checked, origin not established" in result.stdout
    assert "verified" not in result.stdout.replace("origin not established", "")


def test_a_forgery_signed_by_another_key_is_caught_only_by_pinning(
    built: Built, tmp_path: Path
) -> None:
    """Re-signed throughout with the forger's key, the package is consistent: without a
    pinned key the verifier can only say so (exit 3); with the sender's key it fails."""
    bag = tmp_path / "forged"
    shutil.copytree(built.bag, bag)
    _resign_with_another_key(bag)
    unpinned = _verify(bag)
    assert unpinned.returncode == 3, unpinned.stdout
    pem = tmp_path / "sender.pem"
    pem.write_bytes(built.public_pem)
    pinned = _verify(bag, "--public-key", str(pem))
    assert pinned.returncode == 1, pinned.stdout
    forged = ledger_verifier.key_id((bag / "amanah" / "public_key.pem").read_bytes())
    assert f"FAIL amanah/public_key.pem: key id {forged}, not the pinned key" in pinned.stdout
    assert "checkpoint is signed by key" in pinned.stdout  # every proof rejected too


def test_an_unreadable_package_exits_2(built: Built, tmp_path: Path) -> None:
    bag = tmp_path / "bag"
    shutil.copytree(built.bag, bag)
    (bag / "bagit.txt").unlink()
    result = _verify(bag, "--key-id", built.key_id)
    assert result.returncode == 2
    assert f"cannot read package {bag}: no bagit.txt" in result.stderr
    broken = tmp_path / "broken"
    shutil.copytree(built.bag, broken)
    (broken / "amanah" / "items.json").write_text("{not json")
    result = _verify(broken, "--key-id", built.key_id)
    assert result.returncode == 2 and "cannot read package" in result.stderr


def _nest(bag: Path, depth: int) -> Path:
    deepest = bag / "data"
    for _ in range(depth):  # one at a time: os.makedirs recurses, past the limit here
        deepest = deepest / "a"
        deepest.mkdir()
    return deepest


def test_folders_nested_past_any_package_exit_2_with_one_line(built: Built, tmp_path: Path) -> None:
    """Nesting 1,100 deep (past Python's recursion limit) is refused, not a traceback: the
    walk does not recurse, and no package nests more than MAX_DEPTH folders."""
    bag = tmp_path / "bag"
    shutil.copytree(built.bag, bag)
    deepest = _nest(bag, 1100)
    try:
        result = _verify(bag, "--key-id", built.key_id)
    finally:
        while deepest != bag / "data":  # rmtree recurses, and would fail as the walk did
            deepest.rmdir()
            deepest = deepest.parent
    assert (result.returncode, result.stdout) == (2, ""), result.stdout + result.stderr
    assert result.stderr == (
        f"cannot read package {bag}: data/a/…: folders nested more than {pv.MAX_DEPTH} deep"
        " (no package nests so deep)\n"
    )


def _name_not_utf8(bag: Path) -> str:
    with open(os.path.join(os.fsencode(bag / "data"), b"\xff-added"), "wb") as f:
        f.write(b"x")
    return "data/\\xff-added: a name that is not UTF-8 (BagIt names its files in UTF-8)"


def _bag_info_too_large(bag: Path) -> str:
    with (bag / "bag-info.txt").open("a", encoding="utf-8") as f:
        f.write("Note: " + "a" * (2 << 20) + "\n")
    size = (bag / "bag-info.txt").stat().st_size
    return f"bag-info.txt: {size} bytes, more than any package's holds ({pv.MAX_INFO_BYTES})"


def _manifest_not_utf8(bag: Path) -> str:
    size = (bag / "manifest-sha256.txt").stat().st_size
    with (bag / "manifest-sha256.txt").open("ab") as f:
        f.write(b"\xff\xfe  data/x\n")
    return f"manifest-sha256.txt: not UTF-8 (byte {size})"


UNUSABLE: list[tuple[str, Callable[[Path], str]]] = [
    ("a file name that is not UTF-8", _name_not_utf8),
    ("a bag-info.txt larger than any package's", _bag_info_too_large),
    ("a manifest that is not UTF-8", _manifest_not_utf8),
]


@pytest.mark.parametrize("make", [m for _, m in UNUSABLE], ids=[n for n, _ in UNUSABLE])
def test_an_input_the_verifier_cannot_use_exits_2_with_one_line(
    built: Built, tmp_path: Path, make: Callable[[Path], str]
) -> None:
    """What cannot be read as a package gives one line naming the file and why, exit 2: no
    traceback (which exits 1, the status of FAIL lines), nothing read into memory whole."""
    bag = tmp_path / "bag"
    shutil.copytree(built.bag, bag)
    try:
        reason = make(bag)
    except OSError as exc:  # a file system that refuses such a name
        pytest.skip(f"cannot make the input here: {exc}")
    result = _verify(bag, "--key-id", built.key_id)
    assert (result.returncode, result.stdout) == (2, ""), result.stdout + result.stderr
    assert result.stderr == f"cannot read package {bag}: {reason}\n"


def test_the_amanah_command_verifies_against_the_installation_key(
    built: Built, tmp_path: Path
) -> None:
    from tests.conftest import amanah

    home = tmp_path / "home"  # a copy: the built home is shared with other files' tests
    shutil.copytree(built.bag.parent.parent, home, symlinks=True)
    ok = amanah(home, "package", "verify", str(built.bag))
    assert ok.returncode == 0 and ok.stdout.rstrip().endswith("verified"), ok.stdout + ok.stderr
    bag = tmp_path / "forged"
    shutil.copytree(built.bag, bag)
    _resign_with_another_key(bag)
    bad = amanah(home, "package", "verify", str(bag))
    assert bad.returncode == 1
    assert "not the pinned key" in bad.stdout


def test_a_redacted_row_pointed_at_the_original_is_refused_before_a_byte_is_copied(
    tmp_path: Path,
) -> None:
    """The attack of the integrity audit: the redacted-derivative row of an item is pointed
    at the original's blob (no redaction made it). The build must refuse, not ship the
    original labelled "redacted"."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from amanah.db.models import Derivative, Item
    from amanah.demo import create_demo, create_demo_request
    from amanah.processing.runner import run
    from amanah.sharing.package import PackageRefused
    from amanah.sharing.redaction import REDACTED

    home = tmp_path / "home"
    write_default_config(home)
    ws = open_workspace(home)
    try:
        create_demo(ws, "local:test")
        run(ws)
        with ws.db.session() as s:
            item = s.execute(
                select(Item).where(Item.original_path.like("%statement-002.txt"))
            ).scalar_one()
            s.add(
                Derivative(
                    item_id=item.id,
                    kind=REDACTED,
                    sha256=item.sha256,
                    size=item.size,
                    media_type="text/plain",
                    details="{}",
                    created_at=datetime.now(UTC),
                )
            )
            swapped = item.id
        with pytest.raises(PackageRefused) as refused:
            create_demo_request(ws)
    finally:
        ws.close()
    reasons = {r.item_id: r.reason for r in refused.value.refusals}
    assert reasons[swapped].startswith(
        "its redacted version is not the file the ledger records as made from the original"
    )
    assert not (home / "packages" / "DEMO-RFA-001").exists()
    assert not list((home / "packages").glob(".*partial*"))


def test_a_build_that_fails_halfway_leaves_neither_package_nor_disclosures(
    tmp_path: Path,
) -> None:
    """A stored blob whose bytes no longer match their hash stops the build while it copies:
    no package folder, no hidden partial folder, no disclosure event, no package row."""
    import os

    from sqlalchemy import func, select

    from amanah.db.models import CustodyEvent, Item, Package
    from amanah.demo import create_demo, create_demo_request
    from amanah.processing.runner import run
    from amanah.sharing import SharingError

    home = tmp_path / "home"
    write_default_config(home)
    ws = open_workspace(home)
    try:
        create_demo(ws, "local:test")
        run(ws)
        with ws.db.reader() as s:
            sha = s.execute(
                select(Item.sha256).where(Item.original_path.like("%statement-002.txt"))
            ).scalar_one()
        blob = ws.blobs.path(sha)  # type: ignore[attr-defined]
        os.chmod(blob, 0o600)
        data = bytearray(blob.read_bytes())
        data[0] ^= 0x01
        blob.write_bytes(bytes(data))
        with pytest.raises(
            SharingError, match=f"the stored bytes do not match their SHA-256 \\({sha}\\)"
        ):
            create_demo_request(ws)
        with ws.db.reader() as s:
            disclosures = s.execute(
                select(func.count()).where(CustodyEvent.event_type == "disclosure")
            ).scalar_one()
            packages = s.execute(select(func.count()).select_from(Package)).scalar_one()
    finally:
        ws.close()
    assert disclosures == 0 and packages == 0
    assert not (home / "packages" / "DEMO-RFA-001").exists()
    assert not [p for p in (home / "packages").iterdir() if "partial" in p.name]
