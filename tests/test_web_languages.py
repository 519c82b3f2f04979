"""The web application in Arabic and English: catalogs complete, pages right-to-left."""

from __future__ import annotations

import re
from pathlib import Path

from tests.webfixtures import Site


def test_every_template_string_and_data_word_has_an_arabic_translation() -> None:
    from babel.messages.extract import extract_from_dir

    from amanah.web.i18n import dynamic_messages, translations

    ar = translations("ar")
    found = [
        m[2] if isinstance(m[2], str) else m[2][0]
        for m in extract_from_dir(
            str(Path(__file__).parent.parent / "amanah" / "web" / "templates"),
            method_map=[("**.html", "jinja2")],
            options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
        )
    ]
    assert len(found) > 100
    missing = [m for m in found + dynamic_messages() if ar.gettext(m) == m and m != "SHA-256"]
    assert not missing, missing


def test_arabic_pages_are_rtl_with_arabic_digits_and_english_ltr(site: Site) -> None:
    c, _ = site.browser("analyst")
    c.get("/lang/ar?next=/")
    page = c.get("/search?q=الشاهد").text
    assert '<html lang="ar" dir="rtl">' in page and "بحث" in page
    # the count in Arabic's plural forms (one hit: "نتيجة واحدة"), digits Arabic-Indic
    assert re.search(r"نتيجة واحدة|نتيجتان|[٠-٩]+ نتائج|[٠-٩]+ نتيجة", page)
    assert re.search(r"[٠-٩]+ ملي ثانية", page)
    c.get("/lang/en?next=/")
    page = c.get("/search?q=الشاهد").text
    assert '<html lang="en" dir="ltr">' in page and re.search(r"\b\d+ hits?\b", page)
