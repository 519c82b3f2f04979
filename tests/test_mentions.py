"""Mentions (issue 15): an entity's names, in every spelling and either script, found in items'
text derivatives with page and span; accepted into evidence links or rejected, each decision a
custody event without the name in clear; seen only by callers who may see the item.

Real PDFs printed here (WeasyPrint, Arabic right to left; PyMuPDF), ingested and processed for
real, the command line run as a user types it."""

from __future__ import annotations

import html
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pymupdf
import pytest
from sqlalchemy import select

from amanah.access import Caller, Role
from amanah.config import write_default_config
from amanah.db.models import CustodyEvent, EntityMention, EvidenceLink, Item, Job
from amanah.entities.mentions import NameIndex, items_of, list_mentions
from amanah.entities.store import add_entity
from amanah.processing.runner import run
from amanah.workspace import Workspace, open_workspace
from tests.conftest import amanah, ingest_folder

ARABIC_NAME = "محمد أحمد الحبو"  # the name the entity is recorded under
ARABIC_SPELLING = "مُحمّد احمد الحبّو"  # as the Arabic report writes it (harakat, shadda, hamza)
ENGLISH_SPELLING = "Muhammad Ahmed Al-Hebo"  # as the English report writes it
BROTHER = "Khaled Ahmad Al-Habbo"


def weasy_pdf(pages: list[list[str]], out: Path, rtl: bool) -> Path:
    """A real PDF printed by WeasyPrint, one HTML page per list of paragraphs."""
    import weasyprint

    body = "".join(
        f'<div style="page-break-before: {"always" if i else "auto"}">'
        + "".join(f"<p>{html.escape(p)}</p>" for p in paras)
        + "</div>"
        for i, paras in enumerate(pages)
    )
    page = (
        f'<!doctype html><html dir="{"rtl" if rtl else "ltr"}"><head><meta charset="utf-8">'
        "<style>body{font-family:'DejaVu Sans',sans-serif;font-size:14pt}</style>"
        f"</head><body>{body}</body></html>"
    )
    weasyprint.HTML(string=page).write_pdf(out)
    return out


def mupdf_pdf(pages: list[str], out: Path) -> Path:
    doc = pymupdf.open()
    for line in pages:
        doc.new_page().insert_text((72, 100), line, fontsize=12)
    doc.save(out)
    doc.close()
    return out


@dataclass
class World:
    home: Path
    ws: Workspace
    ids: dict[str, int]


@pytest.fixture(scope="module")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """Four processed PDFs, before any entity exists: an Arabic report (name on page 2) and an
    English one in compartment `open`, a brother's report and one in compartment `secret`."""
    tmp = tmp_path_factory.mktemp("mentions")
    home = tmp / "home"
    write_default_config(home)
    ws = open_workspace(home)
    folder = tmp / "open"
    folder.mkdir()
    weasy_pdf(
        [
            ["تقرير عن الاعتقالات في الفرع"],
            [f"وقال الشاهد إن {ARABIC_SPELLING} أشرف على التحقيق في عام 2012"],
        ],
        folder / "arabic.pdf",
        rtl=True,
    )
    mupdf_pdf(
        ["Report on detention", f"The witness said that {ENGLISH_SPELLING} led the questioning."],
        folder / "english.pdf",
    )
    mupdf_pdf([f"{BROTHER} was seen at the checkpoint."], folder / "brother.pdf")
    ingest_folder(ws, folder, collection="open", compartment="open")
    secret = tmp / "secret"
    secret.mkdir()
    mupdf_pdf(["Statement: Mohammad Ahmad Al-Habbo gave the order."], secret / "secret.pdf")
    ingest_folder(ws, secret, collection="secret", compartment="secret")
    run(ws, workers=1)
    with ws.db.reader() as s:
        ids = {Path(i.original_path).name: i.id for i in s.execute(select(Item)).scalars()}
    ws.close()
    return home, ids


@pytest.fixture
def world(world_template: tuple[Path, dict[str, int]], tmp_path: Path) -> Iterator[World]:
    home = tmp_path / "home"
    shutil.copytree(world_template[0], home)
    ws = open_workspace(home)
    yield World(home, ws, world_template[1])
    ws.close()


