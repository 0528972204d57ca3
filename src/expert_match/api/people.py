"""Personal-data routes (admins): export everything held about a person, erase a person."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post

from expert_match.api.auth import CallerDep
from expert_match.api.problems import problem_responses
from expert_match.db.hooks import after_commit
from expert_match.http.deps import SHORT_BODY_BYTES, DbSession, DeskDep, Now, PathId
from expert_match.privacy import service
from expert_match.structs import Output


class Erased(Output):
    user_id: int
    expert_id: int | None


class PeopleController(Controller):
    path = "/api/v1/people"
    tags = ["personal data"]

    @get("/{user_id:int}/export", sync_to_thread=True, summary="Everything held about a person, as JSON (admins)",
         responses=problem_responses(400, 401, 403, 404))
    def export(self, db_session: DbSession, caller: CallerDep, now: Now, user_id: PathId) -> dict[str, Any]:
        return service.export_person(db_session, caller, user_id, now)

    @post("/{user_id:int}/erase", sync_to_thread=True, status_code=200, request_max_body_size=SHORT_BODY_BYTES,
          summary="Erase a person's identity; their tickets' history stays, de-identified (admins)",
          responses=problem_responses(400, 401, 403, 404, 409))
    def erase(self, db_session: DbSession, caller: CallerDep, desk: DeskDep, now: Now, user_id: PathId) -> Erased:
        expert_id = service.erase_person(db_session, caller, user_id, now)
        if expert_id is not None:
            index = desk.index
            after_commit(db_session, lambda: index.refresh([expert_id]))  # never ranked again
        return Erased(user_id=user_id, expert_id=expert_id)
