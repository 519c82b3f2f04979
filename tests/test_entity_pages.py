"""The entity page (issue 15): names in both scripts, relations over time, evidence and
mentions with their items, in English and Arabic, behind need-to-know; a merged entity's page
sends the reader to its keeper. Real server app, real sign-in, real processed text files."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from amanah.access import Caller
from amanah.access.users import add_user
from amanah.config import write_default_config
from amanah.db.models import CustodyEvent, Item
from amanah.entities.links import link
from amanah.entities.mentions import find_in_items
from amanah.entities.merge import merge
from amanah.entities.store import add_entity, add_name, relate
from amanah.processing.runner import run
from amanah.web.app import create_app
from amanah.workspace import Workspace, open_workspace
from tests.conftest import ingest_folder, without_semantic
from tests.webfixtures import PASSWORD, sign_in

ADMIN = Caller(actor="local:admin", compartments=frozenset({"blue", "red", "default"}))


@dataclass
class Site:
    ws: Workspace
    app: object
    ids: dict[str, int]

    def browser(self, name: str) -> TestClient:
        c = TestClient(self.app)  # type: ignore[arg-type]
        sign_in(c, name)
        return c


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    home = tmp_path / "home"
    write_default_config(home)
    without_semantic(home)
    ws = open_workspace(home)
    for compartment, text in (
        ("blue", "The report names Muhammad Ahmad al-Habbo at the branch.\n"),
        ("red", "The source says the colonel commanded the prison.\n"),
    ):
        folder = tmp_path / compartment
        folder.mkdir()
        (folder / f"{compartment}.txt").write_text(text, encoding="utf-8")
        ingest_folder(ws, folder, collection=compartment, compartment=compartment)
    with ws.db.reader() as s:
        items = {Path(i.original_path).stem: i.id for i in s.execute(select(Item)).scalars()}
    with ws.db.session() as s:
        person = add_entity(s, ADMIN, "person", "Muhammad Ahmad al-Habbo").id
        add_name(s, ADMIN, person, "محمد أحمد الحبو", kind="official")
        unit = add_entity(s, ADMIN, "organisation", "Branch 215").id
        prison = add_entity(s, ADMIN, "facility", "Saydnaya prison").id
        hidden_one = add_entity(s, ADMIN, "person", "Colonel Known From Red Only").id
        seen = relate(s, ADMIN, person, "member_of", unit, valid_from="2011-03", valid_to="2012").id
        hidden = relate(s, ADMIN, person, "operates", prison, valid_from="2013").id
        twin = add_entity(s, ADMIN, "person", "Mohamed Ahmed el-Habbo").id
    run(ws, workers=1)  # text derivatives; mentions found when processed
    with ws.db.session() as s:
        link(ws, s, ADMIN, items["blue"], relation_id=seen, span=(16, 39), derivative="text")
        link(ws, s, ADMIN, items["red"], relation_id=hidden, span=(4, 10), derivative="text")
        link(ws, s, ADMIN, items["red"], entity_id=hidden_one, span=(4, 10), derivative="text")
    find_in_items(ws, ADMIN, [items["blue"]])
    with ws.db.session() as s:
        merge(s, ADMIN, person, twin)
    for name, role, compartments in (("rania", "analyst", ("blue",)), ("p", "provider", ())):
        add_user(
            ws,
            name,
            role,
            PASSWORD,
            compartments=compartments,
            provider="P" if role == "provider" else None,
            by="local:test",
        )
    ids = {
        "person": person,
        "unit": unit,
        "prison": prison,
        "hidden_one": hidden_one,
        "seen": seen,
        "hidden": hidden,
        "twin": twin,
        **{f"item_{k}": v for k, v in items.items()},
    }
    yield Site(ws, create_app(ws), ids)
    ws.close()


def test_entity_page_in_english_and_arabic_behind_need_to_know(site: Site) -> None:
    ids = site.ids
    c = site.browser("rania")
    page = c.get(f"/entities/{ids['person']}")
    assert page.status_code == 200, page.text[:500]
    html = page.text
    arabic = html.split("Names in Arabic script")[1].split("Names in other scripts")[0]
    latin = html.split("Names in other scripts")[1].split("Relations over time")[0]
    assert "محمد أحمد الحبو" in arabic and "al-Habbo" not in arabic
    assert "Muhammad Ahmad al-Habbo" in latin and "el-Habbo" in latin  # the twin's, merged
    assert f'id="relation-{ids["seen"]}"' in html and "Branch 215" in html
    assert "2011-03" in html and "member of" in html
    # the relation known only from the red compartment does not exist for her
    assert f'id="relation-{ids["hidden"]}"' not in html and "Saydnaya" not in html
    assert f'href="/items/{ids["item_blue"]}"' in html
    assert f'href="/items/{ids["item_red"]}"' not in html
    assert 'id="mention-' in html  # the name found in the blue report, with its words
    # showing evidence is an audited read of the item it stands in
    with site.ws.db.reader() as s:
        reads = [
            json.loads(e.details)
            for e in s.execute(
                select(CustodyEvent).where(
                    CustodyEvent.event_type == "access",
                    CustodyEvent.object_id == str(ids["item_blue"]),
                    CustodyEvent.actor == "user:rania",
                )
            ).scalars()
        ]
    assert {"read evidence links", "read mentions"} <= {r["action"] for r in reads}

    ar = c.get(f"/entities/{ids['person']}?lang=ar")
    assert ar.status_code == 200
    assert 'dir="rtl"' in ar.text and "العلاقات عبر الزمن" in ar.text and "عضو في" in ar.text
    assert "الأسماء بالحرف العربي" in ar.text


def test_hidden_absent_merged_and_refused(site: Site) -> None:
    ids = site.ids
    c = site.browser("rania")
    hidden = c.get(f"/entities/{ids['hidden_one']}")
    absent = c.get("/entities/99999")
    assert hidden.status_code == absent.status_code == 404
    assert "Colonel" not in hidden.text
    assert f"no entity with id {ids['hidden_one']}" in hidden.text
    same = [re.sub(r"(with id |/entities/)\d+", r"\1N", r.text) for r in (hidden, absent)]
    assert same[0] == same[1]  # the same words as an absent one
    merged = c.get(f"/entities/{ids['twin']}", follow_redirects=False)
    assert merged.status_code == 303 and merged.headers["location"] == f"/entities/{ids['person']}"
    assert c.get("/entities/0").status_code in (404, 422)
    provider = site.browser("p")
    assert provider.get(f"/entities/{ids['person']}").status_code == 403
