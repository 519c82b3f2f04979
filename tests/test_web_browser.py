"""The pages as a person uses them, in Debian's chromium driven by Playwright.

Screenshots of every step are saved in test-artifacts/browser/ (or $AMANAH_TEST_ARTIFACTS).
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from amanah.processing.runner import run
from tests.conftest import CHROMIUM, REPO
from tests.webfixtures import BLUE, PASSWORD, Site, build_site

pytestmark = pytest.mark.needs("chromium")
ARTIFACTS = Path(os.environ.get("AMANAH_TEST_ARTIFACTS", REPO / "test-artifacts")) / "browser"
STATEMENT = (
    "<html lang='ar' dir='rtl'><body style='font-family: DejaVu Sans; font-size: 20px'>"
    "<p>إفادة تجريبية: قال الشّاهِدُ أحمد إنه احتُجز في فرع المخابرات الجوية.</p>"
    "<p>Demo statement: the witness Ahmad was detained.</p></body></html>"
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, str]]:
    site = build_site(tmp_path_factory.mktemp("browser"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(site.app, host="127.0.0.1", port=port, log_level="warning")  # type: ignore[arg-type]
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield site, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    site.ws.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def sign_in(page: object, base: str, name: str) -> None:
    page.goto(f"{base}/signin")  # type: ignore[attr-defined]
    page.fill("input[name=name]", name)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"{base}/")  # type: ignore[attr-defined]


def test_upload_an_arabic_pdf_search_a_variant_open_it_and_read_it_in_arabic(
    live: tuple[Site, str], browser: object, tmp_path: Path
) -> None:
    site, base = live
    page = browser.new_page(locale="en-GB")  # type: ignore[attr-defined]
    # The statement PDF is printed by the same browser: a real text layer with Arabic shaping.
    page.set_content(STATEMENT)
    pdf = tmp_path / "إفادة الشاهد.pdf"
    pdf.write_bytes(page.pdf())
    sign_in(page, base, "intake")
    shot(page, "01-dashboard")
    page.click("nav >> text=Upload")
    page.select_option("#collection", BLUE)
    page.set_input_files("#files", str(pdf))
    page.wait_for_selector("tr.done", timeout=180_000)
    receipt = page.inner_text("tr.done .receipt")
    assert receipt.startswith(hashlib.sha256(pdf.read_bytes()).hexdigest())
    shot(page, "02-upload-receipt")
    run(site.ws)  # the embedded runner, as `amanah serve` runs it beside the server
    page.click("nav >> text=Search")
    page.fill("input[name=q]", "افادة مخابرات")  # without the hamza, without the article
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("article.hit")
    shot(page, "03-search")
    assert page.locator("article.hit mark").count() >= 1
    page.click("article.hit h3 a >> text=إفادة الشاهد.pdf")
    page.wait_for_selector(".page-text")  # the text, page by page
    marks = page.locator(".page-text mark").all_inner_texts()
    assert "إفادة" in marks and "المخابرات" in marks  # marked as written in the document
    shot(page, "04-item")
    page.click("a.lang[lang=ar]")
    page.wait_for_selector("html[dir=rtl]")
    assert page.evaluate("document.documentElement.lang") == "ar"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert "تنزيل الأصل" in page.inner_text("main")
    shot(page, "05-item-arabic")
    page.close()


@pytest.mark.parametrize(("name", "shown"), [("page.html", "report"), ("map.svg", "map")])
def test_hostile_html_and_svg_evidence_runs_no_script(
    live: tuple[Site, str], browser: object, name: str, shown: str
) -> None:
    site, base = live
    page = browser.new_page()  # type: ignore[attr-defined]
    dialogs: list[str] = []
    fetched: list[str] = []  # the hostile script's fetch('/api/v1/me'), if it ever ran
    errors: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: fetched.append(r.url) if "/api/v1/me" in r.url else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, base, "analyst")
    item = site.item(name)
    page.goto(f"{base}/items/{item}")
    page.wait_for_load_state("networkidle")
    shot(page, f"06-hostile-{name}")
    # The evidence is there, as text: its words shown, its markup inert.
    assert shown in page.inner_text("main")
    assert page.locator("main script").count() == 0
    assert page.title() != "PWNED" and not dialogs and not fetched, (dialogs, fetched)
    # Asked for directly, the evidence is a download, never a page of this site.
    with page.expect_download() as download:
        page.evaluate(f"window.location.href = '/api/v1/items/{item}/content'")
    assert download.value.suggested_filename == name
    assert Path(download.value.path()).read_bytes()[:5] in (b"<html", b"<svg ")
    page.wait_for_load_state("networkidle")
    assert page.title() != "PWNED" and not dialogs and not fetched, (dialogs, fetched)
    assert not errors, errors
    page.close()
