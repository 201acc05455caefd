"""The app factory: the composition root of the HTTP service (STYLE point 3).

Nothing is built at import time: ``create_app`` takes settings (and, for tests, an engine and a
clock) and wires the engine, session factory, token verifier, audit signer and routers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine, text

from oberih import __version__
from oberih.api import home
from oberih.api.dependencies import AppContext, Context, utc_now
from oberih.api.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from oberih.api.problems import (
    ApiProblem,
    install_problem_handlers,
    install_problem_schema,
    problem_responses,
)
from oberih.api.ratelimit import TokenBucketLimiter
from oberih.audit import views as audit_views
from oberih.audit.services import CheckpointPolicy
from oberih.audit.signing import AuditSettings, load_audit_signer
from oberih.audit.tasks import run_checkpoints
from oberih.audit.writer import AuditWriter
from oberih.auth.dependencies import build_auth_services, install_auth
from oberih.changes import views as changes_views
from oberih.config import InsecureConfiguration, Settings, load_settings
from oberih.db.engine import make_engine, make_session_factory
from oberih.db.migrate import current_revision, head_revision
from oberih.documents import pages as documents_pages
from oberih.documents import views as documents_views
from oberih.documents.keys import DocumentSettings, load_document_keys
from oberih.exchange import duplicate_views, merge_views
from oberih.exchange import views as exchange_views
from oberih.exchange.settings import KEY_RING_SERVICE, load_configured_key_ring
from oberih.persons import views as persons_views
from oberih.rules import views as rules_views

MAX_REQUEST_BYTES = 1 << 20  # 1 MiB: no command of the register needs more; feeds have their own


def serving_app() -> FastAPI:
    """The app of a serving process (``oberih serve``, ``oberih demo``, uvicorn ``--factory``):
    configured from the environment, and the process's for its life."""
    return create_app(load_settings(), serving=True)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Callable[[], dt.datetime] = utc_now,
    audit_reads: bool = True,
    serving: bool = False,
) -> FastAPI:
    """The service. ``audit_reads=False`` is the benchmark's baseline (reads of a person's record
    without their audit event), refused outside development and test: in service every read is
    accounted for (decision 7). ``serving``: the app is its process's for the process's life
    (``serving_app``), and may tune the process for it."""
    settings = settings or load_settings()
    if not audit_reads and not settings.is_development:
        raise InsecureConfiguration(["reads without audit exist for benchmarks only"])
    engine = engine or make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    context = AppContext(
        settings=settings,
        engine=engine,
        sessions=sessions,
        # The group commit of the audit events of reads (oberih.audit.writer).
        audit_writer=AuditWriter(engine, clock=clock),
        clock=clock,
        audit_reads=audit_reads,
    )

    # The checkpoint signing key is loaded now: outside development a missing or loosely
    # protected key stops the service from starting (decision 7). Checkpoints are then signed
    # every OBERIH_AUDIT_CHECKPOINT_EVERY_EVENTS events or _SECONDS seconds.
    signer = load_audit_signer(settings)
    context.services["audit_signer"] = signer
    # Document signing keys, likewise: missing or loosely protected keys stop the start.
    documents = DocumentSettings()
    context.services["document_settings"] = documents
    context.services["document_keys"] = load_document_keys(settings, documents, now=clock())
    # The source registers' key ring, likewise: a ring that cannot be used stops the start,
    # rather than every signed batch being refused later as signed by an unknown key.
    context.services[KEY_RING_SERVICE] = load_configured_key_ring()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        context.attach_loop()
        stop = asyncio.Event()
        task = (
            asyncio.create_task(
                run_checkpoints(
                    context.sessions,
                    signer=signer,
                    policy=CheckpointPolicy.from_settings(AuditSettings()),
                    clock=context.clock,
                    stop=stop,
                )
            )
            if settings.audit_sequencer
            else None  # ``oberih audit sequencer`` runs beside the workers
        )
        if serving:
            # What start-up built (the app, its routes and models, every imported module)
            # lives as long as the process: out of the collector's generations, full
            # collections stop walking it again and again while requests allocate (about 8%
            # more reads per second). Not for apps that come and go (tests): frozen objects
            # are never collected.
            gc.collect()
            gc.freeze()
        yield
        stop.set()
        if task is not None:
            await task
        await context.detach_loop()
        engine.dispose()

    app = FastAPI(
        title="oberih",
        version=__version__,
        summary="Register of conscripts, persons liable for military service and reservists",
        lifespan=lifespan,
        telemetry={
            "tracing": settings.telemetry,
            "metrics": settings.telemetry,
            "logs": settings.telemetry,
        },
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.context = context
    install_problem_handlers(app)
    install_auth(app, build_auth_services(settings, sessions=context.sessions, clock=clock))
    context.services["search_limiter"] = TokenBucketLimiter(per_second=5, burst=30)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=MAX_REQUEST_BYTES)
    app.add_middleware(RequestContextMiddleware)
    # Errors every authenticated route can answer; routes declare their own further ones.
    authenticated = problem_responses(401, 403, 422)
    app.include_router(health_router())
    app.include_router(home.router)
    app.include_router(persons_views.router, responses=authenticated)
    app.include_router(rules_views.router, responses=problem_responses(401, 403, 404, 422))
    app.include_router(audit_views.router, responses=problem_responses(401, 403, 404, 422))
    app.include_router(audit_views.citizen_router, responses=authenticated)
    app.include_router(documents_views.router, responses=problem_responses(401, 403, 404, 409, 422))
    app.include_router(documents_views.public_router)
    app.include_router(documents_pages.router)
    app.include_router(exchange_views.router, responses=problem_responses(401, 403, 404, 409, 422))
    app.include_router(duplicate_views.router, responses=problem_responses(401, 403, 404, 409, 422))
    app.include_router(merge_views.router, responses=problem_responses(401, 403, 404, 409, 422))
    app.include_router(changes_views.router, responses=authenticated)
    install_problem_schema(app)
    return app


def health_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health/live", summary="The process answers")
    def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/health/ready",
        summary="The database answers and its schema is current",
        responses=problem_responses(503),
    )
    def ready(context: Context) -> dict[str, str]:
        try:
            with context.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            revision = current_revision(context.engine)
        except Exception:  # readiness answers "not ready", whatever the database's problem
            raise ApiProblem(503, "not-ready", "The database does not answer") from None
        if revision != head_revision():
            raise ApiProblem(503, "not-ready", "The database schema is not current")
        return {"status": "ready", "schema": revision or ""}

    return router
