"""The analyst's own layer below the web: tags and notes by role and compartment, the `tag:`
search filter, what the ledger keeps, saved searches run with the runner's need-to-know, and
that none of it ever goes into a sharing package."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from amanah.access import AccessDenied, Caller, NotVisible, local_administrator
from amanah.access.users import account_of, caller_for, user_named
from amanah.analyst import AnalystError, notes, saved_searches, tags
from amanah.db.models import CustodyEvent, ItemNote, ItemTag
from amanah.search import service
from amanah.search.query import QueryError
from amanah.workspace import Workspace
from tests.webfixtures import Site


def caller(site: Site, name: str) -> Caller:
    with site.ws.db.reader() as s:
        return caller_for(s, account_of(user_named(s, name)))


def red_analyst(site: Site) -> Caller:
    """An analyst holding the red compartment only."""
    from amanah.access import Role

    return Caller(actor="user:red-analyst", compartments=frozenset({"red"}), role=Role.ANALYST)


def test_tags_fold_case_spacing_and_arabic_forms(site: Site) -> None:
    analyst = caller(site, "analyst")
    item = site.item("statement-b.txt")
    with site.ws.db.session() as s:
        assert tags.add(s, analyst, item, "Torture") is True
        assert tags.add(s, analyst, item, "  torture ") is False  # one tag, not two
        assert tags.add(s, analyst, item, "TORTURE") is False
        assert tags.add(s, analyst, item, "إعتقال") is True
        assert tags.add(s, analyst, item, "اعتقال") is False  # hamza on alef folds away
    with site.ws.db.reader() as s:
        shown = tags.of_item(s, analyst, item)
    assert sorted(t["tag"] for t in shown) == sorted(["Torture", "إعتقال"])  # as first written
    assert {t["by"] for t in shown} == {"user:analyst"}
    assert len(shown) == 2


def test_a_caller_without_the_compartment_can_neither_see_nor_add(site: Site) -> None:
    analyst, red = caller(site, "analyst"), red_analyst(site)
    blue_item, red_item = site.item("statement-b.txt"), site.item("سري.txt")
    with site.ws.db.session() as s:
        tags.add(s, analyst, blue_item, "checkpoint")
        notes.add(s, analyst, blue_item, "seen at the river checkpoint")
    with site.ws.db.session() as s, pytest.raises(NotVisible, match=f"no item with id {red_item}"):
        tags.add(s, analyst, red_item, "secret")
    with site.ws.db.session() as s, pytest.raises(NotVisible):
        notes.add(s, analyst, red_item, "a note")
    with site.ws.db.reader() as s:
        assert tags.of_item(s, red, blue_item) == []
        assert notes.of_item(s, red, blue_item) == []
        assert tags.counts(s, red) == []
        # negative control: the blue analyst sees both
        assert [t["tag"] for t in tags.of_item(s, analyst, blue_item)] == ["checkpoint"]
        assert [n["text"] for n in notes.of_item(s, analyst, blue_item)] == [
            "seen at the river checkpoint"
        ]


@pytest.mark.parametrize("role", ["provider", "recipient"])
def test_providers_and_recipients_neither_see_nor_add(site: Site, role: str) -> None:
    analyst, other = caller(site, "analyst"), caller(site, role)
    item = site.item("statement-b.txt")  # the provider's own item
    with site.ws.db.session() as s:
        tags.add(s, analyst, item, "checkpoint")
        notes.add(s, analyst, item, "analyst's reading")
    with site.ws.db.session() as s, pytest.raises(AccessDenied):
        tags.add(s, other, item, "mine")
    with site.ws.db.session() as s, pytest.raises(AccessDenied):
        notes.add(s, other, item, "mine")
    with site.ws.db.reader() as s:
        assert tags.of_item(s, other, item) == []
        assert notes.of_item(s, other, item) == []


def test_intake_reads_but_may_not_annotate(site: Site) -> None:
    item = site.item("statement-b.txt")
    with site.ws.db.session() as s:
        tags.add(s, caller(site, "legal"), item, "relevant to RFA")
    with site.ws.db.session() as s, pytest.raises(AccessDenied, match=r"annotations\.manage"):
        tags.add(s, caller(site, "intake"), item, "x")
    with site.ws.db.reader() as s:
        assert [t["tag"] for t in tags.of_item(s, caller(site, "intake"), item)] == [
            "relevant to RFA"
        ]


def test_the_ledger_names_who_but_never_the_words(site: Site) -> None:
    analyst = caller(site, "analyst")
    item = site.item("statement-b.txt")
    with site.ws.db.session() as s:
        tags.add(s, analyst, item, "Zaid Nobody-Here")
        notes.add(s, analyst, item, "Zaid Nobody-Here told us about the checkpoint")
        tags.remove(s, analyst, item, "torture")  # not there: no event
        tags.add(s, analyst, item, "Checkpoint")
        assert tags.remove(s, analyst, item, " checkpoint") is True
    with site.ws.db.reader() as s:
        events = s.execute(
            select(CustodyEvent).where(CustodyEvent.event_type == "annotation")
        ).scalars()
        actions = []
        for e in events:
            assert e.actor == "user:analyst" and e.object_id == str(item)
            assert "Zaid" not in e.details and "checkpoint" not in e.details.lower()
            actions.append(json.loads(e.details)["action"])
        assert actions == ["tag added", "note added", "tag added", "tag removed"]
        # at rest, the protected person's name is its pseudonym (as the search log keeps it)
        at_rest = [t.label for t in s.execute(select(ItemTag)).scalars()]
        at_rest += [n.text for n in s.execute(select(ItemNote)).scalars()]
    assert at_rest == ["[Witness Z]", "[Witness Z] told us about the checkpoint"]


def test_bad_labels_are_refused_clearly(site: Site) -> None:
    analyst, item = caller(site, "analyst"), site.item("statement-b.txt")
    bad = (
        ("   ", "needs a label"),
        ("x" * 101, "at most 100"),
        ("a\x00b", "control"),
        ('say "x"', "double quote"),
    )
    for label, reason in bad:
        with site.ws.db.session() as s, pytest.raises(AnalystError, match=reason):
            tags.add(s, analyst, item, label)
    with site.ws.db.session() as s, pytest.raises(AnalystError, match="needs some text"):
        notes.add(s, analyst, item, " \n ")


def test_tag_filter_finds_only_visible_items(site: Site) -> None:
    admin = local_administrator(site.ws)
    analyst = caller(site, "analyst")
    blue, red = site.item("statement-b.txt"), site.item("سري.txt")
    with site.ws.db.session() as s:
        tags.add(s, admin, blue, "Detention")
        tags.add(s, admin, red, "detention ")
        tags.add(s, admin, red, "red only")
    assert {h.item_id for h in service.search(site.ws, admin, "tag:detention").hits} == {
        blue,
        red,
    }
    assert [h.item_id for h in service.search(site.ws, analyst, "tag:DETENTION").hits] == [blue]
    both = service.search(site.ws, analyst, "checkpoint tag:detention")
    assert [h.item_id for h in both.hits] == [blue]
    assert service.search(site.ws, analyst, "checkpoint -tag:detention").total == 0
    # a tag only on hidden items "does not exist", and the error lists no hidden tag
    with pytest.raises(QueryError) as err:
        service.search(site.ws, analyst, 'tag:"red only"')
    assert "no item you may see is tagged 'red only'" in str(err.value)
    assert "red only (" not in str(err.value) and "tags: detention" not in str(err.value)
    assert "Detention" in str(err.value)
    # a provider's account never sees tags at all
    with pytest.raises(QueryError, match="no item you may see"):
        service.search(site.ws, caller(site, "provider"), "tag:detention")


def test_tags_and_notes_never_go_into_a_package(site: Site, tmp_path: Path) -> None:
    from amanah.sharing import package

    admin = local_administrator(site.ws)
    item = site.item("statement-b.txt")
    with site.ws.db.session() as s:
        tags.add(s, admin, item, "unmistakable-tag-xq")
        notes.add(s, admin, item, "unmistakable-note-xq")
    built = package.build(site.ws, admin, "RFA-XB-PROS", tmp_path / "pkg")
    out = tmp_path / "pkg"
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name.startswith("bag") for p in files)  # a real bag was built
    for p in files:
        data = p.read_bytes()
        if p.suffix == ".zip":
            with zipfile.ZipFile(p) as z:
                data = b"".join(z.read(n) for n in z.namelist())
        assert b"unmistakable" not in data, p
    assert "unmistakable" not in json.dumps(built, default=str)


def test_saved_searches_run_with_the_runners_need_to_know(site: Site) -> None:
    admin = local_administrator(site.ws)
    analyst = caller(site, "analyst")
    with site.ws.db.session() as s:
        shared = saved_searches.save(s, admin, "witness", "الشاهد", shared_with="blue")
        mine = saved_searches.save(s, admin, "private", "الشاهد")
        sid, private_id = shared.id, mine.id
    with site.ws.db.reader() as s:
        assert [x["name"] for x in saved_searches.listing(s, analyst)] == ["witness"]
        row = saved_searches.get(s, analyst, sid)
        with pytest.raises(NotVisible):
            saved_searches.get(s, analyst, private_id)
    assert service.search(site.ws, admin, row.query).total == 2  # blue and red
    found = service.search(site.ws, analyst, row.query)
    assert [h.item_id for h in found.hits] == [site.item("شهادة-أ.txt")]
    with site.ws.db.session() as s, pytest.raises(AccessDenied, match="only the user"):
        saved_searches.delete(s, analyst, sid)
    with site.ws.db.session() as s, pytest.raises(AnalystError, match="already have"):
        saved_searches.save(s, admin, "witness", "x")
    with site.ws.db.session() as s, pytest.raises(AccessDenied, match="compartment red"):
        saved_searches.save(s, analyst, "mine", "x", shared_with="red")
    with site.ws.db.session() as s, pytest.raises(AnalystError, match="protected person"):
        saved_searches.save(s, analyst, "who", '"Zaid Nobody-Here"')
    with site.ws.db.session() as s, pytest.raises(QueryError):
        saved_searches.save(s, analyst, "broken", "(unclosed")
    with site.ws.db.session() as s:
        saved_searches.delete(s, admin, sid)
    with site.ws.db.reader() as s:
        assert saved_searches.listing(s, analyst) == []


def test_bulk_tagging_skips_items_the_caller_may_not_see(site: Site) -> None:
    analyst = caller(site, "analyst")
    blue = [site.item("statement-b.txt"), site.item("شهادة-أ.txt")]
    red = site.item("سري.txt")
    with site.ws.db.session() as s:
        done = tags.add_many(s, analyst, [*blue, red, 999_999], "batch")
    assert done == {"items": 2, "tagged": 2}
    with site.ws.db.reader() as s:
        tagged = set(s.execute(select(ItemTag.item_id).where(ItemTag.key == "batch")).scalars())
    assert tagged == set(blue)


def test_cli_tags_notes_and_saved_searches(site: Site) -> None:
    from tests.conftest import amanah

    home = Path(site.ws.home)
    blue, red = site.item("statement-b.txt"), site.item("سري.txt")
    done = amanah(home, "tag", "add", "Checkpoint", str(blue), str(red), check=True)
    assert done.stdout.strip() == "2 items tagged"
    again = amanah(home, "tag", "add", "checkpoint ", str(blue), check=True)
    assert again.stdout.strip() == "0 items tagged (1 already had the tag)"
    missing = amanah(home, "tag", "add", "x", str(blue), "999999")
    assert missing.returncode == 2 and "no item with id 999999" in missing.stderr
    assert "Traceback" not in missing.stderr
    listed = json.loads(amanah(home, "tag", "list", "--json", check=True).stdout)
    assert listed == [{"tag": "Checkpoint", "key": "checkpoint", "items": 2}]  # "x" was not kept
    one = json.loads(amanah(home, "tag", "list", "--item", str(blue), "--json", check=True).stdout)
    assert [t["tag"] for t in one] == ["Checkpoint"]
    assert amanah(home, "tag", "remove", "CHECKPOINT", str(red), check=True).returncode == 0
    assert amanah(home, "tag", "remove", "checkpoint", str(red)).returncode == 1
    assert amanah(home, "note", "add", str(blue), "Ask about the date", check=True).returncode == 0
    notes_shown = json.loads(amanah(home, "note", "list", str(blue), "--json").stdout)
    assert [n["text"] for n in notes_shown] == ["Ask about the date"]
    bad = amanah(home, "note", "add", "999999", "x")
    assert bad.returncode == 2 and "no item with id 999999" in bad.stderr
    assert amanah(home, "saved", "add", "river", "checkpoint river", check=True).returncode == 0
    saved = json.loads(amanah(home, "saved", "list", "--json", check=True).stdout)
    assert [(x["name"], x["query"]) for x in saved] == [("river", "checkpoint river")]
    broken = amanah(home, "saved", "add", "broken", "(river")
    assert broken.returncode == 2 and "at character" in broken.stderr
    assert amanah(home, "saved", "delete", str(saved[0]["id"]), check=True).returncode == 0


def test_text_no_database_keeps_is_refused_not_crashed(site: Site) -> None:
    """A lone surrogate or a NUL (PostgreSQL refuses it) is a clear refusal, never a 500."""
    analyst, item = caller(site, "analyst"), site.item("statement-b.txt")
    for bad in ("a\ud800b", "a\x00b", "a\x1bb"):
        with site.ws.db.session() as s, pytest.raises(AnalystError, match="a note"):
            notes.add(s, analyst, item, bad)
        with site.ws.db.session() as s, pytest.raises(AnalystError, match="a tag"):
            tags.remove(s, analyst, item, bad)
        with site.ws.db.session() as s, pytest.raises(AnalystError, match="query"):
            saved_searches.save(s, analyst, "n", f"river {bad}")
    with site.ws.db.session() as s:  # negative control: lines and tabs are a note's own
        assert notes.add(s, analyst, item, "line one\n\tline two").text == "line one\n\tline two"
    r = site.api("analyst").post("/api/v1/bulk/tag", json={"items": [2**63], "tag": "x"})
    assert r.status_code == 422 and "error" in r.json()


@pytest.mark.parametrize("home", ["sqlite-file", "postgresql-file"], indirect=True)
def test_tags_and_the_tag_filter_on_each_database(ws: Workspace, tmp_path: Path) -> None:
    """The same rules on PostgreSQL (NUL, unique tags per item, the filter's item ids)."""
    from amanah.access import Role
    from amanah.processing.runner import run
    from tests.conftest import ingest_folder

    for name, comp in (("east", "east"), ("west", "west")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / f"{name}.txt").write_text(f"the {name} checkpoint report\n", encoding="utf-8")
        ingest_folder(ws, folder, collection=name, compartment=comp)
    run(ws)
    admin = local_administrator(ws)
    east = Caller(actor="user:e", compartments=frozenset({"east"}), role=Role.ANALYST)
    with ws.db.reader() as s:
        from amanah.db.models import Item

        ids = {p.split("/")[-1]: i for i, p in s.execute(select(Item.id, Item.original_path))}
    with ws.db.session() as s:
        assert tags.add_many(s, admin, list(ids.values()), "Report ") == {"items": 2, "tagged": 2}
        assert tags.add_many(s, east, list(ids.values()), "report") == {"items": 1, "tagged": 0}
    with ws.db.session() as s, pytest.raises(AnalystError, match="control"):
        notes.add(s, east, ids["east.txt"], "a\x00b")
    assert [h.item_id for h in service.search(ws, east, "checkpoint tag:REPORT").hits] == [
        ids["east.txt"]
    ]
    assert service.search(ws, admin, "tag:report").total == 2
