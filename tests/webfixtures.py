"""A workspace for the web tests: two providers in two compartments, one account per role."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from fastapi.testclient import TestClient

from amanah.access import Role
from amanah.access.users import add_user, create_token
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
FILES = {
    BLUE: {
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
    for role in Role:
        add_user(
            ws,
            role.value,
            role.value,
            PASSWORD,
            compartments=("blue",) if role not in (Role.ADMIN, Role.PROVIDER) else (),
            provider="Blue CSO" if role is Role.PROVIDER else None,
            by="local:test",
        )
        site.tokens[role.value] = create_token(ws, role.value)
    from sqlalchemy import select

    from amanah.db.models import Item

    with ws.db.reader() as s:
        site.items = {p: i for i, p in s.execute(select(Item.id, Item.original_path)).all()}
    return site
