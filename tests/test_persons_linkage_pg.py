"""The linkage model on PostgreSQL (issue 17, scale-out path): the same links as on DuckDB for
the same drifted lists, distances per letter on both, a private schema gone after the run, and
a killed connection that leaves the home's tables as they were."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from amanah.persons import linkage
from amanah.persons.engines import APPLICATION, SCHEMA_PREFIX, PostgresEngine
from amanah.persons.linkage import LinkageError, Pair, clusters, link
from amanah.persons.name_forms import forms
from benchmarks.persons_lists import make_lists, true_pairs
from tests.servers import Postgres
from tests.test_persons_linkage import CASES

#: The probabilities of one pair on the two engines may differ by this much: u is estimated
#: from a sample of pairs whose rows each engine's own hash picks, and m by EM from there.
TOLERANCE = 0.02


def _plain(url: str) -> str:
    return url.replace("+psycopg", "")


@pytest.fixture
def database(postgres: Postgres) -> Iterator[str]:
    """A database standing for a home's: a table of its own and one named as the run's input
    table is, each with a row, which no run may touch."""
    url = postgres.create_database()
    with psycopg.connect(_plain(url), autocommit=True) as c:
        c.execute("CREATE TABLE persons_0 (uid bigint, note text)")
        c.execute("INSERT INTO persons_0 VALUES (1, 'home row')")
        c.execute("CREATE TABLE person_records (id bigint, name text)")
        c.execute("INSERT INTO person_records VALUES (7, 'kept')")
    yield url


def _home_state(url: str) -> tuple[Any, ...]:
    with psycopg.connect(_plain(url)) as c:
        return (
            c.execute("SELECT * FROM persons_0").fetchall(),
            c.execute("SELECT * FROM person_records").fetchall(),
            c.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
                " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                " ORDER BY 1, 2"
            ).fetchall(),
            c.execute(
                "SELECT n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n"
                " ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
            ).fetchall(),
        )


def _run_schemas(url: str) -> list[str]:
    with psycopg.connect(_plain(url)) as c:
        rows = c.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", [SCHEMA_PREFIX]
        ).fetchall()
    return [r[0] for r in rows]


def _weight(p: float) -> float:
    return math.log2(max(p, 1e-15) / max(1 - p, 1e-15))


def _key(p: Pair) -> tuple[tuple[str, str], tuple[str, str]]:
    x, y = (p.a_list, p.a), (p.b_list, p.b)
    return (min(x, y), max(x, y))


@pytest.mark.slow
def test_postgresql_gives_the_same_links_as_duckdb(database: str) -> None:
    """Two generated releases with drift (and the explicit cases of the DuckDB tests): the same
    candidate pairs, links, review flags, levels met and clusters; probabilities equal within
    TOLERANCE. The home's tables are as they were and the run's schema is gone."""
    a, b, truth = make_lists(400, seed=11)
    gold = true_pairs(a + b, truth)
    for case_a, case_b, _ in CASES.values():
        a.append(case_a)
        b.append(case_b)
    before = _home_state(database)
    duck = {_key(p): p for p in link(a, b, floor=0.0)}
    pg = {_key(p): p for p in link(a, b, floor=0.0, engine="postgresql", database_url=database)}
    assert _home_state(database) == before
    assert _run_schemas(database) == []
    assert len(duck) > 500 and set(pg) == set(duck)
    assert sum(p.match for p in duck.values()) > 250
    for k, p in duck.items():
        q = pg[k]
        assert q.match == p.match and q.review == p.review, k
        assert abs(q.score - p.score) <= TOLERANCE, k
        assert abs(_weight(q.score) - _weight(p.score)) <= 1.0, k
        assert {c: e["level"] for c, e in q.explanation.items()} == {
            c: e["level"] for c, e in p.explanation.items()
        }, k
    same = sorted(map(sorted, clusters(duck.values())))
    assert sorted(map(sorted, clusters(pg.values()))) == same
    # ... and both are right about the drifted releases
    found = {k for k, p in pg.items() if p.match and k[0] in truth and k[1] in truth}
    assert len(found & gold) / len(found) > 0.99


# Arabic name parts one edit apart in letters (two in UTF-8 bytes: an inserted letter, a
# substituted one whose two bytes both differ, two neighbours swapped) and two apart.
ARABIC = [
    ("عمر", "عمرو", 1),
    ("عبدالرحمن", "عبدالرحيم", 2),
    ("احمد", "اخمد", 1),
    ("سعيد", "سفيد", 1),
    ("ابراهيم", "براهيم", 1),
    ("محمد", "مجمد", 1),
    ("حسن", "حنس", 1),
    ("يوسف", "يوسف", 0),
]


def _duckdb_distances(pairs: list[tuple[str, str]]) -> list[int]:
    import duckdb

    con = duckdb.connect()
    return [con.execute("SELECT damerau_levenshtein(?, ?)", p).fetchone()[0] for p in pairs]


def test_distances_count_letters_on_both_engines(database: str) -> None:
    """The model's one distance is per letter on both engines, on the compared form and on
    Arabic as written; random strings agree wherever either distance is at most 1 (all the
    model asks). Negative control: the same distance over UTF-8 bytes, which a naive port
    would measure, gives other answers for the same pairs, so this test would see it."""
    engine = PostgresEngine(database)
    try:
        with engine.engine.connect() as conn:
            from sqlalchemy import text

            def pg(pairs: list[tuple[str, str]]) -> list[int]:
                sql = text("SELECT damerau_levenshtein(:a, :b)")
                return [conn.execute(sql, {"a": x, "b": y}).scalar_one() for x, y in pairs]

            raw = [(x, y) for x, y, _ in ARABIC]
            typo = [(forms(x).u, forms(y).u) for x, y in raw]
            letters = [d for _, _, d in ARABIC]
            assert pg(raw) == letters == _duckdb_distances(raw)
            assert pg(typo) == letters == _duckdb_distances(typo)
            # negative control: per byte, one letter costs two
            as_bytes = [
                (x.encode().decode("latin-1"), y.encode().decode("latin-1")) for x, y in raw
            ]
            per_byte = pg(as_bytes)
            assert per_byte == _duckdb_distances(as_bytes) and per_byte != letters
            assert [d <= 1 for d in per_byte].count(True) < [d <= 1 for d in letters].count(True)
            rng = random.Random(3)
            alphabet = "ابتحدرسعلمنويABC"
            words = [
                "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))) for _ in range(300)
            ]
            pairs = [(rng.choice(words), rng.choice(words)) for _ in range(300)]
            pairs += [(w, w[:i] + w[i + 1 :]) for w in words[:50] for i in range(min(len(w), 2))]
            pairs += [(w, w[1::-1] + w[2:]) for w in words[:80] if len(w) >= 2]
            ours, theirs = pg(pairs), _duckdb_distances(pairs)
            assert [min(d, 2) for d in ours] == [min(d, 2) for d in theirs]
            assert sum(d <= 1 for d in ours) > 100
    finally:
        engine.close()
    assert _run_schemas(database) == []


def _kill_run(url: str, stop: threading.Event, killed: list[int]) -> None:
    """Once the run has made its first Splink tables, terminate its connections, and every
    new one it opens, until it stops (a server that drops the run, not one hiccup)."""
    with psycopg.connect(_plain(url), autocommit=True) as c:
        started = False
        while not stop.is_set():
            if not started:
                started = c.execute(
                    "SELECT count(*) FROM information_schema.tables WHERE starts_with"
                    "(table_schema, %s) AND starts_with(table_name, '__splink__')",
                    [SCHEMA_PREFIX],
                ).fetchone()[0]
            if started:
                rows = c.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = %s",
                    [APPLICATION],
                ).fetchall()
                killed.append(len(rows))
            time.sleep(0.05)


@pytest.mark.slow
def test_killed_connection_leaves_the_home_untouched(database: str) -> None:
    """Every connection of a run killed mid-run: a clear LinkageError, the home's tables as
    they were; the schema the dead run could not drop is dropped by the next run."""
    a, b, _ = make_lists(400, seed=11)
    before = _home_state(database)
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_run, args=(database, stop, killed))
    killer.start()
    try:
        with pytest.raises(LinkageError, match="failed during the run"):
            list(link(a, b, engine="postgresql", database_url=database))
    finally:
        stop.set()
        killer.join(60)
    assert sum(killed) >= 1
    assert _home_state(database)[:2] == before[:2]
    left = _run_schemas(database)
    assert len(left) <= 1  # the dead run's, if its last words could not drop it
    # the next run sweeps it (its lock died with its connection), and leaves nothing itself
    PostgresEngine(database).close()
    assert _run_schemas(database) == []
    assert _home_state(database) == before


def test_engine_needs_a_postgresql_database_and_the_right_to_a_schema(
    database: str, postgres: Postgres
) -> None:
    """Wrong requests say what to do: no database, an unknown engine, and a role that may not
    create a schema (no superuser needed, only CREATE on the database)."""
    a, b, _ = make_lists(20, seed=1)
    with pytest.raises(LinkageError, match="PostgreSQL"):
        list(link(a, b, engine="postgresql", database_url=None))
    with pytest.raises(LinkageError, match="no linkage engine"):
        list(link(a, b, engine="spark"))
    with psycopg.connect(_plain(database), autocommit=True) as c:
        c.execute("DROP ROLE IF EXISTS linkage_reader")
        c.execute("CREATE ROLE linkage_reader LOGIN")
    host = database.split("@", 1)[1]
    reader = f"postgresql+psycopg://linkage_reader@{host}"
    with pytest.raises(LinkageError, match="GRANT CREATE ON DATABASE"):
        list(link(a, b, engine="postgresql", database_url=reader))
    assert _run_schemas(database) == []


def test_settings_are_one_text_for_both_dialects() -> None:
    """No second copy of the model: the settings for PostgreSQL are DuckDB's but for the
    dialect the blocking rules are read in."""
    duck, pg = linkage.settings("link_only"), linkage.settings("link_only", dialect="postgres")
    assert duck["comparisons"] == pg["comparisons"]
    assert [r["blocking_rule"] for r in duck["blocking_rules_to_generate_predictions"]] == [
        r["blocking_rule"] for r in pg["blocking_rules_to_generate_predictions"]
    ]
    assert {r["sql_dialect"] for r in pg["blocking_rules_to_generate_predictions"]} == {"postgres"}


def test_home_setting_chooses_the_engine(tmp_path: Any) -> None:
    """`linkage_engine` in amanah.toml: duckdb by default, postgresql only on a PostgreSQL
    home, anything else refused with the file named."""
    from amanah.config import ConfigError, load_settings, write_default_config

    write_default_config(tmp_path)
    assert load_settings(tmp_path).linkage_engine == "duckdb"
    path = tmp_path / "amanah.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('linkage_engine = "duckdb"', 'linkage_engine = "postgresql"'))
    with pytest.raises(ConfigError, match="needs a PostgreSQL database_url"):
        load_settings(tmp_path)
    path.write_text(text.replace('linkage_engine = "duckdb"', 'linkage_engine = "spark"'))
    with pytest.raises(ConfigError, match=r"amanah\.toml: linkage_engine must be"):
        load_settings(tmp_path)
    pg = text.replace('linkage_engine = "duckdb"', 'linkage_engine = "postgresql"')
    pg = pg.replace(
        'database_url = "sqlite:///amanah.db"', 'database_url = "postgresql+psycopg://u@h/db"'
    )
    path.write_text(pg)
    assert load_settings(tmp_path).linkage_engine == "postgresql"
