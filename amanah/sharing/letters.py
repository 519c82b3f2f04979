"""Letters as PDF (Arabic and English), rendered by WeasyPrint, which shapes Arabic and lays
right-to-left text out correctly. Templates are autoescaped: names and file names come from
evidence and requests; their bidi controls are made visible (amanah.display.reveal), so a
right-to-left override in a file name cannot reorder what the reader sees."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from amanah.display import reveal

TEMPLATES = Path(__file__).with_name("templates")


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        finalize=reveal,
    )


def render_pdf(template: str, **context: Any) -> bytes:
    from weasyprint import CSS, HTML

    html = _env().get_template(template).render(**context)
    css = CSS(filename=str(TEMPLATES / "letter.css"))
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf(stylesheets=[css])
