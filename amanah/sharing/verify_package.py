#!/usr/bin/env python3
"""Verify an Amanah sharing package (a BagIt 1.0 bag), without Amanah.

Needs only Python 3.11 or later and the `cryptography` package. It checks that
- the bag is complete: every payload file listed in every manifest, nothing added, removed or
  changed (SHA-256 and SHA-512), Payload-Oxum, and every tag file against the tag manifests;
- every file's custody record: each event's hash, its inclusion in the Merkle tree of a
  checkpoint signed with the installation's Ed25519 key, and that the record says this is
  the file collected (its SHA-256 was computed at intake) or a redacted copy made from it, and
  that it was disclosed in this package with exactly these bytes.

- the package's file set is sealed: the list of its files and their digests is recorded in a
  signed disclosure event, so a file removed, added or renamed (manifests, index and tag
  manifests rewritten to match) is caught and named.

    python3 verify_package.py PACKAGE_DIR --key-id ID
    python3 verify_package.py PACKAGE_DIR --public-key sender.pem

Give --key-id (confirmed with the sender by another channel) or the sender's public key to
establish who signed the package. Without either, the key shipped inside the package is used:
that proves the package consistent, not who made it, and the exit status says so.

Exit status: 0 verified against the key you gave; 1 a check failed (each problem is printed
with the file it concerns); 2 the input is unreadable; 3 integrity checked, origin not
established (no key given).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ALGORITHMS = ("sha256", "sha512")
CHUNK = 1 << 20
SEAL_FORMAT = "amanah-package-seal/1"
SEAL_FIELDS = ("file", "sha256", "sha512", "item_id", "variant", "original_sha256")
EXIT_VERIFIED, EXIT_FAILED, EXIT_UNREADABLE, EXIT_ORIGIN_UNKNOWN = 0, 1, 2, 3


def _ledger_verifier() -> ModuleType:
    """The custody ledger's verifier: beside this file in a package, or Amanah's own."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "verify_ledger.py", here.parent / "custody" / "verifier.py"):
        if candidate.is_file():
            spec = importlib.util.spec_from_file_location("amanah_verify_ledger", candidate)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    from amanah.custody import verifier

    return verifier


def _decode(path: str) -> str:
    return path.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


def read_manifest(path: Path) -> dict[str, str]:
    entries: dict[str, str] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        digest, _, name = line.partition(" ")
        name = name.lstrip(" ").lstrip("*")
        if not digest or not name:
            raise ValueError(f"{path.name}:{lineno}: not a manifest line")
        entries[_decode(name)] = digest.lower()
    return entries


def read_bag_info(path: Path) -> dict[str, str]:
    info: dict[str, str] = {}
    key = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line[:1] in (" ", "\t") and key:
            info[key] += " " + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip()
            info[key] = value.strip()
    return info


def digests(path: Path) -> dict[str, str]:
    """SHA-256 and SHA-512 of a file in one read."""
    hashers = {a: hashlib.new(a) for a in ALGORITHMS}
    with path.open("rb") as f:
        while data := f.read(CHUNK):
            for h in hashers.values():
                h.update(data)
    return {a: h.hexdigest() for a, h in hashers.items()}


