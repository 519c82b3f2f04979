"""Every `amanah` command starts without loading the engines it does not use (issue 18).

`import amanah.cli` and `amanah --help` load typer, rich and the command modules only: the
ORM, the database and key modules, the web framework and the document, image and search
engines are imported inside the commands that use them. A fresh process is checked, not a
time (figures: benchmarks/startup.py, docs/benchmarks.md). The command tree (every command
and its options) is compared with tests/cli_commands.txt, so that making an import lazy
never drops or changes a command: a name only in TYPE_CHECKING that typer needs would fail
here when the tree is built.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMMANDS = REPO / "tests" / "cli_commands.txt"
#: Modules a command loads only when it works; none may be loaded by starting the CLI.
HEAVY = (
    "sqlalchemy",
    "alembic",
    "amanah.db",
    "amanah.db.models",
    "amanah.workspace",
    "amanah.access",
    "cryptography",
    "argon2",
    "numpy",
    "PIL",
    "cv2",
    "pymupdf",
    "pypdfium2",
    "tantivy",
    "fastapi",
    "starlette",
    "uvicorn",
    "fido",
    "procrastinate",
    "icu",
    "Stemmer",
)
_LOADED = """
import json, sys
{setup}
print(json.dumps(sorted(m for m, mod in sys.modules.items() if mod is not None)))
"""
_HELP = """
import json, sys
sys.argv = ["amanah", "--help"]
from amanah.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
sys.stderr.write(json.dumps({"code": code, "modules": sorted(
    m for m, mod in sys.modules.items() if mod is not None)}))
"""


def _loaded(setup: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", _LOADED.format(setup=setup)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return set(json.loads(out.stdout))


def _heavy(modules: set[str]) -> list[str]:
    return [h for h in HEAVY if h in modules]


def test_importing_the_cli_loads_no_engine() -> None:
    loaded = _loaded("import amanah.cli")
    assert "typer" in loaded and "amanah.cli.persons_review" in loaded
    assert _heavy(loaded) == []


def test_the_check_sees_an_engine_once_it_is_imported() -> None:
    """Negative control: opening a workspace's module loads the ORM and the key modules, and
    the same check names them."""
    loaded = _loaded("import amanah.cli\nimport amanah.workspace")
    assert {"sqlalchemy", "amanah.db.models", "cryptography", "amanah.workspace"} <= set(
        _heavy(loaded)
    )


def test_help_lists_every_command_without_loading_an_engine() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _HELP],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    shown = json.loads(proc.stderr)
    assert shown["code"] == 0
    assert _heavy(set(shown["modules"])) == []
    top = [p for p in (line.split("  [")[0] for line in _tree()) if " " not in p]
    assert len(top) > 20
    for name in top:
        assert f"│ {name} " in proc.stdout, name


def _tree() -> list[str]:
    """Every command path with its options, one a line, in the order typer lists them."""
    import typer.main

    from amanah.cli import app

    lines: list[str] = []

    def walk(cmd: object, path: list[str]) -> None:
        params = sorted(
            " ".join(p.opts) if p.opts else p.name  # type: ignore[attr-defined]
            for p in cmd.params  # type: ignore[attr-defined]
        )
        if path:
            lines.append(" ".join(path) + "".join(f"  [{p}]" for p in params))
        if hasattr(cmd, "list_commands"):
            ctx = typer._click.Context(cmd, info_name=path[-1] if path else "amanah")
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), [*path, name])

    walk(typer.main.get_command(app), [])
    return lines


def test_every_command_and_option_is_still_there() -> None:
    """The tree typer builds (which resolves every command's annotations) is the recorded
    one; after adding or changing a command, record it again:
    `python -m tests.test_startup_imports > tests/cli_commands.txt`."""
    assert _tree() == COMMANDS.read_text(encoding="utf-8").splitlines()


def _imports() -> dict[str, set[str]]:
    """Which amanah module imports which, at the top or inside a function; type-only imports
    (`if TYPE_CHECKING:`) are not run and are left out."""
    files = {
        ".".join(f.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): f
        for f in (REPO / "amanah").rglob("*.py")
    }

    def module(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in files}
    for m, f in files.items():
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                node.body = []
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                target = module(name) if name.startswith("amanah") else None
                if target and target != m:
                    graph[m].add(target)
    return graph


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        if m == goal:
            return True
        if m not in seen:
            seen.add(m)
            todo.extend(graph[m])
    return False


def _circle(graph: dict[str, set[str]], a: str, b: str) -> bool:
    return _reaches(graph, a, b) and _reaches(graph, b, a)


def test_the_broken_import_circles_stay_broken() -> None:
    """Each pair imported the other (directly or through others); now at most one way, and
    nothing the workspace imports imports it back. The circle left on purpose (pipeline and
    its page jobs, docs/code-layout.md) is found, so the check can fail."""
    graph = _imports()
    for a, b in [
        ("amanah.access.core", "amanah.workspace"),
        ("amanah.search.searchlog", "amanah.workspace"),
        ("amanah.access.tokens", "amanah.access.users"),
        ("amanah.cli.persons_evidence", "amanah.cli.persons_review"),
        ("amanah.cli.persons", "amanah.cli.persons_review"),
        ("amanah.processing.unpack", "amanah.processing.mailbox"),
    ]:
        assert not _circle(graph, a, b), (a, b)
    ws = "amanah.workspace"
    assert _reaches(graph, ws, "amanah.search.searchlog")
    assert [m for m in graph if m != ws and _circle(graph, ws, m)] == []
    assert _circle(graph, "amanah.processing.pagejobs", "amanah.processing.pipeline")


if __name__ == "__main__":
    print("\n".join(_tree()))
