"""Where a linkage run's SQL runs: DuckDB embedded (the default) or PostgreSQL (scale-out).

The model (`amanah.persons.linkage`) is one set of Splink settings whose SQL means the same on
both: equality, `least`, `length` (characters on both), `LIKE`, `||`, `abs`, and one distance,
`damerau_levenshtein`, asked only whether it is at most 1. DuckDB has that function built in
(counting characters); stock PostgreSQL has none (`fuzzystrmatch` has plain `levenshtein`
only), so a run on PostgreSQL first creates `damerau_levenshtein(text, text)` in its private
schema: PL/pgSQL, per character, the optimal-string-alignment distance, which equals DuckDB's
unrestricted Damerau-Levenshtein wherever either is at most 1 (one insertion, deletion,
substitution or swap of neighbours). No extension is needed; the role needs only the right to
create a schema in the database (`GRANT CREATE ON DATABASE db TO role`).

A PostgreSQL run works in a schema of its own (`amanah_linkage_<random>`): its connections see
that schema only (`search_path`), so neither Splink's tables nor its helper functions can touch
the home's; the schema is dropped after the run, whether it ends well or not. A run whose
process or connection was killed cannot drop it; it holds an advisory lock on its schema for as
long as it runs, and every later run drops the schemas whose lock nobody holds.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from typing import Any

#: The engines a run can use, as `--engine` and the home's `linkage_engine` name them.
ENGINES = ("duckdb", "postgresql")
#: The private schemas of PostgreSQL runs start so (and nothing else of a home does).
SCHEMA_PREFIX = "amanah_linkage_"
#: First key of the advisory locks that say a run's schema is in use (second: its name's hash).
_LOCK_CLASS = 0x4C4E4B  # "LNK"
_BATCH = 10_000
#: How a run's connections name themselves (pg_stat_activity).
APPLICATION = "amanah-linkage"

#: The one distance the model uses, for PostgreSQL: optimal string alignment, per character.
_DAMERAU_LEVENSHTEIN = """
CREATE FUNCTION {schema}.damerau_levenshtein(a text, b text) RETURNS integer
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
    x text[] := regexp_split_to_array(a, '');
    y text[] := regexp_split_to_array(b, '');
    la integer := length(a);
    lb integer := length(b);
    before integer[];
    prev integer[];
    cur integer[];
    i integer;
    j integer;
    v integer;
BEGIN
    IF la = 0 THEN RETURN lb; END IF;
    IF lb = 0 THEN RETURN la; END IF;
    prev := array_fill(0, ARRAY[lb + 1], ARRAY[0]);
    FOR j IN 0..lb LOOP prev[j] := j; END LOOP;
    before := prev;
    FOR i IN 1..la LOOP
        cur := array_fill(0, ARRAY[lb + 1], ARRAY[0]);
        cur[0] := i;
        FOR j IN 1..lb LOOP
            v := least(prev[j] + 1, cur[j - 1] + 1,
                       prev[j - 1] + CASE WHEN x[i] = y[j] THEN 0 ELSE 1 END);
            IF i > 1 AND j > 1 AND x[i] = y[j - 1] AND x[i - 1] = y[j] THEN
                v := least(v, before[j - 2] + 1);
            END IF;
            cur[j] := v;
        END LOOP;
        before := prev;
        prev := cur;
    END LOOP;
    RETURN prev[lb];
END
$fn$
"""


class EngineError(RuntimeError):
    """The engine cannot run a linkage (said with what to do about it)."""


class DuckDBEngine:
    """A private in-memory DuckDB; what does not fit in memory spills to a private folder
    removed after the run (names are in it; DuckDB's default is the working directory)."""

    dialect = "duckdb"

    def __init__(self) -> None:
        import duckdb

        self.spill = tempfile.mkdtemp(prefix="amanah-linkage-")
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET enable_progress_bar = false")
        self.con.execute("SET temp_directory = ?", [self.spill])

    def api(self) -> Any:
        from splink import DuckDBAPI

        return DuckDBAPI(connection=self.con)

    def register(self, api: Any, table: Any, name: str) -> Any:
        return api.register(table, table_name=name)

    def columns(self, physical: str) -> set[str]:
        sql = f"SELECT column_name FROM (DESCRIBE {physical})"  # noqa: S608 (Splink's name)
        return {r[0] for r in self.con.execute(sql).fetchall()}

    def rows(self, sql: str) -> Iterator[tuple[Any, ...]]:
        cur = self.con.execute(sql)
        while batch := cur.fetchmany(_BATCH):
            yield from batch

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self.spill, ignore_errors=True)


def _pg_type(arrow_type: Any) -> str:
    import pyarrow as pa

    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_int64(arrow_type):
        return "bigint"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type):
        return "double precision"
    return "text"


