"""`amanah user|token`: accounts, roles, compartment grants and API tokens, and cutting an
account off (disable, token revocation, password reset) at once. Each change is a custody
event with the local user as its actor; no secret is ever printed twice or recorded."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from amanah.cli.util import emit_json, fail, out, with_workspace
from amanah.system import default_actor

user_app = typer.Typer(help="Accounts, roles and compartment grants.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for scripts.", no_args_is_help=True)
JSON = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")


def _read_password(from_stdin: bool) -> tuple[str, bool]:
    """The password from standard input (first line), or a new random one to show once."""
    import secrets

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("--password-stdin: standard input held no password")
        return password, False
    return secrets.token_urlsafe(12), True


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . _ @ + -).")],
    role: Annotated[
        str, typer.Option(help="admin, intake, analyst, legal, provider or recipient.")
    ],
    compartment: Annotated[
        list[str] | None, typer.Option(help="Compartment to grant (repeat for more).")
    ] = None,
    provider: Annotated[
        str | None, typer.Option(help="For a provider account: the provider it uploads for.")
    ] = None,
    jurisdiction: Annotated[
        str | None,
        typer.Option(help="For a recipient account: the jurisdiction whose packages it sees."),
    ] = None,
    language: Annotated[str, typer.Option(help="Interface language: en or ar.")] = "en",
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from standard input."),
    ] = False,
) -> None:
    """Create an account. Without --password-stdin a random password is printed once.

    Example: echo 'correct horse battery' | amanah user add rania --role analyst
    --compartment syria-detention --password-stdin
    """
    from amanah.access.users import AccountError, add_user

    if language not in ("en", "ar"):
        fail("--language must be en or ar")
    password, generated = _read_password(password_stdin)
    account = with_workspace(
        lambda ws: add_user(
            ws,
            name,
            role,
            password,
            compartments=tuple(compartment or ()),
            provider=provider,
            jurisdiction=jurisdiction,
            language=language,
            by=default_actor(),
        ),
        AccountError,
    )
    out.print(f"user {account.name} ({account.role}) created")
    if generated:
        out.print(f"password (shown once): {password}")


@user_app.command("list")
def user_list(as_json: JSON = False) -> None:
    """List accounts with their roles, compartments, providers, state and working tokens.

    Example: amanah user list --json
    """
    from amanah.access.users import list_users

    rows = with_workspace(list_users)
    if as_json:
        emit_json(rows)
        return
    table = Table("name", "role", "compartments", "provider", "state", "tokens")
    for r in rows:
        table.add_row(
            str(r["name"]),
            str(r["role"]),
            ", ".join(r["compartments"]),  # type: ignore[arg-type]
            str(r["provider"] or r["jurisdiction"] or ""),
            "disabled" if r["disabled"] else "enabled",
            str(r["tokens"]),
        )
    out.print(table)


@user_app.command("grant")
def user_grant(
    name: Annotated[str, typer.Argument(help="User name.")],
    compartment: Annotated[str, typer.Argument(help="Compartment.")],
    revoke: Annotated[bool, typer.Option(help="Take the grant away instead.")] = False,
) -> None:
    """Grant (or revoke) a compartment to a user.

    Example: amanah user grant rania syria-detention
    """
    from amanah.access.users import AccountError, grant

    with_workspace(lambda ws: grant(ws, name, compartment, default_actor(), revoke), AccountError)
    out.print(f"{name}: {'revoked' if revoke else 'granted'} {compartment}")


@user_app.command("password")
def user_password(
    name: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Set a new password: every browser session and API token of the user ends at once.

    Example: amanah user password admin
    """
    from amanah.access.users import AccountError, set_password

    password, generated = _read_password(password_stdin)
    sessions, tokens = with_workspace(
        lambda ws: set_password(ws, name, password, by=default_actor()), AccountError
    )
    out.print(
        f"password of {name} changed; {sessions} session(s) ended, {tokens} token(s) revoked"
        + (f"\npassword (shown once): {password}" if generated else "")
    )


def _set_disabled(name: str, disabled: bool) -> None:
    from amanah.access.users import AccountError, set_disabled

    changed = with_workspace(
        lambda ws: set_disabled(ws, name, disabled, by=default_actor()), AccountError
    )
    state = "disabled" if disabled else "enabled"
    out.print(f"user {name} {state}" if changed else f"user {name} was already {state}")


@user_app.command("disable")
def user_disable(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Cut an account off: it cannot sign in, its sessions end and its tokens are revoked.

    Example: amanah user disable rania
    """
    _set_disabled(name, True)


@user_app.command("enable")
def user_enable(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Let a disabled account sign in again (its old tokens stay revoked).

    Example: amanah user enable rania
    """
    _set_disabled(name, False)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="User the token acts as.")],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
    expires_in: Annotated[
        int | None,
        typer.Option(
            "--expires-in",
            metavar="DAYS",
            help="Days the token works (default: token_expiry_days in amanah.toml, 90).",
        ),
    ] = None,
) -> None:
    """Create an API token (shown once on standard output; its id and expiry go to standard
    error); scripts send it as `Authorization: Bearer TOKEN`.

    Example: TOKEN=$(amanah token create rania --label nightly-export --expires-in 30)
    curl -H "Authorization: Bearer $TOKEN" 'http://127.0.0.1:8000/api/v1/search?q=فرع'
    """
    from amanah.access.tokens import issue_token
    from amanah.access.users import AccountError

    issued = with_workspace(
        lambda ws: issue_token(ws, name, label, expires_in_days=expires_in, by=default_actor()),
        AccountError,
    )
    sys.stdout.write(issued.secret + "\n")
    sys.stderr.write(f"token {issued.id} for {name}, expires {issued.expires_at:%Y-%m-%d %H:%M}Z\n")


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's tokens.")] = None,
    as_json: JSON = False,
) -> None:
    """List tokens: id, user, label, state, created, expires, last used, revoked (never the
    token itself).

    Example: amanah token list --user rania
    """
    from amanah.access.tokens import list_tokens
    from amanah.access.users import AccountError

    rows = with_workspace(lambda ws: list_tokens(ws, user), AccountError)
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "user", "label", "state", "created", "expires", "last used", "revoked")

    def day(value: Any) -> str:
        return str(value)[:16].replace("T", " ") if value else ""

    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["user"]),
            str(r["label"]),
            str(r["state"]),
            day(r["created_at"]),
            day(r["expires_at"]),
            day(r["last_used_at"]),
            day(r["revoked_at"]) + (f" by {r['revoked_by']}" if r["revoked_by"] else ""),
        )
    out.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[
        int | None, typer.Argument(help="Token id (see `amanah token list`).")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Revoke every token of this user instead.")
    ] = None,
) -> None:
    """Revoke one token by its id, or all of a user's tokens with --user.

    Example: amanah token revoke 12
             amanah token revoke --user rania
    """
    from amanah.access.tokens import revoke_token, revoke_user_tokens
    from amanah.access.users import AccountError

    if (token_id is None) == (user is None):
        fail("give a token id or --user NAME (one of them)")
    if user is not None:
        n = with_workspace(
            lambda ws: revoke_user_tokens(ws, user, by=default_actor()), AccountError
        )
        out.print(f"{n} token(s) of {user} revoked")
        return
    assert token_id is not None
    changed = with_workspace(
        lambda ws: revoke_token(ws, token_id, by=default_actor()), AccountError
    )
    out.print(f"token {token_id} revoked" if changed else f"token {token_id} was already revoked")
