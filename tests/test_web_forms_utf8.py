"""A form whose fields are not UTF-8 is refused (400, "not UTF-8") rather than read as Latin-1:
a state stored as "ÿþ", or a protected person's name sent in cp1256 and recorded garbled so the
real name is never caught. One middleware notes it; every route's `allow` refuses."""

from __future__ import annotations

from sqlalchemy import select

from amanah.db.models import Jurisdiction
from tests.webfixtures import Site

FORM = {"content-type": "application/x-www-form-urlencoded"}


def test_forms_not_in_utf8_are_refused(site: Site) -> None:
    c, csrf = site.browser("legal")
    body = b"csrf=" + csrf.encode() + b"&code=X2&state=\xff\xfe&authority=A"
    r = c.post("/jurisdictions", content=body, headers=FORM, follow_redirects=False)
    assert r.status_code == 400 and "not UTF-8" in r.text, (r.status_code, r.text[:300])
    name = "عمر حلاق".encode("cp1256")
    body = b"csrf=" + csrf.encode() + b"&pseudonym=Witness+Q&names=" + name
    r = c.post("/protected", content=body, headers=FORM, follow_redirects=False)
    assert r.status_code == 400 and "not UTF-8" in r.text
    boundary = "XyZ"
    multipart = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="code"\r\n\r\nX3\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="state"\r\n\r\n'
        ).encode()
        + b"\xff\xfe\r\n"
        + f"--{boundary}--\r\n".encode()
    )
    r = c.post(
        "/jurisdictions",
        content=multipart,
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        follow_redirects=False,
    )
    assert r.status_code == 400 and "not UTF-8" in r.text
    with site.ws.db.reader() as s:
        codes = set(s.execute(select(Jurisdiction.code)).scalars())
    assert not {"X2", "X3"} & codes
    # The same form in UTF-8 is recorded.
    body = b"csrf=" + csrf.encode() + "&code=X4&state=دولة&authority=A".encode()
    r = c.post("/jurisdictions", content=body, headers=FORM, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
