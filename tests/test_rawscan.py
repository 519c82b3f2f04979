"""The raw readings of a file's bytes: taken with the inventory, stored, read at build time.

Real files made here: names written in UTF-8, UTF-16 (LE/BE, even and odd offsets),
Windows-1256 and Windows-1252, with the formatting the matcher survives, at seeded random
offsets inside 20+ MB of random bytes and across the 4 MB chunk boundary.
"""

from __future__ import annotations

import io
import json
import random
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from amanah.db.models import Derivative
from amanah.processing import inventory
from amanah.sharing.protected import Matcher
from amanah.text import rawtext
from amanah.workspace import open_workspace
from tests import test_leak_check as leak_check
from tests.conftest import amanah_here
from tests.sharingfixtures import WITNESS_LATIN
from tests.test_leak_check import _ids, _ingest, _ok, _reasons, _request, _setup, amanah

SIZE = 21 << 20
BOUNDARY = rawtext.CHUNK  # the end of the first chunk
#: A bound on what 20 MB of random bytes may leave as raw readings: 1/256 of their size.
#: Measured: about 0.7 KB a MB (benchmarks/rawscan.py); a bound this size keeps the stored
#: inventory and the build's matching small (5 GB of video: at most 20 MB to read).
RANDOM_BOUND = (20 << 20) // 256
#: The package test's files: past the second chunk's end (a name across the first boundary, the
#: overlap read twice), not 21 MB each: what they prove does not grow with their size, and
#: processing, attesting and scanning three of them cost minutes. Its bound is the same share.
PACKAGE_SIZE = 2 * BOUNDARY + (1 << 20)
PACKAGE_BOUND = (PACKAGE_SIZE - (1 << 20)) // 256

# One person per form, each with a name no other form spells (Latin and Arabic names are
# different people here: a name recorded in one script matches the other).
FORMS: list[tuple[str, str, str, bytes, str]] = [
    ("P-utf8", "Ahmad al-Khatib", "UTF-8", b"Ahmad al-Khatib", ""),
    ("P-utf8-break", "Karim Mansour", "UTF-8", "Karim\nMan\u00adsour".encode(), ""),
    ("P-utf8-zw", "Samir Nasser", "UTF-8", "Sa\u200bmir \u202bNas\u200dser".encode(), ""),
    ("P-utf8-ar", "خالد العمري", "UTF-8", "\u2067خالد العمري\u2069".encode(), ""),
    ("P-utf8-visual", "نبيل عيسى", "UTF-8", "ىسيع ليبن".encode(), ""),
    ("P-le-even", "Youssef Kabbani", "UTF-16-LE", "Youssef Kabbani".encode("utf-16-le"), "e"),
    ("P-le-odd", "Omar Haddad", "UTF-16-LE", "Omar\nHad\u00addad".encode("utf-16-le"), "o"),
    ("P-be-even", "فادي الحلبي", "UTF-16-BE", "فادي ال\u200cحلبي".encode("utf-16-be"), "e"),
    ("P-be-odd", "Rami Darwish", "UTF-16-BE", "Rami Dar\u200bwish".encode("utf-16-be"), "o"),
    ("P-1256", "محمود الشامي", "Windows-1256", "محمود\r\nالشامي".encode("cp1256"), ""),
    ("P-1252", "José Hernández", "Windows-1252", "José Hernández".encode("cp1252"), ""),
]
ACROSS = ("P-across", "Tariq Saleh", "UTF-16-LE", "Tariq Saleh".encode("utf-16-le"), "o")


def _place(data: bytearray, rnd: random.Random, form: bytes, parity: str, taken: list) -> int:
    while True:
        at = rnd.randrange(4096, len(data) - 4096)
        if parity == "e":
            at -= at % 2
        elif parity == "o":
            at |= 1
        if all(abs(at - t) > 8192 for t in taken):
            break
    data[at : at + len(form)] = form
    taken.append(at)
    return at


def _random(seed: int, size: int = SIZE) -> bytearray:
    return bytearray(random.Random(seed).randbytes(size))


def _found(path: Path, matcher: Matcher) -> dict[str, set[str]]:
    return {label: matcher.find(text) for label, text in rawtext.of_file(path).items()}


@pytest.mark.slow
def test_every_form_is_read_inside_megabytes_of_random_bytes(tmp_path: Path) -> None:
    rnd = random.Random(12)
    data = _random(12)
    taken: list[int] = [BOUNDARY]
    for _p, _n, _l, form, parity in FORMS:
        _place(data, rnd, form, parity, taken)
    across = BOUNDARY - len(ACROSS[3]) // 2 - 1  # odd: straddles the end of the first chunk
    data[across : across + len(ACROSS[3])] = ACROSS[3]
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(data))
    matcher = Matcher.of([(p, [n]) for p, n, *_ in [*FORMS, ACROSS]])
    found = _found(path, matcher)
    for pseudonym, _name, label, _form, _parity in [*FORMS, ACROSS]:
        assert pseudonym in found.get(label, set()), (pseudonym, label, found)
    # Negative control: the same random bytes, no name: nothing found, and little kept.
    clean = tmp_path / "clean.bin"
    clean.write_bytes(bytes(_random(12)))
    assert not any(_found(clean, matcher).values())
    kept = sum(len(t.encode()) for t in rawtext.of_file(clean).values())
    assert kept < RANDOM_BOUND, kept


