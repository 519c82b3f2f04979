"""The leak check reads every place a file can say a name (its content inventory), refuses
what it could not read completely, and lets an attested item through — never a found name.

Every file here is made by the test (python-docx, python-pptx, PyMuPDF, Pillow, zip), goes
through the real intake, processing sandbox and package build on the command line, and the
refusal is asserted with the place it names. The same kinds of file without the name are the
negative controls: they are packaged.
"""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from amanah.db.models import CustodyEvent, Item
from amanah.workspace import open_workspace
from tests.conftest import amanah, amanah_here
from tests.fixtures import zip_of
from tests.sharingfixtures import WITNESS_LATIN

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
PROVIDER = "Documentation Centre"


# -- files made here ------------------------------------------------------------------------


def docx_with(path: Path, header: str, footer: str) -> None:
    import docx

    d = docx.Document()
    d.add_paragraph("Statement about the detention centre.")
    d.sections[0].header.paragraphs[0].text = header
    d.sections[0].footer.paragraphs[0].text = footer
    d.save(str(path))


def pptx_with(path: Path, cell: str, notes: str) -> None:
    import pptx
    from pptx.util import Inches

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    table = slide.shapes.add_table(2, 2, Inches(1), Inches(1), Inches(6), Inches(1)).table
    table.cell(0, 0).text = "Witness"
    table.cell(1, 0).text = cell
    slide.notes_slide.notes_text_frame.text = notes
    deck.save(str(path))


def pdf_with(
    path: Path, *, bookmark: str = "", sticky: str = "", xmp_creator: str = "", body: str = ""
) -> None:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), body or "Statement about the detention centre.")
    if bookmark:
        doc.set_toc([[1, bookmark, 1]])
    if sticky:
        page.add_text_annot((100, 100), sticky).update()
    if xmp_creator:
        doc.set_xml_metadata(
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
            ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator><rdf:Seq><rdf:li>'
            f"{xmp_creator}</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF>"
            "</x:xmpmeta>"
        )
    doc.save(path, deflate=True)


def revised_pdf(path: Path, first: str, removed: str) -> None:
    """Revision 1 says `first`; an incremental update removes `removed` from the page."""
    import pymupdf

    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), first)
    doc.save(path, deflate=True)
    doc.close()
    doc = pymupdf.open(path)
    page = doc[0]
    for rect in page.search_for(removed):
        page.add_redact_annot(rect)
    page.apply_redactions()
    doc.save(path, incremental=True, encryption=pymupdf.PDF_ENCRYPT_KEEP)
    doc.close()
    with pymupdf.open(path) as check:
        assert removed not in check[0].get_text()


