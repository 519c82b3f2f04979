"""A protected name written in an encoding or escape that one common tool reads back, found
by the leak check's last net (the raw readings of a file's bytes) and refused by the build:
UTF-32 in either byte order and any alignment, UTF-7, the DOS, Mac and ISO Arabic code pages,
JSON/JavaScript `\\u` escapes, HTML character references, percent-encoding, quoted-printable,
C, git and RTF escapes, hexadecimal dumps, Punycode domains, lines folded inside a word
(iCalendar, vCard), text decoded in the wrong code page and saved again (mojibake), and base64
(MIME lines, URL-safe, of UTF-16, of base64), compressed first or not (zlib, gzip, raw
deflate; in hexadecimal too). A compressed text file and a zip whose member
names are in DOS Arabic are opened and read. The same files naming nobody find nothing; random
bytes, hash lists and logs of tokens keep as little as before."""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import lzma
import quopri
import random
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from amanah.db.models import Item
from amanah.processing import inventory, unpack
from amanah.processing.children import Limits
from amanah.sharing.protected import Matcher
from amanah.text import escapes, rawtext
from amanah.workspace import open_workspace
from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN
from tests.test_adv_leak_places import _setup
from tests.test_leak_check import _ids, _ingest, _ok, _request, refused_build

STATEMENT = "Statement taken at the border crossing.\n{name} described the checkpoint.\n"
HARMLESS = ("the detention centre", "مركز الاحتجاز")


def _text(name: str) -> str:
    return STATEMENT.format(name=name) + f"شهد {name} القافلة عند الحاجز.\n"


def _u(text: str) -> bytes:
    """JSON as Python writes it by default: every letter outside ASCII as \\uXXXX."""
    return json.dumps({"record": 17, "witness": text, "mood": "\U0001f622 ok"}).encode()


def _mime(data: bytes) -> bytes:
    return b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(data)


def _jwt(name: str) -> bytes:
    part = base64.urlsafe_b64encode(json.dumps({"sub": name}, ensure_ascii=False).encode())
    return b"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9." + part.rstrip(b"=") + b".c2lnbmF0dXJl\n"


def _c_escapes(name: str) -> bytes:
    return ('printf("' + "".join(f"\\x{b:02x}" for b in name.encode()) + '");\n').encode()


def _git_octal(name: str) -> bytes:
    quoted = "".join(f"\\{b:03o}" if b > 127 else chr(b) for b in name.encode())
    return f' create mode 100644 "statements/{quoted}.txt"\n'.encode()


def _refs(name: str, hexa: bool) -> bytes:
    def ref(c: str) -> str:
        return c if c.isascii() else (f"&#x{ord(c):x};" if hexa else f"&#{ord(c)};")

    return "".join(map(ref, _text(name))).encode()


def _folded(name: str) -> bytes:
    """An iCalendar line folded inside the name (inside a character, for Arabic)."""
    line = f"DESCRIPTION:Interview with {name} at the office".encode()
    cut = line.index(name.encode()) + len(name.encode()) // 2 + 1
    return b"BEGIN:VEVENT\r\n" + line[:cut] + b"\r\n " + line[cut:] + b"\r\nEND:VEVENT\r\n"


def _rtf_hex(name: str) -> bytes:
    """RTF's \\'hh escapes of Windows-1256 bytes, under a header that says Windows-1252 (the
    font's charset says Arabic; a reader that follows the header reads Latin letters)."""
    hexed = "".join(f"\\'{b:02x}" if b > 127 else chr(b) for b in name.encode("cp1256"))
    return (
        r"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0\fcharset178 Arial;}}\f0 " + hexed + r"\par}"
    ).encode()


def _hexdump(name: str) -> bytes:
    """`hexdump -C`'s lines: offset, sixteen bytes in two groups, the text column (where a
    name's letters are cut every sixteen bytes, and Arabic is dots)."""
    data = ("Note: " + _text(name)).encode()
    lines = []
    for at in range(0, len(data), 16):
        row = data[at : at + 16]
        pairs = " ".join(f"{b:02x}" for b in row[:8]) + "  " + " ".join(f"{b:02x}" for b in row[8:])
        shown = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        lines.append(f"{at:08x}  {pairs:<49} |{shown}|")
    return ("\n".join(lines) + f"\n{len(data):08x}\n").encode()


