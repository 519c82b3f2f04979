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


def test_a_form_body_past_the_bound_is_refused_before_sign_in_unread(site: Site) -> None:
    """The middleware reads a form's body before anyone is known: a body past 4 MiB is refused
    with 413 without being read further (a 10 GB multipart post to /signin held it whole)."""
    from fastapi.testclient import TestClient

    from amanah.web.auth import MAX_FORM_BYTES

    sent = [0]

    def body():  # type: ignore[no-untyped-def]
        for _ in range(64):
            sent[0] += 1
            yield b"x" * (1024 * 1024)

    c = TestClient(site.app)  # type: ignore[arg-type]
    r = c.post("/signin", content=body(), headers=FORM)
    assert r.status_code == 413 and "4 MiB" in r.text
    assert sent[0] * 1024 * 1024 > MAX_FORM_BYTES  # the test client sends it all; the server
    # stops reading at the bound (ASGI: the middleware returns before its next receive)
