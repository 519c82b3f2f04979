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
import math
import shutil
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
from amanah.sharing import SharingError, redact_pdf
from amanah.sharing.protected import Matcher
from amanah.workspace import Workspace

IMAGE_TYPES = {
    "image/png": ("PNG", "png"),
    "image/jpeg": ("JPEG", "jpg"),
    "image/tiff": ("PNG", "png"),
    "image/bmp": ("PNG", "png"),
    "image/webp": ("PNG", "png"),
    "image/gif": ("PNG", "png"),
}
REDACTED, REDACTED_TEXT, PSEUDONYMISED = "redacted", "redacted-text", "pseudonymised-text"
SPEC = "redact.json"
WORDS, REREAD = "words.json", "reread.json"  # what the child read, for Amanah to match
#: Largest words.json or reread.json Amanah reads into memory (a 300-page typed PDF's words
#: are 17 MB): a hostile file, or a compromised child, must not make the web server or the
#: worker that reads it allocate without bound.
TAKEN_LIMIT = 512 << 20
#: What Pillow reports of a file it wrote itself that is format, not metadata.
FORMAT_INFO = ("jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi", "progressive")
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


# -- in the sandbox's child ------------------------------------------------------------------
# The child parses hostile evidence: it is given no names key and no name's digest. It lists
# the words a file shows with the areas that would remove them, removes the areas it is sent,
# and says everything the written file says; Amanah does the matching (below).


def redact_file(path: str, out_dir: str) -> dict[str, Any]:
    """Entry point in the sandbox: read the spec, then list the file's words, or remove areas
    and read the result back, or render one page for the preview."""
    out = Path(out_dir)
    spec = json.loads((out / SPEC).read_text(encoding="utf-8"))
    (out / SPEC).unlink()
    if spec.get("action") == "preview":
        return _preview(Path(path), out, spec)
    pdf = spec["media_type"] == "application/pdf"
    work = out / "ocr"
    try:
        if spec["action"] == "words":
            shown = (
                redact_pdf.words(Path(path), work, spec["languages"], spec["ocr"])
                if pdf
                else _image_words(Path(path), work, spec)
            )
            (out / WORDS).write_text(json.dumps(shown, ensure_ascii=False), encoding="utf-8")
            return {"words": WORDS}
        if spec["action"] != "apply":
            raise ValueError(f"unknown redaction action {spec['action']!r}")
        if pdf:
            target = out / "redacted.pdf"
            manifest = redact_pdf.apply(Path(path), target, spec["areas"])
            said = redact_pdf.reread(target, work, spec["languages"])
        else:
            manifest = _paint_image(Path(path), out, spec)
            target = out / manifest["file"]
            said = _reread_image(target, work, spec["languages"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (out / "check.txt").write_text(said.pop("said"), encoding="utf-8")
    (out / REREAD).write_text(json.dumps(said, ensure_ascii=False), encoding="utf-8")
    return {**manifest, "file": target.name, "reread": REREAD}


def _preview(path: Path, out: Path, spec: dict[str, Any]) -> dict[str, Any]:
    target = out / "preview.png"
    if spec["media_type"] == "application/pdf":
        found = redact_pdf.preview(path, target, spec["page"], spec["width"])
    else:
        from PIL import Image, ImageOps

        if spec["page"] != 1:
            raise ValueError("an image has one page")
        with Image.open(path) as im:
            image = ImageOps.exif_transpose(im).convert("RGB")
        found = {"unit": "px", "sizes": [list(image.size)]}
        scale = min(1.0, spec["width"] / max(image.width, 1))
        image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale)))).save(
            target, "PNG"
        )
    _outline(target, spec.get("areas") or [], found, spec["page"])
    return {**found, "file": target.name}


def _outline(png: Path, areas: list[list[Any]], found: dict[str, Any], page: int) -> None:
    """Draw the redaction areas of this page on its preview (red: found, blue: by hand)."""
    from PIL import Image, ImageDraw

    mine = [a for a in areas if int(a[0]) == page]
    if not mine:
        return
    width = found["sizes"][page - 1][0]
    with Image.open(png) as im:
        image = im.convert("RGB")
    scale = image.width / max(width, 1)
    draw = ImageDraw.Draw(image)
    for _, x0, y0, x1, y1, *kind in mine:
        colour = (0, 90, 220) if kind and kind[0] == "hand" else (220, 0, 0)
        box = [x0 * scale, y0 * scale, x1 * scale, y1 * scale]
        draw.rectangle(box, outline=colour, width=3)
    image.save(png, "PNG")


def _image(path: Path) -> Any:
    """The image as it is seen (EXIF orientation applied), in RGB; one frame only."""
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        if getattr(im, "n_frames", 1) > 1:
            raise ValueError(
                f"the image has {im.n_frames} frames (pages): only single-frame images can be"
                " redacted here; convert it to a PDF and redact that"
            )
        im.load()
        return ImageOps.exif_transpose(im).convert("RGB")


