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
  manifests rewritten to match) is caught and named; the same event signs its label (recipient,
  request, maker, date), which bag-info.txt and the index must repeat, and which is printed.
- every entry is a file of its own: no symbolic or hard link, FIFO or device, no folder nested
  past MAX_DEPTH, no file outside data/ but the two tag manifests unlisted.

    python3 verify_package.py PACKAGE_DIR --key-id ID
    python3 verify_package.py PACKAGE_DIR --public-key sender.pem

Give --key-id (confirmed with the sender by another channel) or the sender's public key to
establish who signed the package. Without either, the key shipped inside the package is used:
that proves the package consistent, not who made it, and the exit status says so.

Exit status: 0 verified against the key you gave; 1 a check failed (each problem is printed
with the file it concerns); 2 the input is unreadable (one line says why, never a traceback);
3 integrity checked, origin not established (no key given).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import os
import re
import stat
import sys
from datetime import date
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

ALGORITHMS = ("sha256", "sha512")
CHUNK = 1 << 20
SEAL_FORMAT = "amanah-package-seal/1"
SEAL_FIELDS = ("file", "sha256", "sha512", "item_id", "variant", "original_sha256")
EXIT_VERIFIED, EXIT_FAILED, EXIT_UNREADABLE, EXIT_ORIGIN_UNKNOWN = 0, 1, 2, 3
#: Folders below the bag that a package may nest (Amanah's nest two: data/, amanah/custody/).
MAX_DEPTH = 64
#: The most a tag file read whole may hold (bagit.txt and bag-info.txt; the rest), so that no
#: file can exhaust memory: a package's are a few kilobytes and its index a few megabytes.
MAX_INFO_BYTES = 1 << 20
MAX_TAG_BYTES = 1 << 28


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


def read_tag(bag: Path, name: str, limit: int = MAX_TAG_BYTES) -> bytes:
    """A tag file's bytes, or ValueError naming it when it is larger than any package's."""
    size = (bag / name).stat().st_size
    if size > limit:
        raise ValueError(f"{name}: {size} bytes, more than any package's holds ({limit})")
    return (bag / name).read_bytes()


def read_text(path: Path, limit: int = MAX_TAG_BYTES) -> str:
    """A tag file at the top of the bag as text (UTF-8, as BagIt's are), or ValueError naming
    it."""
    try:
        return read_tag(path.parent, path.name, limit).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path.name}: not UTF-8 (byte {exc.start})") from None


def read_manifest(path: Path) -> dict[str, str]:
    entries: dict[str, str] = {}
    text = read_text(path)
    if text.startswith("\ufeff"):
        raise ValueError(f"{path.name}: begins with a byte-order mark: not the manifest as written")
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        digest, _, name = line.partition(" ")
        name = name.lstrip(" ").lstrip("*")
        if not digest or not name:
            raise ValueError(f"{path.name}:{lineno}: not a manifest line")
        name = _decode(name)
        if name in entries:  # which line counts would depend on the tool that reads it
            raise ValueError(f"{path.name}:{lineno}: {name} is listed a second time")
        entries[name] = digest.lower()
    return entries


def read_bag_info(path: Path) -> dict[str, str]:
    info: dict[str, str] = {}
    key = None
    for line in read_text(path, MAX_INFO_BYTES).splitlines():
        if line[:1] in (" ", "\t") and key:
            info[key] += " " + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip()
            info[key] = value.strip()
    return info


def digests(path: Path, more: tuple[str, ...] = ()) -> dict[str, str]:
    """SHA-256 and SHA-512 of a file in one read (and the `more` algorithms)."""
    hashers = {a: hashlib.new(a) for a in (*ALGORITHMS, *more)}
    with path.open("rb") as f:
        while data := f.read(CHUNK):
            for h in hashers.values():
                h.update(data)
    return {a: h.hexdigest() for a, h in hashers.items()}


