"""Adversary tests of stop 17's new surfaces: the legal officer's pages (a request's deadline
and assignment, protected persons), free text that could carry a protected person's name into
the database and the ledger, and spreadsheets that try to evade the cell budget. Each test
fails on the code before its fix; each has its negative control."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from amanah.access import local_administrator
from amanah.access.users import add_user, set_disabled
from amanah.db.models import CustodyEvent, Request
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
