"""Write the custody ledger out for someone who does not run Amanah.

The folder holds the ledger (JSON Lines), every signed checkpoint, the latest one and the
home's checkpoint log (so every holder of an export is a witness), the key history, and the
verifier itself, so a court's expert needs nothing from us but Python and `cryptography`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select

from amanah.custody import keys, ledger, verifier
from amanah.custody.keys import SigningKey
from amanah.db import Database
from amanah.db.models import Checkpoint

README = """\
Amanah custody ledger export ({format})

ledger.jsonl            one custody event per line, in sequence, each hash-linked to the previous
checkpoints.jsonl       signed Merkle roots (RFC 6962) over the first tree_size events
latest_checkpoint.json  the newest of them: keep it, and later exports must extend it
checkpoint_log.jsonl    the installation's checkpoint log, kept outside its database
public_key.pem          the ledger's first Ed25519 public key (key id {root_id})
key_history.json        every signing key since, each handed over by the key before it
verify_ledger.py        the verifier (needs Python 3.11 and the `cryptography` package)

To verify, with the installation's key obtained from it by another channel:
    python3 verify_ledger.py . --public-key KEY.pem      (or --key-id {root_id})
    python3 verify_ledger.py . --public-key KEY.pem --witness CHECKPOINT_YOU_KEPT.json
Without a key it checks integrity only, and says so (exit status 3).
"""


class ExportError(Exception):
    pass


def export_ledger(
    db: Database, key: SigningKey, out: Path, log_path: Path | None = None
) -> dict[str, Any]:
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
        history = keys.key_history(s, key)
    with (out / "checkpoints.jsonl").open("wb") as f:
        for cp in cps:
            f.write(verifier.canonical_json(cp) + b"\n")
    if cps:
        (out / "latest_checkpoint.json").write_bytes(verifier.canonical_json(cps[-1]) + b"\n")
    if log_path is not None and log_path.exists():
        shutil.copyfile(log_path, out / "checkpoint_log.jsonl")
    root = history["keys"][0]
    (out / "public_key.pem").write_bytes(root["public_key"].encode())
    (out / "key_history.json").write_text(json.dumps(history, indent=2) + "\n", encoding="utf-8")
    shutil.copyfile(Path(verifier.__file__), out / "verify_ledger.py")
    (out / "README.txt").write_text(
        README.format(format=verifier.FORMAT, root_id=root["key_id"]), encoding="utf-8"
    )
    return {"entries": entries, "checkpoints": len(cps), "folder": str(out)}
