"""Adversary tests of stop 20's surfaces: a withdrawal of consent recorded by one process (the
command line, a second server on a shared PostgreSQL home) read by another at once; the
legal officer's "not the same document" asked by the wrong role, for another compartment's
item, or replayed; the processing queue's counts and failures seen across compartments; and
hostile emails (a huge header, a never-closed boundary, a charset that does not exist). Each
finding's test failed on the code before its fix; the tests of what held are kept as guards,
each with a negative control.

The site is the web tests' workspace (tests/webfixtures.py): built once per worker, copied per
test, with "Witness Z" a protected person whose name is "Zaid Nobody-Here"."""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update

from amanah.access import local_administrator
from amanah.access.tokens import create_token
from amanah.access.users import add_user
from amanah.db.models import CustodyEvent, Item, Job, PersonItem, Relation
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing import unpack
from amanah.processing.children import Limits
from amanah.processing.inventory import Inventory
from amanah.processing.inventory_markup import eml as inventory_eml
from amanah.sharing import near_duplicate_links, person_consent, protected
from amanah.workspace import open_workspace
from tests.conftest import amanah, write_default_config
from tests.servers import Postgres, start_serve, stop_process
from tests.webfixtures import BLUE, PASSWORD, RED, Site

NAME = "Zaid Nobody-Here"
STATEMENT = "statement-b.txt"


def _no_name(text: str) -> None:
    for spelling in (NAME, "Zaid", "Nobody"):
        assert spelling.lower() not in text.lower(), text[:400]


# -- a withdrawal in one process, read by another at once ------------------------------------


@pytest.fixture
def served(site: Site, tmp_path: Path) -> Iterator[str]:
    """`amanah serve` on the site's home, a process of its own: its base URL."""
    proc, base = start_serve(site.ws.home, log_path=tmp_path / "serve.log")
    try:
        yield base
    finally:
        stop_process(proc)


def _api(base: str, token: str, path: str) -> httpx.Response:
    return httpx.get(f"{base}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=60)


def test_a_withdrawal_by_the_command_line_holds_in_a_running_server_at_once(
    site: Site, served: str
) -> None:
    """The withheld items are one SQL statement built once per process (`_withheld_ids`, an
    lru_cache): what is cached is the statement, never its answer, so a withdrawal another
    process records is read by the server's very next request. Both ways, with the server
    warm (it has answered with the statement before the change)."""
    item = site.item(STATEMENT)
    token = site.tokens["analyst"]
    with site.ws.db.session() as s:
        person_consent.link_item(s, local_administrator(site.ws), "Witness Z", item)
    path = f"/api/v1/items/{item}"
    assert _api(served, token, path).status_code == 200  # warm: the statement is built
    found = _api(served, token, "/api/v1/search?q=checkpoint").json()
    assert item in [h["item_id"] for h in found["hits"]]
    amanah(site.ws.home, "consent", "person", "withdraw", "Witness Z", check=True)
    assert _api(served, token, path).status_code == 404
    gone = _api(served, token, "/api/v1/search?q=checkpoint").json()
    assert item not in [h["item_id"] for h in gone["hits"]]
    # Negative control: consent given again, in the other process, shows it again at once.
    amanah(site.ws.home, "consent", "person", "give", "Witness Z", "--use", "investigation",
           check=True)  # fmt: skip
    assert _api(served, token, path).status_code == 200


def test_a_withdrawal_on_a_shared_postgresql_home_holds_in_the_other_server_at_once(
    postgres: Postgres, tmp_path: Path
) -> None:
    """Two processes on one PostgreSQL database: a server answering, and the command line
    withdrawing (then a second server, which records nothing of its own): the first server's
    next answer is withheld."""
    home = tmp_path / "home"
    write_default_config(home, postgres.create_database())
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "statement.txt").write_text("the statement of a witness\n", encoding="utf-8")
    ws = open_workspace(home)
    try:
        ingest(ws, IntakeRequest(sources=[str(folder)], collection="c", provider="P",
                                 compartment="blue", actor="local:test"))  # fmt: skip
        add_user(ws, "analyst", "analyst", PASSWORD, compartments=("blue",), by="local:test")
        token = create_token(ws, "analyst")
        admin = local_administrator(ws)
        with ws.db.session() as s:
            item = s.execute(select(Item.id)).scalar_one()
            protected.add(s, admin, "Witness Z", [NAME])
            person_consent.link_item(s, admin, "Witness Z", item)
    finally:
        ws.close()
    proc, base = start_serve(home, log_path=tmp_path / "serve.log")
    try:
        path = f"/api/v1/items/{item}"
        assert _api(base, token, path).status_code == 200
        amanah(home, "consent", "person", "withdraw", "Witness Z", check=True)
        assert _api(base, token, path).status_code == 404
        amanah(home, "consent", "person", "give", "Witness Z", "--use", "investigation",
               check=True)  # fmt: skip
        assert _api(base, token, path).status_code == 200  # negative control
    finally:
        stop_process(proc)


