"""Outlook mailboxes unpack into message and attachment items; DjVu text is read and searched."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from amanah.access import local_administrator
from amanah.db.models import CustodyEvent, Item
from amanah.items import show
from amanah.processing import mailbox
from amanah.processing.runner import run
from amanah.search.service import search
from amanah.workspace import open_workspace
from tests.conftest import SHARED_DATA
from tests.fixtures import ARABIC_FONT
from tests.test_processing import ingest_folder

FIXTURES = SHARED_DATA / "ingest_file_fixtures"
PST = FIXTURES / "testPST.pst"
DJVU_REPORT = FIXTURES / "Test_rs20846.djvu"
DJVU_EXIFTOOL = SHARED_DATA / "exiftool_metadata_samples" / "images" / "DjVu.djvu"

needs_pff = pytest.mark.needs("pff-tools")
needs_djvu = pytest.mark.needs("djvulibre")
needs_pst = pytest.mark.skipif(not PST.exists(), reason="../shared/data PST fixture is absent")


@pytest.fixture
def sqlite_home(sqlite_home: Path) -> Path:
    """The embedded home without vectors for search by meaning (not these tests' subject)."""
    config = sqlite_home / "amanah.toml"
    config.write_text(config.read_text().replace("semantic = true", "semantic = false"))
    return sqlite_home


def _items(ws) -> dict[str, Item]:  # type: ignore[no-untyped-def]
    with ws.db.reader() as s:
        return {i.original_path: i for i in s.execute(select(Item)).scalars()}


def _hits(ws, query: str) -> list[int]:  # type: ignore[no-untyped-def]
    return [h.item_id for h in search(ws, local_administrator(ws), query, limit=100).hits]


# -- PST -----------------------------------------------------------------------------------------


@needs_pff
@needs_pst
def test_a_pst_becomes_message_items_with_their_own_hashes_searchable(
    sqlite_home: Path, tmp_path: Path
) -> None:
    (tmp_path / "h").mkdir()
    shutil.copy(PST, tmp_path / "h" / "mailbox.pst")
    ws = open_workspace(sqlite_home)
    ingest_folder(ws, tmp_path / "h")
    report = run(ws, workers=1)
    assert report.failed == 0, report.failures
    items = _items(ws)
    box = items["h/mailbox.pst"]
    assert box.processing == "done"
    assert not any(f["code"] == "unsupported_format" for f in json.loads(box.flags))
    record = show(ws, box.id)
    messages = {c["original_path"]: c for c in record["children"]}
    # Six messages in the tree and one deleted message libpff recovers, each an email item.
    assert len(messages) == 7, sorted(messages)
    recovered = [p for p in messages if p.startswith("recovered/")]
    assert len(recovered) == 1
    for path in messages:
        child = items[path]
        assert child.parent_id == box.id and child.depth == box.depth + 1
        assert child.media_type == "message/rfc822", (path, child.media_type)
        with ws.blobs.open(child.sha256) as f:
            assert hashlib.sha256(f.read()).hexdigest() == child.sha256
    # A message's sender and body are searchable, and lead to that message, not the mailbox.
    found = _hits(ws, "kottmann")
    assert found and all(items_by_id(ws, i).parent_id == box.id for i in found)
    assert _hits(ws, '"Introducing Couchbase Server"')
    # The mailbox itself lists its messages' subjects, and its inventory is complete.
    assert box.inventory == "complete", box.inventory_reasons
    with ws.db.reader() as s:
        events = s.execute(
            select(CustodyEvent.event_type).where(
                CustodyEvent.object_type == "item",
                CustodyEvent.object_id == items[recovered[0]].id,
            )
        ).scalars()
        assert "ingestion" in list(events)
    ws.close()


def items_by_id(ws, item_id: int) -> Item:  # type: ignore[no-untyped-def]
    with ws.db.reader() as s:
        item = s.get(Item, item_id)
        assert item is not None
        return item


@needs_pff
@needs_pst
def test_a_truncated_pst_is_flagged_with_libpffs_reason_and_nothing_else_is_lost(
    sqlite_home: Path, tmp_path: Path
) -> None:
    (tmp_path / "h").mkdir()
    data = PST.read_bytes()
    (tmp_path / "h" / "cut.pst").write_bytes(data[: len(data) // 2])
    (tmp_path / "h" / "note.txt").write_text("the neighbour saw the convoy", encoding="utf-8")
    ws = open_workspace(sqlite_home)
    ingest_folder(ws, tmp_path / "h")
    report = run(ws, workers=1)
    assert report.failed == 0, report.failures
    items = _items(ws)
    cut = items["h/cut.pst"]
    flags = json.loads(cut.flags)
    assert [f["code"] for f in flags] == ["unreadable"], flags
    message = flags[0]["message"]
    assert "the mailbox cannot be opened (damaged or truncated)" in message
    assert "libpff" in message and "/scratch" not in message and "amanah-job" not in message
    assert cut.status == "flagged" and cut.inventory == "incomplete"
    with ws.blobs.open(cut.sha256) as f:
        assert f.read() == data[: len(data) // 2]  # preserved byte-exact all the same
    assert show(ws, cut.id)["children"] == []
    assert _hits(ws, "convoy") == [items["h/note.txt"].id]
    ws.close()


def _pff_item(folder: Path, subject: str, body: str, attachments: dict[str, bytes]) -> None:
    """One item folder the way pffexport writes it (headers, properties, body, Attachments)."""
    folder.mkdir(parents=True)
    (folder / "OutlookHeaders.txt").write_text(
        "Message:\nClient submit time:\t\t\tMar 03, 2013 09:15:00.000000000 UTC\n"
        f"Subject:\t\t\t\t{subject}\nSender name:\t\t\t\tAbu Omar\n"
        "Sender email address:\t\t\tomar@example.org\n",
        encoding="utf-8",
    )
    (folder / "Recipients.txt").write_text(
        "Display name:\t\tDesk\nEmail address:\t\tdesk@example.org\nRecipient type:\t\tTo\n",
        encoding="utf-8",
    )
    (folder / "Message.txt").write_text(body, encoding="utf-8")
    if attachments:
        (folder / "Attachments").mkdir()
        for name, data in attachments.items():
            (folder / "Attachments" / name).write_bytes(data)


def test_a_pffexport_item_with_an_attachment_becomes_an_email_carrying_it_byte_exact(
    tmp_path: Path,
) -> None:
    """The step after pffexport (no PST writer exists to make one with an attachment here):
    the attachment's bytes travel unchanged into the rebuilt message, and an attached message
    becomes message/rfc822."""
    import email
    import email.policy

    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    item = tmp_path / "box.export" / "Inbox" / "Message00001"
    _pff_item(item, "أوامر الاعتقال", "انظر المرفق", {"1_orders.pdf": pdf})
    _pff_item(item / "Attachments" / "Message00001", "forwarded", "inner body", {})
    folders = mailbox._item_folders(tmp_path / "box.export")
    assert folders == [item]  # attachments belong to their message, not listed on their own
    built = mailbox._message(item, 0).as_bytes(policy=email.policy.default)
    msg = email.message_from_bytes(built, policy=email.policy.default)
    assert msg["Subject"] == "أوامر الاعتقال"
    assert "omar@example.org" in msg["From"] and "desk@example.org" in msg["To"]
    assert "انظر المرفق" in msg.get_body(("plain",)).get_content()
    parts = {p.get_filename(): p for p in msg.iter_attachments()}
    assert parts["1_orders.pdf"].get_payload(decode=True) == pdf
    inner = parts["Message00001.eml"]
    assert inner.get_content_type() == "message/rfc822"
    assert inner.get_content()["Subject"] == "forwarded"


def test_a_symlink_in_pffexport_output_is_never_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("private key material", encoding="utf-8")
    item = tmp_path / "box.export" / "Message00001"
    _pff_item(item, "s", "b", {"a.txt": b"attachment"})
    (item / "Attachments" / "leak.txt").symlink_to(secret)
    built = mailbox._message(item, 0).as_bytes()
    assert b"private key material" not in built and b"leak.txt" not in built


# -- DjVu ----------------------------------------------------------------------------------------


def _page_image(lines: list[str], path: Path) -> None:
    font = ImageFont.truetype(str(ARABIC_FONT), 48)
    image = Image.new("L", (1700, 200 + 150 * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(lines):
        draw.text((100, 100 + 150 * n), line, font=font, fill=0)
    image.save(path)


@needs_djvu
@pytest.mark.needs("arabic-font")
def test_djvu_text_layer_and_ocr_of_a_page_without_one_are_found_by_search(
    sqlite_home: Path, tmp_path: Path
) -> None:
    h = tmp_path / "h"
    h.mkdir()
    _page_image(["The checkpoint commander ordered", "detentions at Kafrnabel"], tmp_path / "p.pgm")
    # A scanned page with no text layer (c44 makes a photo DjVu from the picture).
    subprocess.run(
        ["c44", "-dpi", "300", str(tmp_path / "p.pgm"), str(h / "scan.djvu")], check=True
    )
    # The same page with a hidden text layer saying something the picture does not.
    shutil.copy(h / "scan.djvu", h / "layered.djvu")
    (tmp_path / "t.dsed").write_text(
        '(page 0 0 1700 500 (line 0 0 1700 500 "hidden layer names Zanzibarite"))\n'
    )
    subprocess.run(
        [
            "djvused",
            "-e",
            f"select 1; set-txt {tmp_path / 't.dsed'}",
            "-s",
            str(h / "layered.djvu"),
        ],
        check=True,
    )
    # Negative control: a DjVu that says neither word.
    _page_image(["weather report"], tmp_path / "q.pgm")
    subprocess.run(
        ["c44", "-dpi", "300", str(tmp_path / "q.pgm"), str(h / "other.djvu")], check=True
    )
    ws = open_workspace(sqlite_home)
    ingest_folder(ws, h)
    report = run(ws, workers=1)
    assert report.failed == 0, report.failures
    items = _items(ws)
    scan, layered = items["h/scan.djvu"], items["h/layered.djvu"]
    assert _hits(ws, "kafrnabel") == [scan.id]
    assert _hits(ws, "zanzibarite") == [layered.id]
    assert _hits(ws, "kafrnabel has:ocr") == [scan.id]
    for item in (scan, layered, items["h/other.djvu"]):
        assert item.inventory == "complete", item.inventory_reasons
        assert not any(f["code"] == "unsupported_format" for f in json.loads(item.flags))
    kinds = {d["kind"] for d in show(ws, scan.id)["derivatives"]}
    assert {"ocr", "ocr_words", "inventory"} <= kinds
    ws.close()


@needs_djvu
@pytest.mark.skipif(not DJVU_REPORT.exists(), reason="../shared/data DjVu fixtures are absent")
def test_djvu_fixtures_text_and_annotations_are_read(sqlite_home: Path, tmp_path: Path) -> None:
    h = tmp_path / "h"
    h.mkdir()
    shutil.copy(DJVU_REPORT, h / "report.djvu")
    if DJVU_EXIFTOOL.exists():
        shutil.copy(DJVU_EXIFTOOL, h / "annotated.djvu")
    ws = open_workspace(sqlite_home)
    ingest_folder(ws, h)
    assert run(ws, workers=1).failed == 0
    items = _items(ws)
    report = items["h/report.djvu"]
    assert _hits(ws, '"Executive Orders"') == [report.id]
    text = [d for d in show(ws, report.id)["derivatives"] if d["kind"] == "text"]
    assert text and text[0]["pages"] == 11
    if DJVU_EXIFTOOL.exists():
        # The annotation ("annote") sits in the shared annotation chunk: in the inventory.
        assert _hits(ws, '"Did you get this"') == [items["h/annotated.djvu"].id]
    ws.close()


@needs_djvu
@pytest.mark.needs("arabic-font")
def test_a_truncated_djvu_is_flagged_with_the_reason_and_nothing_else_is_lost(
    sqlite_home: Path, tmp_path: Path
) -> None:
    h = tmp_path / "h"
    h.mkdir()
    _page_image(["a page cut short"], tmp_path / "p.pgm")
    subprocess.run(
        ["c44", "-dpi", "300", str(tmp_path / "p.pgm"), str(tmp_path / "w.djvu")], check=True
    )
    whole = (tmp_path / "w.djvu").read_bytes()
    (h / "cut.djvu").write_bytes(whole[: len(whole) // 3])
    (h / "note.txt").write_text("the patrol returned", encoding="utf-8")
    ws = open_workspace(sqlite_home)
    ingest_folder(ws, h)
    assert run(ws, workers=1).failed == 0
    items = _items(ws)
    cut = items["h/cut.djvu"]
    flags = json.loads(cut.flags)
    assert flags and {f["code"] for f in flags} <= {"unreadable", "ocr_failed"}, flags
    said = " ".join(f["message"] for f in flags)
    assert "could not" in said and "/scratch" not in said and ".cpp" not in said
    assert cut.inventory == "incomplete"
    with ws.blobs.open(cut.sha256) as f:
        assert f.read() == whole[: len(whole) // 3]
    assert _hits(ws, "patrol") == [items["h/note.txt"].id]
    ws.close()


@needs_pff
@needs_pst
def test_reprocessing_a_mailbox_gives_the_same_children_not_duplicates(
    sqlite_home: Path, tmp_path: Path
) -> None:
    from tests.conftest import amanah, ingest_cli

    (tmp_path / "h").mkdir()
    shutil.copy(PST, tmp_path / "h" / "mailbox.pst")
    ingest_cli(sqlite_home, tmp_path / "h")
    amanah(sqlite_home, "process", "--quiet", "--workers", "1", check=True)
    ws = open_workspace(sqlite_home)
    box = _items(ws)["h/mailbox.pst"]
    first = sorted((c["original_path"], c["sha256"]) for c in show(ws, box.id)["children"])
    ws.close()
    assert len(first) == 7
    again = amanah(
        sqlite_home, "reprocess", "--where", "path:mailbox.pst", "--quiet", "--workers", "1"
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 items match 'path:mailbox.pst'" in again.stdout
    assert "(0 new children)" in again.stdout
    ws = open_workspace(sqlite_home)
    assert sorted((c["original_path"], c["sha256"]) for c in show(ws, box.id)["children"]) == first
    with ws.db.reader() as s:
        assert s.execute(select(Item.id).where(Item.parent_id == box.id)).all().__len__() == 7
    ws.close()
