"""The command line around the web: accounts, tokens, compartments, and `amanah serve`."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import amanah, amanah_here
from tests.webfixtures import BLUE, Site, sign_in
from tests.webfixtures import custody_events as _events

# --- CLI ----------------------------------------------------------------------------------------


def test_cli_accounts_tokens_and_compartments(site: Site) -> None:
    home = site.ws.home
    r = amanah(
        home,
        "user",
        "add",
        "rania",
        "--role",
        "analyst",
        "--compartment",
        "blue",
        "--password-stdin",
        input="  a password with spaces  \n",
        check=True,
    )
    assert "rania (analyst)" in r.stdout and "shown once" not in r.stdout
    c = TestClient(site.app)  # type: ignore[arg-type]
    assert sign_in(c, "rania", "  a password with spaces  ").status_code == 303  # type: ignore[attr-defined]
    r = amanah_here(home, "user", "add", "x", "--role", "wizard")
    assert r.returncode == 2 and "no role 'wizard'" in r.stderr
    r = amanah_here(home, "user", "add", "cso", "--role", "provider")
    assert r.returncode == 2 and "--provider NAME" in r.stderr
    token = amanah_here(home, "token", "create", "rania", check=True).stdout.strip()
    api = TestClient(site.app)  # type: ignore[arg-type]
    api.headers["Authorization"] = f"Bearer {token}"
    assert api.get("/api/v1/me").json()["actor"] == "user:rania"
    # Moving a collection to another compartment is recorded, and search follows at once.
    assert api.get("/api/v1/search", params={"q": "checkpoint"}).json()["total"] == 1
    amanah_here(home, "collection", "set", BLUE, "--compartment", "blue-2", check=True)
    try:
        assert api.get("/api/v1/search", params={"q": "checkpoint"}).json()["total"] == 0
        change = _events(site, event_type="restriction change")[-1]
        assert json.loads(change.details)["compartment"] == {"from": "blue", "to": "blue-2"}
        r = amanah_here(home, "ingest", str(home), "--collection", BLUE, "--compartment", "blue")
        assert r.returncode == 2 and "amanah collection set" in r.stderr
    finally:
        amanah_here(home, "collection", "set", BLUE, "--compartment", "blue", check=True)


def test_amanah_serve_creates_the_administrator_and_runs_the_runner(tmp_path: Path) -> None:
    import subprocess
    import time

    import httpx

    from tests.conftest import REPO, without_semantic

    home = tmp_path / "home"
    amanah_here(home, "init", check=True)
    without_semantic(home)  # the runner's work is the subject, not search by meaning
    # One document that says "custody" is enough for the runner to prove itself: all 16 of
    # docs/ were processed and embedded beside the test, which waits for one hit.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "custody-ledger.md").write_bytes((REPO / "docs" / "custody-ledger.md").read_bytes())
    amanah_here(
        home,
        "ingest",
        str(docs),
        "--collection",
        "docs",
        "--provider",
        "P",
        "--quiet",
        check=True,
    )
    from tests.servers import start_serve

    log = tmp_path / "serve.log"
    proc, base = start_serve(home, "--web-workers", "2", log_path=log)
    try:
        first = log.read_text().splitlines()[0]
        assert first.startswith("first run: user admin, password (shown once): ")
        password = first.rsplit(" ", 1)[1].strip()
        c = httpx.Client(base_url=base, timeout=30)
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/signin").text)
        assert token
        r = c.post("/signin", data={"name": "admin", "password": password, "csrf": token.group(1)})
        assert r.status_code == 303
        # The embedded runner processes what was ingested: the docs become searchable.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            found = c.get("/search", params={"q": "custody"})
            if 'article class="hit"' in found.text:
                break
            time.sleep(1)
        assert 'article class="hit"' in found.text
        c.close()
    finally:
        proc.terminate()
        proc.wait(60)
    time.sleep(1)
    runners = subprocess.run(
        ["pgrep", "-f", f"--home {home} process --follow"], capture_output=True, text=True
    )
    assert runners.stdout.strip() == "", "the runner outlived amanah serve"
