"""Attacks on the analyst's layer, survivors' consent and did-you-mean, each as a hostile user,
a user of another compartment or a hostile input would try them; each with its negative
control (the same thing, allowed, works)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from amanah.access import Caller, NotVisible, Role, local_administrator
from amanah.access.tokens import create_token
from amanah.access.users import account_of, caller_for, user_named
from amanah.analyst import AnalystError, notes, saved_searches, tags
from amanah.config import write_default_config
from amanah.db.models import CustodyEvent, Item, ItemNote, ItemTag, SavedSearch
from amanah.search import engine, service
from amanah.sharing import person_consent, protected
from amanah.workspace import open_workspace
from tests.conftest import amanah
from tests.servers import Postgres, start_serve, stop_process
from tests.test_web_browser import browser, live, shot  # noqa: F401 (fixtures)
from tests.test_web_browser import pytestmark as browser_mark
from tests.test_web_browser import sign_in as browser_sign_in
from tests.webfixtures import PASSWORD, Site


def caller(site: Site, name: str) -> Caller:
    with site.ws.db.reader() as s:
        return caller_for(s, account_of(user_named(s, name)))


def _withdrawn(site: Site, item_id: int) -> None:
    """Link the item to a protected person, who gives consent for investigation and then
    withdraws it: from then on the item is searched by no one."""
    admin = local_administrator(site.ws)
    with site.ws.db.session() as s:
        protected.add(s, admin, "Witness Q", ["Qasim Hourani"])
        person_consent.link_item(s, admin, "Witness Q", item_id)
        person_consent.give(s, admin, "Witness Q", ["investigation"])
    with site.ws.db.session() as s:
        person_consent.withdraw(s, admin, "Witness Q")


# --- consent withdrawal: did-you-mean --------------------------------------------------------


def test_did_you_mean_never_suggests_a_word_only_a_withdrawn_item_holds(site: Site) -> None:
    """`checkpoint` occurs only in statement-b. Once its person withdraws consent for
    investigation, a slip (`checkpoimt`) must not be "corrected" to it: the suggestion would
    tell that a withheld item holds the word. Both suggestion paths (the search's and the
    word-by-word one) are asked."""
    analyst = caller(site, "analyst")
    b = site.item("statement-b.txt")
    # negative control: before the withdrawal the slip is corrected
    before = service.search(site.ws, analyst, "checkpoimt")
    assert before.suggestion is not None
    assert before.suggestion["query"] == "checkpoint"
    assert "checkpoint" in engine.suggest(site.ws, analyst, "checkpoimt")
    _withdrawn(site, b)
    after = service.search(site.ws, analyst, "checkpoimt", fallback=True)
    assert after.suggestion is None
    assert after.total == 0
    assert engine.suggest(site.ws, analyst, "checkpoimt") == []
    # the word a visible item holds is still suggested (Arabic statement in blue)
    assert engine.suggest(site.ws, analyst, "الشاهذ") == ["شاهد"]


# --- robustness: the same tag added at once ---------------------------------------------------


@pytest.fixture(scope="module")
def served_pg(
    tmp_path_factory: pytest.TempPathFactory, postgres: Postgres
) -> Iterator[tuple[str, Path, dict[str, str], list[int]]]:
    """A real `amanah serve` (two web processes) on PostgreSQL, where two transactions can
    both see a tag missing; an analyst's token; three items."""
    tmp = tmp_path_factory.mktemp("tagrace")
    home = tmp / "home"
    write_default_config(home, postgres.create_database())
    folder = tmp / "handover"
    folder.mkdir()
    for n in range(3):
        (folder / f"doc-{n}.txt").write_text(f"document {n}\n")
    amanah(home, "ingest", str(folder), "--collection", "c", "--provider", "P", check=True)
    amanah(home, "user", "add", "rania", "--role", "analyst", "--compartment", "default",
           "--password-stdin", input=PASSWORD + "\n", check=True)  # fmt: skip
    ws = open_workspace(home)
    try:
        tokens = {"rania": create_token(ws, "rania")}
        with ws.db.reader() as s:
            ids = sorted(s.execute(select(Item.id)).scalars())
    finally:
        ws.close()
    proc, base = start_serve(home, "--web-workers", "2", "--no-runner", log_path=tmp / "serve.log")
    try:
        yield base, home, tokens, ids
    finally:
        stop_process(proc)


