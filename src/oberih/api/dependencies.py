"""Shared request dependencies: the application context, one transaction per request, the clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from oberih.config import Settings


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class AppContext:
    """Everything a request needs, built once by the app factory (the composition root)."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Callable[[], dt.datetime] = utc_now
    services: dict[str, Any] = field(default_factory=dict)


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(get_context)]


def get_session(context: Context) -> Iterator[Session]:
    """One transaction per request, committed here when the handler succeeds (the single
    transaction owner: services only add), rolled back when it raises."""
    with context.sessions() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


DbSession = Annotated[Session, Depends(get_session)]


def get_now(context: Context) -> dt.datetime:
    return context.clock()


Now = Annotated[dt.datetime, Depends(get_now)]


def request_id(request: Request) -> str | None:
    value: str | None = getattr(request.state, "request_id", None)
    return value
