"""The legal officer's pages: protected persons (a typed name sealed at once and never seen
again anywhere), cooperation frameworks, jurisdictions, and a request's assignment, deadline and
notes; errors inline with what was typed kept (except a name). The last test does it in
Arabic in Debian's chromium, with screenshots in test-artifacts/browser/."""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from amanah.access import local_administrator
from amanah.db.models import CustodyEvent, ProtectedPerson
from amanah.rfa import requests
from amanah.sharing import protected
from tests.conftest import amanah
from tests.test_web_browser import browser, live, shot, sign_in  # noqa: F401
from tests.webfixtures import BLUE_JURISDICTION, Site

#: Fictional names, in both scripts, that nothing else in the test workspace contains.
ARABIC = "غسان الطرابيشي"
LATIN = "Ghassan Tarabishi"
VARIANT = "Ghasan Trabishi"


def _needles() -> list[bytes]:
    """Every way the typed names could sit in a file: each word, in UTF-8 and UTF-16."""
    words = {w for n in (ARABIC, LATIN, VARIANT) for w in [n, *n.split()] if len(w) > 3}
    words.discard("الطرابيشي".replace("ال", "", 1))
    out = []
    for w in words:
        for v in (w, w.lower()):
            out += [v.encode(), v.encode("utf-16-le")]
    return out


def _files_naming(home: Path) -> list[str]:
    found = []
    needles = _needles()
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.name}: {n!r}" for n in needles if n in data]
    return found


def _add(c, csrf: str, **data: str):  # type: ignore[no-untyped-def]
    return c.post("/protected", data={"csrf": csrf, **data}, follow_redirects=False)


