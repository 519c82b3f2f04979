"""Adversary tests of stop 17's new surfaces: the legal officer's pages (a request's deadline
and assignment, protected persons), free text that could carry a protected person's name into
the database and the ledger, and spreadsheets that try to evade the cell budget. Each test
fails on the code before its fix; each has its negative control."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from amanah.access import local_administrator
from amanah.access.users import add_user, set_disabled
from amanah.db.models import CustodyEvent, Request
from amanah.processing import extract
from amanah.rfa import requests
from tests.webfixtures import BLUE_JURISDICTION, PASSWORD, Site


def _request(site: Site, ref: str, state: str = "received") -> int:
    with site.ws.db.session() as s:
        row = requests.create(
            s,
            ref,
            BLUE_JURISDICTION,
            received_on=date(2026, 3, 1),
            actor="local:test",
            compartments=["blue"],
        )
        if state == "declined":
            requests.move(s, ref, "declined", "local:test", reason="withdrawn")
        if state == "closed":
            requests.move(s, ref, "declined", "local:test", reason="withdrawn")
            requests.move(s, ref, "closed", "local:test")
        return row.id


def _problem(html: str) -> str:
    found = re.search(r'<p class="problem" role="alert" dir="auto">([^<]*)</p>', html)
    assert found, html[-3000:]
    return found.group(1)


def _deadline_of(site: Site, rid: int) -> date | None:
    with site.ws.db.reader() as s:
        return s.execute(select(Request.deadline).where(Request.id == rid)).scalar_one()


# -- the deadline route: each refusal says its own reason, in both languages ------------------


@pytest.mark.parametrize(
    ("typed", "state", "english", "arabic"),
    [
        ("soon", "received", "A date is written YYYY-MM-DD.", "يُكتب التاريخ بالشكل YYYY-MM-DD."),
        ("99999-01-01", "received", "A date is written YYYY-MM-DD.", "يُكتب التاريخ"),
        ("2026-02-30", "received", "There is no such day: 2026-02-30.", "لا يوجد يوم كهذا"),
        (
            "2026-01-01",
            "received",
            "The deadline is before the request was received.",
            "الموعد النهائي قبل تاريخ استلام الطلب.",
        ),
        (
            "9999-12-31",
            "received",
            "The deadline is more than 10 years after the request was received: check the year.",
            "بأكثر من ١٠ سنوات",
        ),
        (
            "2026-06-30",
            "closed",
            "This request is closed: it has no deadline to keep.",
            "هذا الطلب مغلق",
        ),
        (
            "2026-06-30",
            "declined",
            "This request is declined: it has no deadline to keep.",
            "هذا الطلب مرفوض",
        ),
    ],
)
def test_each_deadline_refusal_says_its_own_reason_in_both_languages(
    site: Site, typed: str, state: str, english: str, arabic: str
) -> None:
    rid = _request(site, f"RFA-DL-{state}", state)
    c, csrf = site.browser("legal")
    r = c.post(f"/requests/{rid}/deadline", data={"csrf": csrf, "deadline": typed})
    assert r.status_code == 400
    assert _problem(r.text) == english
    assert f'name="deadline" type="date" value="{typed}"' in r.text  # what was typed, kept
    r = c.post(f"/requests/{rid}/deadline?lang=ar", data={"csrf": csrf, "deadline": typed})
    assert r.status_code == 400 and arabic in _problem(r.text)
    assert not re.search(r"[A-Za-z]{3,}", _problem(r.text).replace("YYYY-MM-DD", ""))
    assert _deadline_of(site, rid) is None


def test_a_good_deadline_is_kept_and_an_empty_one_clears_it(site: Site) -> None:
    """Negative control: a date after receipt within ten years, and clearing it."""
    rid = _request(site, "RFA-DL-OK")
    c, csrf = site.browser("legal")
    for typed, kept in (("2036-02-28", date(2036, 2, 28)), ("", None)):
        r = c.post(
            f"/requests/{rid}/deadline",
            data={"csrf": csrf, "deadline": typed},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == f"/requests/{rid}#work"
        assert _deadline_of(site, rid) == kept


def test_a_deadline_on_a_request_of_another_compartment_is_not_found(site: Site) -> None:
    """A forged request id: the same 404 as an absent one, whatever the date."""
    with site.ws.db.session() as s:
        red = requests.create(
            s,
            "RFA-RED-DL",
            BLUE_JURISDICTION,
            received_on=date(2026, 3, 1),
            actor="local:test",
            compartments=["red"],
        ).id
    c, csrf = site.browser("legal")
    for rid in (red, 999_999):
        for typed in ("2026-06-30", "soon", "2026-01-01"):
            r = c.post(f"/requests/{rid}/deadline", data={"csrf": csrf, "deadline": typed})
            assert r.status_code == 404, (rid, typed)
            assert "RFA-RED-DL" not in r.text
    # Without the CSRF token nothing changes either.
    rid = _request(site, "RFA-DL-CSRF")
    r = c.post(f"/requests/{rid}/deadline", data={"deadline": "2026-06-30"})
    assert r.status_code == 403 and _deadline_of(site, rid) is None


def test_assigning_to_a_disabled_account_says_so_in_both_languages(site: Site) -> None:
    rid = _request(site, "RFA-AS-1")
    add_user(site.ws, "gone", "legal", PASSWORD, compartments=("blue",), by="local:test")
    set_disabled(site.ws, "gone", True, by="local:test")
    c, csrf = site.browser("legal")
    r = c.post(f"/requests/{rid}/assign", data={"csrf": csrf, "assignee": "gone"})
    assert r.status_code == 400 and _problem(r.text) == "This account is disabled."
    r = c.post(f"/requests/{rid}/assign?lang=ar", data={"csrf": csrf, "assignee": "gone"})
    assert r.status_code == 400 and _problem(r.text) == "هذا الحساب معطَّل."
    r = c.post(f"/requests/{rid}/assign?lang=ar", data={"csrf": csrf, "assignee": "nobody-x"})
    assert _problem(r.text) == "لا يوجد حساب بهذا الاسم."
    r = c.post(f"/requests/{rid}/assign?lang=ar", data={"csrf": csrf, "assignee": "provider"})
    assert _problem(r.text) == "لا يحق لهذا الحساب رؤية هذا الطلب."
    with site.ws.db.reader() as s:
        shown = requests.describe(s, local_administrator(site.ws), "RFA-AS-1")
        assert shown["assignee"] in ("", None) and shown["state"] == "received"
        assert not s.execute(
            select(CustodyEvent.seq).where(CustodyEvent.details.like("%assigned to gone%"))
        ).first()


# -- a protected person's name never rests in clear through the legal officer's forms ---------

#: Fictional names nothing else in the test workspace holds.
NAME_AR = "غسان الطرابيشي"
NAME_LATIN = "Ghassan Tarabishi"
OTHER = "Yusuf Qabbani"


def _protect(site: Site, pseudonym: str = "Witness Seventeen", names: tuple[str, ...] = ()) -> None:
    from amanah.sharing import protected

    with site.ws.db.session() as s:
        protected.add(
            s, local_administrator(site.ws), pseudonym, list(names or (NAME_AR, NAME_LATIN))
        )


def _at_rest(site: Site) -> str:
    """Every text column a name could sit in after these forms: requests, their events, the
    ledger, protected persons, jurisdictions and frameworks."""
    from sqlalchemy import text

    out = []
    with site.ws.db.reader() as s:
        for sql in (
            "select subject || ' ' || notes from requests",
            "select coalesce(note, '') from request_events",
            "select coalesce(details, '') from custody_events",
            "select pseudonym || ' ' || coalesce(notes, '') from protected_persons",
            "select state || authority || unit || legal_basis || contacts from jurisdictions",
            "select title || ' ' || terms || ' ' || scope || ' ' || parties from frameworks",
            "select name from providers",
        ):
            out += [str(v) for (v,) in s.execute(text(sql)).all()]
    return "\n".join(out)


def _names_in(text: str) -> list[str]:
    folded = text.casefold()
    return [n for n in ("tarabishi", "الطرابيشي", "qabbani") if n in folded]


#: A request note that names the person, as a hostile or careless hand would write it.
NOTE_FORMS = [
    f"Called {NAME_LATIN} about the checkpoint",
    f"اتصلنا بـ {NAME_AR} اليوم",
    f"{NAME_LATIN.upper()} agreed",
    "Ghassan Tara\u200bbishi agreed",  # a zero-width space inside the surname
    "غسان الطرابـــيشي وافق",  # tatweel
]


@pytest.mark.parametrize("note", NOTE_FORMS)
def test_a_request_note_naming_a_protected_person_keeps_the_pseudonym_only(
    site: Site, note: str
) -> None:
    _protect(site)
    rid = _request(site, "RFA-NOTE-1")
    c, csrf = site.browser("legal")
    r = c.post(f"/requests/{rid}/note", data={"csrf": csrf, "note": note}, follow_redirects=False)
    assert r.status_code == 303
    page = c.get(f"/requests/{rid}").text
    assert "[Witness Seventeen]" in page and _names_in(page) == []
    assert _names_in(_at_rest(site)) == []
    # The state form's note goes the same way.
    r = c.post(
        f"/requests/{rid}/state",
        data={"csrf": csrf, "state": "acknowledged", "note": note},
        follow_redirects=False,
    )
    assert r.status_code == 303 and _names_in(_at_rest(site)) == []


@pytest.mark.parametrize(
    "note", ["Called <b>Ghassan</b> <i>Tarabishi</i>", "G.h.a.s.s.a.n T.a.r.a.b.i.s.h.i came"]
)
def test_a_request_note_hiding_a_name_is_refused_and_not_shown_again(site: Site, note: str) -> None:
    _protect(site)
    rid = _request(site, "RFA-NOTE-2")
    c, csrf = site.browser("legal")
    r = c.post(f"/requests/{rid}/note?lang=ar", data={"csrf": csrf, "note": note})
    assert r.status_code == 400 and "يذكر النص شخصًا محميًا" in _problem(r.text)
    assert "Ghassan" not in r.text and "G.h.a" not in r.text
    assert _names_in(_at_rest(site)) == [] and "Ghassan" not in _at_rest(site)


def test_a_note_without_a_name_is_kept_as_typed(site: Site) -> None:
    """Negative control: words near the name but not it, and another Ghassan."""
    _protect(site)
    rid = _request(site, "RFA-NOTE-3")
    c, csrf = site.browser("legal")
    note = "Ghassan Haddad called; the Tarabulus file is late"
    r = c.post(f"/requests/{rid}/note", data={"csrf": csrf, "note": note}, follow_redirects=False)
    assert r.status_code == 303
    with site.ws.db.reader() as s:
        assert note in s.execute(select(Request.notes).where(Request.id == rid)).scalar_one()


def test_a_pseudonym_or_notes_naming_another_protected_person_are_refused(site: Site) -> None:
    _protect(site)
    c, csrf = site.browser("legal")
    for pseudonym, notes in (
        (NAME_LATIN, ""),
        ("Witness Y", f"brother of {NAME_AR}"),
        ("Witness Y", "brother of Ghassan Tara\u00adbishi"),
        ("Witness <b>Ghassan</b> Tarabishi", ""),
    ):
        r = c.post(
            "/protected",
            data={"csrf": csrf, "pseudonym": pseudonym, "names": OTHER, "notes": notes},
        )
        assert r.status_code == 400, (pseudonym, notes)
        assert "must not contain a protected person&#39;s name" in r.text
        assert _names_in(r.text) == [] and "Ghassan" not in r.text
    assert _names_in(_at_rest(site)) == []
    # Negative control: the same person with a harmless pseudonym and notes.
    r = c.post(
        "/protected",
        data={"csrf": csrf, "pseudonym": "Witness Y", "names": OTHER, "notes": "met in May"},
        follow_redirects=False,
    )
    assert r.status_code == 303


def test_a_spelling_that_would_make_a_pseudonym_a_name_is_refused(site: Site) -> None:
    """A kunya is a name: a person first recorded as "Abu Omar" (pseudonym) whose kunya is then
    recorded as a spelling would have a name kept, listed and logged in clear."""
    _protect(site, "Abu Omar", ("Omar Hallaq",))
    c, csrf = site.browser("legal")
    r = c.post(
        "/protected/spelling", data={"csrf": csrf, "pseudonym": "Abu Omar", "name": "Abu Omar"}
    )
    assert r.status_code == 400
    assert "this spelling is a protected person&#39;s pseudonym" in r.text
    r = c.post(
        "/protected/spelling?lang=ar",
        data={"csrf": csrf, "pseudonym": "Abu Omar", "name": "Abu Omar"},
    )
    assert "هذه الكتابة هي الاسم المستعار لشخص محمي" in r.text
    # Negative control: another spelling of the name is added.
    r = c.post(
        "/protected/spelling",
        data={"csrf": csrf, "pseudonym": "Abu Omar", "name": "Omar Hallak"},
        follow_redirects=False,
    )
    assert r.status_code == 303


def test_jurisdictions_and_frameworks_may_not_name_a_protected_person(site: Site) -> None:
    _protect(site)
    c, csrf = site.browser("legal")
    r = c.post(
        "/jurisdictions",
        data={
            "csrf": csrf,
            "code": "ZZ-WCU",
            "state": "Zedland",
            "authority": "War crimes unit",
            "contacts": f"{NAME_LATIN}, +1 555 0100",
        },
    )
    assert r.status_code == 400 and "must not name a protected person" in r.text
    assert _names_in(r.text) == [] and 'value="Zedland"' in r.text  # the rest kept
    r = c.post(
        "/frameworks",
        data={
            "csrf": csrf,
            "provider": "Documentation Group (test)",
            "title": "Protocol 8",
            "parties": f"{NAME_AR}\nThe Centre",
            "terms": "Consent each time.",
        },
    )
    assert r.status_code == 400 and "must not name a protected person" in r.text
    assert _names_in(r.text) == [] and 'value="Protocol 8"' in r.text
    r = c.post(
        "/frameworks?lang=ar",
        data={"csrf": csrf, "provider": "P", "title": f"MoU with {NAME_LATIN}"},
    )
    assert r.status_code == 400 and "يجب ألا تذكر بيانات إطار التعاون" in r.text
    assert _names_in(_at_rest(site)) == []
    # Negative controls: the same forms without the name are recorded.
    r = c.post(
        "/jurisdictions",
        data={"csrf": csrf, "code": "ZZ-WCU", "state": "Zedland", "authority": "Unit"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = c.post(
        "/frameworks",
        data={"csrf": csrf, "provider": "P", "title": "Protocol 8", "parties": "The Centre"},
        follow_redirects=False,
    )
    assert r.status_code == 303


def test_editing_a_jurisdiction_or_framework_may_not_name_a_protected_person(site: Site) -> None:
    """An edit is held to the rules of adding: else the refusal above is one edit away."""
    from sqlalchemy import text

    _protect(site)
    c, csrf = site.browser("legal")
    r = c.post(
        "/jurisdictions",
        data={"csrf": csrf, "code": "ZZ-EDT", "state": "Zedland", "authority": "Unit"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = c.post(
        "/frameworks",
        data={"csrf": csrf, "provider": "P", "title": "Protocol 9", "parties": "The Centre"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with site.ws.db.reader() as s:
        fid = s.execute(text("select id from frameworks where title = 'Protocol 9'")).scalar()
    r = c.post(
        "/jurisdictions/ZZ-EDT/edit",
        data={"csrf": csrf, "state": "Zedland", "authority": "Unit", "contacts": NOTE_FORMS[3]},
    )
    assert r.status_code == 400 and "must not name a protected person" in r.text
    assert _names_in(r.text.replace("\u200b", "")) == [] and 'value="Zedland"' in r.text
    r = c.post(
        f"/frameworks/{fid}/edit",
        data={"csrf": csrf, "title": "Protocol 9", "parties": f"{NAME_AR}\nThe Centre"},
    )
    assert r.status_code == 400 and "must not name a protected person" in r.text
    assert _names_in(r.text) == [] and 'value="Protocol 9"' in r.text
    assert _names_in(_at_rest(site).replace("\u200b", "")) == []
    # Negative control: an edit without a name is recorded.
    r = c.post(
        "/jurisdictions/ZZ-EDT/edit",
        data={"csrf": csrf, "state": "Zedland", "authority": "Unit", "contacts": "+1 555 0100"},
        follow_redirects=False,
    )
    assert r.status_code == 303


# -- spreadsheets that try to get past the cell budget ----------------------------------------


def _xlsx_with(shared: list[str], sheet_rows: str) -> bytes:
    """A real XLSX (openpyxl's own) whose shared strings and first sheet's rows are replaced."""
    import io
    import zipfile

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = "x"
    plain = io.BytesIO()
    wb.save(plain)
    sst = (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main" count="{len(shared)}" uniqueCount="{len(shared)}">'
        + "".join(f"<si><t>{s}</t></si>" for s in shared)
        + "</sst>"
    ).encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(plain.getvalue())) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        names = zin.namelist()
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = re.sub(
                    rb"<sheetData>.*</sheetData>|<sheetData/>",
                    lambda _: b"<sheetData>" + sheet_rows.encode() + b"</sheetData>",
                    body,
                    flags=re.S,
                )
            if info.filename == "[Content_Types].xml" and "xl/sharedStrings.xml" not in names:
                body = body.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                    b"</Types>",
                )
            if (
                info.filename == "xl/_rels/workbook.xml.rels"
                and "xl/sharedStrings.xml" not in names
            ):
                body = body.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/sharedStrings" '
                    b'Target="sharedStrings.xml"/></Relationships>',
                )
            zout.writestr(info, body)
        zout.writestr("xl/sharedStrings.xml", sst)
    return out.getvalue()


def _one_wide_row(rows: int, cells: int) -> str:
    """Rows of `cells` cells, each pointing at shared string 0."""
    from openpyxl.utils import get_column_letter

    cols = [get_column_letter(i) for i in range(1, cells + 1)]
    return "".join(
        f'<row r="{r}">' + "".join(f'<c r="{c}{r}" t="s"><v>0</v></c>' for c in cols) + "</row>"
        for r in range(1, rows + 1)
    )


def test_a_row_of_cells_sharing_one_long_string_is_cut_before_it_is_joined(
    tmp_path: Path,
) -> None:
    """16,384 cells pointing at one 30,000-letter Arabic shared string: a few hundred
    kilobytes of file, a gigabyte of text in one row. Read in its sandbox under 1 GiB: before,
    the row was joined before the character budget was looked at, and the child died."""
    from amanah.processing.sandbox import Limits, Sandbox

    src = tmp_path / "register.xlsx"
    src.write_bytes(_xlsx_with(["ش" * 30_000], _one_wide_row(2, 16_384)))
    assert src.stat().st_size < 400_000
    out = tmp_path / "out"
    out.mkdir()
    sb = Sandbox("limits-only", work_dir=tmp_path)
    try:
        manifest = sb.analyze(str(src), "register.xlsx", str(out), Limits(memory_bytes=1 << 30))
    finally:
        sb.close()
    assert "error" not in manifest, manifest.get("error")
    assert [f["message"] for f in manifest["flags"] if f["code"] == "sheet_cut"] == [
        f"sheet 1: the file has more than {extract.MAX_TEXT_CHARS:,} characters;"
        " the rest of the sheet was not read"
    ]
    # The content inventory read the same sheet to its own limit and says it is incomplete:
    # such an item leaves in no package unexamined.
    import json

    inv = json.loads((out / "inventory.json").read_text(encoding="utf-8"))
    assert inv["complete"] is False
    assert (
        "past an unpack limit: sheet xl/worksheets/sheet1.xml has more than 50,000,000 characters"
        in inv["reasons"]
    )


def test_a_row_of_ordinary_shared_strings_is_read_whole(tmp_path: Path) -> None:
    """Negative control: the same shape with a short string is read, every cell."""
    path = tmp_path / "ok.xlsx"
    path.write_bytes(_xlsx_with(["شاهد"], _one_wide_row(3, 200)))
    got = extract.xlsx(path)
    assert got.flags == []
    rows = got.pages[0].split("\n")[1:]
    assert rows == ["\t".join(["شاهد"] * 200)] * 3


def test_shared_strings_that_unpack_past_the_limit_are_refused_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """openpyxl reads the shared strings whole: a zip of a few megabytes unpacking to
    gigabytes is refused by its unpacked size, named, before anything is read (the limit is
    set small by the test; the file is the same kind)."""
    monkeypatch.setattr(extract, "XLSX_SHARED_STRINGS_LIMIT", 100_000)
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(_xlsx_with([f"s{i}" for i in range(20_000)], _one_wide_row(1, 3)))
    with pytest.raises(
        ValueError, match=r"shared strings unpack to [\d,]+ bytes, more than the 100,000"
    ):
        extract.xlsx(path)
    # Negative control: under the limit, read.
    path.write_bytes(_xlsx_with(["s0", "s1"], _one_wide_row(1, 3)))
    assert extract.xlsx(path).pages[0] == "Sheet\ns0\ts0\ts0"


# -- browse with forged page cursors ----------------------------------------------------------


def _forged(data: object) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


@pytest.mark.parametrize(
    "data",
    [
        {"sort": "date", "k": {"$gt": 1}, "i": 1},  # a key that is no value of the sort
        {"sort": "date", "k": ["2012", "2013"], "i": 1},
        {"sort": "date", "k": "2012-01-01", "i": 10**30},  # past SQL's integers
        {"sort": "date", "k": "2012-01-01", "i": -(10**30)},
        {"sort": "relevance", "k": 1e400, "i": 1},  # JSON's Infinity
        {"sort": "date", "k": "2012-01-01", "i": True},
    ],
)
def test_a_forged_browse_cursor_is_refused_with_the_reason(site: Site, data: object) -> None:
    """`q=*` pages by a keyset cursor the client sends back: a forged one is a clear 400 on the
    search page and the API, never a server error."""
    c, _ = site.browser("analyst")
    sort = data["sort"]  # type: ignore[index]
    r = c.get("/search", params={"q": "*", "sort": sort, "cursor": _forged(data)})
    assert r.status_code == 200 and "that page cursor does not belong to this search" in r.text
    api = site.api("analyst")
    r = api.get("/api/v1/search", params={"q": "*", "sort": sort, "cursor": _forged(data)})
    assert r.status_code == 400, r.text
    assert "that page cursor does not belong to this search" in r.json()["error"]


def test_a_cursor_from_the_server_pages_on(site: Site) -> None:
    """Negative control: the server's own next-page cursor works, with a page of one."""
    api = site.api("analyst")
    first = api.get("/api/v1/search", params={"q": "*", "sort": "date", "limit": 1}).json()
    assert first["next_cursor"]
    r = api.get(
        "/api/v1/search",
        params={"q": "*", "sort": "date", "limit": 1, "cursor": first["next_cursor"]},
    )
    assert r.status_code == 200 and r.json()["hits"][0]["item_id"] != first["hits"][0]["item_id"]