def load_json(bag: Path, name: str) -> Any:
    """One JSON file of the package, read to a single meaning (a key twice, NaN or Infinity,
    or nesting past any record is refused), or ValueError naming the file and why."""
    data = read_tag(bag, name)
    try:
        return _ledger_verifier().loads(data)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name}: not valid JSON: {exc.msg}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name}: not valid JSON: not UTF-8") from exc
    except ValueError as exc:
        raise ValueError(f"{name}: not valid JSON: {exc}") from exc


def _inside(name: str) -> bool:
    """A relative path that stays inside the bag (RFC 8493 section 2.1.3: no `..`)."""
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


def is_regular(bag: Path, name: str) -> bool:
    """`name` is a regular file inside the bag, reached through no symbolic link."""
    if not _inside(name):
        return False
    path, mode = bag, 0
    for part in PurePosixPath(name).parts:
        path = path / part
        try:
            mode = path.lstat().st_mode
        except OSError:
            return False
        if stat.S_ISLNK(mode):
            return False
    return stat.S_ISREG(mode)


def _shown(rel: str) -> str:
    """A name as it can be printed: bytes that are not UTF-8 as \\xNN escapes."""
    return os.fsencode(rel).decode("utf-8", "backslashreplace")


def walk_bag(bag: Path) -> tuple[set[str], list[str]]:
    """Every regular file of the bag by its relative path, and a problem for every entry that
    is not one of its own: a symbolic link or a hard link (its bytes are elsewhere too, and can
    change after the check), a FIFO, a device or a socket. Links are never followed. Folders are
    walked without recursion, so that no nesting can crash the walk; nesting deeper than
    MAX_DEPTH, or a name that is not UTF-8, makes the bag unusable (ValueError)."""
    files: set[str] = set()
    problems: list[str] = []
    folders: list[tuple[Path, int]] = [(bag, 0)]
    while folders:
        folder, depth = folders.pop()
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda e: e.name)
        for entry in entries:
            path = Path(entry.path)
            rel = path.relative_to(bag).as_posix()
            try:
                rel.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(
                    f"{_shown(rel)}: a name that is not UTF-8 (BagIt names its files in UTF-8)"
                ) from None
            info = path.lstat()  # not the entry's: its st_nlink is 0 on Windows
            if stat.S_ISDIR(info.st_mode):
                if depth + 1 > MAX_DEPTH:
                    top = "/".join(rel.split("/")[:2])
                    raise ValueError(
                        f"{top}/…: folders nested more than {MAX_DEPTH} deep"
                        " (no package nests so deep)"
                    )
                folders.append((path, depth + 1))
            elif stat.S_ISLNK(info.st_mode):
                problems.append(
                    f"{rel}: a symbolic link, not a file: a package holds its files themselves"
                )
            elif stat.S_ISREG(info.st_mode):
                files.add(rel)
                if info.st_nlink > 1:
                    problems.append(
                        f"{rel}: a file with {info.st_nlink} hard links: its bytes are also a"
                        " file elsewhere and can change after the check"
                    )
            else:
                problems.append(f"{rel}: not a regular file (a FIFO, device or socket)")
    return files, sorted(problems)