def _at_once(base: str, token: str, calls: list[tuple[str, str, dict[str, Any]]]) -> list[Any]:
    """Every call sent at the same moment, each on its own connection."""
    barrier = threading.Barrier(len(calls))
    out: list[Any] = [None] * len(calls)

    def one(n: int) -> None:
        method, url, body = calls[n]
        with httpx.Client(base_url=base, timeout=120) as c:
            c.headers["Authorization"] = f"Bearer {token}"
            barrier.wait()
            out[n] = c.request(method, url, json=body)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _tag_events(home: Path, item_id: int) -> list[str]:
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            rows = s.execute(
                select(CustodyEvent.details).where(
                    CustodyEvent.event_type == "annotation",
                    CustodyEvent.object_id == str(item_id),
                )
            ).scalars()
            return [json.loads(d)["action"] for d in rows]
    finally:
        ws.close()


def test_the_same_tag_added_at_once_by_many_is_one_tag_and_no_error(
    served_pg: tuple[str, Path, dict[str, str], list[int]],
) -> None:
    """Eight requests at once add one tag (in three spellings) to one item, and two bulk tags
    of the same items race them: every request succeeds, one tag row, one "tag added"
    custody event per item. A uniqueness error must never surface as a 500."""
    base, home, tokens, (first, second, third) = served_pg
    with httpx.Client(base_url=base, timeout=120) as c:  # both web processes warm
        c.headers["Authorization"] = f"Bearer {tokens['rania']}"
        for _ in range(6):
            assert c.get("/api/v1/tags").status_code == 200
    spellings = ["Torture", "torture", " TORTURE "]
    calls = [("POST", f"/api/v1/items/{first}/tags", {"tag": spellings[n % 3]}) for n in range(8)]
    calls += [("POST", "/api/v1/bulk/tag", {"items": [first, second], "tag": "torture"})] * 2
    answers = _at_once(base, tokens["rania"], calls)
    assert [r.status_code for r in answers[:8]] == [201] * 8, [r.text for r in answers]
    assert [r.status_code for r in answers[8:]] == [200] * 2, [r.text for r in answers]
    single_added = sum(r.json()["added"] for r in answers[:8])
    bulk_added = [r.json()["tagged"] for r in answers[8:]]
    assert single_added + sum(bulk_added) == 2  # one per item, whoever won
    with httpx.Client(base_url=base, timeout=60) as c:
        c.headers["Authorization"] = f"Bearer {tokens['rania']}"
        shown = c.get("/api/v1/tags").json()
        assert [(t["key"], t["items"]) for t in shown] == [("torture", 2)]
    assert _tag_events(home, first) == ["tag added"]
    assert _tag_events(home, second) == ["tag added"]
    assert _tag_events(home, third) == []  # the negative control: untouched
    assert amanah(home, "verify").returncode == 0


# --- robustness: joiners and bidi controls in labels -----------------------------------------

PERSIAN = "بازداشت\u200cشده"  # "detained", written as Persian writes it, with ZWNJ


