"""A recipient's first page lists the packages built for its jurisdiction, and the check it
prints works exactly as written in the folder the download unpacks to."""

from __future__ import annotations

import html
import io
import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.webfixtures import BLUE_JURISDICTION, RED_JURISDICTION, Site


def test_the_recipients_dashboard_lists_its_own_packages_only(site: Site) -> None:
    own, other = site.packages[BLUE_JURISDICTION], site.packages[RED_JURISDICTION]
    c, _ = site.browser("recipient")
    page = c.get("/").text
    assert f'href="/packages/{own}"' in page and f'href="/packages/{own}/download"' in page
    assert other not in page
    arabic = c.get("/?lang=ar").text
    assert "الحزم الموجّهة إلى جهتك القضائية" in arabic and own in arabic


def test_the_printed_check_runs_as_written_in_the_unpacked_folder(site: Site, tmp_path: Path):
    own = site.packages[BLUE_JURISDICTION]
    c, _ = site.browser("recipient")
    page = html.unescape(re.sub(r"<[^>]+>", "", c.get("/").text))
    said = re.search(r"In that folder run: (python3 [^,]+), where KEY", page)
    assert said, "the dashboard tells how to check a package"
    command = shlex.split(said.group(1))
    assert command[:2] == ["python3", "amanah/verify_package.py"] and "--key-id" in command
    r = c.get(f"/packages/{own}/download")
    assert r.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert {n.split("/")[0] for n in names} == {own}  # one folder named after the package
    zipfile.ZipFile(io.BytesIO(r.content)).extractall(tmp_path)
    folder = tmp_path / own
    run = [sys.executable, *[site.ws.key.key_id if w == "KEY" else w for w in command[1:]]]
    checked = subprocess.run(run, cwd=folder, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The same command with another key id is refused: the check names who made it.
    wrong = [w if w != site.ws.key.key_id else "0" * len(w) for w in run]
    refused = subprocess.run(wrong, cwd=folder, capture_output=True, text=True, check=False)
    assert refused.returncode != 0
