"""A web page saved as one file (MHTML, as Word and Internet Explorer save it: a MIME message
without mail headers, its HTML in base64), and a document imported whole into a DOCX (Word's
altChunk: MHT or RTF, shown by Word as the body), name a protected person: each is read as
its own format and the package build refuses it."""

from __future__ import annotations

import base64
from pathlib import Path

from tests.conftest import amanah
from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN
from tests.test_adv_leak_places import _setup
from tests.test_leak_check import _ids, _ingest, _ok, _request, refused_build

AFCHUNK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/aFChunk"


def mhtml(words: str) -> bytes:
    html = f"<html><body><p>Interview notes: {words}</p></body></html>".encode()
    return (
        b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="b"\r\n\r\n'
        b'--b\r\nContent-Type: text/html; charset="utf-8"\r\n'
        b"Content-Transfer-Encoding: base64\r\nContent-Location: file:///C:/notes.htm\r\n\r\n"
        + base64.encodebytes(html)
        + b"\r\n--b--\r\n"
    )


def docx_with_chunk(path: Path, blob: bytes, part: str, content_type: str) -> None:
    import docx
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part

    d = docx.Document()
    d.add_paragraph("Statement about the detention centre.")
    chunk = Part(PackURI(f"/word/{part}"), content_type, blob, d.part.package)
    rid = d.part.relate_to(chunk, AFCHUNK)
    el = docx.oxml.OxmlElement("w:altChunk")
    el.set(docx.oxml.ns.qn("r:id"), rid)
    d.element.body.insert(0, el)
    d.save(str(path))


def rtf(words: str) -> bytes:
    escaped = "".join(f"\\u{ord(c)}?" if ord(c) > 127 else c for c in words)
    return ("{\\rtf1\\ansi Interview notes: " + escaped + "\\par}").encode()


def handover(folder: Path, latin: str, arabic: str) -> None:
    folder.mkdir(parents=True)
    (folder / "notes.mht").write_bytes(mhtml(latin))
    docx_with_chunk(folder / "mht-chunk.docx", mhtml(latin), "afchunk1.mht", "message/rfc822")
    docx_with_chunk(folder / "rtf-chunk.docx", rtf(arabic), "afchunk1.rtf", "application/rtf")


def test_a_saved_web_page_and_a_document_imported_into_a_docx_are_read(
    sqlite_home: Path, tmp_path: Path
) -> None:
    home = sqlite_home
    _setup(home)
    handover(tmp_path / "named", WITNESS_LATIN, WITNESS_AR)
    handover(tmp_path / "clean", "the detention centre", "مركز الاحتجاز")
    _ingest(home, tmp_path / "named", "named")
    _ingest(home, tmp_path / "clean", "clean")
    _ok(home, "process")
    ids = _ids(home, "named")
    _, reasons = refused_build(home, "RFA-1", sorted(ids.values()), tmp_path / "p1")
    for name in ("notes.mht", "mht-chunk.docx", "rtf-chunk.docx"):
        assert reasons.get(ids[name], "").startswith("names protected person Witness A"), (
            name,
            reasons,
        )
    controls = _ids(home, "clean")
    _request(home, "RFA-2", sorted(controls.values()))
    built = amanah(home, "package", "build", "RFA-2", str(tmp_path / "p2"))
    assert built.returncode == 0, built.stdout + built.stderr
