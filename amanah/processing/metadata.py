"""Embedded metadata (EXIF, XMP, IPTC, QuickTime, PDF, Office) with ExifTool and ffprobe.

Where and when a photo or video was taken, and with what, can be evidence in itself. The full
dump is kept as found; a few normalised fields (captured_at, latitude, longitude, device,
author, software, duration) make it searchable and comparable across formats.
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

from amanah.processing.extract import run_tool

MAX_RAW_BYTES = 256_000  # a dump larger than this (embedded thumbnails, maker notes) is cut

# ExifTool tags (group:name with -G1) for each normalised field, best first.
_CAPTURED = [
    "ExifIFD:DateTimeOriginal",
    "XMP-exif:DateTimeOriginal",
    "ExifIFD:CreateDate",
    "XMP-photoshop:DateCreated",
    "IPTC:DateCreated",
    "Keys:CreationDate",
    "QuickTime:CreateDate",
    "Track1:MediaCreateDate",
    "Composite:GPSDateTime",
    "Composite:SubSecDateTimeOriginal",
    "XMP-xmp:CreateDate",
    "PDF:CreateDate",
    "XMP-dc:Date",
    "RIFF:DateTimeOriginal",
    "Composite:DateTimeOriginal",
    "Matroska:DateTimeOriginal",
]
_OFFSET = ["ExifIFD:OffsetTimeOriginal", "ExifIFD:OffsetTime", "IFD0:OffsetTime"]
_AUTHOR = [
    "IFD0:Artist",
    "XMP-dc:Creator",
    "PDF:Author",
    "XML:Creator",
    "IPTC:By-line",
    "QuickTime:Author",
    "ID3v2_3:Artist",
    "ID3v2_4:Artist",
    "FlashPix:Author",
]
_SOFTWARE = [
    "IFD0:Software",
    "XMP-xmp:CreatorTool",
    "PDF:Producer",
    "PDF:Creator",
    "XML:Application",
    "QuickTime:Software",
    "Keys:Software",
]
_DEVICE_MAKE = ["IFD0:Make", "Keys:Make", "QuickTime:Make", "XMP-tiff:Make"]
_DEVICE_MODEL = ["IFD0:Model", "Keys:Model", "QuickTime:Model", "XMP-tiff:Model"]
_LAT = ["Composite:GPSLatitude", "XMP-exif:GPSLatitude", "GPS:GPSLatitude"]
_LON = ["Composite:GPSLongitude", "XMP-exif:GPSLongitude", "GPS:GPSLongitude"]
_TIME = re.compile(
    r"^(\d{4})[:-](\d{2})[:-](\d{2})"
    r"(?:[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?"
)
# QuickTime stores its dates in UTC (ISO/IEC 14496-12); ExifTool prints them as stored.
_UTC_GROUPS = ("QuickTime:", "Track", "Keys:CreationDate")
_ISO6709 = re.compile(r"^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)")

#: Media types worth asking ExifTool about. Documents' properties come from their own
#: extractors (pdfium, python-docx, …) at no extra cost; see `from_document`.
WANTED_PREFIXES = ("image/", "video/", "audio/")


def wanted(media_type: str) -> bool:
    return media_type.startswith(WANTED_PREFIXES) and media_type not in ("image/svg+xml",)


def stored(record: str | None) -> dict[str, Any]:
    """An item's metadata as stored (`items.doc_metadata`), for every reader (item page and
    API, search index, map, evidence locators): a dict, or {} when the record is none (not
    JSON, nested past what the parser takes, a list). A damaged or planted record must not
    break a page, the map, or a rebuild of the whole index."""
    try:
        found = json.loads(record or "{}")
    except (ValueError, RecursionError):
        return {}
    return found if isinstance(found, dict) else {}


def from_document(props: dict[str, Any]) -> dict[str, Any]:
    """The normalised fields from properties a document extractor already read."""
    out: dict[str, Any] = {}
    created = props.get("pdf_creationdate") or props.get("created")
    if created:
        pdf = re.match(r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Z+-].*)?", str(created))
        if pdf:
            y, mo, d, hh, mm, ss, tz = pdf.groups()
            zone = None
            if tz and tz[0] in "+-" and len(tz.replace("'", "")) >= 5:
                t = tz.replace("'", "")
                zone = f"{t[:3]}:{t[3:5]}"
            elif tz and tz[0] == "Z":
                zone = "Z"
            created = f"{y}:{mo or '01'}:{d or '01'} {hh or '00'}:{mm or '00'}:{ss or '00'}"
            out["captured_at"] = parse_time(created, zone)
        else:
            out["captured_at"] = parse_time(created)
        if out.get("captured_at") is None:
            out.pop("captured_at", None)
    author = props.get("pdf_author") or props.get("author") or props.get("email_from")
    if author:
        out["author"] = str(author)
    software = props.get("pdf_producer") or props.get("pdf_creator")
    if software:
        out["software"] = str(software)
    return out


def exiftool(path: Path) -> dict[str, Any]:
    out = run_tool(
        [
            "exiftool",
            "-json",
            "-n",
            "-G1",
            "-a",
            "-struct",
            "-charset",
            "filename=utf8",
            "-x",
            "System:all",
            "-x",
            "ExifTool:all",
            str(path),
        ],
        output_despite_errors=True,
    )
    if not out:
        raise ValueError("exiftool read nothing")
    data: dict[str, Any] = json.loads(out.decode("utf-8", "replace"))[0]
    data.pop("SourceFile", None)
    return data


def ffprobe(path: Path) -> dict[str, Any]:
    out = run_tool(
        [
            "ffprobe",
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            str(path),
        ]
    )
    return json.loads(out.decode("utf-8", "replace"))


def _first(tags: dict[str, Any], names: list[str]) -> Any:
    for name in names:
        value = tags.get(name)
        if value not in (None, "", "0000:00:00 00:00:00", [], "    :  :     :  :  "):
            return value
    return None


def parse_time(value: Any, offset: str | None = None) -> str | None:
    """ExifTool's 'YYYY:MM:DD HH:MM:SS[.ss][±HH:MM|Z]' (or ISO) as ISO 8601; None if not a time."""
    if value is None:
        return None
    text = str(value).strip()
    m = _TIME.match(text)
    if not m or m.group(1) == "0000":
        return None
    y, mo, d, hh, mm, ss, frac, tz = m.groups()
    try:
        dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
    except ValueError:
        return None
    iso = dt.isoformat()
    if frac:
        iso += frac[:7]
    zone = tz or offset
    if zone:
        if zone == "Z":
            return iso + "Z"
        zone = zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
        return iso + zone
    return iso


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def normalise(tags: dict[str, Any], probe: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    offset = _first(tags, _OFFSET)
    source = next((n for n in _CAPTURED if _first(tags, [n]) is not None), None)
    if source and source.startswith(_UTC_GROUPS):
        offset = "Z"
    captured = parse_time(_first(tags, _CAPTURED), offset if isinstance(offset, str) else None)
    lat, lon = _float(_first(tags, _LAT)), _float(_first(tags, _LON))
    fmt_tags = (probe or {}).get("format", {}).get("tags", {})
    if captured is None and fmt_tags.get("creation_time"):
        captured = parse_time(fmt_tags["creation_time"])
    if lat is None:
        loc = fmt_tags.get("location") or fmt_tags.get("com.apple.quicktime.location.ISO6709")
        if loc and (m := _ISO6709.match(loc)):
            lat, lon = float(m.group(1)), float(m.group(2))
    if captured:
        out["captured_at"] = captured
    if (
        lat is not None
        and lon is not None
        and (lat, lon) != (0.0, 0.0)
        and -90 <= lat <= 90
        and -180 <= lon <= 180
    ):
        out["latitude"], out["longitude"] = round(lat, 7), round(lon, 7)
    make, model = _first(tags, _DEVICE_MAKE), _first(tags, _DEVICE_MODEL)
    if make or model:
        make_s, model_s = str(make or "").strip(), str(model or "").strip()
        out["device"] = (
            model_s
            if make_s and model_s.lower().startswith(make_s.lower())
            else (f"{make_s} {model_s}".strip())
        )
    for key, names in (("author", _AUTHOR), ("software", _SOFTWARE)):
        value = _first(tags, names)
        if value:
            out[key] = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    if probe:
        duration = _float(probe.get("format", {}).get("duration"))
        if duration:
            out["duration_seconds"] = round(duration, 3)
        codecs = [s.get("codec_name") for s in probe.get("streams", []) if s.get("codec_name")]
        if codecs:
            out["codecs"] = codecs
    return out


def extract(path: Path, media_type: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Normalised fields plus the raw dumps; problems come back as flags, never raised."""
    flags: list[dict[str, str]] = []
    tags: dict[str, Any] = {}
    probe = None
    try:
        tags = exiftool(path)
    except (ValueError, subprocess.TimeoutExpired, OSError) as exc:
        flags.append({"code": "metadata_unreadable", "message": f"ExifTool: {exc}"})
    if media_type.startswith(("video/", "audio/")):
        try:
            probe = ffprobe(path)
        except (ValueError, subprocess.TimeoutExpired, OSError) as exc:
            flags.append({"code": "metadata_unreadable", "message": f"ffprobe: {exc}"})
    result = normalise(tags, probe)
    raw = json.dumps(tags, ensure_ascii=False, default=str)
    if len(raw) > MAX_RAW_BYTES:
        tags = {k: v for k, v in tags.items() if len(json.dumps(v, default=str)) < 2000}
    result["exif"] = tags
    if probe:
        result["ffprobe"] = {"format": probe.get("format", {}), "streams": probe.get("streams", [])}
    return result, flags
