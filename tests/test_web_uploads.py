"""Uploads through the web API: resumable parts with a SHA-256 receipt, a provider's own
collections only, the browser's file time, one writer per upload."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from amanah.db.models import CustodyEvent, Item
from tests.webfixtures import BLUE, RED, Site


def test_a_resumable_upload_gives_the_sha256_receipt_and_records_the_item(site: Site) -> None:
    data = "بيان مرفوع من الميدان\n".encode() * 50_000  # ~1.8 MB, three parts
    api = site.api("intake")
    up = api.post(
        f"/api/v1/collections/{BLUE}/uploads",
        json={"filename": "الميدان/بيان.txt", "size": len(data)},
    ).json()
    uid, third = up["upload_id"], len(data) // 3
    r = api.put(f"/api/v1/uploads/{uid}?offset=0", content=data[:third])
    assert r.json()["received"] == third and not r.json()["complete"]
    # A part sent from the wrong place is refused and says where to resume.
    r = api.put(f"/api/v1/uploads/{uid}?offset=5", content=data[5:third])
    assert r.status_code == 409 and f"send from byte {third}" in r.json()["error"]
    assert api.get(f"/api/v1/uploads/{uid}").json()["received"] == third
    api.put(f"/api/v1/uploads/{uid}?offset={third}", content=data[third : 2 * third])
    r = api.put(f"/api/v1/uploads/{uid}?offset={2 * third}", content=data[2 * third :])
    receipt = r.json()
    assert receipt["complete"] and receipt["sha256"] == hashlib.sha256(data).hexdigest()
    item = site.api("admin").get(f"/api/v1/items/{receipt['item_id']}").json()
    assert item["original_path"] == "الميدان/بيان.txt" and item["sha256"] == receipt["sha256"]
    assert [e["type"] for e in item["custody"]][:2] == ["ingestion", "message digest calculation"]
    assert item["intake"]["actor"] == "user:intake"
    # More bytes than announced are refused; another user cannot touch this upload.
    assert api.put(f"/api/v1/uploads/{uid}?offset=0", content=b"x").status_code == 400
    assert site.api("admin").get(f"/api/v1/uploads/{uid}").status_code == 404
    with site.ws.blobs.open(receipt["sha256"]) as f:
        assert f.read() == data


def test_a_provider_uploads_only_into_its_own_collections(site: Site) -> None:
    provider = site.api("provider")
    ok = provider.post(
        f"/api/v1/collections/{BLUE}/items", params={"filename": "field.txt"}, content=b"field"
    )
    assert ok.status_code == 201
    no = provider.post(
        f"/api/v1/collections/{RED}/items", params={"filename": "field.txt"}, content=b"field"
    )
    assert no.status_code == 404


def test_an_upload_keeps_the_files_modification_time_as_the_browsers_claim(site: Site) -> None:
    """The browser's File.lastModified reaches the ingestion event (marked as its claim) and
    the item, on both upload routes; a time that is no time is refused before any byte."""
    api = site.api("intake")
    when_ms = 1_356_998_400_123  # 2013-01-01T00:00:00.123Z
    up = api.post(
        f"/api/v1/collections/{BLUE}/uploads",
        json={"filename": "dated.txt", "size": 5, "modified": when_ms},
    ).json()
    one = api.put(f"/api/v1/uploads/{up['upload_id']}?offset=0", content=b"dated").json()
    two = api.post(
        f"/api/v1/collections/{BLUE}/items",
        params={"filename": "dated-2.txt", "modified": when_ms},
        content=b"dated two",
    ).json()
    undated = api.post(
        f"/api/v1/collections/{BLUE}/items", params={"filename": "undated.txt"}, content=b"u"
    ).json()
    with site.ws.db.reader() as s:
        for receipt, expected in ((one, when_ms), (two, when_ms), (undated, None)):
            item = s.get(Item, receipt["item_id"])
            assert item is not None
            assert item.mtime_ns == (None if expected is None else expected * 1_000_000)
            event = s.execute(
                select(CustodyEvent).where(
                    CustodyEvent.object_id == str(receipt["item_id"]),
                    CustodyEvent.event_type == "ingestion",
                )
            ).scalar_one()
            details = json.loads(event.details)
            if expected is None:
                assert details["file_times"]["modified"] is None
                assert "file_times_from" not in details
            else:
                assert details["file_times"]["modified"] == "2013-01-01T00:00:00.123000000Z"
                assert details["file_times_from"] == "uploader's browser"
    for bad in (-1, 10**17, "yesterday"):
        r = api.post(
            f"/api/v1/collections/{BLUE}/uploads",
            json={"filename": "bad.txt", "size": 1, "modified": bad},
        )
        assert r.status_code == 422, (bad, r.text)
        r = api.post(
            f"/api/v1/collections/{BLUE}/items",
            params={"filename": "bad.txt", "modified": bad},
            content=b"x",
        )
        assert r.status_code == 422, (bad, r.text)


def test_two_requests_cannot_append_to_one_upload_at_once(site: Site) -> None:
    from amanah.access.tokens import token_account
    from amanah.access.users import caller_for
    from amanah.intake import upload

    api = site.api("intake")
    uid = api.post(
        f"/api/v1/collections/{BLUE}/uploads", json={"filename": "busy.txt", "size": 4}
    ).json()["upload_id"]
    with site.ws.db.reader() as s:
        account = token_account(s, site.tokens["intake"])
        assert account is not None
        caller = caller_for(s, account)
    busy = upload.Writer(site.ws, caller, uid, 0)  # a request still receiving
    try:
        r = api.put(f"/api/v1/uploads/{uid}?offset=0", content=b"abcd")
        assert r.status_code == 409 and "another request" in r.json()["error"]
    finally:
        busy.abort()
    r = api.put(f"/api/v1/uploads/{uid}?offset=0", content=b"abcd")
    assert r.json()["complete"] and r.json()["sha256"] == hashlib.sha256(b"abcd").hexdigest()
