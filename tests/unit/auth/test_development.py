"""The development issuer and the refusal to start without identity configuration."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest

from oberih.auth.development import (
    DEVELOPMENT_ISSUER,
    DevelopmentOnly,
    data_directory,
    development_issuer,
    load_or_create_issuer,
)
from oberih.auth.principals import Principal, Role
from oberih.auth.tokens import build_token_verifier
from oberih.config import InsecureConfiguration, Settings
from tests.auth_support import AUDIENCE, ISSUER, SigningKey, claims, jwks


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'oberih.db'}", **values)  # type: ignore[arg-type]


def _production(tmp_path: Path, **values: object) -> Settings:
    return _settings(tmp_path, env="production", **values)


OFFICER = Principal(subject="demo-officer", role=Role.tcc_officer, office_code="TCC-UA46-01")


def test_the_key_lives_beside_the_database_readable_by_its_owner_only(tmp_path: Path) -> None:
    settings = _settings(tmp_path, env="development")
    issuer = development_issuer(settings)
    path = tmp_path / ".oberih" / "dev-issuer.json"
    assert data_directory(settings) == tmp_path / ".oberih"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "d" in json.loads(path.read_text())["key"]
    assert development_issuer(settings).key_id == issuer.key_id  # reused, not regenerated


def test_each_data_directory_has_its_own_key(tmp_path: Path) -> None:
    one = load_or_create_issuer(tmp_path / "a" / "dev-issuer.json", audience="x")
    two = load_or_create_issuer(tmp_path / "b" / "dev-issuer.json", audience="x")
    assert one.key_id != two.key_id


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dev-issuer.json"
    load_or_create_issuer(path, audience="x")
    path.chmod(0o644)
    with pytest.raises(PermissionError):
        load_or_create_issuer(path, audience="x")


def test_minted_tokens_verify_in_development(tmp_path: Path) -> None:
    settings = _settings(tmp_path, env="development")
    token = development_issuer(settings).mint(
        OFFICER, now=dt.datetime.now(dt.UTC), ttl=dt.timedelta(minutes=5)
    )
    verifier = build_token_verifier(settings)
    assert verifier.issuers == (DEVELOPMENT_ISSUER,)
    principal = verifier.verify(token)
    assert (principal.subject, principal.office_code) == ("demo-officer", "TCC-UA46-01")
    assert principal.token_id


def test_there_is_no_development_issuer_in_production(tmp_path: Path) -> None:
    with pytest.raises(DevelopmentOnly):
        development_issuer(_production(tmp_path))
    assert not (tmp_path / ".oberih").exists()


def test_production_refuses_to_start_without_identity_configuration(tmp_path: Path) -> None:
    with pytest.raises(InsecureConfiguration) as caught:
        build_token_verifier(_production(tmp_path))
    problems = " ".join(caught.value.problems)
    assert "OBERIH_OIDC_ISSUER" in problems
    assert "OBERIH_OIDC_AUDIENCE" in problems
    assert "JWKS" in problems


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (
            {"oidc_issuer": "http://idp.example/", "oidc_audience": "a", "oidc_jwks_json": "{}"},
            "https",
        ),
        (
            {"oidc_issuer": DEVELOPMENT_ISSUER, "oidc_audience": "a", "oidc_jwks_json": "{}"},
            "https",
        ),
        (
            {
                "oidc_issuer": "https://idp.example/",
                "oidc_audience": "a",
                "oidc_jwks_json": "{}",
                "oidc_jwks_file": "/etc/jwks.json",
            },
            "exactly one",
        ),
    ],
)
def test_production_refuses_partial_or_insecure_configuration(
    tmp_path: Path, values: dict[str, object], problem: str
) -> None:
    with pytest.raises(InsecureConfiguration, match=problem):
        _production(tmp_path, **values).validate_for_production()


def test_production_trusts_the_configured_identity_provider_only(tmp_path: Path) -> None:
    key = SigningKey.es256()
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(jwks(key)))
    settings = _production(
        tmp_path, oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_file=jwks_file
    )
    verifier = build_token_verifier(settings)
    assert verifier.issuers == (ISSUER,)
    assert verifier.verify(key.sign(claims())).office_code == "TCC-UA46-03"
    assert not (tmp_path / ".oberih").exists()


def test_source_register_clients_come_from_their_file(tmp_path: Path) -> None:
    key = SigningKey.eddsa(kid="tax-2026")
    (tmp_path / "tax.jwks.json").write_text(json.dumps(jwks(key)))
    clients = tmp_path / "clients.json"
    clients.write_text(
        json.dumps([{"issuer": "urn:ua:tax", "source": "tax", "jwks_file": "tax.jwks.json"}])
    )
    settings = _settings(tmp_path, env="test", source_clients_file=clients, oidc_audience=AUDIENCE)
    verifier = build_token_verifier(settings)
    token = key.sign(
        claims(
            {"sub": "tax-gw", "oberih_role": "source_register", "oberih_source": "tax"},
            issuer="urn:ua:tax",
            drop=("oberih_office",),
        )
    )
    assert verifier.verify(token).source == "tax"


def test_only_asymmetric_algorithms_can_be_configured(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="subset"):
        _settings(tmp_path, oidc_algorithms=("HS256",))
    with pytest.raises(ValueError, match="subset"):
        _settings(tmp_path, oidc_algorithms=("none",))


def test_the_default_environment_is_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OBERIH_ENV", raising=False)
    assert not Settings().is_development
