"""A linkage pair kept before its record's person withdrew consent for investigation is seen by
no one (an adversary's, stop 54): `read_lists` left the record out of new runs, but the pairs
of a run stored before the withdrawal still showed its name on the review queue and in
clusters. `access.persons.linkage_pairs_visible` now leaves out every pair naming a withdrawn
record, for every role; consent given again brings the pairs back."""

from __future__ import annotations

import re
from dataclasses import replace

from amanah.access import local_administrator
from amanah.sharing import person_consent
from tests.personsfixtures import PEOPLE, person_run
from tests.webfixtures import Site


def _ids(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'href="/persons/records/(\d+)"', html)}


def test_a_pair_kept_before_a_withdrawal_is_not_shown(site: Site) -> None:
    pr = person_run(site, True)  # pairs (0, 1) linked, (1, 2) near: both for review
    gone = pr.records[1]
    name = PEOPLE[1][0]  # only record 1 is written so
    admin = local_administrator(site.ws, "local:test")
    admin = replace(admin, compartments=admin.compartments | {"blue"})
    with site.ws.db.session() as s:
        person_consent.withdraw(s, admin, f"record:{gone}", ["investigation"])
    for role in ("analyst", "legal", "admin"):
        c, _ = site.browser(role)
        queue = c.get(f"/persons/runs/{pr.run}/review")
        assert queue.status_code == 200, role
        assert name not in queue.text and gone not in _ids(queue.text), role
        assert "No pair needs review." in queue.text, role
        for other in (pr.records[0], pr.records[2]):
            cluster = c.get(f"/persons/runs/{pr.run}/clusters/{other}")
            assert cluster.status_code == 200, role
            assert _ids(cluster.text) == {other}, role  # the withdrawn record joins no one
            assert name not in cluster.text, role
    analyst, csrf = site.browser("analyst")
    refused = analyst.post(
        f"/persons/pairs/{pr.near}/review", data={"decision": "accept", "csrf": csrf}
    )
    assert refused.status_code == 404
    # consent given again: the kept pairs are shown again
    with site.ws.db.session() as s:
        person_consent.give(s, admin, f"record:{gone}", ["investigation"])
    cluster = analyst.get(f"/persons/runs/{pr.run}/clusters/{pr.records[0]}")
    assert _ids(cluster.text) == set(pr.records[:2])
