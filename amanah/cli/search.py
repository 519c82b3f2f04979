"""`amanah search`, `searches` and `reindex`: finding text, the search log, the index."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from amanah.cli.util import ACTOR_HELP, Bar, emit_json, err, fail, out, with_workspace
from amanah.system import default_actor

if TYPE_CHECKING:
    from amanah.workspace import Workspace


def search(
    query: Annotated[
        str, typer.Argument(help='Words, "phrases", OR, -word, word*, field:value (see below).')
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option(help="Hits per page (1-1000).")] = 20,
    facets: Annotated[bool, typer.Option("--facets", help="Also count hits per facet.")] = False,
    sort: Annotated[
        str | None,
        typer.Option(
            help="relevance, date (document date), received or oldest (order received);"
            " default: relevance, date if no words. Query '*' lists everything."
        ),
    ] = None,
    cursor: Annotated[
        str | None, typer.Option(help="Next page: the cursor a previous page printed.")
    ] = None,
    semantic: Annotated[
        bool, typer.Option("--semantic", help="Rank by meaning (finds Arabic for English).")
    ] = False,
    hybrid: Annotated[
        bool, typer.Option("--hybrid", help="Combine word and meaning rankings.")
    ] = False,
    actor: Annotated[str | None, typer.Option(help=ACTOR_HELP)] = None,
) -> None:
    """Search every item's text, Arabic and English, however it is spelt. Every search is logged.

    \b
    Query language:
      torture "air force intelligence"   words (all must match) and phrases
      فرع OR شعبة                        either word
      detention -release                 without a word (also: NOT release)
      معتق*                               words that begin so
      =وزير                               this exact word, not its stem
      (حلب OR ادلب) "برميل متفجر"         grouping
    \b
    Filters, for the whole query (-lang:en excludes):
      provider:"Syrian Archive"  collection:NAME  lang:ar  type:pdf
      has:ocr  after:2012  before:2014-06  path:raqqa

    Hamza, taa marbuta, alef maqsura, Persian letters, diacritics, tatweel,
    Eastern Arabic digits and attached particles (و ف ب ل ك ال) match whichever
    way they are written. More in docs/search.md.

    A query whose words find nothing prints "did you mean" with close words
    (a slip of a letter or two, Arabic or Latin) from items you may see.

    Example: amanah search 'الفرع 215 has:ocr after:2012' --facets
    """
    from amanah.access import local_administrator
    from amanah.search.index import IndexOutdated
    from amanah.search.query import QueryError
    from amanah.search.service import search as run_search

    if semantic and hybrid:
        fail("choose one of --semantic and --hybrid")
    mode = "semantic" if semantic else "hybrid" if hybrid else "text"

    def act(ws: Workspace) -> Any:
        caller = local_administrator(ws, default_actor(actor))
        try:
            return run_search(
                ws, caller, query, limit=limit, cursor=cursor, sort=sort, facets=facets, mode=mode
            )
        except QueryError as exc:
            err.print(exc.pointer())
            fail(exc.message)

    results = with_workspace(act, ValueError, IndexOutdated)
    if as_json:
        emit_json(results.as_json())
        return
    shown = f"{len(results.hits)} shown" if results.hits else "none shown"
    out.print(
        Text(
            f"{results.total:,} items ({shown}, {results.took_ms:.0f} ms,"
            f" search #{results.search_id})",
            style="bold",
        )
    )
    if results.suggestion:  # words that found nothing, corrected among what the caller sees
        out.print(Text("did you mean: ", style="bold") + Text(results.suggestion["query"]))
    for h in results.hits:
        out.print(Text(f"\n#{h.item_id}  {h.path}", style="bold"))
        out.print(
            Text(
                f"    {h.collection} · {h.media_type or 'unknown type'} · {h.date or 'no date'}"
                f" · score {h.score:.3f}",
                style="dim",
            )
        )
        snippet = Text("    " + h.snippet)
        for start, end in h.highlights:
            snippet.stylize("bold yellow", start + 4, end + 4)
        out.print(snippet)
    if results.facets:
        out.print()
    for name, values in results.facets.items():
        line = ", ".join(f"{v['value']} ({v['count']:,})" for v in values[:10])
        out.print(Text(f"{name}: ", style="bold") + Text(line or "—"))
    if results.next_cursor:
        out.print(Text(f"\nmore: --cursor {results.next_cursor}", style="dim"))


def searches(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
) -> None:
    """The search log: who searched what, when, how many hits, which items were shown.

    Example: amanah searches --json
    """
    from amanah.access import local_administrator
    from amanah.search.engine import history

    rows = with_workspace(lambda ws: history(ws, local_administrator(ws), limit))
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "when", "who", "query", "mode", "hits")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["at"][:19],
            r["actor"],
            r["query"],
            r["options"]["mode"],
            f"{r['hits']:,}",
        )
    out.print(table)


def reindex(
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    workers: Annotated[int | None, typer.Option(help="Processes analysing text.")] = None,
) -> None:
    """Rebuild the search index from the database and text in the blob store (it is derived).

    Example: amanah reindex
    """
    from amanah.search.index import reindex as rebuild

    with Bar("reindex", "items", quiet=quiet) as bar:
        stats = with_workspace(lambda ws: rebuild(ws, progress=bar.set, workers=workers))
    out.print(
        f"indexed {stats.items:,} items in {stats.seconds:.1f} s; index size"
        f" {stats.index_bytes / 2**20:.1f} MiB"
    )