class PostgresEngine:
    """A run in a private schema of a PostgreSQL database (see the module's docstring)."""

    dialect = "postgres"

    def __init__(self, database_url: str) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import DBAPIError

        url = make_url(database_url)
        if not url.drivername.startswith("postgresql"):
            raise EngineError("the postgresql linkage engine needs a PostgreSQL database")
        self.database = url.database or ""
        self.schema = SCHEMA_PREFIX + uuid.uuid4().hex[:16]
        # every connection sees the run's schema only; no JIT (LLVM spent minutes compiling
        # Splink's prediction query, whose planned cost is huge before its tables are known)
        options = f"-c search_path={self.schema} -c jit=off"
        self.engine = create_engine(
            url,
            connect_args={"options": options, "application_name": APPLICATION},
            pool_pre_ping=True,
        )
        self.guard: Any = None
        try:
            self.guard = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._sweep()
            self.guard.execute(
                text("SELECT pg_advisory_lock(:c, hashtext(:s))"),
                {"c": _LOCK_CLASS, "s": self.schema},
            )
            self.guard.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            self.guard.execute(text(_DAMERAU_LEVENSHTEIN.format(schema=f'"{self.schema}"')))
        except DBAPIError as exc:
            self.close()
            raise EngineError(_explain(exc, self.database)) from None

    def _sweep(self) -> None:
        """Drop the schemas of runs that were killed (their lock is free)."""
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        found = self.guard.execute(
            text("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, :p)"),
            {"p": SCHEMA_PREFIX},
        ).scalars()
        for name in list(found):
            lock = {"c": _LOCK_CLASS, "s": name}
            if not self.guard.execute(
                text("SELECT pg_try_advisory_lock(:c, hashtext(:s))"), lock
            ).scalar():
                continue  # a run is using it
            try:
                self.guard.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            except DBAPIError:
                pass  # another role's: not ours to drop
            finally:
                self.guard.execute(text("SELECT pg_advisory_unlock(:c, hashtext(:s))"), lock)

    def api(self) -> Any:
        from splink.backends.postgres import PostgresAPI
        from splink.internals.input_column import InputColumn
        from splink.internals.postgres.dataframe import PostgresDataFrame

        run = self

        class _Frame(PostgresDataFrame):
            @property
            def columns(self) -> list[InputColumn]:
                # Splink's looks the name up in every schema: a home's table of the same
                # name would lend the run its columns
                names = run.column_list(self.physical_name)
                return [InputColumn(c, sqlglot_dialect_str="postgres") for c in names]

        class _API(PostgresAPI):
            def table_to_splink_dataframe(self, templated_name: str, physical_name: str) -> Any:
                return _Frame(templated_name, physical_name, self)

            def table_exists_in_database(self, table_name: str) -> bool:
                return bool(run.column_list(table_name))

            def _register_extensions(self) -> None:
                """None needed: the model's one distance function is the run's own."""

            def _table_registration(self, input: Any, table_name: str) -> None:
                # Splink's own would load a DuckDB extension from the network
                run.copy_in(input, table_name)

        return _API(self.engine, schema=self.schema)

    def register(self, api: Any, table: Any, name: str) -> Any:
        self.copy_in(table, name)
        return api.register(name, table_name=name)

    def copy_in(self, table: Any, name: str) -> None:
        """A table (Arrow, or what Splink hands over) copied into the run's schema by COPY."""
        import pyarrow as pa
        from splink.internals.misc import to_pyarrow_if_list_tuple_or_dict

        table = to_pyarrow_if_list_tuple_or_dict(table)
        if not isinstance(table, pa.Table):
            table = pa.Table.from_pandas(table, preserve_index=False)
        target = f'"{self.schema}"."{name}"'
        columns = ", ".join(f'"{f.name}" {_pg_type(f.type)}' for f in table.schema)
        names = ", ".join(f'"{n}"' for n in table.column_names)
        with self.engine.begin() as conn:
            raw = conn.connection.driver_connection
            with raw.cursor() as cur:
                cur.execute(f"DROP TABLE IF EXISTS {target}")
                cur.execute(f"CREATE TABLE {target} ({columns})")
                with cur.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
                    for batch in table.to_batches(_BATCH):
                        for row in zip(*(c.to_pylist() for c in batch.columns), strict=True):
                            copy.write_row(row)
                cur.execute(f"ANALYZE {target}")

    def columns(self, physical: str) -> set[str]:
        return set(self.column_list(physical))

    def column_list(self, physical: str) -> list[str]:
        """The columns of a table of the run's schema, in order (none: no such table)."""
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    text(
                        "SELECT column_name FROM information_schema.columns"
                        " WHERE table_schema = :s AND table_name = :t ORDER BY ordinal_position"
                    ),
                    {"s": self.schema, "t": physical},
                ).scalars()
            )

    def rows(self, sql: str) -> Iterator[tuple[Any, ...]]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=_BATCH).execute(
                text(sql)
            )
            for row in result:
                yield tuple(row)

    def close(self) -> None:
        """Drop the schema (everything the run made) and let go of its lock; when the
        connection is gone, the next run drops it."""
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        if self.guard is not None:
            try:
                self.guard.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
                self.guard.execute(text("SELECT pg_advisory_unlock_all()"))
            except DBAPIError:
                pass  # the connection was killed: its lock went with it, the next run sweeps
            self.guard.close()
            self.guard = None
        self.engine.dispose()


def _explain(exc: Any, database: str) -> str:
    """What went wrong on PostgreSQL, and what to do: without the statement (no data in it)."""
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if code == "42501":  # insufficient privilege
        return (
            f"the database role may not create a schema in {database!r}: a linkage run works"
            f" in a private schema it drops afterwards; GRANT CREATE ON DATABASE {database} TO"
            " <role>, or link with --engine duckdb"
        )
    if code == "42704" or "plpgsql" in str(exc):
        return f"PL/pgSQL is not available in {database!r} (CREATE EXTENSION plpgsql, as its owner)"
    reason = str(getattr(exc, "orig", exc)).splitlines()[0]
    return f"PostgreSQL linkage could not start in {database!r}: {reason}"


def open_engine(name: str = "duckdb", database_url: str | None = None) -> Any:
    """The engine a run uses: "duckdb" (embedded), or "postgresql" on `database_url`."""
    if name == "duckdb":
        return DuckDBEngine()
    if name == "postgresql":
        if not database_url or not database_url.startswith("postgresql"):
            raise EngineError(
                "the postgresql linkage engine runs in the home's database: the home's"
                " database_url must be a PostgreSQL one"
            )
        return PostgresEngine(database_url)
    raise EngineError(f"no linkage engine {name!r}: one of {', '.join(ENGINES)}")