def _deflated(data: bytes) -> bytes:
    """A raw deflate stream, as SAML's redirect binding and compressed JWTs write it."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    return squeeze.compress(data) + squeeze.flush()


def _record(name: str) -> bytes:
    """A binary record with the name among its fields (protobuf's wire format)."""
    value = name.encode()
    return b"\x08\x96\x01\x12" + bytes([len(value)]) + value + b"\x18\x01\x22\x02ok"


def _saml(name: str) -> bytes:
    """A SAML request; with this ID, its base64 has a "+" or a "/" before the name's bytes in
    either script, written in the URL as an escape that breaks the base64 run."""
    return (
        f'<samlp:AuthnRequest ID="_{16:040x}">'
        f"<saml:Subject><saml:NameID>{name}</saml:NameID></saml:Subject></samlp:AuthnRequest>"
    ).encode()


INFLATED = "decompressed (zlib, gzip, deflate, bzip2 or xz)"


#: form -> (bytes naming `name`, the reading that must find it)
FORMS: dict[str, tuple[Callable[[str], bytes], str]] = {
    "UTF-32 with a BOM": (lambda n: _text(n).encode("utf-32"), "UTF-32-LE"),
    "UTF-32-LE": (lambda n: _text(n).encode("utf-32-le"), "UTF-32-LE"),
    "UTF-32-BE": (lambda n: _text(n).encode("utf-32-be"), "UTF-32-BE"),
    "UTF-7": (lambda n: _text(n).encode("utf-7"), "text written as escapes, decoded"),
    "DOS Arabic": (lambda n: _text(n).encode("cp720"), "DOS Arabic (CP720)"),
    "Mac Arabic": (lambda n: _text(n).encode("mac_arabic"), "Mac Arabic"),
    "JSON \\u escapes": (_u, "text written as escapes, decoded"),
    "decimal references": (lambda n: _refs(n, False), "text written as escapes, decoded"),
    "hexadecimal references": (lambda n: _refs(n, True), "text written as escapes, decoded"),
    "a percent-encoded URL": (
        lambda n: f"GET /search?q={quote(n)}&page=2 HTTP/1.1\n".encode(),
        "text written as escapes, decoded",
    ),
    "JavaScript's escape()": (
        lambda n: ("q=" + "".join(f"%u{ord(c):04X}" for c in n) + "\n").encode(),
        "text written as escapes, decoded",
    ),
    "quoted-printable": (
        lambda n: quopri.encodestring(_text(n).encode()),
        "text written as escapes, decoded",
    ),
    "C \\x escapes": (_c_escapes, "text written as escapes, decoded"),
    "git's octal escapes": (_git_octal, "text written as escapes, decoded"),
    "a line folded inside a word": (_folded, "folded lines joined"),
    "RTF hex escapes in another code page": (_rtf_hex, "text written as escapes, decoded"),
    "a Punycode domain": (
        lambda n: b"see https://" + n.replace(" ", "-").encode("idna") + b".org/profile\n",
        "text written as escapes, decoded",
    ),
    "UTF-8 read as Windows-1252": (
        lambda n: _text(n).encode().decode("cp1252", "replace").encode(),
        "text decoded in Windows-1252 by mistake, undone, then UTF-8",
    ),
    "Windows-1256 read as Windows-1252": (
        lambda n: _text(n).encode("cp1256").decode("cp1252", "replace").encode(),
        "text decoded in Windows-1252 by mistake, undone, then Windows-1256",
    ),
    "xxd -p": (lambda n: _text(n).encode().hex().encode(), "hexadecimal decoded, then UTF-8"),
    "bytes in hexadecimal, spaced": (
        lambda n: b"payload: " + " ".join(f"{b:02X}" for b in n.encode()).encode() + b"\n",
        "hexadecimal decoded, then UTF-8",
    ),
    "a C array": (
        lambda n: b"char s[] = {" + ", ".join(f"0x{b:02x}" for b in n.encode()).encode() + b"};",
        "hexadecimal decoded, then UTF-8",
    ),
    "hexdump -C": (_hexdump, "hexadecimal decoded, then UTF-8"),
    "base64 in MIME lines": (lambda n: _mime(_text(n).encode() * 3), "base64 decoded, then UTF-8"),
    "base64 of UTF-16": (
        lambda n: _mime(_text(n).encode("utf-16-le")),
        "base64 decoded, then UTF-16-LE",
    ),
    "URL-safe base64 (a token)": (_jwt, "base64 decoded, then UTF-8"),
    "base64 of base64": (
        lambda n: _mime(base64.b64encode(_text(n).encode())),
        "base64 decoded, then base64 decoded, then UTF-8",
    ),
    "zlib in base64 (a compressed state)": (
        lambda n: b'{"state": "' + base64.b64encode(zlib.compress(_text(n).encode())) + b'"}\n',
        f"base64 decoded, then {INFLATED}, then UTF-8",
    ),
    "gzip in base64": (
        lambda n: _mime(gzip.compress(_text(n).encode())),
        f"base64 decoded, then {INFLATED}, then UTF-8",
    ),
    "raw deflate in URL-safe base64 (a SAML request)": (
        lambda n: (
            b"GET /sso?SAMLRequest="
            + base64.urlsafe_b64encode(_deflated(f"<NameID>{n}</NameID>".encode()))
            + b" 302\n"
        ),
        f"base64 decoded, then {INFLATED}, then UTF-8",
    ),
    "percent-encoded base64 of raw deflate (SAML's redirect)": (
        lambda n: (
            b"GET /sso?SAMLRequest="
            + quote(base64.b64encode(_deflated(_saml(n))), safe="").encode()
            + b"&RelayState=%2Fcases 302\n"
        ),
        f"text written as escapes, decoded, then base64 decoded, then {INFLATED}, then UTF-8",
    ),
    "zlib in hexadecimal": (
        lambda n: b"blob=" + zlib.compress(_text(n).encode()).hex().encode() + b"\n",
        f"hexadecimal decoded, then {INFLATED}, then UTF-8",
    ),
    "bzip2 in base64": (
        lambda n: _mime(bz2.compress(_text(n).encode())),
        f"base64 decoded, then {INFLATED}, then UTF-8",
    ),
    "xz in base64": (
        lambda n: b"x=" + base64.b64encode(lzma.compress(_text(n).encode())) + b"\n",
        f"base64 decoded, then {INFLATED}, then UTF-8",
    ),
    ".lzma (LZMA alone) in base64": (
        lambda n: b"x=" + base64.b64encode(lzma.compress(_text(n).encode(), lzma.FORMAT_ALONE)),
        f"base64 decoded, then {INFLATED}, then UTF-8",
    ),
    "zlib of zlib in base64": (
        lambda n: b"s=" + base64.b64encode(zlib.compress(zlib.compress(_text(n).encode()))) + b"\n",
        f"base64 decoded, then {INFLATED}, then {INFLATED}, then UTF-8",
    ),
    "gzip of two members in base64, the name in the second": (
        lambda n: _mime(gzip.compress(b"header\n") + gzip.compress(_text(n).encode())),
        f"base64 decoded, then {INFLATED}, then UTF-8",
    ),
    "a binary record compressed in base64": (
        lambda n: b"cache: " + base64.b64encode(zlib.compress(_record(n) * 3)) + b"\n",
        f"base64 decoded, then {INFLATED}, then UTF-8",
    ),
    # An adversary's (stop 51): what text in UTF-16 encodes, short names, a token's line end.
    "base64 in a UTF-16 file (a script, a registry export)": (
        lambda n: f"$data = '{base64.b64encode(_text(n).encode()).decode()}'\r\n".encode("utf-16"),
        "UTF-16-LE, then base64 decoded, then UTF-8",
    ),
    "base64 in a UTF-16-BE file": (
        lambda n: f"<v>{base64.b64encode(_text(n).encode()).decode()}</v>".encode("utf-16-be"),
        "UTF-16-BE, then base64 decoded, then UTF-8",
    ),
    "escapes in a UTF-16 file": (
        lambda n: _u(n).decode().encode("utf-16-le"),
        "UTF-16-LE, then text written as escapes, decoded",
    ),
    "UTF-16 in hexadecimal": (
        lambda n: b"name=" + n.encode("utf-16-le").hex().encode() + b"\n",
        "hexadecimal decoded, then UTF-16-LE",
    ),
    "UTF-16-BE in hexadecimal, upper case": (
        lambda n: b"0x" + n.encode("utf-16-be").hex().upper().encode() + b"\n",
        "hexadecimal decoded, then UTF-16-BE",
    ),
    "the bare name in base64, a field's value": (
        lambda n: b'{"n":"' + base64.b64encode(n.encode()) + b'"}',  # from 12 bytes (16 chars)
        "base64 decoded, then UTF-8",
    ),
    "a name in Windows-1256, in base64 without padding": (
        lambda n: b"n=" + base64.b64encode(f"شهادة {n}".encode("cp1256")).rstrip(b"=") + b"\n",
        "base64 decoded, then Windows-1256",
    ),
    "Windows-1256 in hexadecimal (a SQL dump's blob)": (
        lambda n: b"INSERT INTO t VALUES (X'" + n.encode("cp1256").hex().encode() + b"');\n",
        "hexadecimal decoded, then Windows-1256",
    ),
    "ISO-8859-6 in hexadecimal, upper case": (
        lambda n: b"0x" + f"شهادة {n}".encode("iso8859_6").hex().upper().encode() + b"\n",
        "hexadecimal decoded, then ISO-8859-6",
    ),
    "base64 at a line's end, a date on the next line (a log)": (
        lambda n: (
            f"2023-05-03T10:00:02Z saved name={base64.b64encode(n.encode() + b'.').decode()}"
            "\n2023-05-03T10:00:03Z sync done\n"
        ).encode(),
        "base64 decoded, then UTF-8",
    ),
}


#: Forms of an Arabic code page, which writes a Latin name as ASCII (read as UTF-8).
ARABIC_ONLY = {
    "a name in Windows-1256, in base64 without padding",
    "Windows-1256 in hexadecimal (a SQL dump's blob)",
    "ISO-8859-6 in hexadecimal, upper case",
}

#: Forms that write ASCII as it is (a Latin name stays plain text).
ASCII_AS_IS = {
    "UTF-7",
    "JSON \\u escapes",
    "decimal references",
    "hexadecimal references",
    "quoted-printable",
    "git's octal escapes",
    "RTF hex escapes in another code page",
    "a Punycode domain",
    "UTF-8 read as Windows-1252",
    "Windows-1256 read as Windows-1252",
}


def _matcher() -> Matcher:
    return Matcher.of([("W-1", [WITNESS_LATIN]), ("W-2", [WITNESS_AR])])


def _found(path: Path) -> dict[str, set[str]]:
    matcher = _matcher()
    return {label: matcher.names(text) for label, text in rawtext.of_file(path).items()}


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("who", ["W-1", "W-2"])
def test_a_name_in_each_encoding_and_escape_is_found_by_its_reading(
    form: str, who: str, tmp_path: Path
) -> None:
    make, label = FORMS[form]
    name = WITNESS_LATIN if who == "W-1" else WITNESS_AR
    if who == "W-1" and (label in ("DOS Arabic (CP720)", "Mac Arabic") or form in ARABIC_ONLY):
        pytest.skip("a Latin name in an Arabic code page is ASCII: the UTF-8 reading has it")
    path = tmp_path / "f"
    path.write_bytes(make(name))
    found = _found(path)
    if who == "W-1" and form in ASCII_AS_IS:
        label = "UTF-8"  # the form escapes only what is not ASCII: the name is plain
    assert who in found.get(label, set()), (label, {k: v for k, v in found.items() if v})
    # Negative control: the same form naming nobody finds nothing in any reading.
    path.write_bytes(make(HARMLESS[0] if who == "W-1" else HARMLESS[1]))
    assert not any(_found(path).values())


@pytest.mark.parametrize("encoding", ["utf-32-le", "utf-32-be"])
def test_utf32_inside_binary_is_read_at_every_alignment(encoding: str, tmp_path: Path) -> None:
    rnd = random.Random(32)
    data = bytearray(rnd.randbytes(1 << 20))
    for shift, name in enumerate([WITNESS_LATIN, WITNESS_AR, WITNESS_LATIN, WITNESS_AR]):
        at = (shift + 1) * 200_003 + shift  # four alignments
        planted = f" {name} ".encode(encoding)
        data[at : at + len(planted)] = planted
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(data))
    found = _found(path)
    assert found.get(encoding.upper()) == {"W-1", "W-2"}, found


