"""The demo's tour: every command ``oberih demo`` prints answers as its line says, on the demo's
own register (SQLite, the demo's seed and size)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response

from oberih.api.app import create_app
from oberih.audit.services import sign_checkpoint_now
from oberih.audit.signing import load_audit_signer
from oberih.auth.development import development_issuer
from oberih.cli.demo import DEMO_SEED, DemoUser, demo_users
from oberih.config import Settings
from oberih.db.engine import make_engine, make_session_factory
from oberih.db.migrate import upgrade
from oberih.persons.bulk import load_people
from oberih.population import generate_population


def test_every_demo_users_command_answers_as_the_tour_says(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/oberih.db"
    engine = make_engine(url)
    upgrade(engine)
    today = dt.datetime.now(dt.UTC).date()
    load_people(engine, generate_population(persons=2000, seed=DEMO_SEED, reference_date=today))
    users = {user.name: user for user in demo_users(engine)}
    settings = Settings(env="development", database_url=url, data_dir=tmp_path / "data")
    issuer = development_issuer(settings)
    with make_session_factory(engine)() as session, session.begin():  # as `oberih demo` does
        sign_checkpoint_now(
            session, signer=load_audit_signer(settings), now=dt.datetime.now(dt.UTC)
        )

    with TestClient(create_app(settings, engine=engine)) as client:

        def tried(user: DemoUser) -> Response:
            token = issuer.mint(user.principal, now=dt.datetime.now(dt.UTC))
            headers = {"Authorization": f"Bearer {token}"}
            if user.purpose:
                headers["X-Purpose"] = "CASE-2026-000001"
            return client.get(user.try_path, headers=headers)

        kyiv = tried(users["officer-kyiv"])
        assert kyiv.status_code == 200 and kyiv.json()["identity"] is not None
        assert tried(users["officer-lviv"]).status_code == 404  # the same person, out of area
        search = tried(users["medical-commission-lviv"])
        assert search.status_code == 200 and search.json()["items"]
        reservations = tried(users["employer"])
        assert reservations.status_code == 200 and reservations.json()["items"]
        assert tried(users["auditor"]).status_code == 200
        accesses = tried(users["citizen"])
        assert accesses.status_code == 200
        seen = [(item["office_code"], item["outcome"]) for item in accesses.json()["items"]]
        officers = users["officer-kyiv"].principal, users["officer-lviv"].principal
        # The citizen sees the Kyiv officer's read and the Lviv officer's refused attempt.
        assert (officers[0].office_code, "allowed") in seen
        assert (officers[1].office_code, "denied") in seen
    engine.dispose()
