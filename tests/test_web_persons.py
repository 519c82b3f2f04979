"""The person lists' pages (issue 17 part 5): lists with import reports, a record with its
provenance, a cluster side by side, the keyboard-driven review queue posting forms with CSRF;
reviews change clusters and are custody events naming who; need-to-know by the lists'
compartments; both languages."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from amanah.db.models import CustodyEvent, LinkagePair, PersonListRecord
from tests.personsfixtures import person_run
from tests.test_web_arabic_pages import english_words
from tests.webfixtures import Site


def _ids(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'href="/persons/records/(\d+)"', html)}


def test_pages_show_lists_records_and_clusters(site: Site) -> None:
    pr = person_run(site, True)
    hidden = person_run(site, False)
    c, _ = site.browser("analyst")
    lists = c.get("/persons")
    assert lists.status_code == 200
    assert f'href="/persons/lists/{pr.list_id}"' in lists.text
    assert f'href="/persons/lists/{hidden.list_id}"' not in lists.text  # red: not theirs
    assert f'href="/persons/runs/{pr.run}/review"' in lists.text
    assert f'href="/persons/runs/{hidden.run}/review"' not in lists.text
    one = c.get(f"/persons/lists/{pr.list_id}")
    assert one.status_code == 200 and "no name in any name column" in one.text  # the report
    assert _ids(one.text) == set(pr.records)
    record = c.get(f"/persons/records/{pr.records[0]}")
    assert record.status_code == 200
    assert "محمد أحمد عبد الله الحلبي" in record.text
    assert f"/persons/runs/{pr.run}/clusters/{pr.records[0]}" in record.text
    cluster = c.get(f"/persons/runs/{pr.run}/clusters/{pr.records[0]}")
    assert cluster.status_code == 200
    assert _ids(cluster.text) == set(pr.records[:2])  # the linked pair, not the brother
    assert 'href="/items/' in cluster.text and "line" in cluster.text  # provenance
    # showing records is an audited read, with ids, never names
    with site.ws.db.reader() as s:
        reads = [
            json.loads(e.details)
            for e in s.execute(
                select(CustodyEvent).where(
                    CustodyEvent.object_type == "person_list",
                    CustodyEvent.actor.like("%analyst%"),
                )
            ).scalars()
        ]
    assert any(d.get("records") == pr.records[:2] for d in reads)
    assert not any("محمد" in json.dumps(d, ensure_ascii=False) for d in reads)


def test_the_review_queue_by_form_changes_clusters(site: Site) -> None:
    pr = person_run(site, True)
    c, csrf = site.browser("analyst")
    queue = c.get(f"/persons/runs/{pr.run}/review")
    assert queue.status_code == 200
    # the pair nearest the threshold first, both records side by side, three keyed buttons
    assert f'id="pair-{pr.near}"' in queue.text and _ids(queue.text) == set(pr.records[1:])
    for key, decision in (("a", "accept"), ("r", "reject"), ("s", "unsure")):
        assert f'value="{decision}" data-key="{key}"' in queue.text
    assert f'action="/persons/pairs/{pr.near}/review"' in queue.text
    assert '<script src="/static/persons_review.js" defer></script>' in queue.text
    script = c.get("/static/persons_review.js")
    assert script.status_code == 200 and "data-key" in script.text
    # without the session's CSRF token: refused, nothing recorded
    forged = c.post(
        f"/persons/pairs/{pr.near}/review", data={"decision": "accept"}, follow_redirects=False
    )
    assert forged.status_code == 403
    # accept joins the brother into the cluster (people said so)
    done = c.post(
        f"/persons/pairs/{pr.near}/review",
        data={"decision": "accept", "csrf": csrf, "note": "same mother"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/persons/runs/{pr.run}/review"
    cluster = c.get(f"/persons/runs/{pr.run}/clusters/{pr.records[0]}")
    assert _ids(cluster.text) == set(pr.records)
    # reject the model's link: record 0 is alone, the other two stay together
    c.post(f"/persons/pairs/{pr.link}/review", data={"decision": "reject", "csrf": csrf})
    alone = c.get(f"/persons/runs/{pr.run}/clusters/{pr.records[0]}")
    assert _ids(alone.text) == {pr.records[0]}
    pair = c.get(f"/persons/runs/{pr.run}/clusters/{pr.records[1]}")
    assert _ids(pair.text) == set(pr.records[1:])
    # an unknown decision is a wrong request with its reason
    bad = c.post(f"/persons/pairs/{pr.link}/review", data={"decision": "maybe", "csrf": csrf})
    assert bad.status_code == 400 and "accept, reject or unsure" in bad.text
    with site.ws.db.reader() as s:
        events = [
            (e.actor, json.loads(e.details))
            for e in s.execute(
                select(CustodyEvent)
                .where(CustodyEvent.object_type == "linkage_pair")
                .order_by(CustodyEvent.seq)
            ).scalars()
        ]
        decided = {p.id: p.decision for p in s.execute(select(LinkagePair)).scalars()}
        names = {n for (n,) in s.execute(select(PersonListRecord.full_name)).all()}
    assert [(d["decision"], d["together_after"]) for _, d in events] == [
        ("accepted", True),
        ("rejected", False),
    ]
    assert all(actor.endswith("analyst") for actor, _ in events)  # who
    assert decided[pr.near] == "accepted" and decided[pr.link] == "rejected"
    for _, d in events:
        text = json.dumps(d, ensure_ascii=False)
        assert "same mother" not in text and not any(n in text for n in names)
    # the queue is empty now
    assert "No pair needs review." in c.get(f"/persons/runs/{pr.run}/review").text


def test_need_to_know_and_roles(site: Site) -> None:
    red = person_run(site, False)
    blue = person_run(site, True)
    c, csrf = site.browser("analyst")  # holds blue only
    for url in (
        f"/persons/lists/{red.list_id}",
        f"/persons/records/{red.records[0]}",
        f"/persons/runs/{red.run}/clusters/{red.records[0]}",
        f"/persons/runs/{red.run}/review",
        f"/persons/runs/{blue.run}/clusters/{red.records[0]}",  # a hidden record in a seen run
    ):
        assert c.get(url).status_code == 404, url
    refused = c.post(f"/persons/pairs/{red.near}/review", data={"decision": "accept", "csrf": csrf})
    assert refused.status_code == 404
    # the same words for a pair hidden and a pair that does not exist
    absent = c.post("/persons/pairs/999999/review", data={"decision": "accept", "csrf": csrf})
    assert absent.status_code == 404 and "no linkage pair with id" in absent.text
    with site.ws.db.reader() as s:
        assert s.get(LinkagePair, red.near).decision == ""  # type: ignore[union-attr]
    # legal reads the queue but may not review; the provider may not read lists at all
    legal, legal_csrf = site.browser("legal")
    page = legal.get(f"/persons/runs/{blue.run}/review")
    assert page.status_code == 200 and 'class="review-form"' not in page.text
    post = legal.post(
        f"/persons/pairs/{blue.near}/review", data={"decision": "accept", "csrf": legal_csrf}
    )
    assert post.status_code == 403 and "may not" in post.text
    provider, _ = site.browser("provider")
    assert provider.get("/persons").status_code == 403
    # negative control: the administrator sees the red list
    admin, _ = site.browser("admin")
    assert admin.get(f"/persons/lists/{red.list_id}").status_code == 200


def test_pages_in_arabic_and_english(site: Site) -> None:
    pr = person_run(site, True)
    c, _ = site.browser("analyst")
    urls = (
        "/persons",
        f"/persons/lists/{pr.list_id}",
        f"/persons/records/{pr.records[0]}",
        f"/persons/runs/{pr.run}/clusters/{pr.records[0]}",
        f"/persons/runs/{pr.run}/review",
    )
    english = {u: c.get(u).text for u in urls}
    assert "Review queue" in english[urls[-1]] and "Accept" in english[urls[-1]]
    assert "Import report" in english[urls[1]]
    c.cookies.set("amanah_lang", "ar")
    for url in urls:
        page = c.get(url)
        assert page.status_code == 200
        assert '<html lang="ar" dir="rtl">' in page.text
        assert english_words(page.text) == [], (url, english_words(page.text))
    review = c.get(urls[-1]).text
    assert "قائمة المراجعة" in review and "قبول" in review and "رفض" in review
    assert "مطابق تمامًا" in review  # the explanation's levels are translated too


def test_evidence_text_is_escaped(site: Site) -> None:
    pr = person_run(site, True)
    with site.ws.db.session() as s:
        rec = s.get(PersonListRecord, pr.records[0])
        assert rec is not None
        rec.full_name = "<script>document.title='PWNED'</script>"
    c, _ = site.browser("analyst")
    for url in (f"/persons/records/{pr.records[0]}", f"/persons/lists/{pr.list_id}"):
        page = c.get(url).text
        assert "<script>document" not in page and "&lt;script&gt;" in page
