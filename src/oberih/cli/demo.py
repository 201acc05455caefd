"""``oberih demo``: the demo register on embedded SQLite, served with the development issuer.

Creates the database (first run: generates and loads a synthetic population), then prints one
ready command per demo user and serves the API. Development mode only: the development issuer
that signs the demo tokens does not exist in production.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

import typer
from rich.panel import Panel
from sqlalchemy import Engine, func, select, text

from oberih.audit.services import sign_checkpoint_now
from oberih.audit.signing import load_audit_signer
from oberih.auth.development import development_issuer
from oberih.auth.principals import Principal, Role
from oberih.cli.context import console, err_console, open_engine
from oberih.cli.population import progress_bar
from oberih.config import Settings, load_settings
from oberih.db.engine import make_session_factory
from oberih.db.migrate import upgrade
from oberih.persons.bulk import load_people
from oberih.persons.models import FactRow, PersonStateRow
from oberih.population import generate_population

DEMO_SEED = 1
DEMO_TOKEN_TTL = dt.timedelta(hours=1)


@dataclass(frozen=True)
class DemoUser:
    name: str
    description: str
    principal: Principal
    try_path: str
    purpose: bool = False


def demo_command(
    persons: Annotated[
        int, typer.Option(min=100, help="Population of a new demo register.")
    ] = 2000,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    serve: Annotated[bool, typer.Option(help="Serve the API after the tour.")] = True,
) -> None:
    """Build the demo register (first run), print a login per demo user, serve the API."""
    settings = load_settings()
    if not settings.is_development:
        err_console.print(
            "[red]oberih demo runs in development mode only[/] (OBERIH_ENV=development)"
        )
        raise typer.Exit(2)
    with open_engine(settings.database_url) as engine:
        upgrade(engine)
        if _is_empty(engine):
            _populate(engine, persons)
        users = demo_users(engine)
        with make_session_factory(engine)() as session, session.begin():
            sign_checkpoint_now(
                session, signer=load_audit_signer(settings), now=dt.datetime.now(dt.UTC)
            )
    _print_tour(settings, users, host=host, port=port)
    if serve:
        import uvicorn

        from oberih.api.app import create_app

        # No access log: its lines would carry person ids (see ``oberih.cli.serve``).
        app = create_app(settings, serving=True)
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


def _is_empty(engine: Engine) -> bool:
    with engine.connect() as connection:
        return not connection.execute(text("SELECT count(*) FROM person")).scalar_one()


def _populate(engine: Engine, persons: int) -> None:
    today = dt.datetime.now(dt.UTC).date()
    with progress_bar() as bar:
        task = bar.add_task("demo population", total=persons)
        load_people(
            engine,
            generate_population(persons=persons, seed=DEMO_SEED, reference_date=today),
            on_batch=lambda n: bar.advance(task, n),
        )


def _busiest_office(engine: Engine, region: str) -> str:
    with engine.connect() as connection:
        office = connection.execute(
            select(PersonStateRow.office_code)
            .where(PersonStateRow.region == region, PersonStateRow.office_code.is_not(None))
            .group_by(PersonStateRow.office_code)
            .order_by(func.count().desc(), PersonStateRow.office_code)
            .limit(1)
        ).scalar()
    return office or f"TCC-{region}-00"


def _someone(engine: Engine, office: str) -> uuid.UUID | None:
    with engine.connect() as connection:
        found: uuid.UUID | None = connection.execute(
            select(PersonStateRow.person_id)
            .where(PersonStateRow.office_code == office, PersonStateRow.category == "liable")
            .order_by(PersonStateRow.person_id)
            .limit(1)
        ).scalar()
    return found


def _surname_in(engine: Engine, office: str) -> str:
    """A surname borne by someone registered at ``office``: the tour's search finds them."""
    with engine.connect() as connection:
        surname: str | None = connection.execute(
            select(PersonStateRow.surname)
            .where(PersonStateRow.office_code == office, PersonStateRow.surname.is_not(None))
            .order_by(PersonStateRow.person_id)
            .limit(1)
        ).scalar()
    return surname or "Мельник"


def _reserving_employer(engine: Engine) -> str:
    with engine.connect() as connection:
        payload = connection.execute(
            select(FactRow.payload).where(FactRow.kind == "reservation").limit(1)
        ).scalar()
    return str(payload["employer_code"]) if payload else "00000017"


def demo_users(engine: Engine) -> list[DemoUser]:
    kyiv = _busiest_office(engine, "UA80")
    lviv = _busiest_office(engine, "UA46")
    kyiv_person = _someone(engine, kyiv)
    citizen = kyiv_person or uuid.uuid4()
    return [
        DemoUser(
            "officer-kyiv",
            f"recruitment officer, {kyiv} (Kyiv)",
            Principal(subject="demo-officer-kyiv", role=Role.tcc_officer, office_code=kyiv),
            f"/api/v1/persons/{kyiv_person}",
            purpose=True,
        ),
        DemoUser(
            "officer-lviv",
            f"recruitment officer, {lviv} (Lviv): the same Kyiv person is 404 for them",
            Principal(subject="demo-officer-lviv", role=Role.tcc_officer, office_code=lviv),
            f"/api/v1/persons/{kyiv_person}",
            purpose=True,
        ),
        DemoUser(
            "medical-commission-lviv",
            f"medical commission, {lviv}: search in its area",
            Principal(
                subject="demo-commission-lviv", role=Role.medical_commission, office_code=lviv
            ),
            "/api/v1/persons?q=" + quote(_surname_in(engine, lviv)),
            purpose=True,
        ),
        DemoUser(
            "employer",
            "employer of a critical enterprise: reservations of own employees only",
            Principal(
                subject="demo-employer",
                role=Role.employer,
                employer_code=_reserving_employer(engine),
            ),
            "/api/v1/employer/reservations",
        ),
        DemoUser(
            "auditor",
            "auditor: the signed audit log, ids only",
            Principal(subject="demo-auditor", role=Role.auditor),
            "/api/v1/audit/checkpoint",
        ),
        DemoUser(
            "citizen",
            "citizen: own record and who looked at it",
            Principal(subject=f"demo-citizen-{citizen}", role=Role.citizen, person_id=citizen),
            "/api/v1/me/accesses",
        ),
    ]


def _print_tour(settings: Settings, users: list[DemoUser], *, host: str, port: int) -> None:
    issuer = development_issuer(settings)
    now = dt.datetime.now(dt.UTC)
    base = f"http://{host}:{port}"
    console.print(
        Panel.fit(
            f"oberih demo register: {settings.database_url}\n"
            f"API {base}/docs · OpenAPI {base}/openapi.json · tokens valid for one hour\n"
            "All data is synthetic. Officers must declare a purpose (X-Purpose).",
            title="oberih",
        )
    )
    for user in users:
        token = issuer.mint(user.principal, now=now, ttl=DEMO_TOKEN_TTL)
        purpose = " -H 'X-Purpose: CASE-2026-000001'" if user.purpose else ""
        console.print(f"\n[bold]{user.name}[/] · {user.description}")
        console.print(
            f"curl -s{purpose} -H 'Authorization: Bearer {token}' '{base}{user.try_path}'",
            soft_wrap=True,
            highlight=False,
        )
    console.print(
        "\nMore tokens: [bold]oberih dev token --role tcc_officer --office TCC-UA46-01[/]\n"
    )
