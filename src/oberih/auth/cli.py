"""``oberih dev ...``: development-mode helpers (mounted by the root CLI as ``oberih dev``).

Every command refuses to run unless ``OBERIH_ENV`` is ``development`` (or ``test``): the
development issuer does not exist in production.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated, NoReturn

import typer

from oberih.auth.development import DevelopmentIssuer, DevelopmentOnly, development_issuer
from oberih.auth.principals import InvalidPrincipal, Principal, Role, check_attributes
from oberih.config import Settings, load_settings

app = typer.Typer(no_args_is_help=True, help="Development mode only: tokens for demo users.")

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="Overrides OBERIH_DATABASE_URL (its directory holds the key)."
    ),
]


@app.command("token")
def token_command(
    role: Annotated[Role, typer.Option(help="The role the token grants.")],
    office: Annotated[
        str | None, typer.Option(help="Office code (officers, commissions), e.g. TCC-UA46-03.")
    ] = None,
    region: Annotated[
        str | None, typer.Option(help="Oblast code of a regional officer, e.g. UA46.")
    ] = None,
    person: Annotated[str | None, typer.Option(help="Citizen's own person id (UUID).")] = None,
    employer: Annotated[str | None, typer.Option(help="Employer's EDRPOU (8 digits).")] = None,
    source: Annotated[str | None, typer.Option(help="Source register, e.g. tax.")] = None,
    subject: Annotated[str | None, typer.Option(help="Token subject; default dev-ROLE.")] = None,
    ttl: Annotated[int, typer.Option(min=60, help="Lifetime in seconds.")] = 3600,
    database_url: DatabaseUrl = None,
) -> None:
    """Print a bearer token signed by the development issuer (for scripts and tests)."""
    settings = _development_settings(database_url)
    if ttl > settings.oidc_max_token_lifetime_seconds:
        _fail(f"--ttl exceeds the maximum of {settings.oidc_max_token_lifetime_seconds} s")
    principal = Principal(
        subject=subject or f"dev-{role.value}",
        role=role,
        office_code=office,
        region=region,
        person_id=_person_id(person),
        employer_code=employer,
        source=source,
    )
    try:
        check_attributes(principal)
    except InvalidPrincipal as exc:
        _fail(f"not a valid {role.value}: {exc.reason}")
    issuer = _issuer(settings)
    now = dt.datetime.now(dt.UTC)
    typer.echo(issuer.mint(principal, now=now, ttl=dt.timedelta(seconds=ttl)))


@app.command("jwks")
def jwks_command(database_url: DatabaseUrl = None) -> None:
    """Print the development issuer's public keys (JWKS) and its issuer and audience."""
    issuer = _issuer(_development_settings(database_url))
    document = {"issuer": issuer.issuer, "audience": issuer.audience, **issuer.public_jwks()}
    typer.echo(json.dumps(document, indent=2))


def _development_settings(database_url: str | None) -> Settings:
    settings = load_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


def _issuer(settings: Settings) -> DevelopmentIssuer:
    try:
        return development_issuer(settings)
    except DevelopmentOnly as exc:
        _fail(f"{exc} (OBERIH_ENV is {settings.env.value})")


def _person_id(text: str | None) -> uuid.UUID | None:
    if text is None:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        _fail("--person must be a UUID")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)
