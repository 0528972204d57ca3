"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get

from expert_match import __version__
from expert_match.db.engine import Database
from expert_match.structs import Output


class Health(Output):
    status: str
    version: str
    database: str


class Live(Output):
    status: str


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/", sync_to_thread=True, summary="Service and database health")
    def health(self, request: Request[Any, Any, Any]) -> Health:
        database: Database = request.app.state.database
        database.ping()
        return Health(status="ok", version=__version__, database=database.dialect)

    @get("/live", summary="Liveness: the process answers (no database work)")
    async def live(self) -> Live:
        # For process supervisors and load balancers, and the ceiling of `expert-match bench api`:
        # what the server costs per request before any application work.
        return Live(status="ok")
