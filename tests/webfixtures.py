"""A workspace for the web tests: two providers in two compartments, one account per role."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi.testclient import TestClient

from amanah.access import Role
from amanah.access.tokens import create_token
from amanah.access.users import add_user
from amanah.db.models import CustodyEvent
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.runner import run
from amanah.web.app import create_app
from amanah.workspace import Workspace, open_workspace

PASSWORD = "a long test password"
BLUE, RED = "blue-collection", "red-collection"
HOSTILE_HTML = (
    b"<html><body><h1>report</h1><script>document.title='PWNED';"
    b"fetch('/api/v1/me')</script><img src=x onerror=\"document.title='PWNED'\"></body></html>"
)
HOSTILE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="document.title=\'PWNED\'">'
    b"<script>document.title='PWNED'</script><text x='1' y='20'>map</text></svg>"
)


def _blank_png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (240, 120), "white").save(buf, "PNG")
    return buf.getvalue()


FILES = {
    BLUE: {
        "photos/blank.png": _blank_png(),
        "statements/شهادة-أ.txt": "أفاد الشّاهِدُ بأنه احتُجز في فرع فلسطين عام ٢٠١٢.\n".encode(),
        "statements/statement-b.txt": b"The witness described the checkpoint near the river.\n",
        "web/page.html": HOSTILE_HTML,
        "web/map.svg": HOSTILE_SVG,
    },
    RED: {
        "secret/سري.txt": "الشاهد الآخر في فرع سري، لا يراه إلا أصحاب الحيز الأحمر.\n".encode(),
    },
}


@dataclass
class Site:
    ws: Workspace
    app: object
    tokens: dict[str, str] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)  # original path -> item id
    requests: dict[str, int] = field(default_factory=dict)  # reference -> id
    packages: dict[str, str] = field(default_factory=dict)  # jurisdiction -> package id
    _signed_in: dict[str, tuple[TestClient, str]] = field(default_factory=dict, repr=False)

    def api(self, role: str) -> TestClient:
        c = TestClient(self.app)  # type: ignore[arg-type]
        c.headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return c

    def browser(self, role: str) -> tuple[TestClient, str]:
        """A client signed in through the sign-in form, and its session's CSRF token."""
        c = TestClient(self.app)  # type: ignore[arg-type]
        sign_in(c, role)
        page = c.get("/")
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found, page.text[:500]
        return c, found.group(1)

    def signed_in(self, role: str) -> tuple[TestClient, str]:
        """`browser(role)` signed in once for this site and kept: for tests that ask many
        pages as a role and are not about its session (a sign-in is an argon2 check)."""
        if role not in self._signed_in:
            self._signed_in[role] = self.browser(role)
        return self._signed_in[role]

    def item(self, suffix: str) -> int:
        return next(i for path, i in self.items.items() if path.endswith(suffix))


def sign_in(c: TestClient, name: str, password: str = PASSWORD) -> object:
    form = c.get("/signin")
    token = re.search(
        r'action="/signin"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]+)"', form.text
    )
    assert token
    return c.post(
        "/signin",
        data={"name": name, "password": password, "csrf": token.group(1), "next": "/"},
        follow_redirects=False,
    )


def build_site(tmp: Path, home: Path | None = None) -> Site:
    ws = open_workspace(home or tmp / "home")
    for coll, files in FILES.items():
        folder = tmp / coll
        for rel, data in files.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        compartment = "blue" if coll == BLUE else "red"
        provider = "Blue CSO" if coll == BLUE else "Red CSO"
        ingest(
            ws,
            IntakeRequest(
                sources=[str(folder)],
                collection=coll,
                provider=provider,
                compartment=compartment,
                actor="local:test",
            ),
        )
    run(ws)
    site = Site(ws, create_app(ws))
    from sqlalchemy import select

    from amanah.db.models import Item

    with ws.db.reader() as s:
        site.items = {p: i for i, p in s.execute(select(Item.id, Item.original_path)).all()}
    share(site, tmp)
    for role in Role:
        add_user(
            ws,
            role.value,
            role.value,
            PASSWORD,
            compartments=("blue",) if role not in (Role.ADMIN, Role.PROVIDER) else (),
            provider="Blue CSO" if role is Role.PROVIDER else None,
            jurisdiction=BLUE_JURISDICTION if role is Role.RECIPIENT else None,
            by="local:test",
        )
        site.tokens[role.value] = create_token(ws, role.value)
    return site


