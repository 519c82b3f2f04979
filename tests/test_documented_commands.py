"""Every documented command runs, not only parses (tests/test_docs.py parses them all).

One small real workspace per module (a PDF, an English and an Arabic text made here, ingested
and processed through the cage), then each command the README and docs/ show and no other
test ran, as a user types it (`python -m amanah.cli`), with its output, exit status and effect
asserted. Each test uses its own request reference: the suite runs in random order.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from amanah.config import write_default_config
from amanah.db.models import Blob, CustodyEvent, Item, Job
from amanah.workspace import open_workspace
from tests.conftest import REPO, amanah, amanah_here

PROVIDER = "Detainees Association"
COLLECTION = "DA handover 1"
KEPT = "Minutes of the handover meeting."
HIDDEN = "Checkpoint 14 near the airport."
#: Where HIDDEN is written (points, from the page's top left) and the region that covers it.
HIDDEN_AT = (72, 620)
REGION = (1, 60, 600, 400, 640)
WHEAT_AR = "حصد المزارعون القمح في الحقول قرب النهر وباعوه في سوق القرية.\n"


@dataclass
class Documented:
    home: Path
    folder: Path
    framework: str
    ids: dict[str, int]


def _ok(home: Path, *args: str) -> str:
    return amanah(home, *args, check=True).stdout


def _step(home: Path, *args: str) -> str:
    """A step before the documented command (a jurisdiction, a request, a user), run in this
    process: each real `python -m amanah.cli` costs seconds of imports before it does anything.
    The documented commands themselves run as a user types them (`_ok`, `amanah`)."""
    return amanah_here(home, *args, check=True).stdout


def _rows(table: str) -> list[list[str]]:
    """The body rows of a table the command line prints (COLUMNS=200: no wrapping)."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in table.splitlines()
        if line.startswith("│")
    ]


