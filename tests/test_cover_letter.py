"""The cover letter a recipient reads first: it names the officer and the installation (not
the ledger's actor string), and its check command is whole, with the key id, on one line in
both languages."""

from __future__ import annotations

import pymupdf
import pytest

from amanah.sharing import letters
from amanah.system import person_of
from tests.webfixtures import BLUE_JURISDICTION, Site

KEY = "0123456789abcdef"  # the form of a real key id: 16 hex digits


@pytest.mark.parametrize(
    ("actor", "person"),
    [
        ("user:demo-legal", "demo-legal"),
        ("os:alice(1000) as amanah:demo-legal", "demo-legal"),
        ("os:alice(1000)", "alice"),
        ("local:test", "test"),
        ("strange", "strange"),
        ("user:", "user:"),
    ],
)
def test_the_person_an_actor_names(actor: str, person: str) -> None:
    assert person_of(actor) == person


def _pages(pdf: bytes) -> list[str]:
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        return [page.get_text() for page in doc]


def _letter(installation: str) -> list[str]:
    p = {
        "id": "PKG-20261201-0A1B2C3D",
        "reference": "RFA-1",
        "recipient": "XB-PROS: Blueland war crimes unit (Blueland)",
        "received_on": "2026-01-05",
        "creator": person_of("user:demo-legal"),
        "installation": installation,
        "date": "2026-12-01",
        "count": 1,
        "bytes": "10",
        "redacted": 0,
        "key_id": KEY,
    }
    return _pages(letters.render_pdf("cover_letter.html", p=p, rows=[], more=0))


def test_the_letter_names_officer_installation_and_a_whole_command() -> None:
    english, arabic = _letter("Evidence Unit, Example Mechanism")
    assert "demo-legal" in english and "user:" not in english
    assert "Evidence Unit, Example Mechanism" in english
    command = f"python3 amanah/verify_package.py . --key-id {KEY}"
    for page in (english, arabic):
        lines = [" ".join(line.split()) for line in page.splitlines()]
        # The command as one line, its words unbroken and in order, in Arabic as in English.
        assert command in lines, [ln for ln in lines if "verify" in ln or "key" in ln]
        assert "amanah/items.csv" in page  # a path in running text is not cut either
    assert "Evidence Unit, Example Mechanism" in arabic


def test_without_a_name_the_installation_is_named_by_its_key() -> None:
    english, arabic = _letter("")
    assert "Amanah installation, key id" in english
    assert "منظومة أمانة" in arabic


def test_a_built_package_letter_names_the_person_not_the_actor(site: Site) -> None:
    folder = site.ws.home.parent / "packages" / BLUE_JURISDICTION  # where the site built it
    pdf = (folder / "amanah" / "cover-letter.pdf").read_bytes()
    english = _pages(pdf)[0]
    assert "Prepared by" in english
    prepared = english.split("Prepared by", 1)[1].splitlines()[1].strip()
    assert prepared and not prepared.startswith(("os:", "user:", "local:")), prepared