def check_bag(bag: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    """BagIt completeness and fixity; returns problems and each payload file's digests."""
    regular, problems = walk_bag(bag)
    declared = read_bag_info(bag / "bagit.txt")
    if declared.get("BagIt-Version") not in ("1.0", "0.97"):
        problems.append(f"bagit.txt: unexpected BagIt-Version {declared.get('BagIt-Version')!r}")
    manifests = {
        a: bag / f"manifest-{a}.txt" for a in ALGORITHMS if is_regular(bag, f"manifest-{a}.txt")
    }
    if not manifests:
        return [*problems, "no manifest-sha256.txt or manifest-sha512.txt"], {}
    if "sha256" not in manifests:  # the payload's SHA-256s are what the disclosure sealed
        problems.append("no manifest-sha256.txt: the package's payload manifest was removed")
    # BagIt: every payload manifest present is checked (an added manifest-md5.txt too).
    others: dict[str, Path] = {}
    for rel in sorted(regular):
        found = re.fullmatch(r"manifest-([A-Za-z0-9]+)\.txt", rel)
        if found is None or found.group(1) in ALGORITHMS:
            continue
        if found.group(1) not in hashlib.algorithms_guaranteed:
            problems.append(f"{rel}: a payload manifest of an unknown algorithm")
            continue
        others[found.group(1)] = bag / rel
    listed = {a: read_manifest(p) for a, p in {**manifests, **others}.items()}
    for algorithm, entries in listed.items():
        for name in sorted(n for n in entries if not _inside(n)):
            problems.append(f"{name}: listed in manifest-{algorithm}.txt but outside the bag")
            del entries[name]
    on_disk = {name for name in regular if name.startswith("data/")}
    payload: dict[str, dict[str, str]] = {}
    for name in sorted(on_disk):
        payload[name] = digests(bag / name, tuple(others))
    for algorithm, entries in listed.items():
        for name in sorted(on_disk - entries.keys()):
            problems.append(f"{name}: not in manifest-{algorithm}.txt (a file was added)")
        for name, digest in sorted(entries.items()):
            if name not in on_disk:
                problems.append(f"{name}: listed in manifest-{algorithm}.txt but missing (removed)")
            elif payload[name][algorithm] != digest:
                problems.append(f"{name}: {algorithm} does not match the manifest (changed)")
    info = read_bag_info(bag / "bag-info.txt") if is_regular(bag, "bag-info.txt") else {}
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
        if not is_regular(bag, tm.name):
            continue
        entries = read_manifest(tm)
        tag_listed.update(entries)
        for name, digest in sorted(entries.items()):
            target = bag / name
            if not _inside(name):
                problems.append(f"{name}: listed in {tm.name} but outside the bag")
            elif name not in regular:
                problems.append(f"{name}: listed in {tm.name} but missing (removed)")
            elif tag_digests.setdefault(name, digests(target))[algorithm] != digest:
                problems.append(f"{name}: {algorithm} does not match {tm.name} (changed)")
    if not tag_listed:
        problems.append("no tagmanifest-sha256.txt: the tag files (index, custody) are unprotected")
    # Only the tag manifests read above go unlisted: any other file outside data/, whatever
    # its name (tagmanifest-md5.txt, tagmanifest-note.pdf), must be in them.
    tag_manifests = {f"tagmanifest-{a}.txt" for a in ALGORITHMS}
    for rel in sorted(regular):
        tag_file = not rel.startswith("data/") and rel not in tag_manifests
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


def custody_digest(records: list[dict[str, Any]], withheld: Any) -> str:
    """SHA-256 of which ledger events each file's custody record holds, in order (by their
    sequence numbers), and how many were withheld: what the disclosure event signs, so that
    no event can be cut from, added to or reordered in a record while it still verifies."""
    ordered = sorted(records, key=lambda r: str(r["file"]))
    return seal_digest([{"withheld": withheld, "records": ordered}])


def _custody_records(bag: Path, index: dict[str, Any]) -> list[dict[str, Any]]:
    """Each file's custody record as the sequence numbers of the events it holds (None when
    it cannot be read: the digest then differs, and check_custody says why)."""
    ledger = _ledger_verifier()
    out = []
    for row in index.get("items", []):
        seqs: list[Any] | None = None
        try:
            if is_regular(bag, str(row["custody"])):
                proof = ledger.loads(read_tag(bag, str(row["custody"])))
                seqs = [ev["entry"]["seq"] for ev in proof["events"]]
        except (OSError, ValueError, LookupError, TypeError, AttributeError):
            seqs = None
        out.append({"file": row.get("file"), "events": seqs})
    return out


def check_seal(
    bag: Path,
    payload: dict[str, dict[str, str]],
    index: dict[str, Any],
    checkpoint: dict[str, Any],
    trust: Trust,
) -> list[str]:
    """The bag holds exactly the files sealed in the package's signed disclosure event."""
    ledger = _ledger_verifier()
    if not is_regular(bag, "amanah/seal.json"):
        return ["amanah/seal.json: missing: the package's file set is not sealed"]
    try:
        seal = ledger.loads(read_tag(bag, "amanah/seal.json"))
        files = sealed_files(seal["files"])
        proof = seal["proof"]
        if not isinstance(proof, dict):
            raise TypeError("its proof is not an object")
    except (OSError, ValueError, LookupError, TypeError, AttributeError) as exc:
        return [f"amanah/seal.json: cannot be read ({exc})"]
    package_id = index.get("package")
    try:
        problems = [f"amanah/seal.json: {p}" for p in ledger.verify_proof(proof, *trust)]
    except (LookupError, TypeError, ValueError, AttributeError) as exc:
        return [f"amanah/seal.json: its proof is malformed ({type(exc).__name__}: {exc})"]
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
    problems += _label_problems(bag, index, sealing)
    if details.get("files") != len(files):
        problems.append("amanah/seal.json: the signed file count differs from the sealed list")
    cover = bag / "amanah" / "cover-letter.pdf"
    if details.get("cover_letter_sha256") and (
        not is_regular(bag, "amanah/cover-letter.pdf")
        or digests(cover)["sha256"] != details["cover_letter_sha256"]
    ):
        problems.append("amanah/cover-letter.pdf: not the cover letter sealed with the package")
    # The index a recipient reads each file's provenance from (original name, dates received
    # and modified, provider) is sealed too, in packages built since it was.
    if details.get("index_sha256") and seal_digest(index.get("items")) != details["index_sha256"]:
        problems.append(
            "amanah/items.json: its rows are not the index sealed with the package (edited)"
        )
    sheet = bag / "amanah" / "items.csv"
    if details.get("items_csv_sha256") and (
        not is_regular(bag, "amanah/items.csv")
        or digests(sheet)["sha256"] != details["items_csv_sha256"]
    ):
        problems.append("amanah/items.csv: not the index sealed with the package (edited)")
    # Which events each file's custody record holds is sealed too, in packages built since it
    # was: a record with events cut (a fixity check that failed), added or reordered fails.
    if (
        details.get("custody_sha256")
        and custody_digest(_custody_records(bag, index), index.get("custody_events_withheld"))
        != details["custody_sha256"]
    ):
        problems.append(
            "amanah/custody: the custody records are not those sealed with the package"
            " (events cut, added or reordered, or the withheld count changed)"
        )
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


Trust = tuple[bytes | None, str | None]  # the pinned public key (PEM) or key id


def _one_line(value: str) -> str:
    return " ".join(value.split())


def signed_label(sealing: dict[str, Any]) -> dict[str, str]:
    """What the package's signed disclosure event says of it: for whom (the recipient as
    written, or only its jurisdiction's code in packages built before it was signed), which
    request, who made it and when (the time it was signed, in older packages)."""
    details = sealing["details"]
    code = str(details.get("jurisdiction"))
    return {
        "package": str(details.get("package")),
        "request": str(details.get("request")),
        "jurisdiction": code,
        "recipient": str(details.get("recipient", f"jurisdiction {code}")),
        "creator": str(sealing.get("actor")),
        "created_at": str(details.get("created_at", sealing.get("time"))),
    }


def _shown_value(value: Any) -> str:
    if value is None:
        return "missing"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _day(text: str) -> date | None:
    with contextlib.suppress(ValueError):
        return date.fromisoformat(text[:10])
    return None


def _label_problems(bag: Path, index: dict[str, Any], sealing: dict[str, Any]) -> list[str]:
    """bag-info.txt and items.json against the signed disclosure event: a package relabelled
    for another recipient, request, maker or date (its tag manifests redone) fails, naming
    what differs."""
    details, signed = sealing["details"], signed_label(sealing)
    info = read_bag_info(bag / "bag-info.txt") if is_regular(bag, "bag-info.txt") else {}
    said = {"bag-info.txt": info, "amanah/items.json": index}
    fields = [  # file, field, what the disclosure event signs of it
        ("bag-info.txt", "External-Identifier", "package"),
        ("bag-info.txt", "Amanah-Package-Id", "package"),
        ("bag-info.txt", "Amanah-Request-Reference", "request"),
        ("amanah/items.json", "request", "request"),
        ("bag-info.txt", "Amanah-Recipient", "recipient"),
        ("amanah/items.json", "recipient", "recipient"),
        ("bag-info.txt", "Amanah-Creator", "creator"),
        ("amanah/items.json", "created_by", "creator"),
    ]
    expected_description = f"Sharing package in response to request {signed['request']}"
    problems = []
    for file, field, key in fields:
        value = said[file].get(field)
        text = _one_line(value) if isinstance(value, str) else _shown_value(value)
        want = _one_line(signed[key])
        if key == "recipient" and "recipient" not in details:  # only its code was signed
            same = isinstance(value, str) and text.startswith(f"{signed['jurisdiction']}:")
        else:
            same = isinstance(value, str) and text == want
        if not same:
            problems.append(
                f"{file}: {field} is {text}, but the package's signed disclosure event says"
                f" {want} (relabelled)"
            )
    description = info.get("External-Description")
    if description is not None and _one_line(description) != _one_line(expected_description):
        problems.append(
            f"bag-info.txt: External-Description is {_one_line(description)}, but the package's"
            f" signed disclosure event says request {signed['request']} (relabelled)"
        )
    # The date: signed as items.json's created_at in packages built since; in older ones only
    # the event's time is, and the build took the dates a moment before and after it.
    made, bagged = index.get("created_at"), info.get("Bagging-Date")
    signed_day = _day(signed["created_at"])
    for file, field, value in (
        ("amanah/items.json", "created_at", made),
        ("bag-info.txt", "Bagging-Date", bagged),
    ):
        day = _day(value) if isinstance(value, str) else None
        if "created_at" in details:
            same = value == (signed["created_at"] if field == "created_at" else str(signed_day))
        else:
            same = day is not None and signed_day is not None and abs(day - signed_day).days <= 1
        if not same:
            problems.append(
                f"{file}: {field} is {_shown_value(value)}, but the package's signed disclosure"
                f" event says it was made at {signed['created_at']} (relabelled)"
            )
    return problems


def _shipped_history(bag: Path) -> dict[str, Any] | None:
    """The key history the package carries (in its seal's proof), if it can be read."""
    if not is_regular(bag, "amanah/seal.json"):
        return None
    try:
        history = _ledger_verifier().loads(read_tag(bag, "amanah/seal.json"))["proof"][
            "key_history"
        ]
    except (OSError, ValueError, LookupError, TypeError):
        return None
    return history if isinstance(history, dict) else None


def _trusted_key(
    bag: Path, key_id: str | None, public_key: bytes | None
) -> tuple[Trust, Any, list[str]]:
    """What signatures are checked against: the key the user pinned and the keys it handed the
    ledger over to (the key history, each hand-over signed by the key before), else the key
    shipped in the package. Returns the trust for proofs, the key ring and the problems."""
    ledger = _ledger_verifier()
    if not is_regular(bag, "amanah/public_key.pem"):
        raise ValueError("amanah/public_key.pem: missing or not a regular file")
    shipped = read_tag(bag, "amanah/public_key.pem", MAX_INFO_BYTES)
    shipped_id = ledger.key_id(shipped)
    if public_key is not None:
        trust: Trust = (public_key, None)
        wanted, label = ledger.key_id(public_key), "pinned key"
    elif key_id:
        trust, wanted, label = (None, key_id), key_id, "expected"
    else:
        trust, wanted, label = (shipped, None), shipped_id, "shipped key"
    ring = ledger.KeyRing.single(shipped)
    history = _shipped_history(bag)
    if history is not None:
        with contextlib.suppress(ValueError, LookupError, TypeError, AttributeError):
            ring, _ = ledger.read_key_history(history)  # broken hand-overs end the ring there
    ids = [kid for kid, _, _ in ring.keys]
    if wanted not in ids or shipped_id not in ids[ids.index(wanted) :]:
        problem = f"amanah/public_key.pem: key id {shipped_id}, not the {label} {wanted}"
        if public_key is not None:
            return trust, ledger.KeyRing.single(public_key), [problem]
        return (shipped, None), ledger.KeyRing.single(shipped), [problem]
    return trust, ledger.KeyRing(ring.keys[ids.index(wanted) :]), []


def _record_problems(
    row: dict[str, Any],
    proof: dict[str, Any],
    checkpoint: dict[str, Any],
    trust: Trust,
    package_id: str,
) -> list[str]:
    """What one file's custody record does not show (KeyError and the like when it is not
    shaped as a record)."""
    ledger = _ledger_verifier()
    name = row["file"]
    problems = []
    if proof["checkpoint"] != checkpoint:
        problems.append("proves against another checkpoint than amanah/checkpoint.json")
    problems += ledger.verify_proof(proof, *trust)
    events = proof["events"]
    if proof["object"] != {"type": "item", "id": str(row["item_id"])}:
        problems.append("the custody record is of another item")
    if _event_of(events, "message digest calculation", digest=row["original_sha256"]) is None:
        problems.append(f"no intake digest event for SHA-256 {row['original_sha256']}")
    if row["variant"] == "redacted":  # a redaction, not any derivative made from the original
        if (  # (a text file's text derivative is its own bytes, made from itself)
            _event_of(
                events,
                "derivation",
                action="redaction",
                sha256=row["sha256"],
                source_sha256=row["original_sha256"],
            )
            is None
        ):
            problems.append("no redaction event makes this file from the original")
    elif row["sha256"] != row["original_sha256"]:
        problems.append("an original whose SHA-256 is not the one collected")
    if _event_of(events, "disclosure", package=package_id, sha256=row["sha256"], file=name) is None:
        problems.append(f"no disclosure event for this file in package {package_id}")
    return problems


def check_custody(
    bag: Path,
    payload: dict[str, dict[str, str]],
    key_id: str | None,
    public_key: bytes | None = None,
) -> list[str]:
    ledger = _ledger_verifier()
    index = load_json(bag, "amanah/items.json")
    if not (
        isinstance(index, dict)
        and isinstance(index.get("items"), list)
        and all(isinstance(row, dict) for row in index["items"])
    ):
        raise ValueError("amanah/items.json: not the package's index (an object with its items)")
    trust, ring, problems = _trusted_key(bag, key_id, public_key)
    if not is_regular(bag, "amanah/checkpoint.json"):
        raise ValueError("amanah/checkpoint.json: missing or not a regular file")
    checkpoint = load_json(bag, "amanah/checkpoint.json")
    if not isinstance(checkpoint, dict):
        raise ValueError("amanah/checkpoint.json: not a checkpoint (a JSON object)")
    wrong = ring.problem(checkpoint)
    if wrong == "signature is not valid":
        problems.append("amanah/checkpoint.json: the signature is not valid")
    elif wrong:
        problems.append(f"amanah/checkpoint.json: {wrong}")
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
        if not is_regular(bag, str(row["custody"])):
            problems.append(f"{label}: the custody record is not a file of the package")
            continue
        try:
            proof = ledger.loads(read_tag(bag, str(row["custody"])))
        except (OSError, ValueError) as exc:
            problems.append(f"{label}: the custody record cannot be read ({exc})")
            continue
        try:
            found = _record_problems(row, proof, checkpoint, trust, package_id)
        except (LookupError, TypeError, ValueError, AttributeError) as exc:
            found = [f"the custody record is malformed ({type(exc).__name__}: {exc})"]
        problems += [f"{label}: {p}" for p in found]
    for name in sorted(set(payload) - files):
        problems.append(f"{name}: in the payload but not in amanah/items.json")
    return problems + check_seal(bag, payload, index, checkpoint, trust)


def verify(bag: Path, key_id: str | None = None, public_key: bytes | None = None) -> list[str]:
    """Every problem found; an empty list means the package verifies (against the pinned
    key when `key_id` or `public_key` is given, else against the key it ships)."""
    if not is_regular(bag, "bagit.txt"):
        raise ValueError("no bagit.txt: not a BagIt bag")
    problems, payload = check_bag(bag)
    if is_regular(bag, "amanah/items.json"):
        problems += check_custody(bag, payload, key_id, public_key)
    else:
        problems.append("amanah/items.json: missing (no custody record to check)")
    return problems


def signed_for(bag: Path) -> dict[str, str] | None:
    """The label signed with a package that verified (`signed_label`), to be printed instead
    of bag-info.txt's; None when it cannot be read."""
    ledger = _ledger_verifier()
    try:
        index = load_json(bag, "amanah/items.json")
        seal = ledger.loads(read_tag(bag, "amanah/seal.json"))
        digest = seal_digest(sealed_files(seal["files"]))
        sealing = _event_of(
            seal["proof"]["events"], "disclosure", package=index["package"], seal_sha256=digest
        )
    except (OSError, ValueError, LookupError, TypeError, AttributeError):
        return None
    return signed_label(sealing) if sealing is not None else None


def describe(label: dict[str, str]) -> str:
    """The signed label in one line, as the verifier prints it."""
    return (
        f"for {label['recipient']}, request {label['request']}, made by {label['creator']}"
        f" at {label['created_at']} (signed in its disclosure event)"
    )


#: Characters a name may hold that would forge or hide a line of the answer: control
#: characters (a newline, a carriage return), line and paragraph separators, bidi overrides.
_UNPRINTABLE = {
    c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
    for c in [
        *range(0x20),
        *range(0x7F, 0xA0),
        0x2028,
        0x2029,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ]
}


def printable(text: str) -> str:
    """A line of the answer as it can be printed: whatever a file name holds, one line."""
    return text.translate(_UNPRINTABLE)


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
    for stream in (sys.stdout, sys.stderr):  # a name the console cannot show, escaped
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    try:
        pinned = args.public_key.read_bytes() if args.public_key else None
        problems = verify(args.package, args.key_id, pinned)
    except (OSError, ValueError, LookupError, TypeError, AttributeError) as exc:
        print(printable(f"cannot read package {args.package}: {exc}"), file=sys.stderr)
        return EXIT_UNREADABLE
    except (RecursionError, MemoryError) as exc:  # no traceback: exit 1 is for FAIL lines
        why = "nested too deeply" if isinstance(exc, RecursionError) else "too large for memory"
        print(printable(f"cannot read package {args.package}: {why}"), file=sys.stderr)
        return EXIT_UNREADABLE
    for p in problems:
        print(printable(f"FAIL {p}"))
    if problems:
        print(f"package {args.package}: {len(problems)} problem(s)")
        return EXIT_FAILED
    label = signed_for(args.package)
    if label is not None:
        print(printable(f"package {args.package}: {describe(label)}"))
    if not (args.key_id or pinned):
        print(f"package {args.package}: {ORIGIN_UNKNOWN}")
        return EXIT_ORIGIN_UNKNOWN
    print(f"package {args.package}: verified")
    return EXIT_VERIFIED


if __name__ == "__main__":
    sys.exit(main())
