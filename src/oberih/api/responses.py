"""Responses rendered by the handler itself.

A sync handler that returns a model has FastAPI validate and serialise it in another trip to the
worker-thread pool. A handler that holds a database connection (its request's transaction stays
open until ``get_session`` commits) must not wait for a free worker thread: under load every
thread may be waiting for a connection, and the connections for threads. Such handlers return
``rendered(model)``; the ``response_model`` of the route still documents the body.
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel

JSON_MEDIA_TYPE = "application/json"


def rendered(
    model: BaseModel, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        content=model.__pydantic_serializer__.to_json(model),
        status_code=status_code,
        headers=headers,
        media_type=JSON_MEDIA_TYPE,
    )
