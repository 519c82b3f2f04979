"""Files that show a name the stored text does not spell (an adversary's, stop 53): escapes a
reader decodes (OOXML's `_x0041_`, uuencoding, CDATA, internal entities), a CSV formula
computed on opening, annotations glued inside the name (ruby, a DOCX's alternate content and
field instructions), line rules (format=flowed, `>` inside an HTML comment or attribute in
Markdown, LaTeX's `{}`, MediaWiki's `''`, BBCode) and a directory's or family tree's name
fields (LDIF, GEDCOM). Each writer: (folder, latin, arabic) -> one file in the folder."""

from __future__ import annotations

import binascii
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

Writer = Callable[[Path, str, str], None]
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_MC = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
_MAIL = (
    "From: team@example.org\r\nTo: unit@example.org\r\nSubject: statement\r\n"
    "Date: Mon, 1 Jun 2026 10:00:00 +0000\r\nMessage-ID: <{n}@example.org>\r\n"
)


def _xlsx_shared(path: Path, text_xml: str) -> None:
    """An XLSX whose cell A2 is shared string 0, written as given (as Excel writes cells)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = "Witness"
    ws["A2"] = "PLACEHOLDERX"
    tmp = io.BytesIO()
    wb.save(tmp)
    sst = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.'
        'openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        f"<si><t>{text_xml}</t></si></sst>"
    )
    with zipfile.ZipFile(io.BytesIO(tmp.getvalue())) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(
                    b'<c r="A2" t="inlineStr"><is><t>PLACEHOLDERX</t></is></c>',
                    b'<c r="A2" t="s"><v>0</v></c>',
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdSS" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"'
                    b"/></Relationships>",
                )
            elif info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
                    b'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            zout.writestr(info, data)
        zout.writestr("xl/sharedStrings.xml", sst)


def _xesc(text: str) -> str:
    return "".join(f"_x{ord(c):04X}_" for c in text)


def _uu(latin: str) -> str:
    data = f"Statement of {latin} about the centre.\n".encode()
    lines = ["begin 644 statement.txt"]
    lines += [
        binascii.b2a_uu(data[i : i + 45]).decode().rstrip("\n") for i in range(0, len(data), 45)
    ]
    return "\n".join([*lines, "`", "end"]) + "\n"


def _kml(name_xml: str, note: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<Document><Placemark><name>{name_xml}</name><description>{note}</description>"
        "<Point><coordinates>36.29,33.51,0</coordinates></Point></Placemark></Document></kml>\n"
    )


def _docx(path: Path, fragments: list[str], header: bool = False) -> None:
    import docx
    from docx.oxml import parse_xml

    d = docx.Document()
    d.add_paragraph("Statement about the centre.")
    p = d.sections[0].header.paragraphs[0]._p if header else d.add_paragraph()._p
    for fragment in fragments:
        p.append(parse_xml(fragment))
    d.save(str(path))


def _run(text: str) -> str:
    return f'<w:r {_W}><w:t xml:space="preserve">{text}</w:t></w:r>'


def _flowed_mail(n: int, body: str) -> bytes:
    return (
        _MAIL.format(n=n)
        + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8; format=flowed;"
        " delsp=yes\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body
    ).encode()


def _write(name: str, make: Callable[[str, str], str]) -> Writer:
    return lambda folder, latin, arabic: (folder / name).write_text(
        make(latin, arabic), encoding="utf-8"
    )


def _ruby_docx(folder: Path, latin: str, arabic: str) -> None:
    _docx(
        folder / "ruby.docx",
        [
            _run(f"Statement of {latin[:10]}"),
            f"<w:r {_W}><w:ruby><w:rubyPr><w:hps w:val='10'/></w:rubyPr><w:rt><w:r><w:t>1</w:t>"
            f"</w:r></w:rt><w:rubyBase><w:r><w:t>{latin[10:12]}</w:t></w:r></w:rubyBase>"
            "</w:ruby></w:r>",
            _run(f"{latin[12:]} about the centre."),
        ],
    )


def _alternate_docx(folder: Path, latin: str, arabic: str) -> None:
    choice = f"<w:r><w:t>{latin[10:12]}</w:t></w:r>"
    _docx(
        folder / "altcontent.docx",
        [
            _run(f"Statement of {latin[:10]}"),
            f'<mc:AlternateContent {_W} {_MC}><mc:Choice Requires="w14">{choice}</mc:Choice>'
            f"<mc:Fallback>{choice}</mc:Fallback></mc:AlternateContent>",
            _run(f"{latin[12:]} about the centre."),
        ],
    )


def _field_header_docx(folder: Path, latin: str, arabic: str) -> None:
    _docx(
        folder / "field_header.docx",
        [
            _run(f"Prepared for {latin[:10]}"),
            f'<w:r {_W}><w:fldChar w:fldCharType="begin"/></w:r>',
            f'<w:r {_W}><w:instrText xml:space="preserve"> QUOTE "{latin[10:]}" '
            "</w:instrText></w:r>",
            f'<w:r {_W}><w:fldChar w:fldCharType="separate"/></w:r>',
            _run(latin[10:]),
            f'<w:r {_W}><w:fldChar w:fldCharType="end"/></w:r>',
            _run(" (copy 3)"),
        ],
        header=True,
    )


SHOWN: dict[str, Writer] = {
    # escapes a reader decodes
    "xlsx-xescape-latin": lambda f, la, ar: _xlsx_shared(f / "xescape_latin.xlsx", _xesc(la)),
    "xlsx-xescape-arabic": lambda f, la, ar: _xlsx_shared(f / "xescape_arabic.xlsx", _xesc(ar)),
    "xlsx-xescape-partial": lambda f, la, ar: _xlsx_shared(
        f / "xescape_partial.xlsx", la.replace("K", "_x004B_").replace("h", "_x0068_")
    ),
    "txt-uuencode": _write("statement.uue", lambda la, ar: _uu(la)),
    "eml-uuencode-inline": lambda f, la, ar: (f / "uu.eml").write_bytes(
        (
            _MAIL.format(n=2) + "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
            "Here is the statement.\r\n\r\n" + _uu(la).replace("\n", "\r\n")
        ).encode()
    ),
    "kml-cdata-inside-name": _write(
        "sites.kml", lambda la, ar: _kml(f"{la[:2]}<![CDATA[{la[2:5]}]]>{la[5:]}", "Home")
    ),
    "kml-cdata-arabic": _write(
        "sites_ar.kml", lambda la, ar: _kml(f"{ar[:2]}<![CDATA[{ar[2:4]}]]>{ar[4:]}", "منزل")
    ),
    "xml-internal-entities": _write(
        "register.xml",
        lambda la, ar: (
            '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE register ['
            f'<!ENTITY p1 "{la[:3]}"><!ENTITY p2 "{la[3:9]}">]>\n'
            f'<register><witness id="14">&p1;&p2;{la[9:]}</witness></register>\n'
        ),
    ),
    # computed on opening
    "csv-formula-concat": _write(
        "list.csv", lambda la, ar: f'id,name,place\n14,"=""{la[:3]}""&""{la[3:]}""",Damascus\n'
    ),
    "csv-formula-concat-arabic": _write(
        "list_ar.csv", lambda la, ar: f'id,name,place\n14,"=""{ar[:3]}""&""{ar[3:]}""",دمشق\n'
    ),
    # annotations glued inside the name
    "html-ruby": _write(
        "ruby.html",
        lambda la, ar: (
            f"<html><body><p>Statement of {la[:10]}<ruby>{la[10:12]}<rp>(</rp>"
            f"<rt>1</rt><rp>)</rp></ruby>{la[12:]} about the centre.</p></body></html>"
        ),
    ),
    "html-ruby-arabic": _write(
        "ruby_ar.html",
        lambda la, ar: (
            f'<html dir="rtl"><body><p>إفادة {ar[:7]}<ruby>{ar[7:9]}<rt>١</rt>'
            f"</ruby>{ar[9:]} عن المركز.</p></body></html>"
        ),
    ),
    "vtt-ruby": _write(
        "interview.vtt",
        lambda la, ar: (
            "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n"
            f"My name is {la[:10]}<ruby>{la[10:12]}<rt>1</rt></ruby>{la[12:]}.\n"
        ),
    ),
    "docx-ruby": _ruby_docx,
    "docx-alternatecontent": _alternate_docx,
    "docx-complex-field-header": _field_header_docx,
    # line rules
    "eml-flowed-delsp": lambda f, la, ar: (f / "flowed.eml").write_bytes(
        _flowed_mail(5, f"Dear team,\r\n\r\nGiven by {la[:12]} \r\n{la[12:]} at the centre.\r\n")
    ),
    "eml-flowed-delsp-arabic": lambda f, la, ar: (f / "flowed_ar.eml").write_bytes(
        _flowed_mail(6, f"أدلى بالإفادة {ar[:8]} \r\n{ar[8:]} في المركز.\r\n")
    ),
    "md-inline-html-gt": _write(
        "notes_comment.md",
        lambda la, ar: f"# Notes\n\nStatement of {la[:2]}<!-- > -->{la[2:]} about the centre.\n",
    ),
    "md-inline-html-attr-gt": _write(
        "notes_span.md",
        lambda la, ar: (
            f"# Notes\n\nStatement of {la[:2]}<span title='a>b'>{la[2:5]}</span>"
            f"{la[5:]} about the centre.\n"
        ),
    ),
    "md-inline-html-gt-arabic": _write(
        "notes_ar.md", lambda la, ar: f"# ملاحظات\n\nإفادة {ar[:2]}<!-- > -->{ar[2:]} عن المركز.\n"
    ),
    "tex-empty-group": _write(
        "empty_group.tex",
        lambda la, ar: (
            "\\documentclass{article}\\begin{document}\n"
            f"Statement of {la[:2]}{{}}{la[2:11]}{{}}{la[11:]} about the centre.\n"
            "\\end{document}\n"
        ),
    ),
    "mediawiki-italic": _write(
        "page.wiki",
        lambda la, ar: (
            f"== Witnesses ==\nThe statement of {la[:11]}''{la[11:13]}''{la[13:]}"
            " was taken in 2013.\n"
        ),
    ),
    "bbcode-bold": _write(
        "forum_post.txt",
        lambda la, ar: (
            f"[quote]The statement of {la[:11]}[b]{la[11:13]}[/b]{la[13:]}"
            " was taken in 2013.[/quote]\n"
        ),
    ),
    # name fields
    "ldif-given-sn-latin": _write(
        "directory.ldif",
        lambda la, ar: (
            "dn: uid=c14,ou=contacts,dc=example,dc=org\nobjectClass: inetOrgPerson\n"
            f"uid: c14\ngivenName: {la.split(' ', 1)[0]}\nsn: {la.split(' ', 1)[-1]}\n"
            "cn: Contact 14\nmail: c14@example.org\n\n"
        ),
    ),
    "gedcom-givn-surn": _write(
        "family.ged",
        lambda la, ar: (
            "0 HEAD\n1 SOUR X\n1 GEDC\n2 VERS 5.5.1\n1 CHAR UTF-8\n0 @I1@ INDI\n"
            f"1 NAME\n2 GIVN {la.split(' ', 1)[0]}\n2 SURN {la.split(' ', 1)[-1]}\n1 SEX M\n"
            "1 BIRT\n2 DATE 1985\n0 TRLR\n"
        ),
    ),
}