def test_escapes_in_binary_are_read_only_where_a_word_is(tmp_path: Path) -> None:
    """In binary, a lone escape beside noise is not read; escaped words are, and random
    bytes with every kind of escape sprinkled in keep little."""
    rnd = random.Random(7)
    noise = bytearray(rnd.randbytes(4 << 20))
    for at in range(1000, len(noise) - 100, 9973):  # escapes glued to noise
        noise[at : at + 9] = rnd.choice([b"%D8=A3\\xd", b"&#1571;=4", b"+BiMGLQ-x", b"\\u0623%2"])
    path = tmp_path / "noise.bin"
    path.write_bytes(bytes(noise))
    readings = rawtext.of_file(path)
    assert not any(_matcher().names(t) for t in readings.values())
    kept = sum(len(t.encode()) for t in readings.values())
    assert kept < (4 << 20) // 256, kept
    # the bound above holds the older readings' noise too: the new ones keep none of it
    assert not {label for label in readings if "escapes" in label or "decoded" in label}
    # the same noise with a JSON record written into it (an uncompressed database page)
    record = _u(WITNESS_AR)
    noise[2_000_000 : 2_000_000 + len(record)] = record
    path.write_bytes(bytes(noise))
    assert "W-2" in _found(path).get("text written as escapes, decoded", set())


