"""Adversary tests of stop 19's new surfaces: protected names typed where intake did not look
(a compartment, a token's label, a review decision's note, an error that repeats what was
typed), consent following a document into parts whose `parent_id` chain was forged into a
loop, and hostile emails (nesting, parts) read to a bound. Each finding's test failed on the
code before its fix; the tests of what held are kept as guards, each with a negative control.

The site is the web tests' workspace (tests/webfixtures.py): built once per worker, copied per
test, with "Witness Z" a protected person whose name is "Zaid Nobody-Here"."""

from __future__ import annotations

import html
import json
from pathlib import Path

from sqlalchemy import func, select, update

from amanah.access import local_administrator
from amanah.db.models import ApiToken, Collection, CustodyEvent, Grant, Item, Review
from amanah.sharing import protected
from amanah.web import i18n
from tests.conftest import amanah
from tests.webfixtures import Site

NAME = "Zaid Nobody-Here"
SPELLINGS = (NAME, "Zaid", "Nobody")


def _no_name(text: str) -> None:
    for spelling in SPELLINGS:
        assert spelling.lower() not in text.lower(), text[:400]


def _ledger_has_no_name(site: Site) -> None:
    with site.ws.db.reader() as s:
        details = " ".join(s.execute(select(CustodyEvent.details)).scalars())
    _no_name(json.loads(json.dumps(details)))


# -- protected names typed where intake did not look ----------------------------------------


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "statement.txt").write_text("a statement\n", encoding="utf-8")
    return folder


def test_a_compartment_naming_a_protected_person_is_refused_where_it_is_typed(
    site: Site, tmp_path: Path
) -> None:
    """A compartment's name is kept and shown in clear (grants, collection lists, the search
    index, every need-to-know custody event): a new collection's, a moved collection's and a
    user's grant were stored as typed. Real processes: exit 2, the reason, no name echoed,
    nothing recorded."""
    home = site.ws.home
    with site.ws.db.reader() as s:
        before = (
            s.execute(select(func.count()).select_from(Collection)).scalar_one(),
            s.execute(select(func.count()).select_from(Grant)).scalar_one(),
            s.execute(select(func.count()).select_from(CustodyEvent)).scalar_one(),
        )
    typed = f"statements of {NAME}"
    attempts = [
        ("ingest", str(_folder(tmp_path)), "--collection", "new batch", "--provider", "Blue CSO",
         "--compartment", typed, "--quiet"),
        ("collection", "set", "blue-collection", "--compartment", typed),
        ("user", "grant", "analyst", typed),
    ]  # fmt: skip
    for args in attempts:
        proc = amanah(home, *args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        said = " ".join(proc.stderr.split())
        assert protected.COMPARTMENT_NAMES_PROTECTED.split(":")[0] in said, said
        _no_name(proc.stdout + proc.stderr)
    with site.ws.db.reader() as s:
        after = (
            s.execute(select(func.count()).select_from(Collection)).scalar_one(),
            s.execute(select(func.count()).select_from(Grant)).scalar_one(),
            s.execute(select(func.count()).select_from(CustodyEvent)).scalar_one(),
        )
        compartments = set(s.execute(select(Collection.compartment)).scalars())
        compartments |= set(s.execute(select(Grant.compartment)).scalars())
    assert after == before
    _no_name(" ".join(compartments))
    _ledger_has_no_name(site)
    # Negative control: an ordinary compartment passes every one of them.
    for args in (
        ("ingest", str(tmp_path / "in"), "--collection", "new batch", "--provider", "Blue CSO",
         "--compartment", "green", "--quiet"),
        ("collection", "set", "new batch", "--compartment", "green-2"),
        ("user", "grant", "analyst", "green-2"),
    ):  # fmt: skip
        proc = amanah(home, *args)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)


