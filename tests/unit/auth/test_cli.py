"""``oberih dev token``: tokens for scripts and tests, in development mode only."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from typer.testing import CliRunner

from oberih.auth.cli import app
from oberih.auth.principals import Principal, Role
from oberih.auth.tokens import build_token_verifier
from oberih.config import Environment, Settings

runner = CliRunner()


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'oberih.db'}"


def _invoke(tmp_path: Path, *args: str, env: str = "development") -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--database-url", _url(tmp_path)], env={"OBERIH_ENV": env})
    return result.exit_code, result.output


def _verify(tmp_path: Path, token: str) -> Principal:
    settings = Settings(env=Environment.development, database_url=_url(tmp_path))
    return build_token_verifier(settings).verify(token)


def test_an_officer_token_verifies_in_the_service(tmp_path: Path) -> None:
    code, output = _invoke(tmp_path, "token", "--role", "tcc_officer", "--office", "TCC-UA46-03")
    assert code == 0, output
    principal = _verify(tmp_path, output.strip())
    assert principal.role is Role.tcc_officer
    assert principal.office_code == "TCC-UA46-03"
    assert principal.subject == "dev-tcc_officer"


def test_a_citizen_token_names_their_record(tmp_path: Path) -> None:
    person = str(uuid.uuid4())
    code, output = _invoke(tmp_path, "token", "--role", "citizen", "--person", person)
    assert code == 0, output
    assert str(_verify(tmp_path, output.strip()).person_id) == person


def test_a_source_register_token(tmp_path: Path) -> None:
    code, output = _invoke(tmp_path, "token", "--role", "source_register", "--source", "tax")
    assert code == 0, output
    assert _verify(tmp_path, output.strip()).source == "tax"


def test_attributes_must_fit_the_role(tmp_path: Path) -> None:
    code, output = _invoke(tmp_path, "token", "--role", "tcc_officer")
    assert code == 2
    assert "needs office or region" in output


def test_the_lifetime_is_bounded(tmp_path: Path) -> None:
    code, output = _invoke(tmp_path, "token", "--role", "auditor", "--ttl", "86400")
    assert code == 2
    assert "maximum" in output


def test_there_are_no_dev_tokens_in_production(tmp_path: Path) -> None:
    code, output = _invoke(tmp_path, "token", "--role", "auditor", env="production")
    assert code == 2
    assert "development" in output
    assert not (tmp_path / ".oberih").exists()


def test_jwks_prints_public_keys_only(tmp_path: Path) -> None:
    code, output = _invoke(tmp_path, "jwks")
    assert code == 0, output
    document = json.loads(output)
    assert [key["kty"] for key in document["keys"]] == ["OKP"]
    assert "d" not in document["keys"][0]
