"""The redaction's part that runs in the sandbox's child, in a module of its own: the zygote
imports a task's module before its first child, and the rest of the redaction (access, the
database's models, the custody ledger: 0.5 s of imports) is never the child's to run.

The child parses hostile evidence: it is given no names key and no name's digest. It lists
the words a file shows with the areas that would remove them, removes the areas it is sent,
and says everything the written file says; Amanah does the matching (sharing/redaction.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from amanah.processing import wordboxes
from amanah.sharing import redact_pdf

IMAGE_TYPES = {
    "image/png": ("PNG", "png"),
    "image/jpeg": ("JPEG", "jpg"),
    "image/tiff": ("PNG", "png"),
    "image/bmp": ("PNG", "png"),
    "image/webp": ("PNG", "png"),
    "image/gif": ("PNG", "png"),
}
SPEC = "redact.json"
WORDS, REREAD = "words.json", "reread.json"  # what the child read, for Amanah to match
#: What Pillow reports of a file it wrote itself that is format, not metadata.
FORMAT_INFO = ("jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi", "progressive")


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
