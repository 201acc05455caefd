"""``OBERIH_EXCHANGE_*`` settings: where the source registers' public keys are registered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from oberih.exchange.signing import KeyRing, load_key_ring

KEY_RING_SERVICE = "exchange_key_ring"


class ExchangeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OBERIH_EXCHANGE_", extra="ignore")

    # JSON key ring (see ``signing``); without one, every signed batch is refused (unknown key).
    keys_file: Path | None = None


def load_configured_key_ring(settings: ExchangeSettings | None = None) -> KeyRing:
    settings = settings or ExchangeSettings()
    if settings.keys_file is None:
        return KeyRing()
    return load_key_ring(settings.keys_file)


def key_ring_of(context: Any) -> KeyRing:
    """The app's key ring (``context.services``), loaded from the settings on first use; tests
    put an in-memory ring there."""
    ring = context.services.get(KEY_RING_SERVICE)
    if ring is None:
        ring = context.services[KEY_RING_SERVICE] = load_configured_key_ring()
    assert isinstance(ring, KeyRing)
    return ring