def cli_json(home: Path, *args: str) -> object:
    return json.loads(amanah(home, *args, "--json", check=True).stdout)


def admin() -> Caller:
    return Caller(actor="local:admin", compartments=frozenset({"open", "secret", "default"}))


def analyst(*compartments: str) -> Caller:
    return Caller(actor="web:rania", compartments=frozenset(compartments), role=Role.ANALYST)


def person(home: Path, name: str = ARABIC_NAME) -> int:
    return int(cli_json(home, "entity", "add", "person", name)["id"])  # type: ignore[index]


def test_one_person_found_in_arabic_and_english_pdfs_in_two_spellings(world: World) -> None:
    pid = person(world.home)
    found = json.loads(amanah(world.home, "entity", "mentions", "--json", check=True).stdout)
    assert found == {"items": 4, "mentions": 3}
    listed = amanah(world.home, "entity", "mention", "list", "--entity", str(pid), "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert isinstance(rows, list)
    by_item = {r["item"]: r for r in rows}
    arabic, english = by_item[world.ids["arabic.pdf"]], by_item[world.ids["english.pdf"]]
    assert " ".join(english["text"].split()) == ENGLISH_SPELLING
    assert english["page"] == 2
    # The Arabic report: the words as printed (marks and all), on its second page.
    assert arabic["text"].replace("\u0651", "").replace("\u064f", "") == "محمد احمد الحبو"
    assert arabic["page"] == 2
    assert world.ids["brother.pdf"] not in by_item  # another ism: not this person
    assert all(r["state"] == "suggested" and r["score"] >= 0.8 for r in rows)
    # A second run adds nothing twice.
    assert cli_json(world.home, "entity", "mentions") == {"items": 4, "mentions": 0}


def test_a_name_recorded_in_latin_is_found_in_arabic_text(world: World) -> None:
    pid = person(world.home, "Mohammad Ahmad Al-Habbo")
    cli_json(world.home, "entity", "mentions", "--item", str(world.ids["arabic.pdf"]))
    rows = cli_json(world.home, "entity", "mention", "list", "--entity", str(pid))
    assert [r["item"] for r in rows] == [world.ids["arabic.pdf"]]  # type: ignore[index]


def test_accept_makes_an_evidence_link_and_the_ledger_keeps_no_name(world: World) -> None:
    pid = person(world.home)
    amanah(world.home, "entity", "name", "add", str(pid), "Mohammad Ahmad Al-Habbo", check=True)
    cli_json(world.home, "entity", "mentions")
    rows = cli_json(world.home, "entity", "mention", "list", "--state", "suggested")
    english = next(r for r in rows if r["item"] == world.ids["english.pdf"])  # type: ignore[union-attr]
    arabic = next(r for r in rows if r["item"] == world.ids["arabic.pdf"])  # type: ignore[union-attr]
    done = cli_json(world.home, "entity", "mention", "accept", str(english["id"]))
    assert done["state"] == "accepted"  # type: ignore[index]
    rejected = cli_json(world.home, "entity", "mention", "reject", str(arabic["id"]))
    assert rejected["state"] == "rejected"  # type: ignore[index]
    again = amanah(world.home, "entity", "mention", "accept", str(english["id"]))
    assert again.returncode == 2
    assert f"mention {english['id']} was already accepted" in again.stderr
    missing = amanah(world.home, "entity", "mention", "reject", "9999")
    assert missing.returncode == 2 and "no mention with id 9999" in missing.stderr
    with world.ws.db.reader() as s:
        link = s.get(EvidenceLink, done["link"])  # type: ignore[index]
        assert link is not None
        assert (link.entity_id, link.item_id, link.locator_kind) == (
            pid,
            world.ids["english.pdf"],
            "span",
        )
        assert [link.start, link.end] == english["span"]
        assert " ".join(link.quotation.split()) == ENGLISH_SPELLING
        events = list(s.execute(select(CustodyEvent)).scalars())
    decisions = [json.loads(e.details) for e in events if "mention" in e.details]
    actions = [d["action"] for d in decisions if "action" in d]
    assert {"find mentions", "accept mention", "reject mention"} <= set(actions)
    ledger = "\n".join(e.details for e in events)
    for spelled in ("Hebo", "Habbo", "الحبو", "احمد الحبو", "حبو"):
        assert spelled not in ledger
    # A rejected mention is not suggested again.
    cli_json(world.home, "entity", "mentions")
    again_rows = cli_json(world.home, "entity", "mention", "list", "--item", str(arabic["item"]))
    assert [r["state"] for r in again_rows] == ["rejected"]  # type: ignore[index]


def test_mentions_only_for_callers_who_may_see_the_item(world: World) -> None:
    with world.ws.db.session() as s:
        pid = add_entity(s, admin(), "person", ARABIC_NAME).id
    cli_json(world.home, "entity", "mentions")
    secret = world.ids["secret.pdf"]
    with world.ws.db.reader() as s:
        everyone = {r["item"] for r in list_mentions(world.ws, s, admin(), entity_id=pid)}
        rania = {r["item"] for r in list_mentions(world.ws, s, analyst("open"), entity_id=pid)}
        assert secret in everyone
        assert secret not in rania and rania  # the same query, fewer compartments
        assert secret not in items_of(s, analyst("open"), [pid])
        assert secret in items_of(s, admin(), [pid])
        assert list_mentions(world.ws, s, analyst(), entity_id=pid) == []
    mention_id = next(
        r["id"] for r in cli_json(world.home, "entity", "mention", "list") if r["item"] == secret
    )
    from amanah.entities.mentions import decide
    from amanah.entities.vocab import EntityError

    with world.ws.db.session() as s, pytest.raises(EntityError, match="no mention with id"):
        decide(
            world.ws, s, Caller("web:x", frozenset({"open"}), role=Role.ANALYST), mention_id, True
        )


def test_processing_finds_mentions_of_entities_that_exist(world: World, tmp_path: Path) -> None:
    with world.ws.db.session() as s:
        pid = add_entity(s, admin(), "person", "Mohammad Ahmad Al-Habbo").id
        add_entity(s, admin(), "place", "Daraa")
    folder = tmp_path / "new"
    folder.mkdir()
    mupdf_pdf(["Nothing here", "Mohamed Ahmad el-Habbo was moved to Dar'a."], folder / "n.pdf")
    mupdf_pdf(["Nobody is named in this one."], folder / "control.pdf")
    ingest_folder(world.ws, folder, collection="new", compartment="open")
    run(world.ws, workers=1)
    with world.ws.db.reader() as s:
        item = s.execute(select(Item).where(Item.original_path.like("%n.pdf"))).scalar_one()
        control = s.execute(
            select(Item).where(Item.original_path.like("%control.pdf"))
        ).scalar_one()
        jobs = s.execute(select(Job.state).where(Job.kind == "mentions")).scalars().all()
        assert jobs and set(jobs) == {"done"}
        found = list(
            s.execute(select(EntityMention).where(EntityMention.item_id == item.id)).scalars()
        )
        assert {m.entity_id for m in found} >= {pid}
        assert {m.page for m in found} == {2}
        assert not s.execute(
            select(EntityMention).where(EntityMention.item_id == control.id)
        ).first()


def test_name_index_spans_and_single_word_person_names() -> None:
    index = NameIndex(
        [
            (1, 1, "person", "محمد أحمد الحبو"),
            (2, 2, "person", "محمد"),  # one word of a person: not looked for
            (3, 3, "place", "حمص"),
        ]
    )
    text = "Page one\fThe colonel Mohammed Ahmad al-Ha-\nbbo left Homs; محمد went home."
    found = index.find(text)
    spans = {(f.entity_id, text[f.start : f.end], f.page) for f in found}
    assert (1, "Mohammed Ahmad al-Ha-\nbbo", 2) in spans
    assert (3, "Homs", 2) in spans
    assert not any(f.entity_id == 2 for f in found)
    assert NameIndex([]).find(text) == []
