"""A copy or a near-duplicate in another compartment does not tell who the person is (an
adversary's, stop 54). Witness B is linked to blue's statement only; red holds the same bytes
and a near-duplicate. Red's legal officer got 404 on Witness B's consent page, yet the red
copy's page, a red package build's refusal and a red package's page named Witness B and when
the consent changed; and a near-duplicate's derived link made Witness B known to red (their
consent page, what blue was told) while it stopped blue's legal officer from recording the
withdrawal. The withholding itself stays: every copy and near-duplicate is withheld."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from amanah.access import Caller, Role, visible_item_ids
from amanah.access.tokens import create_token
from amanah.access.users import add_user
from amanah.db.models import PersonItem
from amanah.intake import registry
from amanah.rfa import requests, review
from amanah.sharing import package, person_consent, protected
from tests.conftest import ingest_folder
from tests.webfixtures import BLUE, FILES, PASSWORD, Site

BLUE_LEGAL = Caller("user:legal", frozenset({"blue"}), Role.LEGAL)
RED_LEGAL = Caller("user:redlegal", frozenset({"red"}), Role.LEGAL)
BOTH_LEGAL = Caller("user:chief", frozenset({"blue", "red"}), Role.LEGAL)
LONG = " ".join(
    f"word{i} the detainee described cell number {i} in the western wing of the branch"
    for i in range(40)
)


def _red(site: Site, tmp: Path, files: dict[str, bytes]) -> None:
    """Red's collection of these files, processed, and red's legal officer and analyst."""
    from amanah.processing.runner import run

    folder = tmp / "red-src"
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    ingest_folder(site.ws, folder, "red-collection", "Red CSO", compartment="red")
    run(site.ws)
    from amanah.db.models import Item

    with site.ws.db.reader() as s:
        site.items = {p: i for i, p in s.execute(select(Item.id, Item.original_path)).all()}
    for name, role in (("redlegal", "legal"), ("redanalyst", "analyst")):
        add_user(site.ws, name, role, PASSWORD, compartments=("red",), by="local:test")
        site.tokens[name] = create_token(site.ws, name)


def _blue_witness(site: Site, item: int) -> None:
    with site.ws.db.session() as s:
        protected.add(s, BLUE_LEGAL, "Witness B", ["Basma Bluesource-Example"])
        person_consent.link_item(s, BLUE_LEGAL, "Witness B", item)


def _red_request(site: Site, item: int, reference: str) -> int:
    with site.ws.db.session() as s:
        fw = registry.add_framework(s, "Red CSO", "Red MoU", date(2024, 1, 1), disclosure="any")
        registry.link_framework(s, "red-collection", fw.id, "local:test")
        rid = requests.create(
            s,
            reference,
            "XR-PROS",
            received_on=date(2026, 1, 5),
            actor="user:redlegal",
            compartments=["red"],
        ).id
        review.decide(s, RED_LEGAL, reference, [item], "relevant")
    return rid


def test_a_copys_page_names_another_compartments_person_as_a_person(
    site: Site, tmp_path: Path
) -> None:
    _red(site, tmp_path, {"REDCOPY.txt": FILES[BLUE]["statements/statement-b.txt"]})
    blue, copy = site.item("statement-b.txt"), site.item("REDCOPY.txt")
    _blue_witness(site, blue)
    with site.ws.db.session() as s:
        person_consent.withdraw(s, BLUE_LEGAL, "Witness B", ["investigation"])
    red, _ = site.browser("redlegal")
    assert red.get("/consent/persons/Witness B").status_code == 404
    for lang in ("en", "ar"):
        page = red.get(f"/items/{copy}", params={"lang": lang})
        assert page.status_code == 200
        assert "withheld-persons" in page.text  # the withholding is still said
        assert "Witness B" not in page.text and "/consent/persons/" not in page.text
        assert ("a person" if lang == "en" else "شخص") in page.text
    own = site.signed_in("legal")[0].get(f"/items/{blue}").text  # blue's officer: by pseudonym
    assert "Witness B" in own


def test_a_package_refusal_and_page_name_another_compartments_person_as_a_person(
    site: Site, tmp_path: Path
) -> None:
    _red(site, tmp_path, {"REDCOPY.txt": FILES[BLUE]["statements/statement-b.txt"]})
    blue, copy = site.item("statement-b.txt"), site.item("REDCOPY.txt")
    _blue_witness(site, blue)
    with site.ws.db.session() as s:
        person_consent.give(s, BLUE_LEGAL, "Witness B", ["investigation"])  # not sharing
    rid = _red_request(site, copy, "RFA-RED-C")
    refused = site.api("redlegal").post(f"/api/v1/requests/{rid}/packages")
    assert refused.status_code == 409
    assert "consent of a person for sharing not given" in refused.text
    assert "Witness B" not in refused.text
    with site.ws.db.session() as s:
        person_consent.give(s, BLUE_LEGAL, "Witness B", ["investigation", "sharing"])
    built = package.build(site.ws, RED_LEGAL, "RFA-RED-C", tmp_path / "pkg")
    with site.ws.db.session() as s:
        person_consent.withdraw(s, BLUE_LEGAL, "Witness B", ["sharing"])
    for role in ("redanalyst", "redlegal"):
        page = site.browser(role)[0].get(f"/packages/{built['package']}").text
        assert "Consent was withdrawn after this package was built" in page
        assert "Witness B" not in page
    with site.ws.db.reader() as s:  # the caller who may know the person is told whose
        said = person_consent.withdrawn_since(s, BOTH_LEGAL, str(built["package"]))
        assert [w["person"] for w in said] == ["Witness B"]


def test_a_near_duplicates_derived_link_neither_tells_nor_blocks_and_still_withholds(
    site: Site, tmp_path: Path
) -> None:
    blue_src = tmp_path / "blue-long"
    blue_src.mkdir()
    (blue_src / "blue-statement-long.txt").write_text(LONG + " signed BLUE.\n")
    ingest_folder(site.ws, blue_src, "blue-long", "Blue CSO", compartment="blue")
    _red(site, tmp_path, {"red-rescan-long.txt": (LONG + " signed RED copy.\n").encode()})
    blue, near = site.item("blue-statement-long.txt"), site.item("red-rescan-long.txt")
    _blue_witness(site, blue)
    with site.ws.db.reader() as s:
        derived = s.execute(select(PersonItem.item_id, PersonItem.derived_from)).all()
    assert (near, blue) in derived  # consent follows the near-duplicate into red
    with site.ws.db.session() as s:  # blue's officer manages the witness of blue's statement
        person_consent.withdraw(s, BLUE_LEGAL, "Witness B", ["investigation"], told="BLUETOLD")
    with site.ws.db.reader() as s:
        assert visible_item_ids(s, RED_LEGAL, {near}) == set()  # withheld in red too
        assert near in person_consent.hidden_from_investigation(s)
        assert "Witness B" not in [p["person"] for p in person_consent.list_all(s, RED_LEGAL)]
        assert "Witness B" in [p["person"] for p in person_consent.list_all(s, BLUE_LEGAL)]
    red, csrf = site.browser("redlegal")
    assert red.get("/consent/persons/Witness B").status_code == 404
    assert "Witness B" not in red.get("/consent/persons").text
    page = red.get(f"/items/{near}").text
    assert "Witness B" not in page and "BLUETOLD" not in page and "شخص" not in page
    assert "a person" in page
    given = red.post(
        "/consent/persons/Witness B",
        data={"csrf": csrf, "status": "given", "use": ["investigation"], "told": "x"},
        follow_redirects=False,
    )
    assert given.status_code == 404
    with site.ws.db.reader() as s:
        assert near in person_consent.hidden_from_investigation(s)