def _image_words(path: Path, work: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """The words OCR reads in the image, reading by reading, each with the area (pixels,
    padded) that removes it."""
    import numpy as np

    rgb = _image(path)
    readings = []
    if spec["ocr"]:
        found = wordboxes.words(np.asarray(rgb.convert("L")), work, spec["languages"])
        for reading in wordboxes.readings(found):
            shown = []
            for w in reading:
                x0, y0, x1, y1 = w.box
                pad = 2 + (y1 - y0) * redact_pdf.OCR_PAD
                shown.append((w.text, [[x0 - pad, y0 - pad, x1 + pad, y1 + pad]]))
            readings.append(shown)
    return {"page_count": 1, "pages": [{"text": [], "ocr": readings}]}


def _paint_image(path: Path, out: Path, spec: dict[str, Any]) -> dict[str, Any]:
    from PIL import Image, ImageDraw

    fmt, ext = IMAGE_TYPES[spec["media_type"]]
    rgb = _image(path)
    draw = ImageDraw.Draw(rgb)
    for _, x0, y0, x1, y1 in spec["areas"]:
        draw.rectangle((x0, y0, x1, y1), fill=(0, 0, 0))
    target = out / f"redacted.{ext}"
    # A new image from the pixels alone: no EXIF, XMP, ICC profile, text chunk or comment.
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    clean.save(target, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return {
        "file": target.name,
        "media_type": "image/jpeg" if fmt == "JPEG" else "image/png",
    }


def _reread_image(path: Path, work: Path, langs: str) -> dict[str, Any]:
    """What the written image still says: OCR of its pixels; any metadata at all refuses it."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        grey = np.asarray(im.convert("L"))
        meta = {k: v for k, v in im.info.items() if k not in FORMAT_INFO}
        if meta or im.getexif():
            raise ValueError(f"the written image still carries metadata: {sorted(meta)}")
    sequences = [
        ("the image (OCR)", [w.text for w in reading])
        for reading in wordboxes.readings(wordboxes.words(grey, work, langs))
    ]
    return {
        "texts": [],
        "sequences": sequences,
        "said": "\n".join(" ".join(seq) for _, seq in sequences),
    }


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


def _box_of(value: Any) -> list[float]:
    box = [float(v) for v in value]
    if len(box) != 4 or not all(math.isfinite(v) for v in box):
        raise ValueError("an area is four finite numbers")
    return box


def _areas(shown: Any, matcher: Matcher) -> tuple[list[list[float]], dict[str, int]]:
    """The areas of every word that is part of a protected name, looked for in Amanah over
    each page's text-layer sequence and each OCR reading the child listed; and how many areas
    each pseudonym got."""
    areas: list[list[float]] = []
    names: dict[str, int] = {}
    # The text layer is read as one sequence over every page: a name whose first word ends
    # a page and whose last begins the next is read by whoever turns the page.
    text = [(number, w) for number, page in enumerate(shown["pages"], 1) for w in page["text"]]
    sequences = [text]
    for number, page in enumerate(shown["pages"], 1):
        sequences.extend([(number, w) for w in seq] for seq in page["ocr"] or [])
    for seq in sequences:
        for index, pseudonym in matcher.in_words([str(w[0]) for _, w in seq]):
            number, (_, boxes) = seq[index]
            for box in boxes:
                areas.append([number, *_box_of(box)])
                names[pseudonym] = names.get(pseudonym, 0) + 1
    return areas, names


def _left(said: Any, matcher: Matcher, written: Path) -> dict[str, list[str]]:
    """Per pseudonym, where the written file still reads a protected name: in what the child
    read back from it (texts, word sequences) and in the file's own bytes, read here."""
    left: dict[str, set[str]] = {}
    for where, text in said["texts"]:
        # an object's syntax is looked at as stored; what a reader is shown, as read too
        look = matcher.find if str(where).startswith("PDF object") else matcher.names
        for p in look(str(text)):
            left.setdefault(p, set()).add(str(where))
    text: list[tuple[str, str]] = []  # every page's text layer as one sequence (see _areas)
    for where, seq in said["sequences"]:
        if str(where).endswith(" text"):
            text.extend((str(where), str(w)) for w in seq)
            continue
        for _, p in matcher.in_words([str(w) for w in seq]):
            left.setdefault(p, set()).add(str(where))
    for index, p in matcher.in_words([w for _, w in text]):
        left.setdefault(p, set()).add(text[index][0])
    for p in matcher.find_in_bytes(written.read_bytes()):
        left.setdefault(p, set()).add("the file's bytes")
    return {p: sorted(w) for p, w in left.items()}


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
                found, names = _areas(shown, matcher)
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
            manifest["left"] = _left(_taken(work, manifest.get("reread"), item), matcher, written)
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
