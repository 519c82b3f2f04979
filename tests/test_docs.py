"""Docs and the command line agree (Datasette's pattern): every `amanah …` line shown in the
README, in docs/*.md and in a command's own `Example:` parses against the real command line
(the command exists, its options exist, its arguments convert), and every command is shown
somewhere."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

import pytest
import typer.main
from typer._click.core import Command, Context  # typer runs on its own copy of click
from typer._click.exceptions import ClickException, UsageError

from amanah.cli import app
from tests.conftest import REPO

ROOT = typer.main.get_command(app)
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
_SHELL = {"", "sh", "bash", "console", "shell"}


def _commands(group: Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if hasattr(group, "commands"):
        for name, sub in group.commands.items():
            if not sub.hidden:
                yield from _commands(sub, (*path, name))
    else:
        yield path


_OPERATORS = {"&&", "||", "|", ";", "&", ">", ">>", "<"}


def _segments(block: str) -> Iterator[str]:
    """Each `amanah …` command of a shell block, as its words joined by single spaces:
    continuations joined, comments and remarks dropped, pipelines and lists split."""
    joined = re.sub(r"\\\n\s*", " ", block)
    for line in joined.splitlines():
        line = line.strip().removeprefix("$ ")
        line = re.split(r"\s{2,}\(", line, maxsplit=1)[0]  # "   (then open …)": a remark
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        try:
            tokens = list(lexer)
        except ValueError:
            continue  # not shell (a table row, prose)
        segment: list[str] = []
        for token in [*tokens, ";"]:
            if token not in _OPERATORS:
                segment.append(token)
                continue
            if segment[:1] in (["amanah"], [".venv/bin/amanah"]):
                yield shlex.join(segment)
            segment = []


def _examples(cmd: Command) -> list[str]:
    """A command's `Example:` lines (a pipeline may start with another program)."""
    return re.findall(r"Example: (\S[^\n]*(?:\n[ \t]+\S[^\n]*)*)", cmd.help or "")


def _shown() -> Iterator[tuple[str, str]]:
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        # Fences are whole lines: a closing fence never opens the next block.
        for lang, block in _FENCE.findall(text):
            if lang not in _SHELL:
                continue
            for line in _segments(block):
                yield f"{doc.name}: {line}", line
    for path in _commands(ROOT):
        cmd = ROOT
        for name in path:
            cmd = cmd.commands[name]  # type: ignore[attr-defined]
        # An example goes on over indented lines that start with an option; an indented
        # line that starts otherwise is the example's next command.
        for found in _examples(cmd):
            for line in _segments(re.sub(r"\n[ \t]+(?=-)", " ", found)):
                yield f"amanah {' '.join(path)} --help: {line}", line


def _words(line: str) -> list[str]:
    words = shlex.split(line)[1:]  # less `amanah`
    if words[:1] == ["--home"]:
        words = words[2:]
    return ["x" if w in ("…", "...") else w for w in words]  # an elided value is a value


SHOWN = sorted(set(_shown()))


def _parse(words: list[str]) -> tuple[Command, tuple[str, ...]]:
    """Resolve the command and parse its options and arguments as click would, without
    running it; raises click's own error for an unknown command or option."""
    cmd: Command = ROOT
    path: list[str] = []
    ctx = Context(ROOT, info_name="amanah")
    while hasattr(cmd, "commands") and words:
        name = words.pop(0)
        sub = cmd.get_command(ctx, name)
        if sub is None:
            raise UsageError(f"no command {' '.join([*path, name])!r}")
        cmd, path = sub, [*path, name]
    if hasattr(cmd, "commands"):
        raise UsageError(f"{' '.join(path)!r} needs a subcommand")
    cmd.make_context(" ".join(path), list(words), parent=ctx)
    return cmd, tuple(path)


@pytest.mark.parametrize(("where", "line"), SHOWN, ids=[w for w, _ in SHOWN])
def test_every_command_shown_in_the_docs_parses(where: str, line: str) -> None:
    try:
        _parse(_words(line))
    except ClickException as exc:
        pytest.fail(f"{where}\n  does not parse: {exc.format_message()}", pytrace=False)


def test_every_command_is_shown_in_the_docs() -> None:
    shown = set()
    for _, line in SHOWN:
        try:
            shown.add(_parse(_words(line))[1])
        except ClickException:
            continue
    missing = sorted(" ".join(p) for p in _commands(ROOT) if p not in shown)
    assert not missing, f"commands no doc shows with an example: {missing}"


def test_every_help_example_is_one_shell_line() -> None:
    """The collector skips what does not read as shell, so a broken example would vanish from
    the check above: a `\\n` written unescaped in a docstring printed `printf '%s` and a
    stray quote on the next line of `amanah init --help`."""
    broken = []
    for path in _commands(ROOT):
        cmd = ROOT
        for name in path:
            cmd = cmd.commands[name]  # type: ignore[attr-defined]
        for found in _examples(cmd):
            try:
                shlex.split(re.sub(r"\n[ \t]+", " ", found))
            except ValueError as exc:
                broken.append(f"amanah {' '.join(path)} --help: {found!r}: {exc}")
    assert not broken, "\n".join(broken)


def test_the_docs_show_commands_at_all() -> None:
    """The collector itself can fail: it must find the README's command list."""
    assert len(SHOWN) > 60
    assert any(line.startswith("amanah package build") for _, line in SHOWN)
