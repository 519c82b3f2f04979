"""The command line answers bad input with one line and its documented exit status, never a
Python traceback: integers past what the database stores are refused by one bound on every
integer argument and option of the tree (exit 2, as the web caps ids), `--workers` must be
1..1024, and whatever no command caught ends in `error: <what>: <reason>` (exit 1) with the
traceback kept in the home's errors.log."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import amanah

HUGE = "99999999999999999999"


def test_huge_integers_and_workers_are_refused(sqlite_home: Path) -> None:
    for args in (
        ("item", "show", HUGE),
        ("entity", "show", HUGE),
        ("rfa", "review", "RFA-X", "relevant", "1", HUGE),
        ("fixity", "--workers", "99999999999999"),
        ("fixity", "--workers", "0"),
        ("fixity", "--workers", "-3"),
        ("process", "--workers", "0"),
    ):
        proc = amanah(sqlite_home, *args)
        assert proc.returncode == 2, (args, proc.returncode, proc.stderr)
        assert "Traceback" not in proc.stderr and "OverflowError" not in proc.stderr, proc.stderr


def test_an_uncaught_error_is_one_line_and_exit_1(sqlite_home: Path, monkeypatch) -> None:
    from amanah import cli

    def broken() -> None:
        raise OSError(5, "Input/output error", "/some/file")

    monkeypatch.setattr(cli, "command", lambda: broken)
    monkeypatch.setattr(cli.state, "home", str(sqlite_home))
    try:
        cli.main()
    except SystemExit as exc:
        assert exc.code == 1
    else:
        raise AssertionError("main() returned")
    log = (sqlite_home / "errors.log").read_text("utf-8")
    assert "Traceback" in log and "Input/output error" in log


def test_a_broken_home_is_said_in_one_line(tmp_path: Path) -> None:
    file = tmp_path / "a-file"
    file.write_text("x", encoding="utf-8")
    proc = amanah(file, "init")
    assert proc.returncode == 2 and f"{file}: is a file" in proc.stderr, proc.stderr
    home = tmp_path / "home"
    amanah(home, "init", check=True)
    config = home / "amanah.toml"
    text = config.read_text("utf-8")
    for url, said in (
        ("garbage:::", "database_url is not a database URL"),
        ("mysql://u@h/db", "database_url cannot be used"),
    ):
        config.write_text(
            "\n".join(
                f'database_url = "{url}"' if line.startswith("database_url") else line
                for line in text.splitlines()
            ),
            "utf-8",
        )
        proc = amanah(home, "verify")
        assert proc.returncode == 2 and said in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    config.write_text(text, "utf-8")
    junk = tmp_path / "junk.jsonl"
    junk.write_bytes(b"\xff\xfe{\n")
    proc = amanah(home, "entity", "import", str(junk))
    assert proc.returncode == 2 and "not UTF-8" in proc.stderr, proc.stderr
    (home / "amanah.db").write_bytes(b"junk" * 1000)
    for extra in ("amanah.db-wal", "amanah.db-shm"):
        (home / extra).unlink(missing_ok=True)
    proc = amanah(home, "verify")
    assert proc.returncode == 2 and "not an Amanah database" in proc.stderr, proc.stderr
