"""A package's bytes go out only while consent covers every item in it (an adversary's, stop
52): an analyst whom a withdrawal of consent for investigation kept from a statement's page,
text and original downloaded the package that carries it, bytes and all; a recipient
downloaded again a package whose witness withdrew consent for sharing after it was built.
The package stays listed, its page says why; its download is refused for every role."""

from __future__ import annotations

import io
import zipfile

import pytest

from amanah.access import local_administrator
from amanah.sharing import person_consent
from tests.webfixtures import BLUE, BLUE_JURISDICTION, FILES, Site


def _withdraw(site: Site, uses: list[str]) -> int:
    withheld = site.item("statement-b.txt")
    legal = local_administrator(site.ws, "legal:test")
    with site.ws.db.session() as s:
        person_consent.link_item(s, legal, "Witness Z", withheld)
        person_consent.withdraw(s, legal, "Witness Z", uses)
    return withheld


def _holds_statement(body: bytes) -> bool:
    secret = FILES[BLUE]["statements/statement-b.txt"]
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return any(z.read(n) == secret for n in z.namelist())


@pytest.mark.parametrize("role", ["analyst", "legal", "admin"])
def test_a_withheld_item_is_not_downloaded_through_its_package(site: Site, role: str) -> None:
    pkg = site.packages[BLUE_JURISDICTION]
    api = site.api(role)
    before = api.get(f"/api/v1/packages/{pkg}/download")
    assert before.status_code == 200 and _holds_statement(before.content)  # the control
    withheld = _withdraw(site, ["investigation"])
    assert api.get(f"/api/v1/items/{withheld}/content").status_code == 404
    got = api.get(f"/api/v1/packages/{pkg}/download")
    assert got.status_code == 403, got.status_code
    assert f"item(s) {withheld}" in got.json()["error"]
    assert "Witness Z" not in got.text and "Zaid" not in got.text
    browser, _ = site.signed_in(role)
    page = browser.get(f"/packages/{pkg}/download")
    assert page.status_code == 403 and b"PK\x03\x04" not in page.content
    assert browser.get(f"/packages/{pkg}").status_code == 200  # still listed: its page says why


def test_a_recipient_does_not_download_again_what_a_witness_withdrew_from_sharing(
    site: Site,
) -> None:
    pkg = site.packages[BLUE_JURISDICTION]
    recipient = site.api("recipient")
    assert recipient.get(f"/api/v1/packages/{pkg}/download").status_code == 200
    withheld = _withdraw(site, ["sharing"])
    got = recipient.get(f"/api/v1/packages/{pkg}/download")
    assert got.status_code == 403 and f"item(s) {withheld}" in got.json()["error"]
    # Another jurisdiction's package is not the recipient's either way: 404, not 403.
    other = next(p for code, p in site.packages.items() if code != BLUE_JURISDICTION)
    assert recipient.get(f"/api/v1/packages/{other}/download").status_code == 404


def test_a_package_download_is_on_the_timeline_of_each_item_it_carries(site: Site) -> None:
    """A package downloaded is a read of every item in it (stop 52's note: the event was the
    package's only): each item's page tells it to staff who may see the package; a provider's
    account, which sees preservation events only, is not told."""
    pkg = site.packages[BLUE_JURISDICTION]
    statement = site.item("statement-b.txt")
    browser, _ = site.signed_in("analyst")
    assert "Downloaded in package" not in browser.get(f"/items/{statement}").text  # control
    assert site.api("recipient").get(f"/api/v1/packages/{pkg}/download").status_code == 200
    page = browser.get(f"/items/{statement}")
    assert page.status_code == 200
    told = page.text.split("Downloaded in package", 1)
    assert len(told) == 2 and f'href="/packages/{pkg}"' in told[1][:300]
    provider, _ = site.signed_in("provider")
    theirs = provider.get(f"/items/{statement}")
    assert theirs.status_code == 200 and "Downloaded in package" not in theirs.text
