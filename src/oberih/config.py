"""Typed settings read from the environment (prefix ``OBERIH_``), failing fast on bad values."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


# Token signature algorithms the register accepts: asymmetric only, so that no shared secret exists
# and "none" or HS* (including the public-key-as-HMAC-secret confusion) can never verify.
ACCEPTED_TOKEN_ALGORITHMS = frozenset({"ES256", "EdDSA", "RS256"})


class InsecureConfiguration(RuntimeError):
    """The settings would run the service without a proper identity configuration."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("refusing to start: " + "; ".join(problems))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OBERIH_", extra="ignore")

    env: Environment = Environment.production
    database_url: str = Field(default_factory=lambda: f"sqlite:///{Path.cwd() / 'oberih.db'}")
    profile: str = "ua"

    # Where per-installation files live (the development issuer's key); default: a ``.oberih``
    # directory next to the SQLite database, or in the working directory.
    data_dir: Path | None = None

    # Authentication (oberih.auth): the identity provider whose tokens the service accepts.
    # Outside development all of issuer, audience and one JWKS source must be set explicitly.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_file: Path | None = None
    oidc_jwks_json: str | None = None
    oidc_algorithms: tuple[str, ...] = ("ES256", "EdDSA")
    oidc_leeway_seconds: int = Field(default=30, ge=0, le=120)
    oidc_max_token_lifetime_seconds: int = Field(default=3600, ge=60, le=86_400)
    # Source registers that sign their own client tokens: a JSON file listing
    # {"issuer", "source", "jwks" | "jwks_file"} per register (oberih.auth.tokens).
    source_clients_file: Path | None = None
    # How long a classified purpose withholds an access from the citizen (oberih.auth.purposes).
    purpose_classified_days: int = Field(default=365, ge=1, le=36_500)
    # FastAPI's native OpenTelemetry instrumentation (traces, metrics, logs to the globally
    # configured providers). Off unless the operator turns it on: what leaves the process is
    # their decision (paths carry person ids), and when on but unconfigured it still costs every
    # request a look at the global providers (6% of a person read's CPU).
    telemetry: bool = False
    # Whether each service process sequences the audit inbox into the Merkle tree and signs
    # due checkpoints itself (one process: the demo, tests). ``oberih serve --workers N`` (N > 1)
    # turns it off in the workers and runs one ``oberih audit sequencer`` process beside them:
    # sequencing is CPU work that, in a thread of a worker, holds the interpreter lock against
    # that worker's requests, and N processes would poll for the same rows.
    audit_sequencer: bool = True

    @property
    def is_development(self) -> bool:
        return self.env in (Environment.development, Environment.test)

    @field_validator("oidc_algorithms")
    @classmethod
    def _asymmetric_algorithms_only(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        refused = set(value) - ACCEPTED_TOKEN_ALGORITHMS
        if not value or refused:
            accepted = ", ".join(sorted(ACCEPTED_TOKEN_ALGORITHMS))
            raise ValueError(f"token algorithms must be a non-empty subset of {accepted}")
        return value

    def validate_for_production(self) -> None:
        """Outside development, refuse to start without a complete identity-provider
        configuration (STYLE point 4: no default or missing secrets)."""
        if self.is_development:
            return
        problems: list[str] = []
        if not self.oidc_issuer:
            problems.append("OBERIH_OIDC_ISSUER is not set")
        elif not self.oidc_issuer.startswith("https://"):
            problems.append("OBERIH_OIDC_ISSUER must be an https:// URL (OpenID Connect Core 1.0)")
        if not self.oidc_audience:
            problems.append("OBERIH_OIDC_AUDIENCE is not set")
        if (self.oidc_jwks_file is None) == (self.oidc_jwks_json is None):
            problems.append("set exactly one of OBERIH_OIDC_JWKS_FILE and OBERIH_OIDC_JWKS_JSON")
        if problems:
            raise InsecureConfiguration(problems)


def load_settings() -> Settings:
    """Build settings once, at the composition root (CLI command or app factory)."""
    return Settings()