def _statement(path: Path) -> Path:
    """A one-page PDF with a line to keep and a line a hand-drawn region must remove."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((72, 100), KEPT, fontsize=14)
    page.insert_text(HIDDEN_AT, HIDDEN, fontsize=14)
    doc.save(path)
    doc.close()
    return path


def _ids(home: Path) -> dict[str, int]:
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            rows = s.execute(select(Item.id, Item.original_path)).all()
        return {Path(p).name: i for i, p in rows}
    finally:
        ws.close()


@pytest.fixture(scope="module")
def documented(tmp_path_factory: pytest.TempPathFactory) -> Documented:
    base = tmp_path_factory.mktemp("documented")
    home = base / "home"
    write_default_config(home)
    folder = base / "ev"
    folder.mkdir()
    _statement(folder / "statement.pdf")
    (folder / "minutes.txt").write_text(
        "Minutes of the meeting about detention at the school in Mezzeh.\n", encoding="utf-8"
    )
    (folder / "wheat.txt").write_text(WHEAT_AR, encoding="utf-8")
    _step(home, "jurisdiction", "add", "DE-GBA", "--state", "Germany", "--authority", "GBA")
    out = _step(
        home, "framework", "add", "--provider", PROVIDER, "--title", "MoU 2023",
        "--disclosure", "consent",
    )  # fmt: skip
    framework = re.fullmatch(r"framework (\d+): MoU 2023 \(Detainees Association\), .*\n", out)
    assert framework, out
    _ok(
        home, "ingest", str(folder), "--collection", COLLECTION, "--provider", PROVIDER,
        "--framework", framework[1],
    )  # fmt: skip
    _ok(home, "process")
    return Documented(home, folder, framework[1], _ids(home))


def _request(home: Path, reference: str) -> None:
    _step(
        home, "rfa", "add", reference, "--jurisdiction", "DE-GBA", "--received-on",
        "2026-10-01", "--subject", "Detentions at the school", "--urgency", "urgent",
    )  # fmt: skip


def _show(home: Path, reference: str) -> dict:
    import json

    return json.loads(_step(home, "rfa", "show", reference, "--json"))


# -- registries --------------------------------------------------------------------------------


def test_jurisdiction_framework_and_collection_lists_show_what_was_added(
    documented: Documented,
) -> None:
    home = documented.home
    assert _rows(_ok(home, "jurisdiction", "list")) == [["DE-GBA", "Germany", "GBA", ""]]
    assert _rows(_ok(home, "framework", "list")) == [
        [documented.framework, PROVIDER, "MoU 2023", "mou", "consent", "", ""]
    ]
    assert _rows(_ok(home, "collection", "list")) == [[COLLECTION, PROVIDER, "default", "3"]]


# -- requests for assistance -------------------------------------------------------------------


def test_rfa_list_assign_and_note_are_shown_and_recorded(documented: Documented) -> None:
    home, ref = documented.home, "RFA-2026-101"
    _request(home, ref)
    assert [ref, "DE-GBA", "2026-10-01", "urgent", "received", "default"] in _rows(
        _ok(home, "rfa", "list")
    )
    # A request goes to an account that may see it: not to a name nobody holds, nor to
    # someone without its compartment.
    nobody = amanah(home, "rfa", "assign", ref, "rania")
    assert nobody.returncode != 0 and "no user named 'rania'" in nobody.stderr, nobody.stderr
    for name, compartment in (("rania", "default"), ("omar", "secret-annex")):
        amanah_here(home, "user", "add", name, "--role", "analyst", "--compartment",
                    compartment, "--password-stdin", input="a long test password\n",
                    check=True)  # fmt: skip
    outside = amanah(home, "rfa", "assign", ref, "omar")
    assert outside.returncode != 0, outside.stdout
    assert f"user 'omar' may not see request {ref}" in outside.stderr
    assert _ok(home, "rfa", "assign", ref, "rania") == f"request {ref} is assigned to rania\n"
    note = "Called the unit; scope agreed"
    assert _ok(home, "rfa", "note", ref, note) == f"note added to {ref}\n"
    shown = _show(home, ref)
    assert shown["assignee"] == "rania"
    assert [e["note"] for e in shown["events"]] == [
        "received on 2026-10-01",
        "assigned to rania",
        note,
    ]
    text = _ok(home, "rfa", "show", ref)
    assert "received → received assigned to rania" in text
    assert f"received → received {note}" in text

    wrong = amanah(home, "rfa", "note", "RFA-NONE", "x")
    assert wrong.returncode == 2
    assert "error: no request for assistance 'RFA-NONE' (see `amanah rfa list`)" in wrong.stderr


def test_rfa_attach_search_logs_a_search_already_run(documented: Documented) -> None:
    home, ref = documented.home, "RFA-2026-102"
    _request(home, ref)
    found = _ok(home, "search", "school")
    head = re.match(r"1 items \(1 shown, \d+ ms, search #(\d+)\)\n", found)
    assert head, found
    number = head[1]
    assert _ok(home, "rfa", "attach-search", ref, number) == (
        f"search {number} is attached to {ref}\n"
    )
    searches = _show(home, ref)["searches"]
    assert [(s["query"], s["hits"]) for s in searches] == [("school", 1)]
    assert f"search {number} attached" in _ok(home, "rfa", "show", ref)

    wrong = amanah(home, "rfa", "attach-search", ref, "999999")
    assert wrong.returncode == 2
    assert "error: no search 999999 in the search log (see `amanah searches`)" in wrong.stderr
    assert len(_show(home, ref)["searches"]) == 1


def test_partially_met_counts_days_to_respond_and_only_moves_on_to_closed(
    documented: Documented,
) -> None:
    home, ref = documented.home, "RFA-2026-103"
    _request(home, ref)
    for state in ("acknowledged", "in_progress", "in_review"):
        assert _step(home, "rfa", "move", ref, state) == f"request {ref} is {state}\n"
    out = _ok(home, "rfa", "move", ref, "partially_met", "--on", "2026-11-20")
    assert out == f"request {ref} is partially_met\n"
    shown = _show(home, ref)
    assert (shown["state"], shown["responded_on"], shown["days_to_respond"]) == (
        "partially_met",
        "2026-11-20",
        50,
    )
    back = amanah(home, "rfa", "move", ref, "received")
    assert back.returncode == 2
    assert f"error: request {ref} is partially_met: it can move to closed, not to received" in (
        back.stderr.replace("\n", " ")
    )
    assert _show(home, ref)["state"] == "partially_met"


def test_consent_list_shows_each_record(documented: Documented) -> None:
    home, ref = documented.home, "RFA-2026-104"
    _request(home, ref)
    assert _rows(_ok(home, "consent", "list", ref)) == []
    by = "Director, letter of 2026-11-02"
    out = _ok(home, "consent", "record", ref, PROVIDER, "given", "--by", by)
    assert out == f"consent given by {PROVIDER} for {ref}\n"
    rows = _rows(_ok(home, "consent", "list", ref))
    assert [r[:4] for r in rows] == [[PROVIDER, "given", "all", by]]
    wrong = amanah(home, "consent", "list", "RFA-NONE")
    assert wrong.returncode == 2
    assert "error: no request for assistance 'RFA-NONE'" in wrong.stderr


# -- protected persons -------------------------------------------------------------------------


def test_protected_spelling_and_list_never_show_a_name(documented: Documented) -> None:
    """Names that no document of the module holds: other tests' redactions stay the same."""
    home = documented.home
    first, second = "خالد منصور", "Khalid Mansour"
    _ok(home, "protected", "add", "Witness Z", "--name", first)
    assert _ok(home, "protected", "spelling", "Witness Z", second) == (
        "spelling added to 'Witness Z'\n"
    )
    listed = _ok(home, "protected", "list")
    assert ["Witness Z", "witness", "2"] in _rows(listed)
    assert first not in listed and "Mansour" not in listed and "Khalid" not in listed
    at_rest = b"".join(p.read_bytes() for p in home.glob("amanah.db*"))
    assert "منصور".encode() not in at_rest and b"Mansour" not in at_rest

    wrong = amanah(home, "protected", "spelling", "Nobody", "Some Name")
    assert wrong.returncode == 2
    assert "error: no protected person 'Nobody' (see `amanah protected list`)" in wrong.stderr
    assert "Some Name" not in wrong.stdout + wrong.stderr