def test_text_files_are_read_whole_and_runs_never_join_two_names() -> None:
    matcher = Matcher.of([("W", ["Ahmad al-Khatib"])])
    text = b"Statement of Ahmad\nal-Khatib, taken in Gaziantep.\n"
    assert matcher.find_in_bytes(text) == {"W"}
    assert matcher.find_in_bytes(text.decode().encode("utf-16")) == {"W"}
    # Two runs in binary, one word each: never read as one name.
    binary = b"\x00\x01\x02Ahmad\x00\x03\x04" * 3 + bytes(range(256)) + b"\x05Khatib\x00\x07"
    assert not matcher.find_in_bytes(binary)


def _stored_inventory(home: Path, item_id: int) -> dict:
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            d = s.execute(
                select(Derivative).where(
                    Derivative.item_id == item_id, Derivative.kind == "inventory"
                )
            ).scalar_one()
            with ws.blobs.open(d.sha256) as f:
                return json.loads(f.read())
    finally:
        ws.close()


def _store_inventory(home: Path, item_id: int, doc: dict) -> None:
    from amanah.processing.pipeline import _record_inventory

    ws = open_workspace(home)
    try:
        data = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()
        put = ws.blobs.put(io.BytesIO(data))
        ws.blobs.sync()  # durable and visible before a row names it
        with ws.db.session() as s:
            _record_inventory(s, item_id, (doc, put))
    finally:
        ws.close()


@pytest.mark.slow
def test_a_package_is_refused_by_the_stored_raw_reading_and_older_inventories_are_scanned(
    sqlite_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The shared steps (set-up, ingest, requests, attestations) run the command line in this
    # process: a subprocess each cost seconds of imports. The refused builds stay real processes.
    monkeypatch.setattr(leak_check, "amanah", amanah_here)
    home = sqlite_home
    _setup(home)  # protected: Witness A, WITNESS_LATIN
    folder = tmp_path / "h"
    folder.mkdir()
    rnd = random.Random(7)
    named = _random(7, PACKAGE_SIZE)
    at = _place(named, rnd, WITNESS_LATIN.encode("utf-16-le"), "o", [])
    (folder / "named.bin").write_bytes(bytes(named))
    across = _random(8, PACKAGE_SIZE)
    form = "أحمد الخطيب".encode("cp1256")
    across[BOUNDARY - 4 : BOUNDARY - 4 + len(form)] = form
    (folder / "across.bin").write_bytes(bytes(across))
    (folder / "clean.bin").write_bytes(bytes(_random(9, PACKAGE_SIZE)))
    ids = _ingest(home, folder, "h")
    _ok(home, "process")
    # No reader for random bytes: a legal officer examined them, all at once for the request
    # (each item its own attestation and custody event).
    _request(home, "RFA-R", sorted(ids.values()))
    said = _ok(home, "package", "attest", "--request", "RFA-R", "--note", "looked at by hand")
    attested = sorted(int(i) for i in re.findall(r"^item (\d+): content inventory", said, re.M))
    assert attested == sorted(ids.values()), said
    assert _ok(home, "package", "attest", "--request", "RFA-R", "--note", "again") == ""

    # The inventory holds the raw readings (version 2); random bytes leave little.
    doc = _stored_inventory(home, ids["clean.bin"])
    assert doc["raw"] is True and doc["version"] == inventory.VERSION
    raw = [p for p in doc["parts"] if p["place"].startswith(inventory.RAW_PLACE)]
    assert sum(len(p["text"].encode()) for p in raw) < PACKAGE_BOUND

    refused = amanah(home, "package", "build", "RFA-R", str(tmp_path / "p1"))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    reasons = _reasons(refused.stdout)
    assert reasons[ids["named.bin"]].startswith(
        "names protected person Witness A in its raw bytes (UTF-16-LE)"
    ), (at, reasons)
    assert reasons[ids["across.bin"]].startswith(
        "names protected person Witness A in its raw bytes (Windows-1256)"
    ), reasons
    assert ids["clean.bin"] not in reasons
    assert "Khatib" not in refused.stdout + refused.stderr
    assert "الخطيب" not in refused.stdout + refused.stderr

    # An inventory taken before raw readings were stored: the build scans the bytes live.
    old = _stored_inventory(home, ids["named.bin"])
    old = {
        **old,
        "version": 1,
        "parts": [p for p in old["parts"] if not p["place"].startswith(inventory.RAW_PLACE)],
    }
    old.pop("raw")
    _store_inventory(home, ids["named.bin"], old)
    _ok(home, "package", "attest", str(ids["named.bin"]), "--note", "looked at by hand")
    _request(home, "RFA-S", [ids["named.bin"]])
    refused = amanah(home, "package", "build", "RFA-S", str(tmp_path / "p2"))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert _reasons(refused.stdout)[ids["named.bin"]].startswith(
        "names protected person Witness A in its stored bytes (found by the raw scan)"
    )

    # Negative control: the random bytes without a name are shipped (attested).
    _request(home, "RFA-T", [ids["clean.bin"]])
    built = json.loads(_ok(home, "package", "build", "RFA-T", str(tmp_path / "p3"), "--json"))
    assert built["items"] == 1
    assert _ids(home, "h")["clean.bin"] == ids["clean.bin"]
