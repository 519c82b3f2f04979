"""The administrator's new-user form: chosen from lists, not typed, so a typo cannot create
an orphan provider or an administrator by default; a problem re-shows the form with what
was typed (never the password) and says what, in the page's language."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from amanah.db.models import Provider, User
from tests.webfixtures import PASSWORD, Site


def _post(site: Site, lang: str = "en", **data: object) -> tuple[int, str]:
    c, csrf = site.browser("admin")
    c.cookies.set("amanah_lang", lang)
    r = c.post("/users", data={"csrf": csrf, "password": PASSWORD, **data}, follow_redirects=False)
    return r.status_code, r.text


def _count(site: Site, model: type, **where: object) -> int:
    with site.ws.db.reader() as s:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return int(s.execute(q).scalar_one())


def test_the_form_offers_lists_and_no_role_is_chosen_by_default(site: Site) -> None:
    c, _ = site.browser("admin")
    page = c.get("/users").text
    form = page[page.index('action="/users#new-user"') :]
    role = re.search(r'<select name="role" required>(.*?)</select>', form, re.S)
    assert role, form[:800]
    selected = re.findall(r'<option value="([^"]*)"[^>]*\bselected\b', role.group(1))
    assert selected == [""]  # the placeholder, which is disabled: the browser asks for a role
    assert 'value="Blue CSO"' in form and 'value="Red CSO"' in form  # providers to choose from
    assert 'name="compartment" value="blue"' in form and 'value="red"' in form
    assert 'value="XB-PROS"' in form  # jurisdictions from the list


def test_a_form_without_a_role_creates_nobody_and_keeps_what_was_typed(site: Site) -> None:
    before = _count(site, User)
    status, page = _post(site, name="newanalyst", compartment=["blue"])
    assert status == 400
    assert "Choose a role." in page
    assert 'value="newanalyst"' in page
    assert re.search(r'name="compartment" value="blue" checked', page)
    assert PASSWORD not in page
    assert _count(site, User) == before


def test_a_misspelt_provider_is_refused_not_created(site: Site) -> None:
    providers = _count(site, Provider)
    status, page = _post(site, name="p2", role="provider", provider="Blue CS0")
    assert status == 400 and "No such provider; choose one of the list." in page
    assert _count(site, Provider) == providers and _count(site, User, name="p2") == 0
    # Both a chosen and a new provider is ambiguous.
    status, page = _post(site, name="p2", role="provider", provider="Blue CSO", new_provider="X")
    assert status == 400 and "not both" in page
    assert _count(site, Provider) == providers


def test_an_existing_provider_chosen_and_a_new_one_named_both_work(site: Site) -> None:
    status, _ = _post(site, name="p3", role="provider", provider="Blue CSO")
    assert status == 303
    status, _ = _post(site, name="p4", role="provider", new_provider="Green CSO")
    assert status == 303
    assert _count(site, Provider, name="Green CSO") == 1
    with site.ws.db.reader() as s:
        q = select(User.name, User.role).where(User.name.in_(["p3", "p4"]))
        roles = {n: r for n, r in s.execute(q).all()}
    assert roles == {"p3": "provider", "p4": "provider"}


def test_chosen_and_new_compartments_are_granted(site: Site) -> None:
    status, _ = _post(site, name="a5", role="analyst", compartment=["blue"], compartments="green")
    assert status == 303
    from amanah.db.models import Grant

    with site.ws.db.reader() as s:
        uid = s.execute(select(User.id).where(User.name == "a5")).scalar_one()
        got = set(s.execute(select(Grant.compartment).where(Grant.user_id == uid)).scalars())
    assert got == {"blue", "green"}


def test_problems_are_told_in_arabic_on_an_arabic_page(site: Site) -> None:
    status, page = _post(site, lang="ar", name="r6", role="recipient")
    assert status == 400
    assert "يحتاج حساب المستلم إلى جهته القضائية." in page
    assert "A recipient account needs" not in page
    status, page = _post(site, lang="ar", name="bad name!", role="analyst")
    assert status == 400 and "لا يحوي اسم المستخدم" in page


def test_only_the_administrator_reaches_the_form(site: Site) -> None:
    c, csrf = site.browser("analyst")
    r = c.post(
        "/users",
        data={"csrf": csrf, "name": "x7", "role": "admin", "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert _count(site, User, name="x7") == 0