# -- "not the same document": who, which items, how often -----------------------------------


def _near_duplicates(site: Site, tmp_path: Path) -> tuple[int, int, int]:
    """The statement linked to Witness Z, and two blue items processing called its
    near-duplicates: each gets a derived link; consent then withdrawn (all three withheld)."""
    folder = tmp_path / "copies"
    folder.mkdir()
    for name in ("copy-1.txt", "copy-2.txt"):
        (folder / name).write_text(f"{name}: the witness described the checkpoint\n", "utf-8")
    ingest(site.ws, IntakeRequest(sources=[str(folder)], collection=BLUE,
                                  actor="local:test"))  # fmt: skip
    statement = site.item(STATEMENT)
    admin = local_administrator(site.ws)
    with site.ws.db.session() as s:
        ids = dict(
            (Path(p).name, i)
            for i, p in s.execute(
                select(Item.id, Item.original_path).where(Item.original_path.like("%copy-%"))
            ).all()
        )
        one, two = ids["copy-1.txt"], ids["copy-2.txt"]
        now = datetime.now(UTC)
        for other in (one, two):
            s.add(Relation(item_a=statement, item_b=other, kind="near_duplicate_text",
                           score=0.93, created_at=now))  # fmt: skip
        s.flush()
        person_consent.link_item(s, admin, "Witness Z", statement)
        person_consent.withdraw(s, admin, "Witness Z")
        derived = s.execute(
            select(func.count()).select_from(PersonItem).where(PersonItem.derived_from.is_not(None))
        ).scalar_one()
    assert derived == 2
    return statement, one, two


def _withheld(site: Site) -> set[int]:
    with site.ws.db.reader() as s:
        return person_consent.hidden_from_investigation(s)


def _events(site: Site, action: str) -> int:
    with site.ws.db.reader() as s:
        rows = s.execute(select(CustodyEvent.details)).scalars()
        return sum(1 for d in rows if json.loads(d).get("action") == action)