def check_bag(bag: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    """BagIt completeness and fixity; returns problems and each payload file's digests."""
    problems: list[str] = []
    declared = read_bag_info(bag / "bagit.txt")
    if declared.get("BagIt-Version") not in ("1.0", "0.97"):
        problems.append(f"bagit.txt: unexpected BagIt-Version {declared.get('BagIt-Version')!r}")
    manifests = {
        a: bag / f"manifest-{a}.txt" for a in ALGORITHMS if (bag / f"manifest-{a}.txt").exists()
    }
    if not manifests:
        return [*problems, "no manifest-sha256.txt or manifest-sha512.txt"], {}
    listed = {a: read_manifest(p) for a, p in manifests.items()}
    on_disk = {p.relative_to(bag).as_posix() for p in (bag / "data").rglob("*") if p.is_file()}
    payload: dict[str, dict[str, str]] = {}
    for name in sorted(on_disk):
        payload[name] = digests(bag / name)
    for algorithm, entries in listed.items():
        for name in sorted(on_disk - entries.keys()):
            problems.append(f"{name}: not in manifest-{algorithm}.txt (a file was added)")
        for name, digest in sorted(entries.items()):
            if name not in on_disk:
                problems.append(f"{name}: listed in manifest-{algorithm}.txt but missing (removed)")
            elif payload[name][algorithm] != digest:
                problems.append(f"{name}: {algorithm} does not match the manifest (changed)")
    info = read_bag_info(bag / "bag-info.txt") if (bag / "bag-info.txt").exists() else {}
    oxum = info.get("Payload-Oxum")
    if oxum:
        size = sum((bag / n).stat().st_size for n in on_disk)
        if oxum != f"{size}.{len(on_disk)}":
            problems.append(
                f"bag-info.txt: Payload-Oxum {oxum} but the payload is {size}.{len(on_disk)}"
            )
    tag_listed: dict[str, str] = {}
    tag_digests: dict[str, dict[str, str]] = {}  # each tag file read once for both manifests
    for algorithm in ALGORITHMS:
        tm = bag / f"tagmanifest-{algorithm}.txt"
        if not tm.exists():
            continue
        entries = read_manifest(tm)
        tag_listed.update(entries)
        for name, digest in sorted(entries.items()):
            target = bag / name
            if not target.is_file():
                problems.append(f"{name}: listed in {tm.name} but missing (removed)")
            elif tag_digests.setdefault(name, digests(target))[algorithm] != digest:
                problems.append(f"{name}: {algorithm} does not match {tm.name} (changed)")
    if not tag_listed:
        problems.append("no tagmanifest-sha256.txt: the tag files (index, custody) are unprotected")
    for p in sorted(bag.rglob("*")):
        rel = p.relative_to(bag).as_posix()
        tag_file = p.is_file() and not rel.startswith(("data/", "tagmanifest-"))
        if tag_file and rel not in tag_listed:
            problems.append(f"{rel}: not in the tag manifest (a file was added)")
    return problems, payload


def _event_of(events: list[dict[str, Any]], kind: str, **want: Any) -> dict[str, Any] | None:
    for ev in events:
        e = ev["entry"]
        if e["type"] == kind and all(e["details"].get(k) == v for k, v in want.items()):
            return e
    return None


def sealed_files(rows: Any) -> list[dict[str, Any]]:
    """The sealed form of a package's file list: the fields that matter, sorted by file."""
    return sorted(({k: row[k] for k in SEAL_FIELDS} for row in rows), key=lambda r: r["file"])


def seal_digest(files: list[dict[str, Any]]) -> str:
    """SHA-256 of the sealed file list as canonical JSON: what the disclosure event signs."""
    data = json.dumps(files, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def check_seal(
    bag: Path,
    payload: dict[str, dict[str, str]],
    index: dict[str, Any],
    checkpoint: dict[str, Any],
    pem: bytes,
) -> list[str]:
    """The bag holds exactly the files sealed in the package's signed disclosure event."""
    ledger = _ledger_verifier()
    path = bag / "amanah" / "seal.json"
    if not path.is_file():
        return ["amanah/seal.json: missing: the package's file set is not sealed"]
    try:
        seal = json.loads(path.read_text(encoding="utf-8"))
        files = sealed_files(seal["files"])
        proof = seal["proof"]
    except (ValueError, KeyError, TypeError) as exc:
        return [f"amanah/seal.json: cannot be read ({exc})"]
    package_id = index.get("package")
    problems = [f"amanah/seal.json: {p}" for p in ledger.verify_proof(proof, pem)]
    if proof.get("checkpoint") != checkpoint:
        problems.append("amanah/seal.json: proves against another checkpoint")
    if proof.get("object") != {"type": "package", "id": package_id}:
        problems.append(f"amanah/seal.json: the seal is not of package {package_id}")
    sealing = _event_of(
        proof.get("events", []), "disclosure", package=package_id, seal_sha256=seal_digest(files)
    )
    if sealing is None:
        return [
            *problems,
            "amanah/seal.json: its file list is not the one signed in the package's disclosure"
            " event (edited)",
        ]
    details = sealing["details"]
    if details.get("files") != len(files):
        problems.append("amanah/seal.json: the signed file count differs from the sealed list")
    cover = bag / "amanah" / "cover-letter.pdf"
    if details.get("cover_letter_sha256") and (
        not cover.is_file() or digests(cover)["sha256"] != details["cover_letter_sha256"]
    ):
        problems.append("amanah/cover-letter.pdf: not the cover letter sealed with the package")
    sealed = {f["file"]: f for f in files}
    by_digest = {f["sha256"]: f["file"] for f in files}
    for name in sorted(sealed.keys() - payload.keys()):
        problems.append(f"{name}: sealed in the package but missing (removed or renamed)")
    for name in sorted(payload.keys() - sealed.keys()):
        was = by_digest.get(payload[name]["sha256"])
        how = f"renamed from {was}" if was and was not in payload else "added"
        problems.append(f"{name}: not in the package's sealed file set ({how})")
    for name in sorted(sealed.keys() & payload.keys()):
        for algorithm in ALGORITHMS:
            if payload[name][algorithm] != sealed[name][algorithm]:
                problems.append(f"{name}: {algorithm} differs from the sealed file set (changed)")
                break
    rows = {row.get("file"): row for row in index.get("items", [])}
    for name in sorted(sealed.keys() & rows.keys()):
        row = rows[name]
        for field in ("item_id", "variant", "original_sha256"):
            if row.get(field) != sealed[name][field]:
                problems.append(f"{name}: {field} in amanah/items.json differs from the seal")
    for name in sorted(sealed.keys() - rows.keys()):
        problems.append(f"{name}: sealed in the package but not in amanah/items.json")
    return problems


def _trusted_key(
    bag: Path, key_id: str | None, public_key: bytes | None
) -> tuple[bytes, list[str]]:
    """The key to check signatures with: the one the user pinned, else the shipped one."""
    ledger = _ledger_verifier()
    shipped = (bag / "amanah" / "public_key.pem").read_bytes()
    shipped_id = ledger.key_id(shipped)
    if public_key is not None:
        pinned_id = ledger.key_id(public_key)
        if pinned_id != shipped_id:
            return public_key, [
                f"amanah/public_key.pem: key id {shipped_id}, not the pinned key {pinned_id}"
            ]
        return public_key, []
    if key_id and key_id != shipped_id:
        return shipped, [f"amanah/public_key.pem: key id {shipped_id}, not the expected {key_id}"]
    return shipped, []


def check_custody(
    bag: Path,
    payload: dict[str, dict[str, str]],
    key_id: str | None,
    public_key: bytes | None = None,
) -> list[str]:
    ledger = _ledger_verifier()
    index = json.loads((bag / "amanah" / "items.json").read_text(encoding="utf-8"))
    pem, problems = _trusted_key(bag, key_id, public_key)
    checkpoint = json.loads((bag / "amanah" / "checkpoint.json").read_text(encoding="utf-8"))
    if not ledger.signature_valid(pem, checkpoint):
        problems.append("amanah/checkpoint.json: the signature is not valid")
    package_id = index["package"]
    files = set()
    for row in index["items"]:
        name = row["file"]
        files.add(name)
        label = f"{name} (custody {row['custody']})"
        if name not in payload:
            problems.append(f"{name}: in amanah/items.json but not in the payload")
            continue
        if payload[name]["sha256"] != row["sha256"]:
            problems.append(f"{name}: sha256 differs from amanah/items.json")
        try:
            proof = json.loads((bag / row["custody"]).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{label}: the custody record cannot be read ({exc})")
            continue
        if proof["checkpoint"] != checkpoint:
            problems.append(
                f"{label}: proves against another checkpoint than amanah/checkpoint.json"
            )
        problems += [f"{label}: {p}" for p in ledger.verify_proof(proof, pem)]
        events = proof["events"]
        if proof["object"] != {"type": "item", "id": str(row["item_id"])}:
            problems.append(f"{label}: the custody record is of another item")
        if _event_of(events, "message digest calculation", digest=row["original_sha256"]) is None:
            problems.append(f"{label}: no intake digest event for SHA-256 {row['original_sha256']}")
        if row["variant"] == "redacted":
            if (
                _event_of(
                    events,
                    "derivation",
                    sha256=row["sha256"],
                    source_sha256=row["original_sha256"],
                )
                is None
            ):
                problems.append(f"{label}: no redaction event makes this file from the original")
        elif row["sha256"] != row["original_sha256"]:
            problems.append(f"{label}: an original whose SHA-256 is not the one collected")
        if (
            _event_of(events, "disclosure", package=package_id, sha256=row["sha256"], file=name)
            is None
        ):
            problems.append(f"{label}: no disclosure event for this file in package {package_id}")
    for name in sorted(set(payload) - files):
        problems.append(f"{name}: in the payload but not in amanah/items.json")
    return problems + check_seal(bag, payload, index, checkpoint, pem)


def verify(bag: Path, key_id: str | None = None, public_key: bytes | None = None) -> list[str]:
    """Every problem found; an empty list means the package verifies (against the pinned
    key when `key_id` or `public_key` is given, else against the key it ships)."""
    if not (bag / "bagit.txt").is_file():
        raise ValueError("no bagit.txt: not a BagIt bag")
    problems, payload = check_bag(bag)
    if (bag / "amanah" / "items.json").exists():
        problems += check_custody(bag, payload, key_id, public_key)
    else:
        problems.append("amanah/items.json: missing (no custody record to check)")
    return problems


ORIGIN_UNKNOWN = (
    "integrity checked, origin not established: no --key-id or --public-key was given, so"
    " the key inside the package was trusted; confirm the key id with the sender"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("package", type=Path, help="the package folder (the bag)")
    parser.add_argument("--key-id", help="the installation key id the sender gave you")
    parser.add_argument("--public-key", type=Path, help="the sender's public key (PEM)")
    args = parser.parse_args(argv)
    try:
        pinned = args.public_key.read_bytes() if args.public_key else None
        problems = verify(args.package, args.key_id, pinned)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot read package {args.package}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    for p in problems:
        print(f"FAIL {p}")
    if problems:
        print(f"package {args.package}: {len(problems)} problem(s)")
        return EXIT_FAILED
    if not (args.key_id or pinned):
        print(f"package {args.package}: {ORIGIN_UNKNOWN}")
        return EXIT_ORIGIN_UNKNOWN
    print(f"package {args.package}: verified")
    return EXIT_VERIFIED


if __name__ == "__main__":
    sys.exit(main())