# -- packages ----------------------------------------------------------------------------------


def test_package_redact_region_blacks_out_the_area_and_removes_its_text(
    documented: Documented, tmp_path: Path
) -> None:
    import numpy as np
    import pymupdf

    home, item = documented.home, documented.ids["statement.pdf"]
    page, x0, y0, x1, y1 = REGION
    out = _ok(home, "package", "redact", str(item), "--region", f"{page}:{x0},{y0},{x1},{y1}")
    done = re.fullmatch(
        rf"item {item}: redacted 1 area\(s\) \(no protected name found\); "
        r"derivative ([0-9a-f]{64})\n",
        out,
    )
    assert done, out
    ws = open_workspace(home)
    try:
        with ws.blobs.open(done[1]) as f:
            redacted = f.read()
    finally:
        ws.close()
    with pymupdf.open(stream=redacted, filetype="pdf") as doc:
        text = doc[0].get_text()
        pix = doc[0].get_pixmap(dpi=72, colorspace=pymupdf.csGRAY)
    assert KEPT in text and "Checkpoint" not in text and "airport" not in text
    grey = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)
    assert grey[y0 + 3 : y1 - 3, x0 + 3 : x1 - 3].max() < 10  # black, all of it
    assert grey[y1 + 20 : y1 + 60, x0:x1].min() > 245  # and nothing else
    # The item itself is untouched.
    original = tmp_path / "original.pdf"
    _ok(home, "item", "get", str(item), str(original))
    assert original.read_bytes() == (documented.folder / "statement.pdf").read_bytes()

    # An area on a page the PDF does not have is refused, never silently dropped.
    beyond = amanah(home, "package", "redact", str(item), "--region", "9:10,10,50,50")
    assert beyond.returncode == 2, beyond.stdout + beyond.stderr  # the request was wrong
    assert "region on page 9: the PDF has 1 page(s); nothing was redacted" in beyond.stderr
    wrong = amanah(home, "package", "redact", str(item), "--region", "1:72,600")
    assert wrong.returncode == 2
    assert (
        "error: --region '1:72,600': expected PAGE:X0,Y0,X1,Y1 (e.g. 1:100,200,300,260)"
        in wrong.stderr
    )