def test_persian_zwnj_is_allowed_in_a_tag_and_folded_for_matching(site: Site) -> None:
    """Persian needs ZWNJ inside words: the tag keeps it as typed, and the same word typed
    without it (or with ZWJ) is the same tag and finds the same items through `tag:`."""
    analyst, item = caller(site, "analyst"), site.item("statement-b.txt")
    with site.ws.db.session() as s:
        assert tags.add(s, analyst, item, PERSIAN) is True
        assert tags.add(s, analyst, item, PERSIAN.replace("\u200c", "")) is False
        assert tags.add(s, analyst, item, PERSIAN.replace("\u200c", "\u200d")) is False
    with site.ws.db.reader() as s:
        assert [t["tag"] for t in tags.of_item(s, analyst, item)] == [PERSIAN]  # as typed
        assert tags.items_tagged(s, analyst, PERSIAN.replace("\u200c", "")) == {item}
    found = service.search(site.ws, analyst, f'tag:"{PERSIAN}"')
    assert [h.item_id for h in found.hits] == [item]
    # and through the web form, which used to refuse it
    c, csrf = site.browser("analyst")
    r = c.post(f"/items/{item}/tags", data={"tag": "شکنجه\u200cگاه", "csrf": csrf},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    assert "شکنجه\u200cگاه" in c.get(f"/items/{item}").text


@pytest.mark.parametrize(
    ("char", "reason"),
    [
        ("\u202e", "bidirectional control character \\(U\\+202E\\)"),  # right-to-left override
        ("\u202d", "bidirectional control character \\(U\\+202D\\)"),
        ("\u2067", "bidirectional control character \\(U\\+2067\\)"),  # right-to-left isolate
        ("\u200f", "direction mark \\(U\\+200F\\)"),
        ("\u061c", "direction mark \\(U\\+061C\\)"),
        ("\u200b", "invisible character \\(U\\+200B\\)"),  # zero-width space
        ("\ufeff", "invisible character \\(U\\+FEFF\\)"),
    ],
)
def test_bidi_and_invisible_characters_are_refused_in_labels(
    site: Site, char: str, reason: str
) -> None:
    """A right-to-left override makes `gnitrot` show as `torture`; a zero-width space makes
    two tags look alike: refused in tags and saved searches' names, with the code point."""
    analyst, item = caller(site, "analyst"), site.item("statement-b.txt")
    with site.ws.db.session() as s, pytest.raises(AnalystError, match=reason):
        tags.add(s, analyst, item, f"tor{char}ture")
    with site.ws.db.session() as s, pytest.raises(AnalystError, match=reason):
        saved_searches.save(s, analyst, f"river{char}side", "river")
    # the API says it as a 400 with the reason, never a 500
    r = site.api("analyst").post(f"/api/v1/items/{item}/tags", json={"tag": f"x{char}y"})
    assert r.status_code == 400, r.text
    assert re.search(reason, r.text), r.text
    with site.ws.db.reader() as s:
        assert tags.of_item(s, analyst, item) == []


def test_notes_refuse_overrides_but_keep_direction_marks(site: Site) -> None:
    """A note is running text: an Arabic keyboard's RLM stays; an override is refused."""
    analyst, item = caller(site, "analyst"), site.item("statement-b.txt")
    with site.ws.db.session() as s, pytest.raises(AnalystError, match="U\\+202E"):
        notes.add(s, analyst, item, "seen at \u202etniopkcehc\u202c the river")
    with site.ws.db.session() as s:
        notes.add(s, analyst, item, "شوهد عند الحاجز\u200f (checkpoint)")
    with site.ws.db.reader() as s:
        assert [n["text"] for n in notes.of_item(s, analyst, item)] == [
            "شوهد عند الحاجز\u200f (checkpoint)"
        ]


# --- need-to-know: a tag's spelling ------------------------------------------------------------


def test_a_tags_spelling_on_a_hidden_item_does_not_show_to_another_compartment(
    site: Site,
) -> None:
    """A tag keeps its first spelling; that spelling must be the first *the caller may see*:
    a blue analyst typing `operation nightfall` was shown red's `Operation NIGHTFALL`, and so
    learnt that some hidden item carries that tag."""
    analyst = caller(site, "analyst")
    red = Caller(actor="user:red-analyst", compartments=frozenset({"red"}), role=Role.ANALYST)
    blue_item, red_item = site.item("statement-b.txt"), site.item("سري.txt")
    with site.ws.db.session() as s:
        tags.add(s, red, red_item, "Operation NIGHTFALL")
    with site.ws.db.session() as s:
        tags.add(s, analyst, blue_item, "operation nightfall")
    with site.ws.db.reader() as s:
        assert [t["tag"] for t in tags.of_item(s, analyst, blue_item)] == ["operation nightfall"]
        assert [t["tag"] for t in tags.counts(s, analyst)] == ["operation nightfall"]
        assert [t["tag"] for t in tags.of_item(s, red, red_item)] == ["Operation NIGHTFALL"]
    # negative control: within one compartment the first spelling is kept
    other = site.item("شهادة-أ.txt")
    with site.ws.db.session() as s:
        tags.add(s, analyst, other, "OPERATION Nightfall")
    with site.ws.db.reader() as s:
        assert [t["tag"] for t in tags.of_item(s, analyst, other)] == ["operation nightfall"]


# --- protected names hidden from the matcher -------------------------------------------------

NAME_LATIN, NAME_AR = "Ahmad al-Khatib", "أحمد الخطيب"
HIDDEN = [
    "<b>Ahmad</b> al-Khatib",
    "Ahmad al-<i>Khatib</i>",
    "Ah<span></span>mad al-Khatib",
    "Ahmad<br>al-Khatib",
    "A.h.m.a.d al-Khatib",
    "A h m a d  al-Khatib",
    "ا ح م د الخطيب",
    "أحمد الخطيب\u200cقال",  # glued to the next word (the name glued whole is one word sealed)
    "<b>أحمـــد</b> الخَطِيب",
]


@pytest.fixture
def witness(site: Site) -> Site:
    with site.ws.db.session() as s:
        protected.add(s, local_administrator(site.ws), "Witness K", [NAME_LATIN, NAME_AR])
    return site


def _no_name_at_rest(site: Site) -> None:
    with site.ws.db.reader() as s:
        kept = [*s.execute(select(ItemNote.text)).scalars()]
        kept += [*s.execute(select(ItemTag.label)).scalars()]
        kept += [*s.execute(select(ItemTag.key)).scalars()]
        kept += [*s.execute(select(SavedSearch.name)).scalars()]
        kept += [*s.execute(select(SavedSearch.query)).scalars()]
        kept += [*s.execute(select(CustodyEvent.details)).scalars()]
    matcher_texts = "\n".join(kept)
    for part in ("Ahmad", "Khatib", "أحمد", "احمد", "الخطيب", "h.m.a", "ح م د"):
        assert part not in matcher_texts, part


@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_protected_name_split_spaced_or_glued_never_rests_in_clear(
    witness: Site, hidden: str
) -> None:
    """A name the pseudonymiser replaces when written plainly must not slip through split
    by markup, spaced out letter by letter, or glued to the next word by a joiner: a note, a
    tag and a saved search holding it are refused, saying why and never the name."""
    site = witness
    analyst, item = caller(site, "analyst"), site.item("statement-b.txt")
    with site.ws.db.session() as s, pytest.raises(AnalystError, match="protected person") as e:
        notes.add(s, analyst, item, f"met {hidden} at the checkpoint")
    assert "Ahmad" not in str(e.value) and "أحمد" not in str(e.value)
    with site.ws.db.session() as s, pytest.raises(AnalystError, match="protected person"):
        tags.add(s, analyst, item, hidden)
    with site.ws.db.session() as s, pytest.raises(AnalystError, match="protected person"):
        saved_searches.save(s, analyst, "met", f'"{hidden}"')
    with site.ws.db.session() as s, pytest.raises(AnalystError, match="protected person"):
        saved_searches.save(s, analyst, hidden, "checkpoint")
    # through the API: a 400 naming the reason, not the name
    r = site.api("analyst").post(f"/api/v1/items/{item}/notes", json={"text": hidden})
    assert r.status_code == 400, r.text
    assert "protected person" in r.text and "Ahmad" not in r.text
    _no_name_at_rest(site)


def test_plain_names_are_pseudonymised_and_lookalikes_kept(witness: Site) -> None:
    """Negative controls: a plainly written name is replaced in place (as before), and text
    with markup, initials or joiners that names no one is kept as typed."""
    site = witness
    analyst, item = caller(site, "analyst"), site.item("statement-b.txt")
    fine = [
        "the page had <b>bold</b> text and a <script> tag",
        "U.N. report, e.g. p. 3; A B C checkpoints",
        "می\u200cخواهم — Persian with its joiner",
        "Ahmad Rashid met al-Khatib's cousin",  # two people, neither the witness
    ]
    with site.ws.db.session() as s:
        notes.add(s, analyst, item, f"met {NAME_LATIN} and {NAME_AR}")
        for text in fine:
            notes.add(s, analyst, item, text)
        saved_searches.save(s, analyst, "bold pages", '"bold text"')
    with site.ws.db.reader() as s:
        kept = [n["text"] for n in notes.of_item(s, analyst, item)]
    assert kept == ["met [Witness K] and [Witness K]", *fine]


# --- protected names: engagements and the consent commands ----------------------------------


def test_engagement_text_and_task_owners_keep_no_protected_name(witness: Site) -> None:
    """Every free-text field of an engagement is pseudonymised, the follow-up task's owner
    too (it was kept as typed), and a name hidden by markup or spacing is refused."""
    from datetime import date

    from amanah.db.models import Engagement, EngagementTask
    from amanah.persons import engagements

    site = witness
    admin = local_administrator(site.ws)
    with site.ws.db.session() as s:
        row = engagements.add(
            s, admin, kind="interview", held_on=date(2026, 5, 1), place="Gaziantep",
            compartment="blue", topics=["detention"], notes=f"{NAME_AR} spoke first",
            tasks=[engagements.Task("call back", NAME_LATIN, None)],
        )  # fmt: skip
        eid = row.id
    with site.ws.db.reader() as s:
        assert s.get(Engagement, eid).notes == "[Witness K] spoke first"
        owners = s.execute(select(EngagementTask.owner)).scalars().all()
        assert owners == ["[Witness K]"]
    for hidden in ("<b>Ahmad</b> al-Khatib", "ا ح م د الخطيب"):
        with (
            site.ws.db.session() as s,
            pytest.raises(engagements.EngagementError, match="protected person"),
        ):
            engagements.add(s, admin, kind="meeting", held_on=date(2026, 5, 2),
                            compartment="blue", notes=f"with {hidden}")  # fmt: skip
    _no_name_at_rest(site)


def test_a_name_typed_where_a_pseudonym_belongs_is_never_said_back(witness: Site) -> None:
    """`amanah consent person give "Ahmad al-Khatib"` answered "no protected person 'Ahmad
    al-Khatib'": the name in an error message (a terminal's scrollback, a web response, a
    log). It says the rule instead; an unknown word is still said back (negative control)."""
    site = witness
    admin = local_administrator(site.ws)
    for typed in (NAME_LATIN, NAME_AR, "<b>Ahmad</b> al-Khatib"):
        with site.ws.db.session() as s, pytest.raises(NotVisible) as e:
            person_consent.give(s, admin, typed, ["investigation"])
        assert "protected person's name, not a pseudonym" in str(e.value)
        assert "Ahmad" not in str(e.value) and "الخطيب" not in str(e.value)
    proc = amanah(site.ws.home, "consent", "person", "give", NAME_LATIN, "--use", "investigation")
    assert proc.returncode in (1, 2), proc.stdout + proc.stderr
    assert "not a pseudonym" in proc.stdout + proc.stderr
    assert "Khatib" not in proc.stdout + proc.stderr
    with site.ws.db.session() as s, pytest.raises(NotVisible, match="no protected person 'Wit Z'"):
        person_consent.give(s, admin, "Wit Z", ["investigation"])


# --- need-to-know: a share outlives the sharer's grant; counts of withheld items -------------


def test_a_shared_search_leaves_the_team_when_its_owner_loses_the_compartment(
    site: Site,
) -> None:
    """A saved search shared with blue is the owner's act within the blue team: once the
    owner's blue grant is revoked, the team no longer sees it (through the API too); the
    owner still sees their own. Re-granted, it is back (the negative control)."""
    from amanah.access.users import grant

    with site.ws.db.session() as s:
        saved_searches.save(s, caller(site, "analyst"), "river team", "river", shared_with="blue")

    def team_sees() -> list[str]:
        with site.ws.db.reader() as s:
            mine = [r["name"] for r in saved_searches.listing(s, caller(site, "legal"))]
        api = [r["name"] for r in site.api("legal").get("/api/v1/saved-searches").json()]
        assert api == mine
        return mine

    assert team_sees() == ["river team"]
    grant(site.ws, "analyst", "blue", by="local:test", revoke=True)
    assert team_sees() == []
    with site.ws.db.reader() as s:
        assert [r["name"] for r in saved_searches.listing(s, caller(site, "analyst"))] == [
            "river team"
        ]
    grant(site.ws, "analyst", "blue", by="local:test")
    assert team_sees() == ["river team"]


def test_tag_counts_leave_out_items_withheld_by_a_withdrawal(site: Site) -> None:
    """The tag list's count is what `tag:` finds: an item whose person withdrew consent for
    investigation is no longer counted (it said "2" where the search found 1)."""
    analyst = caller(site, "analyst")
    b, a = site.item("statement-b.txt"), site.item("شهادة-أ.txt")
    with site.ws.db.session() as s:
        tags.add_many(s, analyst, [a, b], "arrests")
    with site.ws.db.reader() as s:
        assert [(t["tag"], t["items"]) for t in tags.counts(s, analyst)] == [("arrests", 2)]
    _withdrawn(site, b)
    with site.ws.db.reader() as s:
        assert [(t["tag"], t["items"]) for t in tags.counts(s, analyst)] == [("arrests", 1)]
    found = service.search(site.ws, analyst, "tag:arrests")
    assert [h.item_id for h in found.hits] == [a]


# --- hostile text rendered in pages (chromium) -----------------------------------------------

TAG_JS = "<img src=x onerror=document.title='PWNED'>"
NOTE_JS = "</p><script>document.title='PWNED'</script><p>"
NAME_JS = "<svg onload=document.title='PWNED'>"
QUERY_JS = "river OR <b>x</b>"


@browser_mark
def test_html_in_tags_notes_and_saved_searches_is_shown_as_text_in_chromium(
    live: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    """Markup typed into a tag, a note, a saved search's name and query is text on the item
    page, the search page and the dashboard: chromium runs none of it (the title stays), and
    shows it literally."""
    site, base = live
    item = site.item("statement-b.txt")
    api = site.api("analyst")
    assert api.post(f"/api/v1/items/{item}/tags", json={"tag": TAG_JS}).status_code == 201
    assert api.post(f"/api/v1/items/{item}/notes", json={"text": NOTE_JS}).status_code == 201
    r = api.post("/api/v1/saved-searches", json={"name": NAME_JS, "query": QUERY_JS})
    assert r.status_code == 201, r.text
    page = browser.new_page()  # type: ignore[attr-defined]
    ran: list[str] = []
    page.on("dialog", lambda d: (ran.append(d.message), d.dismiss()))
    browser_sign_in(page, base, "analyst")
    for path, shown in (
        (f"/items/{item}", [TAG_JS, NOTE_JS]),
        ("/search?q=river", [NAME_JS, QUERY_JS]),
        ("/", [NAME_JS, QUERY_JS]),
    ):
        page.goto(f"{base}{path}")
        page.wait_for_load_state("load")
        assert page.title() != "PWNED", path
        text = page.locator("body").text_content() or ""  # a closed <details> too
        for s in shown:
            assert s.strip() in text, (path, s)
        assert page.locator("script:has-text('PWNED'), svg[onload], img[onerror]").count() == 0
        shot(page, f"adversary-analyst-escaped{path.replace('/', '-').split('?')[0]}")
    assert ran == []
    page.close()


# --- need-to-know: an engagement concerning a record of a hidden list -------------------------


def test_an_engagement_shows_no_record_of_a_list_the_caller_may_not_see(
    site: Site, tmp_path: Path
) -> None:
    """A legal officer holding blue and red records a blue engagement concerning a record of
    a red person list; a blue analyst sees the engagement, and must not see `record:N` of the
    red list (it tells the record exists). A record of a blue list stays (negative control)."""
    from datetime import date

    from amanah.db.models import PersonListRecord
    from amanah.persons import engagements

    for name, compartment in (("Red list", "red"), ("Blue list", "blue")):
        csv = tmp_path / f"{compartment}.csv"
        csv.write_text("full_name,sex\nYusuf Halabi,m\n", encoding="utf-8")
        proc = amanah(site.ws.home, "persons", "import", str(csv), "--list", name,
                      "--compartment", compartment, "--collection", f"{compartment}-lists",
                      "--provider", "Lists", "-q")  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
    with site.ws.db.reader() as s:
        from amanah.db.models import PersonList

        rec = {
            n: i
            for n, i in s.execute(
                select(PersonList.name, PersonListRecord.id).join(
                    PersonList, PersonList.id == PersonListRecord.list_id
                )
            ).all()
        }
    both = Caller(actor="user:both", compartments=frozenset({"blue", "red"}), role=Role.LEGAL)
    with site.ws.db.session() as s:
        eid = engagements.add(
            s, both, kind="meeting", held_on=date(2026, 6, 1), compartment="blue",
            persons=[f"record:{rec['Red list']}", f"record:{rec['Blue list']}"],
        ).id  # fmt: skip
    red_ref, blue_ref = f"record:{rec['Red list']}", f"record:{rec['Blue list']}"
    analyst = caller(site, "analyst")
    with site.ws.db.reader() as s:
        seen_by_both = [p["person"] for p in engagements.show(s, both, eid)["persons"]]
        seen_by_blue = [p["person"] for p in engagements.show(s, analyst, eid)["persons"]]
    assert sorted(seen_by_both) == sorted([red_ref, blue_ref])
    assert seen_by_blue == [blue_ref]
    c, _ = site.browser("analyst")
    page = c.get(f"/engagements/{eid}")
    assert page.status_code == 200, page.text
    assert red_ref not in page.text and blue_ref in page.text