def test_text_of_hashes_and_tokens_keeps_what_it_says_not_their_noise(tmp_path: Path) -> None:
    """A hash list and a log of base64 tokens look like hexadecimal and base64 throughout;
    what they decode to is noise, which is read and let go: the readings keep the text itself
    and little more."""
    rnd = random.Random(5)
    hashes = b"".join(
        rnd.randbytes(32).hex().encode() + b"  statements/file-%d.pdf\n" % i for i in range(20000)
    )
    tokens = b"".join(base64.b64encode(rnd.randbytes(18)) + b" " for i in range(50000))
    for data in (hashes, tokens):
        path = tmp_path / "f"
        path.write_bytes(data)
        readings = rawtext.of_file(path)
        assert readings["UTF-8"].encode() == data
        extra = sum(len(t.encode()) for label, t in readings.items() if label != "UTF-8")
        assert extra < len(data) // 256, {k: len(v) for k, v in readings.items()}


@pytest.mark.parametrize("who", ["W-1", "W-2"])
def test_base64_broken_by_escapes_of_its_own_characters_is_read(who: str) -> None:
    """Escapes of "+", "/" and "=" split a base64 run where they stand: PHP's JSON writes
    "\\/", a URL "%2B", HTML "&#43;", quoted-printable "=3D". The run is read again once its
    escapes are decoded, whatever bytes its base64 has, compressed or not."""
    name = WITNESS_LATIN if who == "W-1" else WITNESS_AR
    escaped = {
        "PHP's JSON": lambda b: b'{"blob":"' + b.replace(b"/", b"\\/") + b'"}',
        "a URL": lambda b: b"GET /r?d=" + quote(b.decode(), safe="").encode() + b" 200",
        "HTML": lambda b: (
            b'<a data-x="' + b.replace(b"+", b"&#43;").replace(b"/", b"&#47;") + b'">'
        ),
    }
    for how, write in escaped.items():
        for k in range(12):  # payloads whose base64 breaks before, in or after the name
            record = json.dumps({"n": k, "who": name, "pad": "x" * k}, ensure_ascii=False)
            for data in (record.encode(), zlib.compress(record.encode())):
                line = write(base64.b64encode(data))
                found = set().union(*(_matcher().names(t) for _, t in rawtext.labelled(line)))
                assert who in found, (how, k, line)
    # Negative control: the same escapes around base64 of nothing named.
    for write in escaped.values():
        line = write(base64.b64encode(zlib.compress(b'{"who": "the detention centre"}')))
        assert not any(_matcher().names(t) for _, t in rawtext.labelled(line))


