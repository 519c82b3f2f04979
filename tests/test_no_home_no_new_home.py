"""A mistyped --home is a wrong request: every command but `init` and `demo` on a folder with
no Amanah home says so (exit 2), and makes nothing there; `verify` once made an empty home with
a new signing key and passed."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import amanah


def test_a_command_on_no_home_refuses_and_makes_nothing(tmp_path: Path) -> None:
    typo = tmp_path / "amanha-home"
    for args in (("verify",), ("items",), ("search", "x"), ("collection", "list")):
        proc = amanah(typo, *args)
        assert proc.returncode == 2, (args, proc.returncode, proc.stderr)
        assert f"no Amanah home at {typo}" in proc.stderr and "amanah init" in proc.stderr
        assert not typo.exists(), args
    made = amanah(typo, "init")
    assert made.returncode == 0, made.stderr
    assert amanah(typo, "verify").returncode == 0