def test_package_list_shows_a_built_package(documented: Documented, tmp_path: Path) -> None:
    home, ref = documented.home, "RFA-2026-105"
    minutes = documented.ids["minutes.txt"]
    _request(home, ref)
    _step(home, "rfa", "review", ref, "relevant", str(minutes))
    _step(home, "consent", "record", ref, PROVIDER, "given", "--by", "Director")
    built = _ok(home, "package", "build", ref, str(tmp_path / "out"))
    size = (documented.folder / "minutes.txt").stat().st_size
    line = rf"^package (PKG-\S+) for {ref} \(DE-GBA\): 1 items \(0 redacted\)"
    head = re.search(line, built, re.M)
    assert head, built
    rows = [r for r in _rows(_ok(home, "package", "list")) if r[1] == ref]
    assert [(r[0], r[2], r[4], r[5]) for r in rows] == [(head[1], "DE-GBA", "1", str(size))]


# -- fixity ------------------------------------------------------------------------------------


def _fixity_events(home: Path, after: int) -> list[CustodyEvent]:
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            return list(
                s.scalars(
                    select(CustodyEvent)
                    .where(CustodyEvent.seq > after, CustodyEvent.event_type == "fixity check")
                    .order_by(CustodyEvent.seq)
                )
            )
    finally:
        ws.close()


def test_fixity_runs_to_completion_with_one_event_per_blob(documented: Documented) -> None:
    import json

    home = documented.home
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            shas = set(s.scalars(select(Blob.sha256)))
            last = s.scalar(select(func.max(CustodyEvent.seq))) or 0
    finally:
        ws.close()
    proc = amanah(home, "fixity")
    assert proc.returncode == 0, proc.stderr
    summary = proc.stdout.strip().splitlines()[-1]
    assert re.fullmatch(
        rf"fixity: {len(shas)} blobs, [\d,]+ bytes checked with \d+ process(es)? in [\d.]+ s "
        r"\(.*\); 0 problems",
        summary,
    ), summary
    events = _fixity_events(home, last)
    assert sorted(e.object_id for e in events) == sorted(shas)
    assert {(e.object_type, e.outcome) for e in events} == {("blob", "success")}
    assert {json.loads(e.details)["result"] for e in events} == {"ok"}

    last = events[-1].seq
    sampled = amanah(home, "fixity", "--sample", "0.5")
    assert sampled.returncode == 0, sampled.stderr
    count = re.search(r"fixity: (\d+) blobs", sampled.stdout)
    assert count and 1 <= int(count[1]) < len(shas), sampled.stdout
    assert len(_fixity_events(home, last)) == int(count[1])


# -- search by meaning -------------------------------------------------------------------------


def test_search_semantic_finds_an_arabic_text_for_an_english_question(
    documented: Documented,
) -> None:
    home = documented.home
    words = _ok(home, "search", "wheat harvest")
    assert words.startswith("0 items"), words
    meaning = _ok(home, "search", "farmers harvesting wheat in the fields", "--semantic")
    first = re.search(r"^#\d+\s+(\S+)$", meaning, re.M)  # #N is the item; the first is the top
    assert first and first[1] == "ev/wheat.txt", meaning


