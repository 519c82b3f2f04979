"""Write the custody ledger out for someone who does not run Amanah.

The folder holds the ledger (JSON Lines), every signed checkpoint, the public key, and the
verifier itself, so a court's expert needs nothing from us but Python and `cryptography`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select

from amanah.custody import ledger, verifier
from amanah.custody.keys import SigningKey
from amanah.db import Database
from amanah.db.models import Checkpoint

README = """\
Amanah custody ledger export ({format})

ledger.jsonl       one custody event per line, in sequence, each hash-linked to the previous
checkpoints.jsonl  signed Merkle roots (RFC 6962) over the first tree_size events
public_key.pem     the installation's Ed25519 public key (key id {key_id})
verify_ledger.py   the verifier (needs Python 3.11 and the `cryptography` package)

To verify:  python3 verify_ledger.py .
"""


class ExportError(Exception):
    pass


def export_ledger(db: Database, key: SigningKey, out: Path) -> dict[str, Any]:
    if out.exists() and any(out.iterdir()):
        raise ExportError(f"{out}: folder is not empty; choose a new folder")
    out.mkdir(parents=True, exist_ok=True)
    with db.session() as s:
        ledger.checkpoint(s, key)
    entries = 0
    with db.reader() as s, (out / "ledger.jsonl").open("wb") as f:
        for entry in ledger.iter_entries(s):
            f.write(verifier.canonical_json(entry) + b"\n")
            entries += 1
        cps = [
            ledger.checkpoint_of(c)
            for c in s.execute(select(Checkpoint).order_by(Checkpoint.id)).scalars()
        ]
    with (out / "checkpoints.jsonl").open("wb") as f:
        for cp in cps:
            f.write(verifier.canonical_json(cp) + b"\n")
    (out / "public_key.pem").write_bytes(key.public_pem)
    shutil.copyfile(Path(verifier.__file__), out / "verify_ledger.py")
    (out / "README.txt").write_text(
        README.format(format=verifier.FORMAT, key_id=key.key_id), encoding="utf-8"
    )
    return {"entries": entries, "checkpoints": len(cps), "folder": str(out)}
