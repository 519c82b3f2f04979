"""Arabic and English: gettext catalogs, text direction, and dates and digits per language.

The catalogs are .po files read with Babel when the server starts, so a translator edits one
text file and nothing needs compiling. English is the source language.
"""

from __future__ import annotations

import functools
import io
from datetime import date, datetime
from pathlib import Path

from babel.core import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from amanah.display import own

LANGUAGES = {"en": "English", "ar": "العربية"}
DEFAULT = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@functools.cache
def translations(lang: str) -> NullTranslations:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT or not po.exists():
        return NullTranslations()
    with open(po, "rb") as f:
        catalog = read_po(f, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def direction(lang: str) -> str:
    return "rtl" if Locale.parse(lang).character_order == "right-to-left" else "ltr"


def pick(*candidates: str | None, accept: str = "") -> str:
    """The first supported language among explicit choices, then the Accept-Language header."""
    for c in candidates:
        if c in LANGUAGES:
            return c
    for part in accept.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT


def digits(text: str, lang: str) -> str:
    """Numbers the way the language writes them (Arabic-Indic digits in Arabic)."""
    return text.translate(_ARABIC_DIGITS) if lang == "ar" else text


def number(value: int | float, lang: str) -> str:
    """`value` as the language writes it: the app's own text (display.own), shown as it is."""
    text = format_decimal(value, locale=lang)
    if lang == "ar":
        text = text.replace(",", "٬").replace(".", "٫")
    return own(digits(text, lang))


def when(value: datetime | date | str | None, lang: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            if len(value) == 10:  # a date alone (a document's date): no time of day to show
                value = date.fromisoformat(value)
            else:
                value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, datetime):
        text = format_datetime(value, "medium", tzinfo=value.tzinfo, locale=lang)
    else:
        text = format_date(value, "medium", locale=lang)
    # The app's own text: Babel's Arabic dates hold RLM marks that place their parts, which
    # the pages' finalize (display.reveal, for evidence text) must not write out as ⟨U+200F⟩.
    return own(digits(text, lang))


def dynamic_messages() -> list[str]:
    """Words the pages translate from data (roles, states, event types, facets …): the
    catalog test checks each has an Arabic translation."""
    from amanah.access import Role
    from amanah.custody.ledger import EventType
    from amanah.rfa.requests import DECLINE_REASONS, STATES, SUBJECT_LISTS, URGENCIES
    from amanah.sharing.terms import Status

    return [
        *(r.value for r in Role),
        *(e.value for e in EventType),
        *("pending", "done", "failed", "running", "queued"),
        *("item", "search", "collection"),
        *("provider", "collection", "media_type", "language", "year", "has_ocr"),
        *("True", "False", "unknown", "ar", "en", "tr", "fa", "ru", "fr", "de", "ckb", "kmr"),
        *("exact_duplicate", "near_duplicate_image", "near_duplicate_video"),
        "near_duplicate_text",
        *STATES,
        *DECLINE_REASONS,
        *URGENCIES,
        *SUBJECT_LISTS,
        *("period_from", "period_to", "relevant", "not_relevant"),
        *("requested", "given", "withheld"),
        *(x.value for x in Status),
        *("active", "expired", "revoked", "user disabled", "disabled", "enabled"),
        *("meeting", "consultation", "interview", "0-17", "18-59", "60+", "sex f", "sex m"),
        *("sex x", "consent given", "consent withdrawn", "consent none"),
        *("investigation", "sharing", "publication", "contact"),
        *("near-duplicate text", "near-duplicate image", "near-duplicate video"),
        "unknown user name or wrong password",
        *_legal_words(),
        *_search_words(),
        "too many failed sign-ins; wait 15 minutes or ask an administrator",
    ]


def _search_words() -> list[str]:
    """The words the search page says for facet and chip values held as codes."""
    from amanah.web import search_pages

    return [
        *search_pages.HAS_WORDS.values(),
        *search_pages.OCR_WORDS.values(),
        *search_pages.TYPE_WORDS.values(),
    ]


def _legal_words() -> list[str]:
    """The legal officer's pages: framework kinds and terms, protected persons' roles, and the
    fixed reasons those pages translate."""
    from amanah.access.users import ACCOUNT_NAMES_PROTECTED
    from amanah.intake import registry as registry_module
    from amanah.intake.registry import CONFIDENTIALITY, FRAMEWORK_KINDS
    from amanah.persons.lists import LIST_NAMES_PROTECTED
    from amanah.rfa import jurisdictions as jurisdictions_module
    from amanah.sharing import protected as protected_module
    from amanah.sharing.consent import GIVEN_BY_NAMES_PROTECTED
    from amanah.sharing.protected import ROLES
    from amanah.web import frameworks, protected
    from amanah.web import requests as request_pages

    return [
        *request_pages.reason_messages(),
        jurisdictions_module.NAMES_A_PROTECTED_PERSON,
        registry_module.FRAMEWORK_NAMES_PROTECTED,
        registry_module.PROVIDER_NAMES_PROTECTED,
        registry_module.COLLECTION_NAMES_PROTECTED,
        ACCOUNT_NAMES_PROTECTED,
        LIST_NAMES_PROTECTED,
        GIVEN_BY_NAMES_PROTECTED,
        protected_module.COMPARTMENT_NAMES_PROTECTED,
        protected_module.LABEL_NAMES_PROTECTED,
        *(frameworks.KIND_WORDS[k] for k in FRAMEWORK_KINDS),
        *(frameworks.LEVEL_WORDS[c] for c in CONFIDENTIALITY),
        *ROLES,
        *frameworks.DISCLOSURE_WORDS.values(),
        *protected.messages(),
        protected.NOT_SHOWN_AGAIN,
    ]
