"""Intake runs read back: what each run received, and every line that needs attention."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from amanah.db.models import Collection, IntakeEntry, IntakeRun
from amanah.workspace import Workspace


def _run_summary(run: IntakeRun, collection: str) -> dict[str, Any]:
    return {
        "id": run.id,
        "collection": collection,
        "status": run.status,
        "actor": run.actor,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "sources": json.loads(run.sources),
        "hash_list": run.hash_list or None,
        "counts": json.loads(run.counts),
    }


def list_runs(ws: Workspace) -> list[dict[str, Any]]:
    with ws.db.reader() as s:
        rows = s.execute(
            select(IntakeRun, Collection.name).join(Collection).order_by(IntakeRun.id)
        ).all()
        return [_run_summary(run, name) for run, name in rows]


def run_report(ws: Workspace, run_id: int) -> dict[str, Any]:
    with ws.db.reader() as s:
        row = s.execute(
            select(IntakeRun, Collection.name).join(Collection).where(IntakeRun.id == run_id)
        ).first()
        if row is None:
            raise LookupError(f"no intake run with id {run_id}")
        out = _run_summary(*row)
        entries = s.execute(
            select(IntakeEntry).where(IntakeEntry.run_id == run_id).order_by(IntakeEntry.id)
        ).scalars()
        out["problems"] = [
            {
                "path": e.path,
                "kind": e.kind,
                "outcome": e.outcome,
                "reason": e.reason,
                "item_id": e.item_id,
            }
            for e in entries
        ]
        return out
