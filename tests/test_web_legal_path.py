"""The legal officer's path in the web: the request moves with the work (a package built puts
it in review, each step in its history), the officer is told so before and after, the state
form chooses nothing by itself, and no Redact is offered where redaction cannot work."""

from __future__ import annotations

import re
from datetime import date

from amanah.access import local_administrator
from amanah.rfa import requests, review
from tests.webfixtures import BLUE_JURISDICTION, Site


def _new_request(site: Site, ref: str, items: list[int]) -> int:
    admin = local_administrator(site.ws)
    with site.ws.db.session() as s:
        rid = requests.create(
            s,
            ref,
            BLUE_JURISDICTION,
            received_on=date(2026, 2, 1),
            actor=admin.actor,
            compartments=["blue"],
        ).id
        review.decide(s, admin, ref, items, "relevant")
    return rid


def _state_and_history(site: Site, ref: str) -> tuple[str, list[tuple[str, str]]]:
    with site.ws.db.reader() as s:
        shown = requests.describe(s, local_administrator(site.ws), ref)
    return shown["state"], [(e["to"], e["note"]) for e in shown["events"]]


def test_a_build_from_the_web_moves_the_request_to_review_and_says_so(site: Site) -> None:
    rid = _new_request(site, "RFA-WEB-1", [site.item("statement-b.txt")])
    c, csrf = site.browser("legal")
    page = c.get(f"/requests/{rid}").text
    assert "Building the package moves this request to" in page  # asked before it happens
    r = c.post(f"/requests/{rid}/package", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    target = r.headers["location"]
    package_id = re.fullmatch(r"/packages/(PKG-[0-9]{8}-[0-9A-F]{8})\?built=1", target)
    assert package_id, target
    done = c.get(target).text
    assert "The package is built: 1 files, sealed and recorded." in done
    assert "The request is now: in_review." in done
    state, history = _state_and_history(site, "RFA-WEB-1")
    assert state == "in_review"
    note = f"package {package_id.group(1)} built"
    assert history[-3:] == [
        ("acknowledged", note),
        ("in_progress", note),
        ("in_review", note),
    ]
    # The same page in Arabic says it in Arabic.
    ar = c.get(target + "&lang=ar").text
    assert "بُنيت الحزمة" in ar and "قيد المراجعة" in ar
    # A request already in review stays there when built again.
    c.post(f"/requests/{rid}/package", data={"csrf": csrf}, follow_redirects=False)
    assert _state_and_history(site, "RFA-WEB-1")[0] == "in_review"


def test_the_state_form_preselects_nothing(site: Site) -> None:
    rid = _new_request(site, "RFA-WEB-2", [site.item("statement-b.txt")])
    c, csrf = site.browser("legal")
    page = c.get(f"/requests/{rid}").text
    select = re.search(r'<select name="state" required>(.*?)</select>', page, re.S)
    assert select, page[:500]
    assert re.findall(r'<option value="([^"]*)"[^>]*\bselected\b', select.group(1)) == [""]
    # Sent without a state (a browser would not let it), nothing moves.
    r = c.post(f"/requests/{rid}/state", data={"csrf": csrf, "state": ""})
    assert r.status_code in (400, 422)
    assert _state_and_history(site, "RFA-WEB-2")[0] == "received"


def test_redact_is_offered_only_for_what_can_be_redacted(site: Site, tmp_path) -> None:
    from amanah.intake.ingest import IntakeRequest, ingest
    from amanah.processing.runner import run

    folder = tmp_path / "mail"
    folder.mkdir()
    name = "Zaid Nobody-Here"  # protected in every site (tests/webfixtures.py, share)
    (folder / "note.eml").write_text(
        f"From: a@example.org\nTo: b@example.org\nSubject: visit\n\nWe met {name} today.\n",
        encoding="utf-8",
    )
    ingest(
        site.ws,
        IntakeRequest(
            sources=[str(folder)],
            collection="blue-collection",
            provider="Blue CSO",
            compartment="blue",
            actor="local:test",
        ),
    )
    run(site.ws)
    with site.ws.db.reader() as s:
        from sqlalchemy import select

        from amanah.db.models import Item

        email, media = s.execute(
            select(Item.id, Item.media_type).where(Item.original_path.like("%note.eml"))
        ).one()
    assert media.startswith("message/")
    png = site.item("blank.png")
    rid = _new_request(site, "RFA-WEB-3", [email, png])
    c, csrf = site.browser("legal")
    r = c.post(f"/requests/{rid}/package", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 409, r.text[:300]
    refused = r.text[r.text.index("The package was refused") :]
    assert f'href="/items/{email}"' in refused  # the email is refused: it names the witness
    assert f"/items/{email}/redaction" not in refused  # and no Redact that would fail
    assert _state_and_history(site, "RFA-WEB-3")[0] == "received"  # a refused build moves nothing
