"""Liveness and metrics: store position, projection positions, request counts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import PlainTextResponse

from interfaces.rest.deps import ContainerDep
from interfaces.rest.routers.work_calendar import calendar_outlook

router = APIRouter(tags=["health"])


@router.get("/health", summary="liveness with store and projection positions")
def health(c: ContainerDep) -> dict[str, Any]:
    engine = getattr(c, "engine", None)  # the projection engine, when the container has one
    projections = jsonable_encoder(engine.status()) if engine is not None else None
    position = c.app.max_position()
    # automation, delivery_producer: driven by the same runner, from the same tracking table
    managers = jsonable_encoder(engine.managers.status(position)) if engine is not None else None
    # the log's followers (this process's and `projections run` elsewhere): following, reconnecting, stale
    followers = jsonable_encoder(engine.runners()) if engine is not None else None
    calendar = calendar_outlook(c)  # 工作日历 (issue 17): warns from 1 December without next year's schedule
    replica = getattr(c, "replica", None)  # GONGJIAN_READ_DATABASE_URL: its replay and read-model lag
    replica_status = jsonable_encoder(replica.status(engine.positions())) if replica and engine else None
    return {
        "status": "ok",
        "position": position,
        "projections": projections,
        "process_managers": managers,
        "followers": followers,
        "calendar": calendar,
        "replica": replica_status,
    }


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
def metrics(request: Request, c: ContainerDep) -> PlainTextResponse:
    text = request.app.state.metrics.render(c.app.max_position())
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")
