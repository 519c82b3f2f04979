"""Collection, provider and compartment names pass the one check tags and saved searches pass
(registry.checked_name → analyst.check_label): a newline, NUL, \\x01 or a right-to-left
override in a name is refused on the command line (exit 2) and through the API (400)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import amanah
from tests.webfixtures import Site

BAD = ("two\nlines", "rep\u202eort", "nul\x00", "ctl\x01", "mark\u200f")


def test_ingest_refuses_control_characters_in_names(sqlite_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("a statement\n", encoding="utf-8")
    for bad in BAD:
        for args in (
            ("--collection", bad, "--provider", "P"),
            ("--collection", "c", "--provider", bad),
        ):
            proc = amanah(sqlite_home, "ingest", str(folder), *args, "--quiet")
            assert proc.returncode == 2, (bad, args, proc.returncode, proc.stderr)
            assert "Traceback" not in proc.stderr
    listed = amanah(sqlite_home, "collection", "list", check=True).stdout
    assert "two" not in listed and "rep" not in listed


def test_the_api_refuses_control_characters_in_names(site: Site) -> None:
    api = site.api("admin")
    for bad in BAD:
        for body in (
            {"name": bad, "provider": "Documentation Group (test)"},
            {"name": "fine-name", "provider": bad},
        ):
            r = api.post("/api/v1/collections", json=body)
            assert r.status_code in (400, 422), (bad, r.status_code, r.text)
    r = api.post("/api/v1/collections", json={"name": "fine-name", "provider": "Provider Z"})
    assert r.status_code == 201, r.text