def test_compressed_payloads_inflate_within_one_budget_a_chunk(tmp_path: Path) -> None:
    """An adversary's bombs: a token of a few hundred bytes whose payload is a megabyte of
    tokens that each inflate to a megabyte (15 s, and 74 s with a hundred, before the budget),
    and a file of 200 tokens of a megabyte each (half a gigabyte of memory). What one chunk's
    readings inflate is bounded (`INFLATE_BUDGET`), each payload once; a name in a compressed
    token among them is still found."""
    inner = base64.b64encode(zlib.compress((b"A\x00b\x00 \x00" * 200_000)[: 1 << 20], 9))
    nested = b"token=" + base64.b64encode(zlib.compress(b" ".join([inner] * 100), 9)) + b"\n"
    rnd = random.Random(9)
    many = b"".join(
        b"t=" + base64.b64encode(zlib.compress(rnd.randbytes(64) * 20_000, 9)) + b"\n"
        for _ in range(200)
    )
    named = many + b"t=" + base64.b64encode(zlib.compress(_text(WITNESS_AR).encode())) + b"\n"
    for data in (nested, many):
        kept = sum(len(text) for _, text in rawtext.labelled(data))
        assert kept < 3 * rawtext.INFLATE_BUDGET + len(data), kept
    assert len(nested) < 700 and len(many) < 2_000_000
    # A name behind the budget is not read, and the readings say so: the inventory of such a
    # file is not complete (the leak check refuses it until someone attests it was read).
    assert (rawtext.INFLATE_CUT, "") in list(rawtext.labelled(named))
    path = tmp_path / "padded.log"
    path.write_bytes(named)
    work = tmp_path / "work"
    work.mkdir()
    inv = inventory.of_file(path, "padded.log", work)
    assert not inv.complete and "inflates to more than 1 MB" in " ".join(inv.reasons)
    # One compressed token, within the budget: read, and nothing said.
    alone = b"t=" + base64.b64encode(zlib.compress(_text(WITNESS_AR).encode())) + b"\n"
    readings = list(rawtext.labelled(alone))
    assert any("W-2" in _matcher().names(t) for _, t in readings)
    assert (rawtext.INFLATE_CUT, "") not in readings


