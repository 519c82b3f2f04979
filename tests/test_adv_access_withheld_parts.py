"""A withheld part is withheld in whatever holds it (an adversary's, stop 53): a witness
withdrew consent for investigation on a statement inside an archive and on an email's
attachment; the statement and the attachment answered 404, but the archive's original (the
zip, statement inside), its text and content inventory (the member's words), the email's, and
a package of the archive (bytes and all) were still handed out. Withholding now flows up to
every item that holds a withheld part, and to their copies; the other members stay readable."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select

from amanah.access import local_administrator
from amanah.db.models import Item
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.runner import run
from amanah.sharing import person_consent
from tests.webfixtures import Site

WORD = "ZETAWORD"


def _holders(site: Site, tmp: Path) -> dict[str, int]:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("inner/statement-zeta.txt", f"{WORD} the detainee described cell seven.\n")
        z.writestr("inner/other.txt", "the other member says nothing of anyone\n")
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "a@example.org", "b@example.org", "fwd"
    mail.set_content("see attached")
    mail.add_attachment(
        f"{WORD} about cell nine.\n".encode(), maintype="text", subtype="plain",
        filename="statement-eta.txt",
    )  # fmt: skip
    folder = tmp / "handover"
    folder.mkdir()
    (folder / "bundle.zip").write_bytes(archive.getvalue())
    (folder / "mail.eml").write_bytes(bytes(mail))
    ingest(
        site.ws,
        IntakeRequest(
            sources=[str(folder)], collection="blue-archive", provider="Blue CSO",
            compartment="blue", actor="local:test",
        ),
    )  # fmt: skip
    run(site.ws)
    with site.ws.db.reader() as s:
        rows = s.execute(select(Item.id, Item.original_path)).all()
    return {p.rsplit("/", 1)[-1]: i for i, p in rows}


def test_what_holds_a_withheld_part_is_withheld_too(site: Site, tmp_path: Path) -> None:
    ids = _holders(site, tmp_path)
    api = site.api("analyst")
    archive, mail, other = ids["bundle.zip"], ids["mail.eml"], ids["other.txt"]
    assert api.get(f"/api/v1/items/{archive}/content").status_code == 200  # the control
    legal = local_administrator(site.ws, "legal:test")
    with site.ws.db.session() as s:
        person_consent.link_item(s, legal, "Witness Z", ids["statement-zeta.txt"])
        person_consent.link_item(s, legal, "Witness Z", ids["statement-eta.txt"])
        person_consent.withdraw(s, legal, "Witness Z", ["investigation"])
    for holder in (archive, mail):
        assert api.get(f"/api/v1/items/{holder}").status_code == 404
        assert api.get(f"/api/v1/items/{holder}/content").status_code == 404
        assert api.get(f"/api/v1/items/{holder}/text").status_code == 404
    assert api.get("/api/v1/search", params={"q": WORD}).json()["total"] == 0
    assert api.get(f"/api/v1/items/{other}").status_code == 200  # a member naming nobody
    browser, _ = site.signed_in("analyst")
    page = browser.get(f"/items/{archive}")
    assert WORD not in page.text and "statement-zeta" not in page.text