def name_png(text: str) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(FONT, 64)
    image = Image.new("L", (60 + 40 * len(text), 120), 255)
    ImageDraw.Draw(image).text((30, 20), text, font=font, fill=0)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def pdf_with_image(path: Path, caption: str) -> None:
    """A page with a text layer, plus a picture of words (never in the text layer)."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Statement about the detention centre. Signed:")
    page.insert_image(pymupdf.Rect(72, 100, 472, 180), stream=name_png(caption))
    doc.save(path, deflate=True)


def encrypted_zip(path: Path, folder: Path, content: str) -> None:
    inner = folder / "statement.txt"
    inner.write_text(content)
    subprocess.run(
        ["zip", "-q", "-j", "-P", "secret", str(path), str(inner)], check=True, timeout=60
    )
    inner.unlink()


def nested_zip(levels: int, content: bytes) -> bytes:
    data = zip_of({"note.txt": content})
    for n in range(levels):
        data = zip_of({f"level-{n}.zip": data})
    return data


HTML_META = '<html><head><meta name="author" content="{}"><title>Report</title></head>'
HTML_META += "<body><p>Report on the detention centre.</p></body></html>"
HTML_COMMENT = "<html><body><!-- typed by {} --><p>Report on the detention centre.</p>"
HTML_COMMENT += "</body></html>"
HTML_ALT = '<html><body><p>Report.</p><img src="a.png" alt="photo of {}"></body></html>'


def handover(folder: Path, name: str) -> dict[str, str]:
    """The same kinds of file naming `name` (a witness, or a harmless word for controls);
    returns the place the refusal must name for each."""
    folder.mkdir(parents=True)
    docx_with(folder / "header.docx", f"Interview with {name}", "page 1")
    docx_with(folder / "footer.docx", "Interview", f"Prepared by {name}")
    pptx_with(folder / "table.pptx", name, "Speaker notes: the detention centre.")
    pptx_with(folder / "notes.pptx", "W-1", f"Remember to protect {name}")
    pdf_with(folder / "bookmark.pdf", bookmark=f"Interview of {name}")
    pdf_with(folder / "sticky.pdf", sticky=f"Call {name} again")
    pdf_with(folder / "xmp.pdf", xmp_creator=name)
    revised_pdf(folder / "revised.pdf", f"Statement of {name} about the centre", name)
    (folder / "meta.html").write_text(HTML_META.format(name))
    (folder / "comment.html").write_text(HTML_COMMENT.format(name))
    (folder / "alt.html").write_text(HTML_ALT.format(name))
    return {
        "header.docx": "in a DOCX header",
        "footer.docx": "in a DOCX footer",
        "table.pptx": "in a table in a PPTX slide",
        "notes.pptx": "in PPTX speaker notes",
        "bookmark.pdf": "in a PDF bookmark",
        "sticky.pdf": "in a PDF annotation",
        "xmp.pdf": "in the PDF's XMP metadata",
        "revised.pdf": "in the text layer of a PDF page in an earlier revision of the PDF",
        "meta.html": "in an HTML meta tag",
        "comment.html": "in an HTML comment",
        "alt.html": "in an HTML alt attribute",
    }


# -- the command line, as a legal officer uses it ---------------------------------------------


def _ok(home: Path, *args: str) -> str:
    return amanah(home, *args, check=True).stdout


def _step(home: Path, *args: str) -> str:
    """A step before the subject (jurisdiction, framework, request), run in this process:
    each real `python -m amanah.cli` costs seconds of imports before it does anything."""
    return amanah_here(home, *args, check=True).stdout


def _ids(home: Path, collection: str) -> dict[str, int]:
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            from amanah.db.models import Collection

            return {
                Path(p).name: i
                for i, p in s.execute(
                    select(Item.id, Item.original_path)
                    .join(Collection, Collection.id == Item.collection_id)
                    .where(Item.parent_id.is_(None), Collection.name == collection)
                ).all()
            }
    finally:
        ws.close()


def _setup(home: Path) -> None:
    toml = home / "amanah.toml"  # vectors for search by meaning are not what is tested here
    toml.write_text(toml.read_text().replace("semantic = true", "semantic = false"))
    _step(home, "jurisdiction", "add", "DE-GBA", "--state", "Germany", "--authority", "GBA")
    out = _step(home, "framework", "add", "--provider", PROVIDER, "--title", "MoU",
                "--disclosure", "any")  # fmt: skip
    (home / "framework.txt").write_text(out.split(":")[0].split()[-1])
    _step(home, "protected", "add", "Witness A", "--name", WITNESS_LATIN)


def _ingest(home: Path, folder: Path, collection: str) -> dict[str, int]:
    framework = (home / "framework.txt").read_text()
    _ok(home, "ingest", str(folder), "--collection", collection, "--provider", PROVIDER,
        "--framework", framework)  # fmt: skip
    return _ids(home, collection)


def _request(home: Path, ref: str, items: list[int]) -> None:
    _step(home, "rfa", "add", ref, "--jurisdiction", "DE-GBA", "--received-on", "2026-09-01",
          "--subject", "Detentions")  # fmt: skip
    _step(home, "rfa", "move", ref, "acknowledged")
    _step(home, "rfa", "move", ref, "in_progress")
    _step(home, "rfa", "review", ref, "relevant", *map(str, items))


def _reasons(stdout: str) -> dict[int, str]:
    out = {}
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("item ") and ":" in line:
            head, reason = line.split(":", 1)
            out[int(head.split()[1])] = reason.strip()
    return out


def refused_build(home: Path, ref: str, items: list[int], out: Path) -> tuple[str, dict[int, str]]:
    """A request for `items` whose package build must refuse: what the build printed and
    the reason given for each refused item."""
    _request(home, ref, items)
    refused = amanah(home, "package", "build", ref, str(out))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    return refused.stdout + refused.stderr, _reasons(refused.stdout)


# -- the tests ------------------------------------------------------------------------------------


def test_every_hidden_place_and_every_incomplete_inventory_is_refused_with_its_place(
    sqlite_home: Path, tmp_path: Path
) -> None:
    home = sqlite_home
    _setup(home)
    named = tmp_path / "named"
    places = handover(named, WITNESS_LATIN)
    encrypted_zip(named / "locked.zip", tmp_path, f"Statement of {WITNESS_LATIN}")
    (named / "deep.zip").write_bytes(nested_zip(8, b"nothing to see"))
    clean = tmp_path / "clean"
    handover(clean, "the detention centre")
    (clean / "plain.zip").write_bytes(nested_zip(2, b"nothing to see"))
    _ingest(home, named, "named")
    _ingest(home, clean, "clean")
    _ok(home, "process")
    late = tmp_path / "late"
    late.mkdir()
    (late / "pending.txt").write_text("Received after processing ran.")
    ids = _ingest(home, named, "named") | _ingest(home, late, "late")

    _request(home, "RFA-1", sorted(ids.values()))
    target = tmp_path / "out" / "p1"
    refused = amanah(home, "package", "build", "RFA-1", str(target))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert not target.exists()
    reasons = _reasons(refused.stdout)
    for name, place in places.items():
        assert reasons[ids[name]].startswith(f"names protected person Witness A {place}"), (
            name,
            reasons[ids[name]],
        )
    assert reasons[ids["locked.zip"]].startswith("inventory not complete: encrypted")
    deep = reasons[ids["deep.zip"]]
    assert (
        deep.startswith("its part item ") and "inventory not complete: past an unpack limit" in deep
    )
    assert reasons[ids["pending.txt"]].startswith(
        "inventory not complete: processing still pending"
    )
    assert WITNESS_LATIN not in refused.stdout + refused.stderr
    assert "Khatib" not in refused.stdout + refused.stderr

    # Negative controls: the same kinds of file without the name are packaged.
    controls = _ids(home, "clean")
    _request(home, "RFA-2", sorted(controls.values()))
    built = json.loads(_ok(home, "package", "build", "RFA-2", str(tmp_path / "p2"), "--json"))
    assert built["items"] == len(controls)
    index = json.loads((tmp_path / "p2" / "amanah" / "items.json").read_text())
    assert {row["inventory"] for row in index["items"]} == {"complete"}

    # The hidden text is searchable too: the inventory feeds the index.
    found = _ok(home, "search", "Witness", "--json")
    assert found  # the command runs; the PPTX table says "Witness" in a cell


def test_attestation_lets_an_incomplete_item_through_never_a_found_name(
    sqlite_home: Path, tmp_path: Path
) -> None:
    home = sqlite_home
    _setup(home)
    folder = tmp_path / "h"
    folder.mkdir()
    encrypted_zip(folder / "locked.zip", tmp_path, "A statement with no name in it.")
    docx_with(folder / "header.docx", f"Interview with {WITNESS_LATIN}", "page 1")
    ids = _ingest(home, folder, "h")
    _ok(home, "process")
    locked, header = ids["locked.zip"], ids["header.docx"]

    _request(home, "RFA-3", [locked])
    refused = amanah(home, "package", "build", "RFA-3", str(tmp_path / "p3"))
    assert refused.returncode == 1
    assert _reasons(refused.stdout)[locked].startswith("inventory not complete: encrypted")
    missing = amanah(home, "package", "attest", str(locked), "--note", " ")
    assert missing.returncode != 0 and "--note" in missing.stdout + missing.stderr
    said = _ok(home, "package", "attest", str(locked), "--note", "opened with the password; read")
    assert f"item {locked}: content inventory incomplete; attested by" in said
    built = json.loads(_ok(home, "package", "build", "RFA-3", str(tmp_path / "p3"), "--json"))
    assert built["items"] == 1
    row = json.loads((tmp_path / "p3" / "amanah" / "items.json").read_text())["items"][0]
    assert row["inventory"].startswith("attested by ") and " on 20" in row["inventory"]
    assert "attested by" in (tmp_path / "p3" / "amanah" / "items.csv").read_text()

    # The attestation is a custody event; a name written in its note is not kept.
    _ok(home, "package", "attest", str(header), "--note", f"checked; {WITNESS_LATIN} is named")
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            events = [
                json.loads(e.details)
                for e in s.execute(
                    select(CustodyEvent).where(
                        CustodyEvent.event_type == "validation", CustodyEvent.object_id.in_(
                            [str(locked), str(header)]
                        )
                    )
                ).scalars()
            ]  # fmt: skip
    finally:
        ws.close()
    assert [e["attestation"] for e in events] == ["content examined by hand"] * 2
    assert all("Khatib" not in json.dumps(e) for e in events)

    # An attestation never overrides a protected name that is found.
    _request(home, "RFA-4", [header])
    refused = amanah(home, "package", "build", "RFA-4", str(tmp_path / "p4"))
    assert refused.returncode == 1
    assert _reasons(refused.stdout)[header].startswith(
        "names protected person Witness A in a DOCX header"
    )


@pytest.mark.slow
def test_an_image_of_the_name_on_a_page_with_a_text_layer_is_read(
    sqlite_home: Path, tmp_path: Path
) -> None:
    home = sqlite_home
    _setup(home)
    folder = tmp_path / "h"
    folder.mkdir()
    pdf_with_image(folder / "signed.pdf", WITNESS_LATIN)
    pdf_with_image(folder / "stamped.pdf", "Archive Office")
    ids = _ingest(home, folder, "h")
    _ok(home, "process")
    _request(home, "RFA-5", [ids["signed.pdf"], ids["stamped.pdf"]])
    refused = amanah(home, "package", "build", "RFA-5", str(tmp_path / "p5"))
    assert refused.returncode == 1
    reasons = _reasons(refused.stdout)
    assert reasons[ids["signed.pdf"]].startswith(
        "names protected person Witness A in OCR of an image on a PDF page (page 1, image 1)"
    )
    assert ids["stamped.pdf"] not in reasons  # the control: its image reads, names nobody