BLUE_JURISDICTION, RED_JURISDICTION = "XB-PROS", "XR-PROS"
_FACTS = "site.json"


def save_template(site: Site, root: Path) -> None:
    """Keep what a copy of the site needs to know (tokens, ids) beside its folders."""
    facts = {
        "tokens": site.tokens,
        "items": site.items,
        "requests": site.requests,
        "packages": site.packages,
    }
    (root / _FACTS).write_text(json.dumps(facts, ensure_ascii=False), encoding="utf-8")


def copy_site(template: Path, tmp: Path, before_open: Callable[[Path], None] | None = None) -> Site:
    """A private copy of a site built once: each test changes its own database, blobs and
    packages, so no test depends on what another did or on the order they run in.
    `before_open` may change the copied home (move its database) before it is opened."""
    from sqlalchemy import update

    from amanah.db.models import Package

    root = tmp / "site"
    shutil.copytree(template, root, symlinks=True)
    if before_open is not None:
        before_open(root / "home")
    facts = json.loads((root / _FACTS).read_text(encoding="utf-8"))
    ws = open_workspace(root / "home")
    with ws.db.session() as s:
        for code, package_id in facts["packages"].items():
            s.execute(
                update(Package)
                .where(Package.id == package_id)
                .values(path=str(root / "packages" / code))
            )
    site = Site(ws, create_app(ws))
    site.tokens = facts["tokens"]
    site.items = {p: int(i) for p, i in facts["items"].items()}
    site.requests = {r: int(i) for r, i in facts["requests"].items()}
    site.packages = facts["packages"]
    return site


def share(site: Site, tmp: Path) -> None:
    """Two jurisdictions, a request from each, and a package built for each of them."""
    from datetime import date

    from amanah.access import local_administrator
    from amanah.intake import registry
    from amanah.rfa import jurisdictions, requests, review
    from amanah.sharing import package, protected

    ws = site.ws
    admin = local_administrator(ws)
    with ws.db.session() as s:
        for code, state in ((BLUE_JURISDICTION, "Blueland"), (RED_JURISDICTION, "Redland")):
            jurisdictions.add(s, code, state=state, authority=f"{state} war crimes unit")
        fw = registry.add_framework(s, "Blue CSO", "Blue MoU", date(2024, 1, 1), disclosure="any")
        registry.link_framework(s, BLUE, fw.id, admin.actor)
        for code in (BLUE_JURISDICTION, RED_JURISDICTION):
            ref = f"RFA-{code}"
            site.requests[ref] = requests.create(
                s, ref, code, received_on=date(2026, 1, 5), actor=admin.actor, compartments=["blue"]
            ).id
            review.decide(
                s, admin, ref, [site.item("statement-b.txt"), site.item("blank.png")], "relevant"
            )
        protected.add(s, admin, "Witness Z", ["Zaid Nobody-Here"])
    for code in (BLUE_JURISDICTION, RED_JURISDICTION):
        built = package.build(ws, admin, f"RFA-{code}", tmp / "packages" / code)
        site.packages[code] = built["package"]


def custody_events(site: Site, **where: object) -> list[CustodyEvent]:
    """The site's custody events where each column equals the value given, in order."""
    from sqlalchemy import select

    with site.ws.db.reader() as s:
        q = select(CustodyEvent).order_by(CustodyEvent.seq)
        for k, v in where.items():
            q = q.where(getattr(CustodyEvent, k) == v)
        return list(s.execute(q).scalars())
