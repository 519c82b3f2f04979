"""Record-to-record linkage reads only the records its caller may see (an adversary's, stop
54): `read_lists` read every record of a visible list, where `reading.records_of` keeps to
`person_records_visible`, so a record read from a release kept in another compartment went
into a stored run and was shown to the run's readers. It now reads by
`access.person_records_linkable`, as the command line does."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from amanah.access import Caller, local_administrator
from amanah.access.users import account_of, caller_for, user_named
from amanah.db.models import LinkagePair, PersonList, PersonListRecord
from amanah.persons import review
from amanah.persons.linkage import Pair
from amanah.sharing import person_consent, protected
from tests.personsfixtures import EXPLANATION, PEOPLE
from tests.webfixtures import Site


def _caller(site: Site, name: str) -> Caller:
    with site.ws.db.reader() as s:
        return caller_for(s, account_of(user_named(s, name)))


def _blue_list(site: Site, third: int, name: str) -> tuple[str, list[int]]:
    """A blue list read from a blue release, whose third record is read from item `third`."""
    blue = site.item("statement-b.txt")
    now = datetime.now(UTC)
    with site.ws.db.session() as s:
        plist = PersonList(
            name=name,
            compartment="blue",
            item_id=blue,
            created_at=now,
            created_by="local:test",
            imported_at=now,
            report="{}",
        )
        s.add(plist)
        s.flush()
        ids = []
        for line, (full, ism, father, grandfather, family, year) in enumerate(PEOPLE, 2):
            rec = PersonListRecord(
                list_id=plist.id,
                item_id=third if line == 4 else blue,
                row=line,
                key=f"K{line}",
                full_name=full,
                ism=ism,
                father=father,
                grandfather=grandfather,
                family=family,
                sex="m",
                birth_year=year,
                status="detained",
            )
            s.add(rec)
            s.flush()
            ids.append(rec.id)
        return plist.name, ids


def test_a_blue_analyst_links_only_the_records_it_may_see(site: Site) -> None:
    name, ids = _blue_list(site, site.item("سري.txt"), "Mixed releases")
    hidden = ids[2]
    analyst = _caller(site, "analyst")  # holds blue only
    plists, lists, keys = review.read_lists(site.ws, analyst, [name])
    read = {int(r.key) for r in lists[0]}
    assert read == set(ids[:2]) and set(keys) == read
    # the run kept from what was read names no red record, so its readers see none
    pairs = [
        Pair(name, str(a.key), name, str(b.key), 0.9, True, True, EXPLANATION)
        for i, a in enumerate(lists[0])
        for b in lists[0][i + 1 :]
    ]
    run, _ = review.store_run(site.ws, analyst, plists, pairs)
    with site.ws.db.reader() as s:
        named = {
            r
            for a, b in s.execute(
                select(LinkagePair.record_a_id, LinkagePair.record_b_id).where(
                    LinkagePair.run_id == run.id
                )
            ).all()
            for r in (a, b)
        }
    assert hidden not in named
    # negative control: the administrator, who holds red too, reads the red record
    admin = local_administrator(site.ws, "local:test")
    _, lists, _ = review.read_lists(site.ws, admin, [name])
    assert hidden in {int(r.key) for r in lists[0]}


def test_a_record_read_from_a_withheld_release_is_not_linked(site: Site) -> None:
    other = site.item("شهادة-أ.txt")
    name, ids = _blue_list(site, other, "Withheld release")
    admin = local_administrator(site.ws, "local:test")
    with site.ws.db.session() as s:  # another person of that release withdraws consent
        protected.add(s, admin, "Witness Q", ["Qasim Hourani"])
        person_consent.link_item(s, admin, "Witness Q", other)
        person_consent.give(s, admin, "Witness Q", ["investigation"])
    with site.ws.db.session() as s:
        person_consent.withdraw(s, admin, "Witness Q")
    for who in (_caller(site, "analyst"), admin):  # withheld from everyone
        _, lists, keys = review.read_lists(site.ws, who, [name])
        assert {int(r.key) for r in lists[0]} == set(ids[:2]) == set(keys)