def test_a_compartment_naming_a_protected_person_is_refused_by_the_web_forms_in_both_languages(
    site: Site,
) -> None:
    for lang in ("en", "ar"):
        c, csrf = site.browser("admin")
        if lang == "ar":
            c.get("/lang/ar?next=/")
        said = i18n.translations(lang).gettext(protected.COMPARTMENT_NAMES_PROTECTED)
        assert said != protected.COMPARTMENT_NAMES_PROTECTED or lang == "en"
        for path, data in (
            ("/collections", {"name": "web batch", "provider": "Blue CSO", "compartment": NAME}),
            ("/users/grants", {"name": "analyst", "compartment": NAME}),
        ):
            r = c.post(path, data={"csrf": csrf, **data}, follow_redirects=False)
            assert r.status_code == 400, (path, r.status_code, r.text[:300])
            assert said in html.unescape(r.text), (lang, path)
            _no_name(html.unescape(r.text))
    with site.ws.db.reader() as s:
        assert s.execute(select(Grant).where(Grant.compartment == NAME)).first() is None
    c, csrf = site.browser("admin")  # negative control
    ok = c.post(
        "/users/grants",
        data={"csrf": csrf, "name": "analyst", "compartment": "green"},
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text[:300]


def test_a_token_label_naming_a_protected_person_is_refused(site: Site) -> None:
    """A token's label is listed to its user and the administrators and written to the ledger
    in clear ("token created", label)."""
    home = site.ws.home
    with site.ws.db.reader() as s:
        tokens = s.execute(select(func.count()).select_from(ApiToken)).scalar_one()
    proc = amanah(home, "token", "create", "analyst", "--label", f"laptop of {NAME}")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert protected.LABEL_NAMES_PROTECTED.split(":")[0] in " ".join(proc.stderr.split())
    _no_name(proc.stdout + proc.stderr)
    with site.ws.db.reader() as s:
        assert s.execute(select(func.count()).select_from(ApiToken)).scalar_one() == tokens
    _ledger_has_no_name(site)
    ok = amanah(home, "token", "create", "analyst", "--label", "field laptop")  # control
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_a_review_note_is_kept_with_the_pseudonym_never_the_name(site: Site) -> None:
    """A decision on a request's candidates may carry a note (`rfa review --note`, the API's
    review): it was kept as typed, while a request's own notes are kept pseudonymised."""
    request_id = site.requests["RFA-XB-PROS"]
    item = site.item("statement-b.txt")
    r = site.api("legal").post(
        f"/api/v1/requests/{request_id}/review",
        json={"items": [item], "decision": "relevant", "note": f"{NAME} confirmed it"},
    )
    assert r.status_code == 200, r.text
    proc = amanah(
        site.ws.home, "rfa", "review", "RFA-XR-PROS", "relevant", str(item),
        "--note", f"asked {NAME} again",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _no_name(proc.stdout + proc.stderr)
    with site.ws.db.reader() as s:
        notes = list(s.execute(select(Review.note).where(Review.item_id == item)).scalars())
    assert "[Witness Z] confirmed it" in notes and "asked [Witness Z] again" in notes, notes
    _no_name(" ".join(notes))
    # Negative control: a note naming nobody protected is kept as written.
    r = site.api("legal").post(
        f"/api/v1/requests/{request_id}/review",
        json={"items": [item], "decision": "relevant", "note": "checked against the log"},
    )
    assert r.status_code == 200, r.text
    with site.ws.db.reader() as s:
        assert "checked against the log" in s.execute(select(Review.note)).scalars().all()


def test_an_unknown_provider_error_never_repeats_a_protected_name(
    site: Site, tmp_path: Path
) -> None:
    """`ingest` into an existing collection looks its --provider up without creating it; the
    "no provider named …" error repeated what was typed, a protected name included."""
    proc = amanah(
        site.ws.home, "ingest", str(_folder(tmp_path)), "--collection", "blue-collection",
        "--provider", NAME, "--quiet",
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    _no_name(proc.stdout + proc.stderr)
    other = amanah(  # control: an unknown provider of no protected name is still named
        site.ws.home, "ingest", str(tmp_path / "in"), "--collection", "blue-collection",
        "--provider", "Green CSO", "--quiet",
    )  # fmt: skip
    assert other.returncode == 2 and "Green CSO" in other.stdout + other.stderr


# -- consent follows a document into its parts: a forged parent chain ----------------------


def test_a_parent_chain_forged_into_a_loop_hangs_nothing_and_hides_the_loop(site: Site) -> None:
    """`parent_id` rewritten in SQL into a loop (a restored or hand-edited home): the consent
    rule walks up and down the chain a bounded number of times, so a page, a search, a text
    read and a package's refusals still answer, and the withdrawal withholds the whole loop."""
    from amanah.sharing import person_consent

    a, b = site.item("statement-b.txt"), site.item("blank.png")
    with site.ws.db.session() as s:
        s.execute(update(Item).where(Item.id == a).values(parent_id=b))
        s.execute(update(Item).where(Item.id == b).values(parent_id=a))
    api = site.api("analyst")
    assert api.get(f"/api/v1/items/{a}/text").status_code == 200  # control: nothing withheld
    legal = local_administrator(site.ws, "legal:test")
    with site.ws.db.session() as s:
        person_consent.link_item(s, legal, "Witness Z", a)
        person_consent.withdraw(s, legal, "Witness Z", ["investigation"])
    for item in (a, b):
        assert api.get(f"/api/v1/items/{item}/text").status_code == 404
        page = site.browser("analyst")[0].get(f"/items/{item}")
        assert page.status_code == 200
        assert "Withheld: consent for investigation withdrawn." in page.text
    assert api.get("/api/v1/search", params={"q": "statement"}).status_code == 200
    with site.ws.db.reader() as s:
        assert {a, b} <= person_consent.hidden_from_investigation(s)
        assert set(person_consent.refusals(s, {a: [b]}, "sharing", None)) == {a}