def test_decoding_never_raises_on_malformed_escapes() -> None:
    nasty = (
        b"\\ud800\\udfff\\ud83d x \\U00110000 &#99999999; &#x110000; %zz %u12 =\n=ZZ \\777"
        b" +////////- +AAAA- " + base64.b64encode(bytes(range(256))) + b" \\u{110000}"
    )
    for text in escapes.escaped(nasty) + escapes.escaped(nasty, False):
        assert isinstance(text, str)
    list(rawtext.chunk_readings(nasty * 50))


def test_the_inventory_places_the_reading_so_the_refusal_names_it(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(_u(WITNESS_AR))
    work = tmp_path / "work"
    work.mkdir()
    inv = inventory.of_file(path, "export.json", work)
    places = {p.place for p in inv.parts if _matcher().names(p.text)}
    assert "its raw bytes (text written as escapes, decoded)" in places, places


def _zip_named(member: bytes) -> bytes:
    """A zip whose member's name is `member` as stored, with no flag saying it is UTF-8 (an
    Arabic Windows' own zip writes its DOS code page so)."""
    stand_in = "x" * len(member)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(stand_in + ".txt", "notes of the interview\n")
    return buf.getvalue().replace(stand_in.encode(), member)


@pytest.mark.parametrize("encoding", ["cp720", "cp1256", "iso8859_6"])
def test_member_names_in_an_arabic_code_page_are_read(encoding: str, tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    path.write_bytes(_zip_named(WITNESS_AR.encode(encoding)))
    out = unpack.archive(path, tmp_path / "out", Limits())
    assert len(out.children) == 1 and not out.flags, out.flags
    assert bytes.fromhex(out.children[0]["path_hex"]) == WITNESS_AR.encode(encoding) + b".txt"
    assert "W-2" in _matcher().names(out.pages[0])


def test_a_compressed_file_is_opened_and_its_file_read(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt.gz"
    path.write_bytes(gzip.compress(_text(WITNESS_LATIN).encode()))
    out = unpack.archive(path, tmp_path / "out", Limits())
    assert len(out.children) == 1 and not out.flags, out.flags
    child = (tmp_path / "out" / out.children[0]["file"]).read_bytes()
    assert child == _text(WITNESS_LATIN).encode()
    # A damaged zip is still refused as one, never read as a "compressed file".
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 damaged")
    with pytest.raises(ValueError, match="archive cannot be read"):
        unpack.archive(tmp_path / "bad.zip", tmp_path / "out2", Limits())


def _handover(folder: Path, latin: str, arabic: str) -> dict[str, str]:
    folder.mkdir(parents=True)
    files = {
        "statement-utf32.txt": (_text(arabic).encode("utf-32"), "its raw bytes (UTF-32-LE)"),
        "export.json": (_u(arabic), "its raw bytes (text written as escapes, decoded)"),
        "mail-part.txt": (_mime(_text(latin).encode()), "its raw bytes (base64 decoded"),
        "access.log": (
            f"GET /profile/{quote(arabic)} 200\n".encode(),
            "its raw bytes (text written as escapes, decoded)",
        ),
        "notes.txt.gz": (gzip.compress(_text(latin).encode()), "the names of an archive's"),
    }
    for name, (data, _place) in files.items():
        (folder / name).write_bytes(data)
    return {name: place for name, (_data, place) in files.items()}


def _children(home: Path, parent: int) -> dict[bytes, int]:
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            rows = s.execute(
                select(Item.original_path_raw, Item.id).where(Item.parent_id == parent)
            ).all()
            return {bytes(p): i for p, i in rows}
    finally:
        ws.close()


@pytest.mark.slow
def test_names_in_encodings_escapes_and_code_page_file_names_are_refused(
    sqlite_home: Path, tmp_path: Path
) -> None:
    home = sqlite_home
    _setup(home)
    places = _handover(tmp_path / "named", WITNESS_LATIN, WITNESS_AR)
    (tmp_path / "named" / "dos.zip").write_bytes(_zip_named(WITNESS_AR.encode("cp720")))
    _handover(tmp_path / "clean", *HARMLESS)
    (tmp_path / "clean" / "dos.zip").write_bytes(_zip_named("محضر".encode("cp720")))
    _ingest(home, tmp_path / "named", "named")
    _ingest(home, tmp_path / "clean", "clean")
    _ok(home, "process")
    ids = _ids(home, "named")
    gz_child = _children(home, ids["notes.txt.gz"])
    zip_child = _children(home, ids["dos.zip"])
    assert list(zip_child) == [WITNESS_AR.encode("cp720") + b".txt"]
    asked = [*ids.values(), *gz_child.values(), *zip_child.values()]
    said, reasons = refused_build(home, "RFA-1", sorted(asked), tmp_path / "p1")
    expected = {
        **{ids[n]: f"Witness A in {p}" for n, p in places.items() if n != "notes.txt.gz"},
        ids["dos.zip"]: "Witness A in the names of an archive's members",
        next(iter(zip_child.values())): "Witness A in its file name",
        next(iter(gz_child.values())): "Witness A in the body text",
    }
    for item, reason in expected.items():
        assert reason in reasons.get(item, ""), (item, reason, reasons)
    assert "Khatib" not in said and "الخطيب" not in said

    controls = _ids(home, "clean")
    children = [
        i for c in ("notes.txt.gz", "dos.zip") for i in _children(home, controls[c]).values()
    ]
    _request(home, "RFA-2", sorted([*controls.values(), *children]))
    built = json.loads(_ok(home, "package", "build", "RFA-2", str(tmp_path / "p2"), "--json"))
    assert built["items"] == len(controls) + len(children)


def test_a_megabyte_of_letters_around_a_name_is_read_in_seconds() -> None:
    """The matcher's readings split compounds (نورالدين, أحمدالخطيب) with patterns that went
    back over a whole word at each of its letters: a decoded escape run of a million letters
    before a name took hours, and the leak check with it. Run apart, with a deadline."""
    script = (
        "from amanah.sharing.protected import Matcher\n"
        "m = Matcher.of([('W-2', ['أحمد الخطيب']), ('W-3', ['نور الدين'])])\n"
        "for filler in ('x' * 1_000_000, 'ال' * 500_000, 'س' * 1_000_000):\n"
        "    assert m.names(filler + ' أحمد الخطيب ' + filler + ' نورالدين') == {'W-2', 'W-3'}\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
