"""Outlook mailboxes as an attacker would fill them: every file pffexport writes for a message
reaches the message's content inventory, so a protected person's name planted in any of them
stops a package, with the place named; the same message without the name ships.

No program here writes a PST (Debian and PyPI have readers only: libpff, libpst, pypff), and
the one real PST in the shared fixtures has no attachment. So the tests take the real
pffexport output of that PST where it is present, plant files in pffexport's own layout
(`MessageNNNNN/Recipients.txt`, `Attachments/1_name.pdf` …) and run the step after pffexport,
then the real intake, sandbox and package build on what it makes.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from amanah.processing import mailbox
from amanah.workspace import open_workspace
from tests.conftest import SHARED_DATA, amanah
from tests.sharingfixtures import WITNESS_LATIN
from tests.test_leak_check import _ingest, _reasons, _request, _setup

PST = SHARED_DATA / "ingest_file_fixtures" / "testPST.pst"
needs_pff = pytest.mark.needs("pff-tools")
needs_pst = pytest.mark.skipif(not PST.exists(), reason="../shared/data PST fixture is absent")


def _export_real_pst(tmp_path: Path) -> list[Path]:
    """The real PST through the real pffexport: its message folders."""
    target = tmp_path / "pff" / "box"
    target.parent.mkdir()
    subprocess.run(
        ["pffexport", "-q", "-f", "all", "-m", "all", "-t", str(target), str(PST)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    found: list[Path] = []
    for suffix, _prefix in mailbox.PARTS:
        if Path(f"{target}.{suffix}").is_dir():
            found += mailbox._item_folders(Path(f"{target}.{suffix}"))
    return found


def _item(folder: Path, body: str = "Please see the list of detainees.") -> Path:
    """One message folder with every file pffexport writes for a received email."""
    folder.mkdir(parents=True)
    (folder / "InternetHeaders.txt").write_text(
        "Return-Path: <omar@example.org>\nFrom: Abu Omar <omar@example.org>\n"
        "To: desk@example.org\nSubject: detainees\nDate: Sun, 03 Mar 2013 09:15:00 +0000\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n",
        encoding="utf-8",
    )
    (folder / "OutlookHeaders.txt").write_text(
        "Message:\nSubject:\t\t\t\tdetainees\nSender name:\t\t\t\tAbu Omar\n", encoding="utf-8"
    )
    (folder / "Recipients.txt").write_text(
        "Display name:\t\tDesk\nEmail address:\t\tdesk@example.org\nRecipient type:\t\tTo\n",
        encoding="utf-8",
    )
    (folder / "ConversationIndex.txt").write_text(
        "Conversation index:\nHeader block:\n\tGUID:\t\tef5e54df-7f99-8f42-a727-517f633a04ac\n",
        encoding="utf-8",
    )
    (folder / "Message.txt").write_text(body, encoding="utf-8")
    return folder


def _eml(folder: Path, out: Path) -> bytes:
    msg = mailbox._message(folder, 0)
    mailbox._fix_boundaries(msg, folder)
    data = msg.as_bytes(policy=email.policy.default)
    out.write_bytes(data)
    return data


def _pdf(text: str) -> bytes:
    import pymupdf

    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), text)
    return doc.tobytes()


def _docx(text: str, path: Path) -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph(text)
    d.save(str(path))
    return path.read_bytes()


# -- 1. a message with attachments ends as message and attachment items ------------------------


@needs_pff
@needs_pst
def test_a_real_pst_message_with_attachments_becomes_message_and_attachment_items(
    sqlite_home: Path, tmp_path: Path
) -> None:
    folders = _export_real_pst(tmp_path)
    assert len(folders) == 7  # six messages and one recovered (as test_mailbox asserts)
    assert not any((f / "Attachments").exists() for f in folders)  # why we plant one
    message = folders[0]
    (message / "Attachments").mkdir()
    pdf = _pdf("Orders for the Kafrnabel checkpoint")
    word = _docx("Minutes of the security committee", tmp_path / "m.docx")
    (message / "Attachments" / "1_orders.pdf").write_bytes(pdf)
    (message / "Attachments" / "2_minutes.docx").write_bytes(word)
    h = tmp_path / "h"
    h.mkdir()
    _eml(message, h / "message.eml")

    home = sqlite_home
    _setup(home)
    ids = _ingest(home, h, "h")
    assert amanah(home, "process", "--quiet", "--workers", "1").returncode == 0
    ws = open_workspace(home)
    try:
        from amanah.items import show

        record = show(ws, ids["message.eml"])
        children = {c["original_path"]: c for c in record["children"]}
        assert sorted(children) == ["1_orders.pdf", "2_minutes.docx"], sorted(children)
        assert children["1_orders.pdf"]["sha256"] == hashlib.sha256(pdf).hexdigest()
        assert children["2_minutes.docx"]["sha256"] == hashlib.sha256(word).hexdigest()
        from amanah.access import local_administrator
        from amanah.search.service import search

        admin = local_administrator(ws)
        for query, name in (
            ("kafrnabel", "1_orders.pdf"),
            ('"security committee"', "2_minutes.docx"),
        ):
            hits = [h.item_id for h in search(ws, admin, query, limit=10).hits]
            assert hits == [children[name]["id"]], (query, hits)
    finally:
        ws.close()


# -- 2. a name planted in any exported file is refused, with its place --------------------------


PLANTS = {
    # file written into the message folder, its content, the place the refusal must name
    "recipients": (
        "Recipients.txt",
        f"Display name:\t\t{WITNESS_LATIN}\nEmail address:\t\tw@example.org\n"
        "Recipient type:\t\tBCC\n",
        "in an email header (X-Pffexport-Recipients)",
    ),
    "conversation": (
        "ConversationIndex.txt",
        f"Conversation index:\nTopic:\t\t{WITNESS_LATIN}\n",
        "in an email header (X-Pffexport-ConversationIndex)",
    ),
    "itemvalues": (
        "ItemValues.txt",
        f"Property: 0x3001\t\t{WITNESS_LATIN}\n",
        "in an email header (X-Pffexport-ItemValues)",
    ),
    "outlook": (
        "OutlookHeaders.txt",
        f"Message:\nSubject:\t\t\t\tdetainees\nSender name:\t\t\t\tAbu Omar\n"
        f"Sender name:\t\t\t\t{WITNESS_LATIN}\n",  # a second value, kept by nothing before
        "in an email header (X-Pffexport-OutlookHeaders)",
    ),
    "after-headers": (
        "InternetHeaders.txt",
        "From: Abu Omar <omar@example.org>\nSubject: detainees\n\n"
        f"X-Note: ask {WITNESS_LATIN}\n",  # after the blank line: no header parser reads it
        "in an email header (X-Pffexport-InternetHeaders)",
    ),
    "mime-header": (
        "InternetHeaders.txt",
        f'From: Abu Omar <omar@example.org>\nContent-Type: text/plain; name="{WITNESS_LATIN}"\n\n',
        "in an email header (X-Pffexport-InternetHeaders)",
    ),
    "unknown-text": (
        "Appointment.txt",
        f"Location:\t\tthe house of {WITNESS_LATIN}\n",
        "in an email header (X-Pffexport-Appointment)",
    ),
}


@needs_pff
def test_a_name_in_any_file_pffexport_writes_stops_the_package_with_its_place(
    sqlite_home: Path, tmp_path: Path
) -> None:
    named, clean = tmp_path / "named", tmp_path / "clean"
    named.mkdir()
    clean.mkdir()
    for key, (file, content, _place) in PLANTS.items():
        folder = _item(tmp_path / "pff-named" / key)
        (folder / file).write_text(content, encoding="utf-8")
        data = _eml(folder, named / f"{key}.eml")
        assert WITNESS_LATIN.encode() in data, key  # the rebuilt message carries it
        control = _item(tmp_path / "pff-clean" / key)
        (control / file).write_text(content.replace(WITNESS_LATIN, "the clinic"), "utf-8")
        assert WITNESS_LATIN.encode() not in _eml(control, clean / f"{key}.eml")
    # A second body (RTF beside the text one) becomes an attachment: its own item, read.
    rtf = _item(tmp_path / "pff-named" / "rtf")
    (rtf / "Message.rtf").write_text(r"{\rtf1\ansi Statement of " + WITNESS_LATIN + "}", "utf-8")
    _eml(rtf, named / "rtf.eml")
    rtf_clean = _item(tmp_path / "pff-clean" / "rtf")
    (rtf_clean / "Message.rtf").write_text(r"{\rtf1\ansi Statement of the clinic}", "utf-8")
    _eml(rtf_clean, clean / "rtf.eml")

    home = sqlite_home
    _setup(home)
    ids = _ingest(home, named, "named")
    controls = _ingest(home, clean, "clean")
    assert amanah(home, "process", "--quiet").returncode == 0
    _request(home, "RFA-1", sorted(ids.values()))
    refused = amanah(home, "package", "build", "RFA-1", str(tmp_path / "p1"))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert not (tmp_path / "p1").exists()
    reasons = _reasons(refused.stdout)
    for key, (_file, _content, place) in PLANTS.items():
        reason = reasons[ids[f"{key}.eml"]]
        assert reason.startswith(f"names protected person Witness A {place}"), (key, reason)
    # the RTF body is a part item of its own, refused as such (the message's own raw bytes
    # name the witness too: the part is in them as base64)
    assert "its part item " in reasons[ids["rtf.eml"]], reasons[ids["rtf.eml"]]
    assert "names protected person Witness A" in reasons[ids["rtf.eml"]]
    assert WITNESS_LATIN not in refused.stdout + refused.stderr

    # Negative controls: the same messages without the name are packaged, complete.
    _request(home, "RFA-2", sorted(controls.values()))
    built = amanah(home, "package", "build", "RFA-2", str(tmp_path / "p2"), "--json")
    assert built.returncode == 0, built.stdout + built.stderr
    assert json.loads(built.stdout)["items"] == len(controls)


@needs_pff
@needs_pst
def test_every_file_of_a_real_pffexport_item_is_carried_into_its_message(tmp_path: Path) -> None:
    """On real pffexport output: each line of each header file is in the rebuilt message."""
    for folder in _export_real_pst(tmp_path):
        msg = mailbox._message(folder, 0)
        carried = {(k, " ".join(v.split())) for k, v in msg.items() if k.startswith("X-Pff")}
        for name in ("Recipients", "ConversationIndex", "OutlookHeaders"):
            path = folder / f"{name}.txt"
            if not path.exists():
                continue
            for line in path.read_text("utf-8", "replace").splitlines():
                if line.strip():
                    assert (f"X-Pffexport-{name}", " ".join(line.split())) in carried, line
