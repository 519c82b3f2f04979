#!/usr/bin/env python3
"""Verify an Amanah sharing package (a BagIt 1.0 bag), without Amanah.

Needs only Python 3.11 or later and the `cryptography` package. It checks that
- the bag is complete: every payload file listed in every manifest, nothing added, removed or
  changed (SHA-256 and SHA-512), Payload-Oxum, and every tag file against the tag manifests;
- every file's custody record: each event's hash, its inclusion in the Merkle tree of a
  checkpoint signed with the installation's Ed25519 key, and that the record says this is
  the file collected (its SHA-256 was computed at intake) or a redacted copy made from it, and
  that it was disclosed in this package with exactly these bytes.

    python3 verify_package.py PACKAGE_DIR [--key-id ID]

Give --key-id (from the cover letter, confirmed with the sender by another channel) to make
sure the package was signed by the installation you expect. Exit status: 0 verified, 1 a
check failed (each problem is printed with the file it concerns), 2 the input is unreadable.
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


def check_custody(bag: Path, payload: dict[str, dict[str, str]], key_id: str | None) -> list[str]:
    ledger = _ledger_verifier()
    problems: list[str] = []
    index = json.loads((bag / "amanah" / "items.json").read_text(encoding="utf-8"))
    pem = (bag / "amanah" / "public_key.pem").read_bytes()
    actual_key = ledger.key_id(pem)
    if key_id and key_id != actual_key:
        problems.append(f"amanah/public_key.pem: key id {actual_key}, not the expected {key_id}")
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
    return problems


def verify(bag: Path, key_id: str | None = None) -> list[str]:
    """Every problem found; an empty list means the package verifies."""
    problems, payload = check_bag(bag)
    if (bag / "amanah" / "items.json").exists():
        problems += check_custody(bag, payload, key_id)
    else:
        problems.append("amanah/items.json: missing (no custody record to check)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("package", type=Path, help="the package folder (the bag)")
    parser.add_argument("--key-id", help="the installation key id you expect (cover letter)")
    args = parser.parse_args(argv)
    try:
        problems = verify(args.package, args.key_id)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot read package {args.package}: {exc}", file=sys.stderr)
        return 2
    for p in problems:
        print(f"FAIL {p}")
    if problems:
        print(f"package {args.package}: {len(problems)} problem(s)")
        return 1
    print(f"package {args.package}: verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
