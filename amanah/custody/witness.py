"""Witnessed checkpoints: the ledger held against checkpoints kept outside its database.

A witness is anyone who kept a signed checkpoint: the home's own checkpoint log, a provider,
a recipient (packages and exports carry the latest checkpoint), an auditor. The ledger must
be at least as long as each, and its first tree_size entries must still have that root
(RFC 6962: the ledger extends the checkpoint). Deleting the tail of the ledger, or putting
back an older copy of the database, therefore fails against any later witness.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from amanah.custody import checkpoint_log, keys, verifier
from amanah.custody.keys import SigningKey


def _identity(cp: dict[str, Any]) -> tuple[Any, ...]:
    return (int(cp["tree_size"]), cp["root"], cp["time"], cp["key_id"], cp["signature"])


def key_ring(session: Session, key: SigningKey) -> tuple[verifier.KeyRing, list[str]]:
    """The ledger's keys from its first, each hand-over checked, and the key in use last."""
    ring, problems = verifier.read_key_history(keys.key_history(session, key))
    if ring.keys[-1][0] != key.key_id:
        problems.append(
            f"the ledger's last key is {ring.keys[-1][0]}, but this installation signs with"
            f" {key.key_id}"
        )
    return ring, problems


def read_witness(path: Path) -> dict[str, Any]:
    """A checkpoint someone kept (`amanah custody checkpoint --json`)."""
    try:
        cp = verifier.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the witnessed checkpoint: {exc.strerror}") from exc
    except verifier.StrictJSONError as exc:
        raise ValueError(f"{path}: not a checkpoint ({exc})") from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ValueError(f"{path}: not a checkpoint (not valid JSON)") from exc
    if not isinstance(cp, dict) or not {"tree_size", "root", "key_id", "signature"} <= set(cp):
        raise ValueError(f"{path}: not a checkpoint (tree_size, root, key_id, signature)")
    if not isinstance(cp.get("tree_size"), int) or cp["tree_size"] < 0:
        raise ValueError(f"{path}: not a checkpoint (tree_size is not a count)")
    return cp


def check_witnesses(
    leaves: Sequence[bytes],
    checkpoints: Sequence[dict[str, Any]],
    ring: verifier.KeyRing,
    log_path: Path | None,
    kept: Sequence[tuple[str, dict[str, Any]]] = (),
) -> list[str]:
    """The ledger (its leaves) against the home's checkpoint log and the checkpoints kept.

    A log line equal to a checkpoint of the database is checked with the database's."""
    witnesses = list(kept)
    if log_path is not None:
        known = {_identity(cp) for cp in checkpoints}
        for n, cp in enumerate(checkpoint_log.read(log_path), 1):
            try:
                if _identity(cp) in known:
                    continue
            except (KeyError, TypeError, ValueError):
                pass
            witnesses.append((f"{checkpoint_log.LOG_NAME} entry {n}", cp))
    problems: list[str] = []
    sizes = []
    for label, cp in witnesses:
        try:
            sizes.append(int(cp["tree_size"]))
        except (KeyError, TypeError, ValueError):
            problems.append(f"{label}: not a checkpoint")
    roots = verifier.roots_at(leaves, sizes)
    for label, cp in witnesses:
        if "tree_size" in cp:
            problems += verifier.check_witness(label, cp, len(leaves), roots.__getitem__, ring)
    return problems


def latest_checkpoint(session: Session) -> dict[str, Any] | None:
    """The newest signed checkpoint as a plain dict, for packages and exports to carry."""
    from amanah.custody.ledger import checkpoint_of, latest_checkpoint

    cp = latest_checkpoint(session)
    return None if cp is None else checkpoint_of(cp)
