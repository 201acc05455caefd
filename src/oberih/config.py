"""Typed settings read from the environment (prefix ``OBERIH_``), failing fast on bad values."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OBERIH_", extra="ignore")

    env: Environment = Environment.production
    database_url: str = Field(default_factory=lambda: f"sqlite:///{Path.cwd() / 'oberih.db'}")
    profile: str = "ua"

    @property
    def is_development(self) -> bool:
        return self.env in (Environment.development, Environment.test)


def load_settings() -> Settings:
    """Build settings once, at the composition root (CLI command or app factory)."""
    return Settings()
