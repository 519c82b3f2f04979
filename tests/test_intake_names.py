"""Names typed at intake are kept and shown in clear (a provider's name, a collection's name,
method, place and collector, a person list's name, a user's name): none may name a protected
person. Each is held to the same refusal frameworks and jurisdictions have (one helper,
`protected.refuse_names`, each module with its own error); the reason says which field,
never which name; the command line exits 2, the web form says it in the reader's language.
Ordinary names pass (negative controls)."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from sqlalchemy import func, select

from amanah.access import local_administrator
from amanah.access.users import ACCOUNT_NAMES_PROTECTED, AccountError, add_user
from amanah.db.models import Collection, Provider, User
from amanah.intake import registry
from amanah.persons.lists import LIST_NAMES_PROTECTED, PersonsError, import_list
from amanah.sharing import protected
from amanah.web import i18n
from amanah.workspace import open_workspace
from tests.conftest import amanah, amanah_here
from tests.webfixtures import Site

AR = "أحمد الخطيب"
LATIN = "Ahmad al-Khatib"
SPELLINGS = (AR, LATIN, "Ahmad", "Khatib", "أحمد", "الخطيب")


@pytest.fixture
def home(sqlite_home: Path, tmp_path: Path) -> Path:
    ws = open_workspace(sqlite_home)
    try:
        with ws.db.session() as s:
            protected.add(s, local_administrator(ws), "Witness A", [AR, LATIN])
    finally:
        ws.close()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "statement.txt").write_text("a statement\n", encoding="utf-8")
    return sqlite_home


def _counts(home: Path) -> tuple[int, int]:
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            return (
                s.execute(select(func.count()).select_from(Provider)).scalar_one(),
                s.execute(select(func.count()).select_from(Collection)).scalar_one(),
            )
    finally:
        ws.close()


def _no_name(text: str) -> None:
    for spelling in SPELLINGS:
        assert spelling.lower() not in text.lower()


def test_a_provider_naming_a_protected_person_is_refused_by_the_command_line(
    home: Path, tmp_path: Path
) -> None:
    """A real process: exit 2, the reason, no name echoed, nothing recorded."""
    proc = amanah(
        home, "ingest", str(tmp_path / "in"), "--collection", "Batch 1",
        "--provider", f"family of {LATIN}", "--quiet",
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert registry.PROVIDER_NAMES_PROTECTED.split(":")[0] in " ".join(proc.stderr.split())
    _no_name(proc.stdout + proc.stderr)
    assert _counts(home) == (0, 0)


@pytest.mark.parametrize(
    "option, value",
    [
        ("--collection", f"Statements of {AR}"),
        ("--method", f"interview with {LATIN}"),
        ("--place", f"the house of {LATIN.upper()}"),
        ("--collector", "Ah\u200bmad al-Kha\u00adtib"),  # zero-width space, soft hyphen
    ],
)
def test_a_collection_whose_words_name_a_protected_person_is_refused(
    home: Path, tmp_path: Path, option: str, value: str
) -> None:
    args = {"--collection": "Batch 1", "--provider": "Syrian Archive"} | {option: value}
    proc = amanah_here(home, "ingest", str(tmp_path / "in"), *sum(args.items(), ()), "--quiet")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    said = " ".join((proc.stdout + proc.stderr).split())
    assert "a collection's name, method, place and collector must not name a protected" in said
    _no_name(proc.stdout + proc.stderr)
    assert _counts(home) == (0, 0)  # nor the provider, created in the same transaction


def test_ordinary_names_are_accepted(home: Path, tmp_path: Path) -> None:
    """Negative control: names that are not a protected person's (one shares a first name)."""
    proc = amanah_here(
        home, "ingest", str(tmp_path / "in"), "--collection", "Statements 2019",
        "--provider", "Syrian Archive", "--method", "copied from a phone",
        "--place", "Gaziantep", "--collector", "Ahmad Haddad", "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _counts(home) == (1, 1)


def test_a_user_or_a_person_list_named_after_a_protected_person_is_refused(
    home: Path, tmp_path: Path
) -> None:
    ws = open_workspace(home)
    try:
        admin = local_administrator(ws)
        with pytest.raises(AccountError) as refused:
            add_user(ws, "ahmad.al-khatib", "analyst", None, by=admin.actor)
        assert str(refused.value) == ACCOUNT_NAMES_PROTECTED
        with pytest.raises(AccountError, match="must not name a protected person"):
            add_user(ws, "uploader", "provider", None, provider=LATIN, by=admin.actor)
        path = tmp_path / "list.csv"
        path.write_text("name\nsomeone\n", encoding="utf-8")
        with pytest.raises(PersonsError) as refused_list:
            import_list(ws, admin, path, f"detainees named by {AR}")
        assert str(refused_list.value) == LIST_NAMES_PROTECTED
        add_user(ws, "field.officer", "analyst", None, by=admin.actor)  # negative control
        with ws.db.reader() as s:
            names = s.execute(select(User.name)).scalars().all()
            providers = s.execute(select(Provider.name)).scalars().all()
        assert "field.officer" in names and not any("khatib" in n for n in names)
        assert providers == []
    finally:
        ws.close()


def test_frameworks_and_jurisdictions_refuse_through_the_same_helper(home: Path) -> None:
    """The two refusals that stood before, now one function with each module's own error."""
    from amanah.rfa import RequestError, jurisdictions

    ws = open_workspace(home)
    try:
        with ws.db.session() as s:
            with pytest.raises(registry.RegistryError) as fw:
                registry.add_framework(s, "Syrian Archive", f"MoU on {LATIN}", None)
            assert str(fw.value) == registry.FRAMEWORK_NAMES_PROTECTED
            with pytest.raises(RequestError) as j:
                jurisdictions.add(s, "FR", state="France", authority=f"office of {AR}")
            assert str(j.value) == jurisdictions.NAMES_A_PROTECTED_PERSON
    finally:
        ws.close()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_web_form_refuses_in_the_readers_language(site: Site, lang: str) -> None:
    c, csrf = site.browser("admin")
    if lang == "ar":
        c.get("/lang/ar?next=/")
    r = c.post(
        "/collections",
        data={"csrf": csrf, "name": "web batch", "provider": "Zaid Nobody-Here", "method": ""},
        follow_redirects=False,
    )
    assert r.status_code == 400, r.text[:500]
    said = i18n.translations(lang).gettext(registry.PROVIDER_NAMES_PROTECTED)
    assert said != registry.PROVIDER_NAMES_PROTECTED or lang == "en"
    assert html.escape(said, quote=True) in r.text or said in html.unescape(r.text)
    assert "Nobody" not in r.text and "Zaid" not in r.text
    ok = c.post(  # negative control
        "/collections",
        data={"csrf": csrf, "name": "web batch", "provider": "Blue CSO", "compartment": "blue"},
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text[:500]


def test_consent_names_who_gave_it_never_as_a_protected_person(site: Site) -> None:
    """Who gave consent is kept and printed in clear: refused when it names a protected person;
    the note rests with the name as its pseudonym, as a request's note does."""
    from amanah.db.models import Consent
    from amanah.sharing import SharingError, consent
    from tests.webfixtures import BLUE_JURISDICTION

    admin = local_administrator(site.ws)
    reference = f"RFA-{BLUE_JURISDICTION}"
    with site.ws.db.session() as s:
        with pytest.raises(SharingError) as refused:
            consent.record(s, admin, reference, "Blue CSO", "given", given_by="Zaid Nobody-Here")
        assert str(refused.value) == consent.GIVEN_BY_NAMES_PROTECTED
    with site.ws.db.session() as s:
        row = consent.record(
            s, admin, reference, "Blue CSO", "given", given_by="the CSO's legal officer",
            note="asked after Zaid Nobody-Here's statement",
        )  # fmt: skip
        kept = s.get(Consent, row.id)
        assert kept is not None and "Nobody" not in kept.note and "Witness Z" in kept.note
        assert kept.given_by == "the CSO's legal officer"  # negative control