def test_a_protected_person_added_on_the_web_is_sealed_and_never_seen_again(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    c, csrf = site.browser("legal")
    r = _add(c, csrf, pseudonym="Witness Q", names=f"{ARABIC}\n{LATIN}\n", role="witness")
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/protected?added=Witness%20Q"
    page = c.get(r.headers["location"]).text
    assert "Protected person Witness Q recorded." in page
    assert re.search(r"<td dir=\"auto\">Witness Q</td><td>witness</td><td>2 spellings</td>", page)
    r = c.post(
        "/protected/spelling",
        data={"csrf": csrf, "pseudonym": "Witness Q", "name": VARIANT},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = c.get(r.headers["location"]).text
    assert "Spelling added to Witness Q." in page and "3 spellings" in page
    bodies = [page, c.get("/protected").text, c.get("/protected?lang=ar").text]
    # Stored as the CLI stores it: the same sealed digests, and the matcher finds the person.
    with site.ws.db.reader() as s:
        row = s.execute(
            select(ProtectedPerson).where(ProtectedPerson.pseudonym == "Witness Q")
        ).scalar_one()
        key = protected._require_key(s)
        assert (
            json.loads(row.name_digests)["spellings"]
            == protected.seal(key, [ARABIC, LATIN, VARIANT])["spellings"]
        )
        assert row.spellings == "[]" and row.created_by == "user:legal"
        found = protected.Matcher.load(s).find(f"the statement of {VARIANT.upper()} was taken")
        assert found == {"Witness Q"}
        details = " ".join(e.details or "" for e in s.execute(select(CustodyEvent)).scalars())
    # The name in no response, no log line, no ledger event, no file of the home.
    for text in [*bodies, details, caplog.text]:
        for name in (ARABIC, LATIN, VARIANT, "Tarabishi", "الطرابيشي"):
            assert name.lower() not in text.lower(), name
    site.ws.close()
    assert _files_naming(site.ws.home) == []
    r = amanah(site.ws.home, "protected", "list", "--json", check=True)
    assert {"pseudonym": "Witness Q", "role": "witness", "spellings": 3} in json.loads(r.stdout)


def test_a_problem_keeps_what_was_typed_but_never_the_name(site: Site) -> None:
    c, csrf = site.browser("legal")
    # The pseudonym gives the name away: refused, and neither comes back in the page.
    r = _add(c, csrf, pseudonym=f"Mr {LATIN.split()[1]}", names=LATIN, notes="met in May")
    assert r.status_code == 400
    assert "The pseudonym must not contain the name or any word of it." in r.text
    assert "are not shown again (names are never displayed): type them again." in r.text
    assert "Tarabishi" not in r.text and LATIN not in r.text
    assert ">met in May</textarea>" in r.text  # the harmless note is kept
    assert re.search(r'<textarea name="names"[^>]*></textarea>', r.text)  # names blank
    # Notes naming the person (in the other script): refused, the notes not shown again.
    r = _add(c, csrf, pseudonym="Witness R", names=LATIN, notes=f"lives with {ARABIC}")
    assert r.status_code == 400 and ARABIC not in r.text and "الطرابيشي" not in r.text
    assert 'value="Witness R"' in r.text  # the pseudonym is kept
    # Negative control: nothing missing but the name, the pseudonym comes back as typed.
    r = _add(c, csrf, pseudonym="Witness S", names="  \n", notes="")
    assert r.status_code == 400 and 'value="Witness S"' in r.text
    assert "Give at least one spelling of the name, one a line." in r.text
    # A pseudonym already used; in Arabic, the reason in Arabic.
    assert _add(c, csrf, pseudonym="Witness S", names=LATIN).status_code == 303
    r = c.post(
        "/protected?lang=ar", data={"csrf": csrf, "pseudonym": "Witness S", "names": VARIANT}
    )
    assert r.status_code == 400 and "هذا الاسم المستعار مستخدم؛ اختر غيره." in r.text
    assert "لا تُعرض الكتابات التي أدخلتها مرة أخرى" in r.text and VARIANT not in r.text
    # A spelling for someone not in the list: the typed pseudonym (maybe a name) not echoed.
    r = c.post("/protected/spelling", data={"csrf": csrf, "pseudonym": LATIN, "name": ARABIC})
    assert r.status_code == 400 and "Choose a protected person from the list." in r.text
    assert LATIN not in r.text and ARABIC not in r.text
    with site.ws.db.reader() as s:
        made = set(s.execute(select(ProtectedPerson.pseudonym)).scalars())
    assert "Witness R" not in made and "Witness S" in made


def test_roles_that_do_not_manage_requests_cannot_see_or_add_protected_persons(
    site: Site,
) -> None:
    for role in ("analyst", "intake", "provider"):
        c, csrf = site.browser(role)
        assert c.get("/protected").status_code == 403
        r = _add(c, csrf, pseudonym=f"Witness {role}", names=LATIN)
        assert r.status_code == 403 and LATIN not in r.text
        assert "/protected" not in c.get("/").text  # not offered in the menu either
    with site.ws.db.reader() as s:
        assert not s.execute(
            select(ProtectedPerson).where(ProtectedPerson.pseudonym.like("Witness %n%"))
        ).first()


def test_frameworks_and_jurisdictions_are_recorded_as_the_cli_records_them(site: Site) -> None:
    c, csrf = site.browser("legal")
    r = c.post(
        "/jurisdictions",
        data={"csrf": csrf, "code": "SE-NOA", "state": "Sweden", "authority": "War crimes unit"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/jurisdictions?added=SE-NOA"
    assert "Jurisdiction SE-NOA recorded." in c.get(r.headers["location"]).text
    # A duplicate code: inline, with every field as typed.
    r = c.post(
        "/jurisdictions",
        data={"csrf": csrf, "code": "SE-NOA", "state": "Sverige", "authority": "Åklagare"},
    )
    assert r.status_code == 400 and "A jurisdiction with this code already exists." in r.text
    assert 'value="Sverige"' in r.text and 'value="Åklagare"' in r.text
    r = c.post(
        "/frameworks",
        data={
            "csrf": csrf,
            "provider": "Documentation Group (test)",
            "title": "Protocol 7",
            "kind": "protocol",
            "disclosure": "named",
            "jurisdiction": ["SE-NOA", BLUE_JURISDICTION],
            "signed_on": "2025-03-01",
            "attribution": "1",
            "terms": "Only to the named units.",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    listed = json.loads(amanah(site.ws.home, "framework", "list", "--json", check=True).stdout)
    mine = next(f for f in listed if f["title"] == "Protocol 7")
    assert r.headers["location"] == f"/frameworks?added={mine['id']}#framework-{mine['id']}"
    assert mine["disclosure"] == "named" and mine["kind"] == "protocol"
    assert mine["jurisdictions"] == sorted(["SE-NOA", BLUE_JURISDICTION])
    assert mine["attribution_required"] and mine["signed_on"] == "2025-03-01"
    page = c.get("/frameworks").text
    assert "only to named jurisdictions: <span" in page and "disclosure named" not in page
    ar = c.get("/frameworks?lang=ar").text
    assert "الإفصاح لولايات قضائية مسمّاة فقط" in ar and "بروتوكول" in ar and ">protocol<" not in ar
    # Problems inline, with what was typed kept.
    r = c.post(
        "/frameworks",
        data={"csrf": csrf, "provider": "P", "title": "MoU 9", "disclosure": "named"},
    )
    assert r.status_code == 400
    assert "Disclosure to named jurisdictions needs at least one jurisdiction." in r.text
    assert 'value="MoU 9"' in r.text and '<option value="named" selected>' in r.text
    r = c.post(
        "/frameworks",
        data={"csrf": csrf, "provider": "P", "title": "MoU 10", "signed_on": "1 May 2025"},
    )
    assert r.status_code == 400 and "A date is written YYYY-MM-DD." in r.text
    assert 'value="MoU 10"' in r.text
    titles = [
        f["title"] for f in json.loads(amanah(site.ws.home, "framework", "list", "--json").stdout)
    ]
    assert "MoU 9" not in titles and "MoU 10" not in titles
    # An analyst sees the terms but is offered no form, and may not post one.
    c2, csrf2 = site.browser("analyst")
    assert "Protocol 7" in c2.get("/frameworks").text
    assert 'id="framework-add"' not in c2.get("/frameworks").text
    r = c2.post("/frameworks", data={"csrf": csrf2, "provider": "P", "title": "MoU 11"})
    assert r.status_code == 403


def _received(site: Site, ref: str) -> int:
    with site.ws.db.session() as s:
        return requests.create(
            s,
            ref,
            BLUE_JURISDICTION,
            received_on=date(2026, 3, 1),
            actor="local:test",
            compartments=["blue"],
        ).id


def test_assignment_deadline_and_notes_on_the_request_page(site: Site) -> None:
    rid = _received(site, "RFA-WORK-1")
    c, csrf = site.browser("legal")
    page = c.get(f"/requests/{rid}").text
    assert "Assigning a received request acknowledges it" in page  # said before it happens
    r = c.post(
        f"/requests/{rid}/assign", data={"csrf": csrf, "assignee": "legal"}, follow_redirects=False
    )
    assert r.status_code == 303
    with site.ws.db.reader() as s:
        shown = requests.describe(s, local_administrator(site.ws), "RFA-WORK-1")
    assert shown["assignee"] == "legal" and shown["state"] == "acknowledged"
    assert [(e["to"], e["note"]) for e in shown["events"]][-2:] == [
        ("received", "assigned to legal"),
        ("acknowledged", "assigned to legal"),
    ]
    # An account that may not see the request (red compartment only) or no account at all.
    for who, said in (("nobody-here", "No account has this name."), ("provider", "may not see")):
        r = c.post(f"/requests/{rid}/assign", data={"csrf": csrf, "assignee": who})
        assert r.status_code == 400 and said in r.text, r.text[-2000:]
        assert f'name="assignee" dir="auto" value="{who}"' in r.text
    r = c.post(f"/requests/{rid}/deadline", data={"csrf": csrf, "deadline": "2026-01-01"})
    assert r.status_code == 400 and "The deadline is before the request was received." in r.text
    assert 'value="2026-01-01"' in r.text
    r = c.post(f"/requests/{rid}/deadline", data={"csrf": csrf, "deadline": "soon"})
    assert r.status_code == 400 and "A date is written YYYY-MM-DD." in r.text
    r = c.post(
        f"/requests/{rid}/deadline",
        data={"csrf": csrf, "deadline": "2026-06-30"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = c.post(
        f"/requests/{rid}/note",
        data={"csrf": csrf, "note": "Called the unit; scope agreed"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert c.post(f"/requests/{rid}/note", data={"csrf": csrf, "note": "  "}).status_code == 400
    page = c.get(f"/requests/{rid}").text
    assert "2026-06-30" in page and "Called the unit; scope agreed" in page
    with site.ws.db.reader() as s:
        shown = requests.describe(s, local_administrator(site.ws), "RFA-WORK-1")
    assert shown["deadline"] == "2026-06-30" and shown["state"] == "acknowledged"
    assert "] Called the unit; scope agreed" in shown["notes"]
    # An analyst sees the work but is offered no form and may not change it.
    c2, csrf2 = site.browser("analyst")
    page = c2.get(f"/requests/{rid}").text
    assert "Called the unit" in page and 'id="assign-form"' not in page
    r = c2.post(f"/requests/{rid}/note", data={"csrf": csrf2, "note": "x"})
    assert r.status_code == 403


@pytest.mark.needs("chromium")
def test_in_arabic_in_a_browser_add_a_protected_person_and_a_framework(
    live: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _site, base = live
    page = browser.new_page(locale="ar")  # type: ignore[attr-defined]
    sign_in(page, base, "legal")
    page.goto(f"{base}/lang/ar?next=/protected")
    page.wait_for_selector("html[dir=rtl] #protected-add")
    page.fill("#protected-add input[name=pseudonym]", "الشاهد ج")
    page.fill("#protected-add textarea[name=names]", f"{ARABIC}\n{LATIN}")
    shot(page, "legal-01-protected-form-ar")
    page.click("#protected-add button[type=submit]")
    page.wait_for_selector(".notice")
    assert page.inner_text(".notice") == "سُجّل الشخص المحمي الشاهد ج."
    row = page.locator("#protected-list tr", has_text="الشاهد ج").inner_text()
    assert "كتابتان" in row and "شاهد" in row
    html = page.content()
    assert ARABIC not in html and LATIN not in html and "الطرابيشي" not in html
    assert "Tarabishi" not in page.url and "%D8" not in page.url.split("added=")[0]
    shot(page, "legal-02-protected-added-ar")
    page.click("nav >> text=أطر التعاون")
    page.wait_for_selector("#framework-add")
    page.fill("#framework-add input[name=provider]", "مركز توثيق تجريبي")
    page.fill("#framework-add input[name=title]", "مذكرة تفاهم ٢٠٢٦")
    page.select_option("#framework-add select[name=disclosure]", "any")
    page.fill("#framework-add textarea[name=terms]", "الإفصاح للولايات القضائية المختصة.")
    shot(page, "legal-03-framework-form-ar")
    page.click("#framework-add button[type=submit]")
    page.wait_for_selector(".notice")
    assert "سُجّل إطار التعاون" in page.inner_text(".notice")
    row = page.locator("#framework-list tr", has_text="مذكرة تفاهم ٢٠٢٦").inner_text()
    assert "الإفصاح لأي ولاية قضائية مختصة" in row and "مذكرة تفاهم" in row
    shot(page, "legal-04-framework-added-ar")
    page.close()
    for name in (ARABIC, LATIN, "Tarabishi"):
        assert name not in caplog.text