def test_semantic_false_makes_no_embed_job(documented: Documented, tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = write_default_config(home)
    text = config.read_text(encoding="utf-8")
    assert "\nsemantic = true\n" in text
    config.write_text(text.replace("\nsemantic = true\n", "\nsemantic = false\n"), "utf-8")
    folder = tmp_path / "ev"
    folder.mkdir()
    (folder / "wheat.txt").write_text(WHEAT_AR, encoding="utf-8")
    _ok(home, "ingest", str(folder), "--collection", "c", "--provider", "p")
    _ok(home, "process")

    def kinds(where: Path) -> set[str]:
        ws = open_workspace(where)
        try:
            with ws.db.reader() as s:
                return set(s.scalars(select(Job.kind).where(Job.state == "done")))
        finally:
            ws.close()

    assert "embed" in kinds(documented.home)  # the control: the default embeds
    done = kinds(home)
    assert "process" in done and "embed" not in done
    assert _ok(home, "search", "القمح").startswith("1 items")  # words still find it
    meaning = _ok(home, "search", "farmers harvesting wheat", "--semantic")
    assert meaning.startswith("0 items"), meaning


# -- every command kind is run by some test -----------------------------------------------------

#: Test helpers that run the command line with their arguments as its words.
_RUNNERS = {"amanah", "amanah_here", "_ok", "_step", "_as_judge"}


def _words_run(node: ast.AST) -> list[str] | None:
    """The command words a call or argv list in a test runs, or None if it runs none."""

    def const(n: ast.AST) -> str | None:
        return n.value if isinstance(n, ast.Constant) and isinstance(n.value, str) else None

    if isinstance(node, ast.Call):
        f = node.func
        name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
        if name == "ingest_cli":
            return ["ingest"]
        if name not in _RUNNERS:
            return None
        words = [const(a) for a in node.args]
    elif isinstance(node, ast.List):
        words = [const(e) for e in node.elts]
        if "amanah.cli" not in words:
            return None
        words = words[words.index("amanah.cli") + 1 :]
    else:
        return None
    out: list[str] = []
    i = 0
    while i < len(words) and words[i] is None:  # the home
        i += 1
    while i < len(words):
        if words[i] == "--home":
            i += 2
            continue
        if words[i] is None:
            break
        out.append(words[i])  # type: ignore[arg-type]
        i += 1
    return out


def commands_run() -> set[tuple[str, ...]]:
    """Every command path some test runs as a subprocess or through the CLI runner."""
    from tests.test_docs import ROOT, _commands

    paths = list(_commands(ROOT))
    run: set[tuple[str, ...]] = set()
    for source in sorted((REPO / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            words = _words_run(node)
            if words:
                run.update(p for p in paths if tuple(words[: len(p)]) == p)
    return run


def test_every_documented_command_kind_is_run_by_some_test() -> None:
    from tests.test_docs import ROOT, SHOWN, _commands, _parse, _words

    run = commands_run()
    missing = sorted(" ".join(p) for p in _commands(ROOT) if p not in run)
    assert not missing, f"documented commands no test runs: {missing}"
    shown = [_parse(_words(line))[1] for _, line in SHOWN]
    assert len(shown) > 60 and all(p in run for p in shown)


def test_the_run_collector_can_fail() -> None:
    """A call that is not a runner, and an argv without the CLI, run nothing."""
    tree = ast.parse('print("rfa", "list")\nx = ["python", "-m", "pytest", "rfa"]')
    assert all(_words_run(n) is None for n in ast.walk(tree))
    call = ast.parse('amanah(home, "rfa", "list", ref)').body[0].value  # type: ignore[attr-defined]
    assert _words_run(call) == ["rfa", "list"]
