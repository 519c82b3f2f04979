"""A withdrawal of consent follows the document to its near-duplicates (issue 17, part 4):
real files processed by the real pipeline — a statement as .txt, the same text re-saved with
another first line, the same text printed to PDF by WeasyPrint — a protected person linked to
the first, consent withdrawn: the others are withheld on search, the item page, the API and a
package build, also when the near-duplicate arrives after the withdrawal. An unrelated text
stays visible (the negative control); consent given again shows them all; the legal officer's
"not the same document" lifts the derived link only. Every derivation and lifting is a custody
event with ids and SHA-256, never a name. The core runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import NotVisible, Role, local_administrator, visible_item, withheld_item_ids
from amanah.access.tokens import create_token
from amanah.access.users import add_user
from amanah.db.models import CustodyEvent, DistinctDocument, Item, PersonItem, Relation
from amanah.search import service
from amanah.sharing import near_duplicate_links
from amanah.web.app import create_app
from amanah.workspace import Workspace, open_workspace
from tests.conftest import amanah_here, without_semantic, write_default_config
from tests.fixtures import photo_with_exif

NAME = "Ahmad al-Khatib"  # the protected person's name: never shown, logged or stored in clear
WORD, OTHER_WORD = "zanzibarite", "quixotical"
BODY = [
    f"I was arrested at the {WORD} checkpoint on the northern road in the spring of 2012.",
    "Four men in uniform took my identity card and pushed me into a white minibus.",
    "We drove for about an hour and I could hear the call to prayer from a nearby mosque.",
    "They put me in a cell in the basement with nineteen other men and no windows.",
    "Every night the guards called names from a list and took two or three men upstairs.",
    "When they came back their feet were swollen and some of them could not stand at all.",
    "I was questioned three times about the demonstrations and the names of the organisers.",
    "The interrogator wore a green jacket and wrote everything in a small black notebook.",
    "On the twelfth day I was moved to another building near the airport with my cousin.",
    "There we received one meal a day, usually bread and olives, and water twice a day.",
    "I was released after forty one days when my family paid money to an intermediary.",
    "I still have the receipt of the payment and the paper they gave me at the gate.",
]
FILES = {
    "statement.txt": "Statement of witness A, taken in Gaziantep\n" + "\n".join(BODY) + "\n",
    "statement-resaved.txt": "Copy sent again by the documentation team, file 7\n"
    + "\n".join(BODY)
    + "\n",
    "unrelated.txt": "\n".join(
        f"Minutes {n}: the {OTHER_WORD} committee met to discuss fuel, flour and the"
        f" repair of the water pump in the camp number {n} before the winter season."
        for n in range(1, 9)
    )
    + "\n",
}
LATE = "A third copy, retyped in the office in March\n" + "\n".join(BODY) + "\n"
PASSWORD = "a long test password"
T = TypeVar("T")


def _ok(home: Path, *args: str) -> str:
    out = amanah_here(home, *args, check=True).stdout
    assert NAME not in out, "a protected name was printed"
    return out


def _pdf(out: Path) -> None:
    import weasyprint

    paras = "".join(f"<p>{p}</p>" for p in ["Witness statement, printed", *BODY])
    weasyprint.HTML(
        string=f'<!doctype html><html><body style="font-family:DejaVu Sans">{paras}</body></html>'
    ).write_pdf(out)


def _read(home: Path, ask: Callable[[Workspace, Session], T]) -> T:
    """One answer read from a home, its workspace closed after."""
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            return ask(ws, s)
    finally:
        ws.close()


def _ids(home: Path) -> dict[str, int]:
    rows = _read(
        home,
        lambda _, s: s.execute(
            select(Item.id, Item.original_path).where(Item.parent_id.is_(None))
        ).all(),
    )
    return {Path(p).name: i for i, p in rows}


def _prepare(tmp: Path, db_url: str | None = None, rfa: bool = True) -> Path:
    """A home with the three texts and the PDF processed; with `rfa`, a request whose every
    item is relevant (for a package build); Witness A is a protected person."""
    home = tmp / "home"
    write_default_config(home, db_url)
    without_semantic(home)
    folder = tmp / "handover"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    _pdf(folder / "statement.pdf")
    framework = (
        _ok(home, "framework", "add", "--provider", "DA", "--title", "MoU", "--disclosure", "any")
        .split(":")[0]
        .split()[-1]
    )
    _ok(home, "ingest", str(folder), "--collection", "h1", "--provider", "DA",
        "--framework", framework)  # fmt: skip
    _ok(home, "process")
    if rfa:
        _ok(home, "jurisdiction", "add", "DE-GBA", "--state", "Germany", "--authority", "GBA")
        _ok(home, "rfa", "add", "RFA-DE", "--jurisdiction", "DE-GBA", "--received-on",
            "2026-09-01")  # fmt: skip
        _ok(home, "rfa", "move", "RFA-DE", "acknowledged")
        _ok(home, "rfa", "move", "RFA-DE", "in_progress")
        _ok(home, "rfa", "review", "RFA-DE", "relevant", *map(str, _ids(home).values()))
    _ok(home, "protected", "add", "Witness A", "--name", NAME)
    return home


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _prepare(tmp_path_factory.mktemp("neardup"))


@pytest.fixture
def home(prepared: Path, tmp_path: Path) -> Path:
    """A private copy: each test links, withdraws and gives on its own (random order)."""
    copy = tmp_path / "home"
    shutil.copytree(prepared, copy, symlinks=True)
    return copy


def _search(home: Path, query: str) -> set[int]:
    ws = open_workspace(home)
    try:
        hits = service.search(ws, local_administrator(ws), query, limit=50)
        return {h["item_id"] for h in hits.as_json()["hits"]}
    finally:
        ws.close()


def _withheld(home: Path) -> set[int]:
    ids = _ids(home)

    def ask(ws: Workspace, s: Session) -> set[int]:
        found = set(withheld_item_ids(s))
        boss = local_administrator(ws)
        for i in ids.values():  # the one-item check agrees with the set
            try:
                visible_item(s, boss, i)
                assert i not in found, i
            except NotVisible:
                assert i in found, i
        return found

    return _read(home, ask)


def _events(home: Path, action: str) -> list[dict[str, object]]:
    rows = _read(
        home, lambda _, s: s.execute(select(CustodyEvent.object_id, CustodyEvent.details)).all()
    )
    out = []
    for object_id, details in rows:
        d = json.loads(details)
        if d.get("action") == action:
            assert NAME not in details
            out.append({"object_id": object_id, **d})
    return out


def _sha(home: Path, item_id: int) -> str:
    return _read(
        home, lambda _, s: s.execute(select(Item.sha256).where(Item.id == item_id)).scalar_one()
    )


def _clients(ws: Workspace) -> dict[str, TestClient]:
    """The analyst's and the legal officer's API clients on this home."""
    app = create_app(ws)
    out = {}
    for role in (Role.ANALYST, Role.LEGAL):
        add_user(ws, role.value, role.value, PASSWORD, compartments=("default",), by="local:test")
        c = TestClient(app)
        c.headers["Authorization"] = f"Bearer {create_token(ws, role.value)}"
        out[role.value] = c
    return out


def _build(home: Path, out: Path) -> dict[str, object]:
    return json.loads(_ok(home, "package", "build", "RFA-DE", str(out), "--json"))


def test_processing_calls_them_near_duplicates(home: Path) -> None:
    """The premise: processing's own relation joins the statement and its two re-savings, and
    not the unrelated text (no person linked yet: no derived link)."""
    ids = _ids(home)
    rows = _read(
        home, lambda _, s: s.execute(select(Relation.item_a, Relation.item_b, Relation.kind)).all()
    )
    pairs = {frozenset((a, b)): k for a, b, k in rows}
    assert _read(home, lambda _, s: s.execute(select(PersonItem)).first()) is None
    st = ids["statement.txt"]
    assert pairs[frozenset((st, ids["statement-resaved.txt"]))] == "near_duplicate_text"
    assert pairs[frozenset((st, ids["statement.pdf"]))] == "near_duplicate_text"
    assert not any(ids["unrelated.txt"] in p for p in pairs)


def test_a_withdrawal_withholds_the_near_duplicates_everywhere(home: Path, tmp_path: Path) -> None:
    ids = _ids(home)
    st, resaved, pdf, other = (
        ids[n] for n in ("statement.txt", "statement-resaved.txt", "statement.pdf", "unrelated.txt")
    )
    copies = {st, resaved, pdf}
    _ok(home, "consent", "person", "link", "Witness A", str(st))
    derived = {e["object_id"]: e for e in _events(home, "person link derived")}
    assert set(derived) == {str(resaved), str(pdf)}, "one derived link per near-duplicate"
    for target, e in derived.items():
        assert e["derived_from"] == st and e["derived_from_sha256"] == _sha(home, st)
        assert e["sha256"] == _sha(home, int(target)) and e["person"] == "Witness A"
        assert float(e["similarity"]) >= 0.8  # type: ignore[arg-type]
    _ok(home, "consent", "person", "give", "Witness A", "--use", "investigation",
        "--use", "sharing")  # fmt: skip
    assert _search(home, WORD) == copies
    assert _withheld(home) == set()
    first = _build(home, tmp_path / "p1")
    assert not first["left_out"], first["left_out"]

    _ok(home, "consent", "person", "withdraw", "Witness A")
    assert _withheld(home) == copies
    assert _search(home, WORD) == set()
    assert _search(home, OTHER_WORD) == {other}  # the negative control
    second = _build(home, tmp_path / "p2")
    left = {x["item_id"]: x["reason"] for x in second["left_out"]}  # type: ignore[union-attr]
    assert set(left) == copies, left
    assert all("Witness A" in r and NAME not in r for r in left.values())

    ws = open_workspace(home)
    try:
        clients = _clients(ws)
        for lang, title in (("en", "Withheld as a near-duplicate"), ("ar", "محجوب بوصفه نسخة")):
            for role, c in clients.items():
                page = c.get(f"/items/{resaved}", params={"lang": lang})
                assert page.status_code == 200
                assert WORD not in page.text and NAME not in page.text
                said = _sha(home, st) in page.text and f'href="/items/{st}"' in page.text
                assert said is (role == "legal"), "only the legal officer sees of which item"
                assert (title in page.text) is (role == "legal")
        for path in ("", "/text", "/content"):
            assert clients["analyst"].get(f"/api/v1/items/{pdf}{path}").status_code == 404
            assert clients["analyst"].get(f"/api/v1/items/{other}{path}").status_code == 200
    finally:
        ws.close()

    _ok(home, "consent", "person", "give", "Witness A", "--use", "investigation")
    assert _withheld(home) == set()
    assert _search(home, WORD) == copies


def test_a_near_duplicate_ingested_after_the_withdrawal_is_withheld_too(
    home: Path, tmp_path: Path
) -> None:
    ids = _ids(home)
    _ok(home, "consent", "person", "link", "Witness A", str(ids["statement.txt"]))
    _ok(home, "consent", "person", "withdraw", "Witness A")
    later = tmp_path / "later"
    later.mkdir()
    (later / "statement-late.txt").write_text(LATE, encoding="utf-8")
    (later / "unrelated-late.txt").write_text(FILES["unrelated.txt"] + "Addendum.\n")
    _ok(home, "ingest", str(later), "--collection", "h2", "--provider", "DA")
    _ok(home, "process")
    ids = _ids(home)
    late = ids["statement-late.txt"]
    assert late in _withheld(home)
    assert ids["unrelated-late.txt"] not in _withheld(home)
    assert _search(home, WORD) == set()
    assert ids["unrelated-late.txt"] in _search(home, OTHER_WORD)
    made = [e for e in _events(home, "person link derived") if e["object_id"] == str(late)]
    assert len(made) == 1 and made[0]["derived_from"] == ids["statement.txt"]
    _ok(home, "consent", "person", "give", "Witness A", "--use", "investigation")
    assert late in _search(home, WORD)


def test_not_the_same_document_lifts_the_derived_link_only(home: Path) -> None:
    ids = _ids(home)
    st, resaved, pdf = (ids[n] for n in ("statement.txt", "statement-resaved.txt", "statement.pdf"))
    _ok(home, "consent", "person", "link", "Witness A", str(st))
    _ok(home, "consent", "person", "withdraw", "Witness A")
    assert _withheld(home) == {st, resaved, pdf}
    ws = open_workspace(home)
    try:
        c = _clients(ws)["analyst"]
        refused = c.post(f"/items/{resaved}/not-same-document", data={"of": str(st)})
        assert refused.status_code == 403  # only the legal officer decides
        c.headers["Authorization"] = f"Bearer {create_token(ws, Role.LEGAL.value)}"
        same = c.post(f"/items/{st}/not-same-document", data={"of": str(st)})
        assert same.status_code == 400 and "same bytes" in same.text
        done = c.post(
            f"/items/{resaved}/not-same-document", data={"of": str(st)}, follow_redirects=False
        )
        assert done.status_code == 303, done.text[:300]
        with ws.db.reader() as s:
            assert len(s.execute(select(DistinctDocument)).all()) == 1
        # Linking again (or processing again) derives nothing between the two documents.
        with ws.db.session() as s:
            assert near_duplicate_links.follow(s, [st, resaved], "local:test", parts=True) == 0
    finally:
        ws.close()
    assert _withheld(home) == {st, pdf}, "only the link derived from the statement is lifted"
    assert resaved in _search(home, WORD)
    ruled = _events(home, "not the same document")
    assert [(e["object_id"], e["other_item"]) for e in ruled] == [(str(resaved), st)]
    assert ruled[0]["sha256"] == _sha(home, resaved)
    lifted = _events(home, "person link lifted")
    assert [(e["object_id"], e["derived_from"]) for e in lifted] == [(str(resaved), st)]
    # The command line says the same for the PDF; the statement itself stays withheld.
    said = _ok(home, "consent", "person", "not-same", str(pdf), str(st))
    assert "1 link(s) lifted" in said
    assert _withheld(home) == {st}
    bad = amanah_here(home, "consent", "person", "not-same", str(st), str(st))
    assert bad.returncode == 2 and "same bytes" in bad.stdout + bad.stderr


def test_near_duplicates_are_withheld_on_postgresql(postgres: object, tmp_path: Path) -> None:
    """Both orders on the scale-out engine: a link made after processing, and a
    near-duplicate processed after the withdrawal."""
    url = postgres.create_database()  # type: ignore[attr-defined]
    home = _prepare(tmp_path, url, rfa=False)
    ids = _ids(home)
    st, resaved, pdf = (ids[n] for n in ("statement.txt", "statement-resaved.txt", "statement.pdf"))
    _ok(home, "consent", "person", "link", "Witness A", str(st))
    _ok(home, "consent", "person", "withdraw", "Witness A")
    assert _withheld(home) == {st, resaved, pdf}
    assert _search(home, WORD) == set() and _search(home, OTHER_WORD) == {ids["unrelated.txt"]}
    later = tmp_path / "later"
    later.mkdir()
    (later / "statement-late.txt").write_text(LATE, encoding="utf-8")
    _ok(home, "ingest", str(later), "--collection", "h2", "--provider", "DA")
    _ok(home, "process")
    late = _ids(home)["statement-late.txt"]
    assert _withheld(home) == {st, resaved, pdf, late}
    _ok(home, "consent", "person", "give", "Witness A", "--use", "investigation")
    assert _withheld(home) == set()
    assert _search(home, WORD) == {st, resaved, pdf, late}


def test_a_resaved_photo_follows_its_original(tmp_path: Path) -> None:
    """Images: a photograph re-saved smaller and more compressed (processing's perceptual
    near-duplicate) is withheld with the original; another photograph is not."""
    home = tmp_path / "home"
    write_default_config(home)
    without_semantic(home)
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "photo.jpg").write_bytes(photo_with_exif())
    (folder / "photo-resaved.jpg").write_bytes(photo_with_exif(quality=40, size=(320, 240)))
    (folder / "other.jpg").write_bytes(photo_with_exif(seed=11))
    _ok(home, "ingest", str(folder), "--collection", "p", "--provider", "DA")
    _ok(home, "process")
    _ok(home, "protected", "add", "Witness A", "--name", NAME)
    ids = _ids(home)
    _ok(home, "consent", "person", "link", "Witness A", str(ids["photo.jpg"]))
    _ok(home, "consent", "person", "withdraw", "Witness A")
    assert _withheld(home) == {ids["photo.jpg"], ids["photo-resaved.jpg"]}
    made = _events(home, "person link derived")
    assert [(e["object_id"], e["source"]) for e in made] == [
        (str(ids["photo-resaved.jpg"]), "near-duplicate image")
    ]


def test_a_blank_picture_is_no_ones_near_duplicate(tmp_path: Path) -> None:
    """A flat picture (a covered lens, a blank scan) hashes like every other flat picture
    (8000000000000000), so its perceptual hash would make any two blank photos one photo and
    a withdrawal on one withhold them all: it gets no hash. A photograph still does, and its
    re-saved copy still matches it (control)."""
    import io

    from PIL import Image

    from amanah.processing import fingerprints

    def flat(colour: tuple[int, int, int]) -> Path:
        buf = io.BytesIO()
        Image.new("RGB", (64, 48), colour).save(buf, "JPEG")
        path = tmp_path / f"flat-{colour[0]}.jpg"
        path.write_bytes(buf.getvalue())
        return path

    for colour in ((0, 0, 0), (40, 90, 120), (250, 250, 250)):
        assert fingerprints.image_phash(flat(colour)) is None
        assert "phash" not in fingerprints.compute(flat(colour), "image/jpeg", [])
    photo, resaved = tmp_path / "photo.jpg", tmp_path / "resaved.jpg"
    photo.write_bytes(photo_with_exif())
    resaved.write_bytes(photo_with_exif(quality=40, size=(320, 240)))
    a, b = fingerprints.image_phash(photo), fingerprints.image_phash(resaved)
    assert a is not None and b is not None
    assert fingerprints.similarity("phash", a, b) >= 1 - fingerprints.PHASH_MAX_DISTANCE / 64
