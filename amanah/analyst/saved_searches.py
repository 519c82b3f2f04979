"""Saved searches: a query and its options under a name, per user, optionally shared with a
team (the holders of one compartment the owner holds). Running one runs the query again as
whoever runs it, with *their* need-to-know: saving never carries the owner's sight along.

A query that names a protected person is refused: the search log keeps such words only as a
pseudonym, and a saved query kept so could not be run again."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from amanah.access import (
    AccessDenied,
    Caller,
    NotVisible,
    Permission,
    saved_searches_visible,
)
from amanah.analyst import AnalystError, check_label, check_text, now
from amanah.db.models import SavedSearch
from amanah.search.query import parse
from amanah.search.service import MODES

MAX_NAME = 100
SORTS = ("relevance", "date")


def save(
    s: Session,
    caller: Caller,
    name: str,
    query: str,
    *,
    mode: str = "text",
    sort: str = "relevance",
    shared_with: str = "",
) -> SavedSearch:
    """Save `query` under `name` for the caller (a name is unique per user)."""
    from amanah.sharing import protected

    caller.require(Permission.ANNOTATE)
    if caller.provider_id is not None:
        raise AccessDenied("a provider's account may not save searches")
    label = " ".join(check_label(name, "a saved search's name").split())
    check_text(query, "the query", lines=True)
    if not label:
        raise AnalystError("a saved search needs a name")
    if len(label) > MAX_NAME:
        raise AnalystError(f"a saved search's name is at most {MAX_NAME} characters")
    parse(query)  # a query that cannot run is refused now, with where it went wrong
    if mode not in MODES:
        raise AnalystError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if sort not in SORTS:
        raise AnalystError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    team = check_text(shared_with, "a compartment").strip()
    if team and team not in caller.compartments:
        raise AccessDenied(f"you do not hold compartment {team}: share with one of yours")
    matcher = protected.Matcher.load(s)
    if matcher.names(query) or matcher.names(label):
        raise AnalystError(
            "a saved search may not name a protected person: search for it each time instead"
        )
    row = SavedSearch(
        owner=caller.actor,
        name=label,
        query=query,
        options=json.dumps({"mode": mode, "sort": sort}),
        shared_with=team,
        created_at=now(),
    )
    s.add(row)
    try:
        s.flush()
    except IntegrityError:
        raise AnalystError(f"you already have a saved search named {label!r}") from None
    return row


def listing(s: Session, caller: Caller) -> list[dict[str, Any]]:
    """The caller's own saved searches and those shared with their teams, by name."""
    rows = s.execute(
        select(SavedSearch)
        .where(saved_searches_visible(caller))
        .order_by(SavedSearch.name, SavedSearch.id)
    ).scalars()
    return [as_dict(r, caller) for r in rows]


def get(s: Session, caller: Caller, saved_id: int) -> SavedSearch:
    """One saved search the caller may see; NotVisible (hidden or absent alike)."""
    row = s.execute(
        select(SavedSearch).where(SavedSearch.id == saved_id, saved_searches_visible(caller))
    ).scalar_one_or_none()
    if row is None:
        raise NotVisible(f"no saved search with id {saved_id}")
    return row


def delete(s: Session, caller: Caller, saved_id: int) -> None:
    """Delete a saved search: its owner only (a team member sees it, and may not delete it)."""
    row = get(s, caller, saved_id)
    if row.owner != caller.actor:
        raise AccessDenied("only the user who saved a search may delete it")
    s.delete(row)


def as_dict(row: SavedSearch, caller: Caller) -> dict[str, Any]:
    opts = json.loads(row.options or "{}")
    return {
        "id": row.id,
        "name": row.name,
        "query": row.query,
        "mode": opts.get("mode", "text"),
        "sort": opts.get("sort", "relevance"),
        "owner": row.owner,
        "mine": row.owner == caller.actor,
        "shared_with": row.shared_with,
        "created_at": row.created_at.isoformat(),
    }
