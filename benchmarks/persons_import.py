"""Person list import speed: records per second of `amanah persons import` on a generated
list (Windows-1256 CSV, Arabic headers, four-part names, ages with the date of disappearance,
governorates, statuses, one unmapped column), the whole command timed as a user runs it:
the file preserved as an item, read, names parsed into parts, records stored.

    python -m benchmarks.persons_import [--rows 100000]

Figures go to benchmarks/out/persons_import.json and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import tempfile
from pathlib import Path

from amanah.config import write_default_config
from benchmarks.common import amanah_cmd, machine, run_timed, save

FIRST = [
    "محمد",
    "أحمد",
    "علي",
    "حسن",
    "حسين",
    "خالد",
    "عمر",
    "يوسف",
    "إبراهيم",
    "مصطفى",
    "عبد",
    "الله",
    "عبد",
    "الرحمن",
    "سامر",
    "وائل",
    "رامي",
    "باسل",
    "ماهر",
    "نزار",
    "فراس",
    "زياد",
    "طارق",
    "جمال",
    "كمال",
    "سعيد",
    "وليد",
    "هشام",
    "أنس",
    "بلال",
]
FEMALE = ["فاطمة", "مريم", "زينب", "خديجة", "هدى", "ليلى", "رنا", "سلمى", "نور", "آمنة"]
FAMILY = [
    "الحلبي",
    "الخطيب",
    "الشامي",
    "الحمصي",
    "النجار",
    "الحداد",
    "العلي",
    "الأحمد",
    "الحسن",
    "الزعبي",
    "المصري",
    "الرفاعي",
    "الأسعد",
    "القباني",
    "الجاسم",
    "الحموي",
    "الديري",
    "السوري",
    "العمر",
    "الخليل",
]
HEADERS = ["رقم", "الاسم الكامل", "اسم الأم", "الجنس", "العمر", "المحافظة", "الحالة"]
HEADERS += ["تاريخ الفقدان", "رقم الهاتف"]
PLACES = ["دمشق", "حلب", "حمص", "حماة", "درعا", "إدلب", "ريف دمشق", "دير الزور"]
STATUS = ["مفقود", "معتقل", "متوفى", "مفرج عنه"]


def generate(rows: int, seed: int = 7) -> bytes:
    rnd = random.Random(seed)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADERS)
    for i in range(rows):
        female = rnd.random() < 0.3
        own = rnd.choice(FEMALE if female else FIRST)
        name = f"{own} {rnd.choice(FIRST)} {rnd.choice(FIRST)} {rnd.choice(FAMILY)}"
        year = rnd.randint(2011, 2020)
        w.writerow(
            [
                i + 1,
                name,
                rnd.choice(FEMALE),
                "أنثى" if female else "ذكر",
                rnd.randint(1, 80),
                rnd.choice(PLACES),
                rnd.choice(STATUS),
                f"{rnd.randint(1, 28):02d}/{rnd.randint(1, 12):02d}/{year}",
                f"09{rnd.randint(10_000_000, 99_999_999)}",
            ]
        )
    return buf.getvalue().encode("cp1256")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        write_default_config(home)
        path = Path(tmp) / "list.csv"
        path.write_bytes(generate(args.rows))
        size = path.stat().st_size
        cmd = amanah_cmd(home, "persons", "import", str(path), "--list", "bench", "--key", "رقم")
        seconds, peak_kib, proc = run_timed([*cmd, "--provider", "bench", "--json", "--quiet"])
        assert proc is not None
        report = json.loads(proc.stdout)
    assert report["imported"] == args.rows, report
    result = {
        "machine": machine(),
        "rows": args.rows,
        "file_bytes": size,
        "seconds": round(seconds, 1),
        "records_per_second": round(args.rows / seconds),
        "peak_rss_mib": round(peak_kib / 1024),
        "command": f"python -m benchmarks.persons_import --rows {args.rows}",
    }
    save("persons_import", result)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
