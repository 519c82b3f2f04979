"""Places a protected name hides in a file that goes into a package, each made here with a
real writer, and each refused by the package build with the place it was found in: percent-
and backslash-escaped text (link targets, URLs, JSON), PDF text outside the page and in a
hidden layer, RTF comments and headers written with Unicode escapes, XLSX headers, footers,
data validation messages and number formats. The same files naming nobody are packaged."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN
from tests.test_leak_check import _ids, _ingest, _ok, _request, _step, refused_build

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
PROVIDER = "Documentation Centre"


def _setup(home: Path) -> None:
    toml = home / "amanah.toml"
    toml.write_text(toml.read_text().replace("semantic = true", "semantic = false"))
    _step(home, "jurisdiction", "add", "DE-GBA", "--state", "Germany", "--authority", "GBA")
    out = _step(home, "framework", "add", "--provider", PROVIDER, "--title", "MoU",
                "--disclosure", "any")  # fmt: skip
    (home / "framework.txt").write_text(out.split(":")[0].split()[-1])
    _step(home, "protected", "add", "Witness A", "--name", WITNESS_LATIN, "--name", WITNESS_AR)


def refused_then_built(
    home: Path, tmp_path: Path, write: Callable[[Path, bool], None]
) -> tuple[str, dict[str, str]]:
    """A handover naming Witness A and the same naming nobody (`write(folder, named)`), both
    ingested and processed: what the refused build of the first printed, and its reason per
    file; the second must build, whole."""
    _setup(home)
    for named in (True, False):
        folder = tmp_path / ("named" if named else "clean")
        folder.mkdir()
        write(folder, named)
        _ingest(home, folder, folder.name)
    _ok(home, "process")
    ids = _ids(home, "named")
    said, reasons = refused_build(home, "RFA-1", sorted(ids.values()), tmp_path / "p1")
    assert not (tmp_path / "p1").exists() or not any((tmp_path / "p1").iterdir())
    controls = _ids(home, "clean")
    _request(home, "RFA-2", sorted(controls.values()))
    built = json.loads(_ok(home, "package", "build", "RFA-2", str(tmp_path / "p2"), "--json"))
    assert built["items"] == len(controls)
    return said, {name: reasons.get(item, "") for name, item in ids.items()}


def _docx_link(path: Path, target: str) -> None:
    import docx

    d = docx.Document()
    p = d.add_paragraph("Statement about the detention centre, see ")
    rid = d.part.relate_to(target, docx.opc.constants.RELATIONSHIP_TYPE.HYPERLINK, True)
    link = docx.oxml.OxmlElement("w:hyperlink")
    link.set(docx.oxml.ns.qn("r:id"), rid)
    run = docx.oxml.OxmlElement("w:r")
    t = docx.oxml.OxmlElement("w:t")
    t.text = "the profile"
    run.append(t)
    link.append(run)
    p._p.append(link)
    d.save(str(path))


def _pdf(path: Path, name: str, *, at: tuple[float, float] = (72, 200), layer: bool = False,
         uri: str = "") -> None:  # fmt: skip
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Statement about the centre.", fontfile=FONT, fontname="dv")
    oc = doc.add_ocg("notes", on=False) if layer else 0
    page.insert_text(at, name, fontfile=FONT, fontname="dv", oc=oc)
    if uri:
        page.insert_link(
            {"kind": pymupdf.LINK_URI, "from": pymupdf.Rect(72, 60, 200, 80), "uri": uri}
        )
    doc.save(path)


def _rtf_escaped(text: str) -> str:
    return "".join(f"\\u{ord(c)}?" if ord(c) > 127 else c for c in text)


def _xlsx(path: Path, name: str, how: str) -> None:
    import openpyxl
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "Detainees at the branch"
    if how == "header":
        ws.oddHeader.center.text = name
    elif how == "footer":
        ws.oddFooter.left.text = f"prepared for {name}"
    elif how == "validation":
        dv = DataValidation(type="list", formula1='"yes,no"', prompt=f"ask {name}")
        ws.add_data_validation(dv)
        dv.add("A2")
    elif how == "numfmt":
        ws["A2"] = 3
        ws["A2"].number_format = f'"{name}" 0'
    wb.save(path)


def handover(folder: Path, latin: str, arabic: str) -> dict[str, str]:
    """Files naming (latin, arabic), or harmless words for the controls; the place each
    refusal must name."""
    folder.mkdir(parents=True)
    _docx_link(folder / "link.docx", f"https://www.facebook.com/search/top?q={quote(arabic)}")
    (folder / "links.html").write_text(
        f'<html><body><p>Sources:</p><a href="https://example.org/wiki/{quote(arabic)}">1</a>'
        "</body></html>"
    )
    (folder / "export.json").write_text(
        json.dumps({"messages": [{"from": arabic, "text": "we met at the checkpoint"}]})
    )
    _pdf(folder / "offpage.pdf", latin, at=(72, 2000))
    _pdf(folder / "layer.pdf", latin, layer=True)
    _pdf(folder / "link.pdf", "Statement", uri=f"https://example.org/wiki/{quote(arabic)}")
    (folder / "comment.rtf").write_text(
        r"{\rtf1\ansi\ansicpg1256{\fonttbl{\f0 Arial;}}\f0 Statement."
        r"{\*\annotation " + _rtf_escaped(arabic) + r"}\par}"
    )
    (folder / "header.rtf").write_text(
        r"{\rtf1\ansi{\fonttbl{\f0 Arial;}}{\header " + _rtf_escaped(arabic) + r"}\f0 Body.\par}"
    )
    _xlsx(folder / "header.xlsx", latin, "header")
    _xlsx(folder / "validation.xlsx", latin, "validation")
    _xlsx(folder / "numfmt.xlsx", latin, "numfmt")
    return {
        "link.docx": "in a link of the document",
        "links.html": "in",  # the href: wherever the HTML reader places it
        "export.json": "in the body text",
        "offpage.pdf": "in the text layer of a PDF page",
        "layer.pdf": "in a hidden layer (optional content) of a PDF page",
        "link.pdf": "in a string in the PDF's objects",
        "comment.rtf": "in RTF text in hidden groups",
        "header.rtf": "in RTF text in hidden groups",
        "header.xlsx": "in an XLSX sheet",
        "validation.xlsx": "in a value of an XML attribute in an XLSX sheet",
        "numfmt.xlsx": "in a value of an XML attribute",
    }


def test_names_hidden_in_escapes_layers_and_skipped_groups_are_refused(
    sqlite_home: Path, tmp_path: Path
) -> None:
    home = sqlite_home
    _setup(home)
    places = handover(tmp_path / "named", WITNESS_LATIN, WITNESS_AR)
    handover(tmp_path / "clean", "the detention centre", "مركز الاحتجاز")
    _ingest(home, tmp_path / "named", "named")
    _ingest(home, tmp_path / "clean", "clean")
    _ok(home, "process")
    ids = _ids(home, "named")
    said, reasons = refused_build(home, "RFA-1", sorted(ids.values()), tmp_path / "p1")
    missed = [n for n in places if not reasons.get(ids[n], "").startswith("names protected")]
    assert not missed, (missed, reasons)
    for name, place in places.items():
        assert f"Witness A {place}" in reasons[ids[name]], (name, reasons[ids[name]])
    assert "Khatib" not in said
    assert "الخطيب" not in said

    controls = _ids(home, "clean")
    _request(home, "RFA-2", sorted(controls.values()))
    built = json.loads(_ok(home, "package", "build", "RFA-2", str(tmp_path / "p2"), "--json"))
    assert built["items"] == len(controls)
