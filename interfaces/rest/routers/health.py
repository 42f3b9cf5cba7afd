"""Liveness and metrics: store position, projection positions, request counts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import PlainTextResponse

from interfaces.rest.deps import ContainerDep

router = APIRouter(tags=["health"])


@router.get("/health", summary="liveness with store and projection positions")
def health(c: ContainerDep) -> dict[str, Any]:
    engine = getattr(c, "engine", None)  # the projection engine, when the container has one
    projections = jsonable_encoder(engine.status()) if engine is not None else None
    return {"status": "ok", "position": c.app.max_position(), "projections": projections}


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
def metrics(request: Request, c: ContainerDep) -> PlainTextResponse:
    text = request.app.state.metrics.render(c.app.max_position())
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")
