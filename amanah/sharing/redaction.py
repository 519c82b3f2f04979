"""True redaction: the protected names' text and pixels are removed, not covered, and the
result is read back before it is recorded.

PDFs (`amanah.sharing.redact_pdf`): the words of a name on the text layer (over the page's
whole word sequence, so across line ends) and the words OCR reads in the page's pixels (Arabic
and Latin word boxes, `amanah.processing.wordboxes`) get a redaction area; the glyphs under it
are deleted and image pixels blanked; only the pages' contents are copied into a new file, so
no outline, annotation, form field, link, embedded file, script, page label, layer name,
document information, XMP or earlier revision survives. Images: the OCR'd words (and regions
given by hand, e.g. a face) are painted over and the file is written anew from its pixels,
without metadata. Anything else (Office documents, email, archives, audio, video) cannot be
redacted here: `why_not` says so, and the web offers no Redact button for it.

Then the written file is read back as a recipient would read it (its text layer, OCR of its
images in the collection's languages and at least Arabic and English, its metadata and every
object): a redaction whose output still reads a protected name is refused, not recorded. The
original is never touched: the redacted file is a derivative with its own hash and a derivation
event. Evidence is parsed in the processing sandbox (a forked child with limits).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from amanah.access import Caller, Permission, visible_item
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import Collection, Derivative, Item
from amanah.processing import scratch, wordboxes
from amanah.processing.pipeline import local_copy, put_derivative
from amanah.processing.sandbox import Limits, Sandbox, SandboxError
from amanah.processing.sandbox_pool import SandboxPool
from amanah.sharing import SharingError, name_areas, redact_pdf
from amanah.sharing.protected import Matcher
from amanah.sharing.redaction_sandbox import IMAGE_TYPES, SPEC
from amanah.workspace import Workspace

REDACTED, REDACTED_TEXT, PSEUDONYMISED = "redacted", "redacted-text", "pseudonymised-text"
#: Largest words.json or reread.json Amanah reads into memory (a 300-page typed PDF's words
#: are 17 MB): a hostile file, or a compromised child, must not make the web server or the
#: worker that reads it allocate without bound.
TAKEN_LIMIT = 512 << 20
PREVIEW_WIDTH = 900
IMAGE_METHOD = (
    "Tesseract word boxes (Arabic and Latin) painted over; image written anew from its pixels"
    " alone, without EXIF, XMP, ICC profile, text chunks or comments"
)


def why_not(media_type: str | None) -> str | None:
    """Why an item of this type cannot be redacted here, or None when it can. The one place
    that decides it: the CLI, the web (no Redact button) and the package build ask here."""
    if media_type == "application/pdf" or media_type in IMAGE_TYPES:
        return None
    base = (media_type or "").split(";")[0].strip().lower()
    if not base or base == "application/octet-stream":
        kind = "a file of unknown type"
    elif base.startswith("message/") or base in ("application/vnd.ms-outlook", "application/mbox"):
        kind = "an email"
    elif base.startswith(("audio/", "video/")):
        kind = "audio or video"
    elif any(
        k in base for k in ("zip", "tar", "rar", "7z", "compressed", "archive", "gzip", "bzip")
    ):
        kind = "an archive"
    elif any(
        k in base
        for k in ("officedocument", "msword", "ms-excel", "ms-powerpoint", "opendocument", "rtf")
    ):
        kind = "an office document"
    else:
        kind = f"a {base} file"
    return (
        f"{kind} ({base or 'unknown type'}) cannot be redacted here: only PDFs and single-page"
        " images can. Convert it to PDF and redact the conversion, or leave it out of the package"
    )


def redactable(media_type: str | None) -> bool:
    return why_not(media_type) is None


# -- in Amanah -------------------------------------------------------------------------------


def _label(item: Item) -> str:
    return f"item {item.id} ({item.original_path})"


@contextlib.contextmanager
def _box(ws: Workspace, sandbox: Sandbox | SandboxPool | None) -> Iterator[Sandbox | SandboxPool]:
    """The sandbox given (or a pool's warm one), or one of our own, closed after."""
    box = sandbox or Sandbox.for_settings(ws.settings)
    try:
        yield box
    finally:
        if sandbox is None:
            box.close()


def _ask(
    box: Sandbox | SandboxPool,
    item: Item,
    source: Path,
    work: Path,
    spec: dict[str, Any],
    what: str = "redaction",
) -> dict[str, Any]:
    """Run one task on the item's bytes in the sandbox; the spec (no name, no key) is deleted
    by the child as soon as it is read."""
    (work / SPEC).write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    (work / SPEC).chmod(0o600)
    try:
        return box.analyze(
            str(source), item.original_path, str(work), Limits(cpu_seconds=1800), task="redact"
        )
    except SandboxError as exc:
        raise SharingError(f"{_label(item)}: {what} failed: {exc}") from exc


def _run(
    ws: Workspace,
    item: Item,
    work: Path,
    spec: dict[str, Any],
    sandbox: Sandbox | SandboxPool | None,
    what: str = "redaction",
) -> dict[str, Any]:
    with _box(ws, sandbox) as box:
        return _ask(box, item, local_copy(ws, item.sha256, work), work, spec, what)


def _written_type(media_type: str | None) -> str:
    """The redacted copy's type: an image is written as JPEG or PNG (`_paint_image`)."""
    fmt, _ = IMAGE_TYPES[str(media_type)]
    return "image/jpeg" if fmt == "JPEG" else "image/png"


def _taken(work: Path, name: Any, item: Item) -> Any:
    """A JSON file the child wrote, read and removed (it holds the file's words)."""
    path = work / str(name)
    if path.parent != work or not path.is_file() or path.is_symlink():
        raise SharingError(f"{_label(item)}: the sandbox did not write its {name!r}")
    size = path.stat().st_size
    if size > TAKEN_LIMIT:
        path.unlink()
        raise SharingError(
            f"{_label(item)}: the sandbox's {name!r} is {size >> 20} MiB, over the"
            f" {TAKEN_LIMIT >> 20} MiB Amanah reads: split the file and redact its parts"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SharingError(f"{_label(item)}: the sandbox's {name!r} cannot be read") from exc
    finally:
        path.unlink(missing_ok=True)


def redact(
    ws: Workspace,
    caller: Caller,
    item_id: int,
    regions: list[tuple[int, float, float, float, float]] | None = None,
    sandbox: Sandbox | SandboxPool | None = None,
) -> dict[str, Any]:
    """Make (or make again) the redacted derivative of one item for every protected person.

    `regions` are extra areas to remove by hand: (page, x0, y0, x1, y1) in PDF points (origin
    at the top left of the unrotated page), or (1, left, top, right, bottom) in pixels for an
    image. The written file is read back; if any protected name still reads in it, nothing
    is recorded but a failed derivation event, and SharingError says where (by pseudonym)."""
    caller.require(Permission.MANAGE_REQUESTS)
    with ws.db.reader() as s:
        item = visible_item(s, caller, item_id)
        s.expunge(item)
        coll = s.get(Collection, item.collection_id)
        langs = wordboxes.languages(coll.ocr_languages if coll else None)
        matcher = Matcher.load(s)
        text_derivs = list(
            s.execute(
                Derivative.__table__.select().where(
                    Derivative.item_id == item_id, Derivative.kind.in_(("text", "ocr"))
                )
            ).all()
        )
    reason = why_not(item.media_type)
    if reason:
        raise SharingError(f"{_label(item)}: {reason}")
    if not matcher and not regions:
        raise SharingError(
            "no protected person is recorded and no region was given: nothing to redact"
        )
    pdf = item.media_type == "application/pdf"
    if not pdf and any(r[0] != 1 for r in regions or []):
        raise SharingError(
            f"{_label(item)}: a region names a page other than 1: an image has one page"
        )
    scratch_folder = scratch.Held(ws.home / "work", "redact-")  # swept if this process dies
    work = scratch_folder.path
    try:
        asked = {"media_type": item.media_type, "languages": langs}
        with _box(ws, sandbox) as box:
            source = local_copy(ws, item.sha256, work)
            listed = _ask(
                box, item, source, work, {**asked, "action": "words", "ocr": bool(matcher)}
            )
            try:
                shown = _taken(work, listed.get("words"), item)
                found, names = name_areas.areas(shown, matcher)
                pages = int(shown["page_count"])
            except (KeyError, TypeError, ValueError) as exc:
                raise SharingError(f"{_label(item)}: the sandbox's word list is malformed") from exc
            outside = sorted({r[0] for r in regions or [] if r[0] > pages})
            if outside:  # an area asked for is never silently dropped
                raise SharingError(
                    f"{_label(item)}: region on page {outside[0]}: the PDF has {pages} page(s);"
                    " nothing was redacted"
                )
            areas = found + [[r[0], *map(float, r[1:])] for r in regions or []]
            manifest = _ask(box, item, source, work, {**asked, "action": "apply", "areas": areas})
        try:
            written = work / Path(str(manifest["file"])).name
            manifest["left"] = name_areas.left(
                _taken(work, manifest.get("reread"), item), matcher, written
            )
            # The re-read text is kept as a derivative: what it says is looked at too, not
            # taken on the child's word that it is what reread.json says.
            said = (work / "check.txt").read_text(encoding="utf-8")
            for p in matcher.names(said):
                manifest["left"].setdefault(p, []).append("the re-read text")
        except (KeyError, TypeError, ValueError, OSError) as exc:
            raise SharingError(f"{_label(item)}: the sandbox's re-reading is malformed") from exc
        manifest.update(
            # Said by Amanah, not taken from the child: its type (what a recipient's software
            # opens it as) and the method recorded in the custody ledger.
            media_type="application/pdf" if pdf else _written_type(item.media_type),
            method=redact_pdf.method() if pdf else IMAGE_METHOD,
            regions=len(areas),
            areas=[[a[0], *(round(v, 1) for v in a[1:])] for a in areas],
            names=names,
            ocr_pages=[
                n for n, page in enumerate(shown["pages"], 1) if page.get("ocr") is not None
            ],
        )
        if manifest["left"]:
            where = "; ".join(
                f"{p}: {', '.join(places)}" for p, places in sorted(manifest["left"].items())
            )
            with ws.db.session() as s:
                ledger.append(
                    s,
                    EventType.DERIVATION,
                    actor=caller.actor,
                    object_type="item",
                    object_id=item_id,
                    outcome="failure",
                    details={
                        "action": "redaction",
                        "refused": "the redacted output still reads a protected name",
                        "left": manifest["left"],
                        **caller.audit(),
                    },
                )
            raise SharingError(
                f"{_label(item)}: the redacted file still reads a protected name ({where});"
                " nothing was recorded. Draw a region over it and redact again"
                f" (`amanah package redact {item_id} --region PAGE:X0,Y0,X1,Y1`)"
            )
        with written.open("rb") as f:
            put = ws.blobs.put(f)
        with (work / "check.txt").open("rb") as f:
            check = ws.blobs.put(f)
        pseudo = None
        if text_derivs:
            parts = []
            for d in sorted(text_derivs, key=lambda d: (d.kind, d.page)):
                with ws.blobs.open(d.sha256) as f:
                    parts.append(f.read().decode("utf-8", "replace"))
            clean, _ = matcher.pseudonymise("\n".join(parts))
            (work / "pseudonymised.txt").write_text(clean, encoding="utf-8")
            with (work / "pseudonymised.txt").open("rb") as f:
                pseudo = ws.blobs.put(f)
        ws.blobs.sync()
        details = {
            "derivative": REDACTED,
            "sha256": put.sha256,
            "size": put.size,
            "source_sha256": item.sha256,
            "media_type": manifest["media_type"],
            "method": manifest["method"],
            "regions": manifest["regions"],
            "areas": manifest["areas"][:2000],
            "hand_regions": [list(r) for r in regions or []],
            "protected": sorted(manifest["names"]),
            "ocr_pages": manifest["ocr_pages"],
            "ocr_languages": langs,
            "sandbox": manifest.get("sandbox"),
            "reread": "text layer, OCR of every page with an image, metadata and every object"
            " of the written file: no protected name reads",
        }
        with ws.db.session() as s:
            action = {"action": "redaction", **details, **caller.audit()}
            # one derivation event per derivative: the redacted copy's says it is a redaction
            made = put_derivative(
                s,
                item_id,
                REDACTED,
                put,
                manifest["media_type"],
                details,
                actor=caller.actor,
                about=action,
            )
            put_derivative(s, item_id, REDACTED_TEXT, check, "text/plain", {"of": put.sha256})
            if pseudo is not None:
                put_derivative(s, item_id, PSEUDONYMISED, pseudo, "text/plain", {"of": item.sha256})
            if not made:  # the same copy made again: who redacted it again is still recorded
                ledger.append(
                    s,
                    EventType.DERIVATION,
                    actor=caller.actor,
                    object_type="item",
                    object_id=item_id,
                    details=action,
                )
        return {"item_id": item_id, **details}
    finally:
        scratch_folder.release()


def parse_regions(text: str) -> list[tuple[int, float, float, float, float]]:
    """Regions written one per line (or separated by spaces) as PAGE:X0,Y0,X1,Y1, like the
    CLI's --region: PDF points from the unrotated page's top left, or pixels of an image."""
    out = []
    for value in text.split():
        try:
            page, rest = value.split(":", 1)
            x0, y0, x1, y1 = (float(v) for v in rest.split(","))
            number = int(page)
        except ValueError:
            raise SharingError(
                f"region {value[:60]!r}: expected PAGE:X0,Y0,X1,Y1 (e.g. 1:100,200,300,260)"
            ) from None
        if number < 1 or x1 <= x0 or y1 <= y0 or min(x0, y0) < 0:
            raise SharingError(
                f"region {value[:60]!r}: pages count from 1, and X0 < X1, Y0 < Y1, none negative"
            )
        out.append((number, x0, y0, x1, y1))
    if len(out) > 500:
        raise SharingError("at most 500 regions at a time")
    return out


def current(ws: Workspace, caller: Caller, item_id: int) -> dict[str, Any] | None:
    """The item's redacted derivative as its derivation recorded it, or None."""
    caller.require(Permission.MANAGE_REQUESTS)
    with ws.db.reader() as s:
        visible_item(s, caller, item_id)
        row = s.execute(
            Derivative.__table__.select().where(
                Derivative.item_id == item_id, Derivative.kind == REDACTED
            )
        ).first()
    if row is None:
        return None
    return {"sha256": row.sha256, "media_type": row.media_type, **json.loads(row.details or "{}")}


def preview(
    ws: Workspace,
    caller: Caller,
    item_id: int,
    page: int,
    version: str = "redacted",
    width: int = PREVIEW_WIDTH,
    sandbox: Sandbox | SandboxPool | None = None,
    audited: bool = True,
) -> tuple[bytes, dict[str, Any]]:
    """One page of the original (with the redaction areas drawn on it) or of its redacted
    derivative as a PNG rendered in the sandbox, with every page's size (points, or pixels for
    an image); an audited read. `audited=False` asks for the sizes alone (no pixels leave)."""
    caller.require(Permission.MANAGE_REQUESTS)
    if version not in ("original", "redacted"):
        raise SharingError(f"version {version!r}: choose original or redacted")
    with ws.db.reader() as s:
        item = visible_item(s, caller, item_id)
        s.expunge(item)
    reason = why_not(item.media_type)
    if reason:
        raise SharingError(f"{_label(item)}: {reason}")
    source, media_type = item.sha256, item.media_type
    found = current(ws, caller, item_id)
    areas: list[list[Any]] = []
    if version == "redacted":
        if found is None:
            raise SharingError(f"{_label(item)} has no redacted version yet")
        source, media_type = found["sha256"], found["media_type"]
    elif found is not None and audited:
        hand = {(r[0], *(round(v, 1) for v in r[1:])) for r in found.get("hand_regions", [])}
        areas = [[*a, "found"] for a in found.get("areas", []) if tuple(a) not in hand]
        areas += [[*r, "hand"] for r in hand]
    scratch_folder = scratch.Held(ws.home / "work", "preview-")
    work = scratch_folder.path
    try:
        spec = {
            "action": "preview",
            "media_type": media_type,
            "page": page,
            "width": width,
            "areas": areas,
        }
        shown = Item(id=item.id, sha256=source, original_path=item.original_path)
        manifest = _run(ws, shown, work, spec, sandbox, "preview")
        png = (work / manifest["file"]).read_bytes()
    finally:
        scratch_folder.release()
    if not audited:
        return b"", {"unit": manifest["unit"], "sizes": manifest["sizes"]}
    with ws.db.session() as s:
        ledger.append(
            s,
            EventType.ACCESS,
            actor=caller.actor,
            object_type="item",
            object_id=item_id,
            details={
                "action": f"redaction preview ({version})",
                "page": page,
                "sha256": source,
                **caller.audit(),
            },
        )
    return png, {"unit": manifest["unit"], "sizes": manifest["sizes"]}


def layout(
    ws: Workspace, caller: Caller, item_id: int, sandbox: Sandbox | SandboxPool | None = None
) -> dict[str, Any]:
    """Every page's size in the units regions are given in (no content leaves: not audited)."""
    return preview(ws, caller, item_id, 1, "original", 16, sandbox, audited=False)[1]