def test_only_the_legal_officer_lifts_a_derived_link_and_a_lifting_is_never_replayed(
    site: Site, tmp_path: Path
) -> None:
    """The analyst, the provider and the intake officer are refused (403) before anything is
    looked up; the legal officer lifts one derived link, one custody event for the decision
    and one for the link. The same decision again lifts nothing and records nothing; a
    decision on a pair that was never derived lifts nothing: the other near-duplicate stays
    withheld throughout."""
    statement, one, two = _near_duplicates(site, tmp_path)
    assert {statement, one, two} <= _withheld(site)
    for role in ("analyst", "provider", "intake"):
        c, csrf = site.browser(role)
        r = c.post(f"/items/{one}/not-same-document", data={"csrf": csrf, "of": statement},
                   follow_redirects=False)  # fmt: skip
        assert r.status_code == 403, (role, r.status_code)
    assert {statement, one, two} <= _withheld(site)
    legal, csrf = site.browser("legal")
    ok = legal.post(f"/items/{one}/not-same-document", data={"csrf": csrf, "of": statement},
                    follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303, ok.text[:300]
    left = _withheld(site)
    assert one not in left and {statement, two} <= left
    decided, lifted = _events(site, "not the same document"), _events(site, "person link lifted")
    assert (decided, lifted) == (1, 1)
    admin = local_administrator(site.ws)
    with site.ws.db.session() as s:
        again = near_duplicate_links.not_same_document(s, admin, one, statement)
        other = near_duplicate_links.not_same_document(s, admin, two, one)  # never derived
    assert (again["lifted"], other["lifted"]) == (0, 0)
    assert two in _withheld(site) and statement in _withheld(site)
    assert _events(site, "person link lifted") == 1
    assert _events(site, "not the same document") == 2  # the second pair's decision only


def test_a_lifting_asked_for_another_compartments_item_answers_as_for_no_item(
    site: Site, tmp_path: Path
) -> None:
    """The blue legal officer names a red item (or a red item's near-duplicate of a blue one):
    the same 404 and the same words as for an id that does not exist, nothing recorded."""
    statement, one, _ = _near_duplicates(site, tmp_path)
    red = site.item("سري.txt")
    legal, csrf = site.browser("legal")
    before = _events(site, "not the same document")
    answers = []
    for item, of in ((one, red), (red, one), (one, 10**9), (10**9, one)):
        r = legal.post(f"/items/{item}/not-same-document", data={"csrf": csrf, "of": of},
                       follow_redirects=False)  # fmt: skip
        assert r.status_code == 404, (item, of, r.status_code)
        answers.append(re.sub(r"\d+", "N", html.unescape(r.text)))
    assert answers[0] == answers[2] and answers[1] == answers[3]
    assert _events(site, "not the same document") == before
    assert one in _withheld(site)
    # the command line (the machine's account, every compartment) is the control: it may
    proc = amanah(site.ws.home, "consent", "person", "not-same", str(one), str(statement))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 link(s) lifted" in proc.stdout
    _no_name(proc.stdout + proc.stderr)


# -- the processing queue: counts and failures are need-to-know ------------------------------


def _red_job_failed(site: Site, tmp_path: Path) -> int:
    folder = tmp_path / "red-more"
    folder.mkdir()
    (folder / "more.txt").write_text("another red statement\n", encoding="utf-8")
    ingest(site.ws, IntakeRequest(sources=[str(folder)], collection=RED,
                                  actor="local:test"))  # fmt: skip
    with site.ws.db.session() as s:
        red = s.execute(select(Item.id).where(Item.original_path.like("%more.txt"))).scalar_one()
        s.execute(
            update(Job)
            .where(Job.item_id == red)
            .values(state="failed", last_error="could not read more.txt of the red compartment")
        )
    return red


def test_the_queue_counts_and_failures_are_of_the_callers_items_only(
    site: Site, tmp_path: Path
) -> None:
    """An analyst of the blue compartment saw the whole queue (API, jobs page, dashboard): a
    red handover moved its counts, and a red item's failure showed its id and its reason."""
    analyst = site.api("analyst")
    before = analyst.get("/api/v1/jobs").json()
    red = _red_job_failed(site, tmp_path)
    after = analyst.get("/api/v1/jobs").json()
    assert after["counts"] == before["counts"]
    assert red not in [f["item_id"] for f in after["failures"]]
    c, _ = site.browser("analyst")
    for page in ("/jobs", "/"):
        text = c.get(page).text
        assert "red compartment" not in text and f'href="/items/{red}"' not in text, page
    # Negative control: the administrator (every compartment) sees the red failure.
    admin = site.api("admin").get("/api/v1/jobs").json()
    assert red in [f["item_id"] for f in admin["failures"]]
    assert admin["counts"].get("failed", 0) >= 1


# -- hostile emails -------------------------------------------------------------------------


def _email(tmp_path: Path, head: bytes, body: bytes = b"body\r\n") -> Path:
    path = tmp_path / "hostile.eml"
    path.write_bytes(b"From: a@example.org\r\n" + head + b"\r\n\r\n" + body)
    return path


def _read(path: Path, out: Path) -> tuple[list[dict[str, str]], Inventory, float]:
    started = time.monotonic()
    extraction = unpack.eml(path, out, Limits())
    inv = Inventory()
    inventory_eml(inv, path)
    return extraction.flags, inv, time.monotonic() - started


def test_an_email_header_of_a_quarter_mib_is_read_to_a_bound_and_said(tmp_path: Path) -> None:
    """The email library parses an address list at about 100 µs a character, worse than
    linearly (a 2 MiB Subject: 131 s and 580 MB): a header of 256 KiB took minutes of the
    cage's time. Now each header is cut to `HEADER_CHARS` before anything reads it: the item
    is flagged, its inventory incomplete (fail closed), in seconds."""
    path = _email(tmp_path, b"To: " + b"someone@example.org, " * (256 * 1024 // 21))
    flags, inv, seconds = _read(path, tmp_path / "out")
    assert seconds < 20, seconds
    assert [f["code"] for f in flags] == ["header_cut"]
    assert not inv.complete and "'To'" in inv.reasons[0]
    # Negative control: a To of a hundred recipients is read whole, nothing said.
    path = _email(tmp_path, b"To: " + b"someone@example.org, " * 100)
    flags, inv, _ = _read(path, tmp_path / "out2")
    assert flags == [] and inv.complete


def test_a_never_closed_boundary_and_an_unknown_charset_are_read_and_said(
    tmp_path: Path,
) -> None:
    """Guards: a multipart whose boundary never closes is read to its end (its last part's
    text is in the inventory); a part claiming a charset that does not exist is said as
    such (flagged, inventory incomplete), never a traceback."""
    unclosed = _email(
        tmp_path,
        b"Content-Type: multipart/mixed; boundary=XX",
        b"--XX\r\nContent-Type: text/plain\r\n\r\nfirst\r\n--XX\r\nContent-Type: text/plain"
        b"\r\n\r\n" + b"the last words of an unclosed part\r\n" * 1000,
    )
    _, inv, _ = _read(unclosed, tmp_path / "out")
    assert any("the last words" in p.text for p in inv.parts)
    bogus = _email(
        tmp_path,
        b"Content-Type: multipart/mixed; boundary=XX",
        b"--XX\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\nhello\r\n--XX--\r\n",
    )
    flags, inv, _ = _read(bogus, tmp_path / "out2")
    assert "unreadable_body" in [f["code"] for f in flags]
    assert not inv.complete and "x-no-such-charset" in inv.reasons[0]


# -- a person's consent page: the items linked to them ---------------------------------------


def test_a_persons_consent_pages_say_and_count_only_the_items_the_caller_may_see(
    site: Site,
) -> None:
    """The page of a person's consent listed every item linked to them, and the list of
    persons counted them, whatever their compartment: the blue legal officer read the id of
    a red statement (and, with links derived from near-duplicates, saw a new one appear when a
    red handover was processed). A withheld blue item is still listed (its consent is what
    is managed there)."""
    blue, red = site.item(STATEMENT), site.item("سري.txt")
    admin = local_administrator(site.ws)
    with site.ws.db.session() as s:
        for item in (blue, red):
            person_consent.link_item(s, admin, "Witness Z", item)
        person_consent.withdraw(s, admin, "Witness Z")
    legal, _ = site.browser("legal")
    page = legal.get("/consent/persons/Witness%20Z")
    assert page.status_code == 200
    assert f'href="/items/{blue}"' in page.text and f'href="/items/{red}"' not in page.text
    listed = legal.get("/consent/persons").text
    row = re.search(r"Witness Z</bdi></a></td>.*?</tr>", listed, re.S)
    assert row and re.search(r"<td>1</td></tr>$", row.group(0)), row
    # Negative control: the command line (every compartment) says both.
    proc = amanah(site.ws.home, "consent", "person", "list", "Witness Z", "--json", check=True)
    assert sorted(json.loads(proc.stdout)["items"]) == sorted([blue, red])


def test_a_collections_count_leaves_out_a_withheld_item_as_the_dashboards_total_does(
    site: Site,
) -> None:
    """The withheld page promises that counts too are withheld: the collections' item counts
    (API, pages, `collection list`) still counted a withheld item, so their sum and the
    dashboard's total told how many items were withheld, and when."""
    analyst = site.api("analyst")

    def blue() -> int:
        rows = analyst.get("/api/v1/collections").json()
        return int(next(r["items"] for r in rows if r["name"] == BLUE))

    before = blue()
    admin = local_administrator(site.ws)
    with site.ws.db.session() as s:
        person_consent.link_item(s, admin, "Witness Z", site.item(STATEMENT))
        person_consent.withdraw(s, admin, "Witness Z")
    assert blue() == before - 1
    with site.ws.db.session() as s:  # negative control: consent given again, counted again
        person_consent.give(s, admin, "Witness Z", ["investigation"])
    assert blue() == before
